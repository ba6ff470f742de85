// libFuzzer target: any bytes as an API request body, through what the API does with one (the
// JSON reader, the text checks that name a field, the submit and cancel body validation with the
// task spec parser behind it), plus the JSON writer and the strict number readers on the same
// bytes. Properties beyond "never crashes" are checked with a trap:
//   - whatever a string holds, the writer's output is valid UTF-8 and reads back as a string,
//     equal to the input when that was valid UTF-8;
//   - a JSON value read from the input is written so that it reads back to the same text;
//   - the text check and the JSON reader agree: valid JSON has no problem but a NUL escape;
//   - an accepted submit body has a valid name, a priority in range and a pipeline that reads
//     back; an accepted cancel body has exactly one selector and positive ids;
//   - a number read strictly is written back as the same text.
#include "daemon/api_validation.hpp"
#include "daemon/spec/names.hpp"
#include "daemon/spec/task_json.hpp"
#include "reactor/json.hpp"
#include "reactor/numbers.hpp"
#include "reactor/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void check(bool property) {
  if (!property) __builtin_trap();
}

void check_writer(std::string_view text) {
  const std::string dumped = skyd::Json(text).dump();
  check(skyd::is_valid_utf8(dumped));
  auto back = skyd::parse_json(dumped);
  check(back && back->as_string());
  if (skyd::is_valid_utf8(text)) check(*back->as_string() == text);
}

void check_reader(std::string_view text) {
  auto parsed = skyd::parse_json(text);
  auto problem = skyd::find_json_text_problem(text);
  if (!parsed) return;
  check(!problem || problem->what.find("NUL") != std::string::npos);
  const std::string dumped = parsed->dump();
  auto again = skyd::parse_json(dumped);
  check(again && again->dump() == dumped);
}

void check_submit(std::string_view text) {
  auto submit = skyd::daemon::parse_submit_body(text);
  if (!submit) return;
  check(skyd::spec::is_valid_job_name(submit->name));
  check(submit->priority >= skyd::daemon::kMinPriority &&
        submit->priority <= skyd::daemon::kMaxPriority);
  check(!submit->pipeline.tasks.empty());
  auto stored = skyd::spec::pipeline_from_json(submit->pipeline_json, "stored");
  check(stored && *stored == submit->pipeline);
}

void check_cancel(std::string_view text) {
  auto cancel = skyd::daemon::parse_cancel_body(text);
  if (!cancel) return;
  check((cancel->ids.empty() ? 0 : 1) + (cancel->name ? 1 : 0) + (cancel->all ? 1 : 0) == 1);
  for (const auto id : cancel->ids) check(id > 0);
}

void check_numbers(std::string_view text) {
  if (auto id = skyd::parse_id(text)) check(std::to_string(*id) == text);
  if (auto number = skyd::parse_int64(text)) check(std::to_string(*number) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_writer(text);
  check_reader(text);
  check_submit(text);
  check_cancel(text);
  check_numbers(text.substr(0, 32));
  return 0;
}
