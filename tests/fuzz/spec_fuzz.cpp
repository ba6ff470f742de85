// libFuzzer target: any bytes through the task spec parser, the normalized JSON round trip and
// the optimizer. The property is "returns, never crashes"; errors are fine.
#include "daemon/spec/parser.hpp"
#include "daemon/spec/task_json.hpp"
#include "providers/catalog/optimizer.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = skyd::spec::parse_pipeline(text, "fuzz.yaml");
  if (!parsed) return 0;
  for (auto& task : parsed->tasks) {
    (void)skyd::catalog::plan(skyd::catalog::Catalog::builtin(), skyd::spec::to_plan_request(task));
    skyd::spec::TaskOverrides overrides;
    overrides.resources = {{"cpus", std::string(text.substr(0, 8)), "--cpus"}};
    (void)skyd::spec::apply_overrides(task, overrides);
  }
  const auto json = skyd::spec::to_json(*parsed, skyd::spec::SecretMode::kInclude).dump();
  (void)skyd::spec::pipeline_from_json(json, "fuzz.json");
  return 0;
}
