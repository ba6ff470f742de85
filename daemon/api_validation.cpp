#include "daemon/api_validation.hpp"

#include "daemon/spec/names.hpp"
#include "daemon/spec/task_json.hpp"
#include "reactor/json.hpp"

#include <algorithm>

namespace skyd::daemon {
namespace {

Error invalid(std::string detail) {
  return make_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                    std::move(detail));
}

// The body as a JSON object whose keys are all in `known`; errors name what is wrong and where.
Result<Json> object_body(std::string_view body, const std::vector<std::string_view>& known) {
  std::string fields;
  for (auto key : known) fields += std::string(fields.empty() ? "" : ", ") + std::string(key);
  // Text no field may hold is named by its field first: the parser would only say "invalid".
  if (auto problem = find_json_text_problem(body)) {
    const std::string where = problem->path.empty() ? "the body" : problem->path;
    return invalid(where + ": " + (problem->in_key ? "a key " : "") + problem->what);
  }
  auto parsed = parse_json(body);
  if (!parsed) return invalid("the body is not valid JSON (" + parsed.error().detail + ")");
  if (!parsed->is_object()) return invalid("the body must be a JSON object {" + fields + "}");
  for (const auto& [key, value] : *parsed->as_object()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      return invalid("unknown field `" + key + "`; expected " + fields);
  }
  return parsed;
}

Result<std::string> job_name(const Json* value, std::string_view field) {
  const std::string expected = std::string(field) + ": expected " + std::string(spec::kJobNameRule);
  if (!value || !value->as_string()) return invalid(expected);
  const std::string name(*value->as_string());
  if (!spec::is_valid_job_name(name)) return invalid(expected + ", got `" + name + "`");
  return name;
}

}  // namespace

Result<SubmitBody> parse_submit_body(std::string_view body) {
  auto object = object_body(body, {"name", "pipeline", "priority"});
  if (!object) return object.error();
  SubmitBody submit;
  auto name = job_name(object->find("name"), "name");
  if (!name) return name.error();
  submit.name = std::move(*name);

  if (const Json* priority = object->find("priority"); priority && !priority->is_null()) {
    // An integer as written: 5.0, 1e3 or 2^63 are refused, never rounded or truncated.
    const auto value = priority->is_int() ? priority->as_int() : std::nullopt;
    if (!value || *value < kMinPriority || *value > kMaxPriority) {
      return invalid("priority: expected an integer from " + std::to_string(kMinPriority) + " to " +
                     std::to_string(kMaxPriority) + ", got " + priority->dump());
    }
    submit.priority = static_cast<int>(*value);
  }

  const Json* pipeline = object->find("pipeline");
  if (!pipeline || !pipeline->is_object())
    return invalid("pipeline: expected the job's pipeline, an object {name, tasks}");
  // Scripts past the limit are refused before the parser reads megabytes of them.
  if (const Json* tasks = pipeline->find("tasks"); tasks && tasks->as_array()) {
    for (std::size_t i = 0; i < tasks->as_array()->size(); ++i) {
      const Json& task = (*tasks->as_array())[i];
      const Json* task_name = task.find("name");
      const std::string_view name =
          task_name && task_name->as_string() ? *task_name->as_string() : std::string_view();
      for (const char* field : {"setup", "run", "event_callback"}) {
        const Json* script = task.find(field);
        if (!script || !script->as_string()) continue;
        if (auto problem = spec::script_size_problem(name, script->as_string()->size());
            !problem.empty()) {
          return invalid("pipeline.tasks[" + std::to_string(i) + "]." + field + ": " + problem);
        }
      }
    }
  }
  submit.pipeline_json = pipeline->dump();
  // No source name: the parser's messages then start with the field path, which is under
  // "pipeline" here.
  auto parsed = spec::pipeline_from_json(submit.pipeline_json, "");
  if (!parsed) {
    const std::string& detail = parsed.error().detail;
    const bool has_path = detail.starts_with("tasks") || detail.starts_with("name:");
    return invalid(has_path ? "pipeline." + detail : "pipeline: " + detail);
  }
  submit.pipeline = std::move(*parsed);
  return submit;
}

Result<CancelBody> parse_cancel_body(std::string_view body) {
  auto object = object_body(body, {"ids", "name", "all"});
  if (!object) return object.error();
  CancelBody cancel;
  const Json* ids = object->find("ids");
  const Json* name = object->find("name");
  const Json* all = object->find("all");
  if (all && !all->is_bool()) return invalid("all: expected true or false");
  cancel.all = all && *all->as_bool();
  if ((ids ? 1 : 0) + (name ? 1 : 0) + (cancel.all ? 1 : 0) != 1)
    return invalid("give exactly one of \"ids\", \"name\" or \"all\": true");
  if (ids) {
    const Json::Array* list = ids->as_array();
    if (!list || list->empty() || list->size() > kMaxCancelIds) {
      return invalid("ids: expected a list of 1 to " + std::to_string(kMaxCancelIds) + " job ids");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      const auto id = item.is_int() ? item.as_int() : std::nullopt;
      if (!id || *id <= 0) {
        return invalid("ids[" + std::to_string(i) +
                       "]: expected a job id (a positive integer), got " + item.dump());
      }
      cancel.ids.push_back(*id);
    }
  }
  if (name) {
    auto checked = job_name(name, "name");
    if (!checked) return checked.error();
    cancel.name = std::move(*checked);
  }
  return cancel;
}

}  // namespace skyd::daemon
