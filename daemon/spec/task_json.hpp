#pragma once
// The normalized JSON form of a task and a pipeline: SkyPilot's schema with every default made
// explicit where it matters and candidates expanded (a single `resources` mapping, or `any_of` /
// `ordered` lists of complete candidates). The CLI sends it to skyd, which reads it back with
// pipeline_from_json (the same parser and checks as the YAML). Display uses kRedact.

#include "daemon/spec/task.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <string>
#include <string_view>

namespace skyd::spec {

enum class SecretMode {
  kInclude,  // submission to the daemon: secret values are needed to run the task
  kRedact,   // anything shown to people or logged
};
std::string_view to_string(SecretMode mode);

inline constexpr std::string_view kRedacted = "<redacted>";

Json to_json(const Resources& resources);
Json to_json(const Task& task, SecretMode secrets);
// {"name": ..., "tasks": [task, ...]}
Json to_json(const Pipeline& pipeline, SecretMode secrets);

// Reads to_json(pipeline, kInclude).dump() back; `source_name` prefixes errors.
Result<Pipeline> pipeline_from_json(std::string_view json_text, std::string_view source_name);

// "1x[V100:1][Spot]" style summary of one candidate, as SkyPilot's queue shows it.
std::string summarize(const Resources& resources, int num_nodes);

}  // namespace skyd::spec
