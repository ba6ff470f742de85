#include "daemon/api_validation.hpp"

#include "daemon/spec/names.hpp"
#include "daemon/spec/task_json.hpp"
#include "reactor/hex.hpp"
#include "reactor/json.hpp"

#include <algorithm>

namespace skyd::daemon {
namespace {

// The body as a JSON object whose keys are all in `known`; errors name what is wrong and where.
Result<Json> object_body(std::string_view body, const std::vector<std::string_view>& known) {
  std::string fields;
  for (auto key : known) fields += std::string(fields.empty() ? "" : ", ") + std::string(key);
  // Text no field may hold is named by its field first: the parser would only say "invalid".
  if (auto problem = find_json_text_problem(body)) {
    const std::string where = problem->path.empty() ? "the body" : problem->path;
    return invalid_argument(where + ": " + (problem->in_key ? "a key " : "") + problem->what);
  }
  auto parsed = parse_json(body);
  if (!parsed)
    return invalid_argument("the body is not valid JSON (" + parsed.error().detail + ")");
  if (!parsed->is_object())
    return invalid_argument("the body must be a JSON object {" + fields + "}");
  for (const auto& [key, value] : *parsed->as_object()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      return invalid_argument("unknown field `" + key + "`; expected " + fields);
  }
  return parsed;
}

Result<std::string> job_name(const Json* value, std::string_view field) {
  const std::string expected = std::string(field) + ": expected " + std::string(spec::kJobNameRule);
  if (!value || !value->as_string()) return invalid_argument(expected);
  const std::string name(*value->as_string());
  if (!spec::is_valid_job_name(name)) return invalid_argument(expected + ", got `" + name + "`");
  return name;
}

}  // namespace

namespace {

Result<UploadRef> upload_ref(const Json& item, std::size_t index) {
  const std::string where = "uploads[" + std::to_string(index) + "]";
  if (!item.is_object()) return invalid_argument(where + ": expected an object");
  UploadRef ref;
  for (const auto& [key, value] : *item.as_object()) {
    if (key == "task") {
      const auto task = value.is_int() ? value.as_int() : std::nullopt;
      if (!task || *task < 0 || *task > 100000)
        return invalid_argument(where + ".task: expected a task index");
      ref.task = static_cast<int>(*task);
    } else if (key == "workdir") {
      ref.workdir = value.as_bool().value_or(false);
    } else if (key == "destination") {
      if (!value.as_string()) return invalid_argument(where + ".destination: expected a string");
      ref.destination = std::string(*value.as_string());
    } else if (key == "digest") {
      if (!value.as_string() || !is_sha256_hex(*value.as_string()))
        return invalid_argument(where + ".digest: expected 64 lowercase hex digits (SHA-256)");
      ref.digest = std::string(*value.as_string());
    } else if (key == "kind") {
      const auto kind = value.as_string().value_or("");
      if (kind != "directory" && kind != "file")
        return invalid_argument(where + ".kind: expected \"directory\" or \"file\"");
      ref.kind = kind == "file" ? UploadRef::Kind::kFile : UploadRef::Kind::kDirectory;
    } else {
      return invalid_argument(where + ": unknown field `" + key +
                              "`; expected task, workdir, destination, digest, kind");
    }
  }
  if (ref.digest.empty()) return invalid_argument(where + ".digest: required");
  if (ref.workdir == !ref.destination.empty())
    return invalid_argument(where + ": give exactly one of \"workdir\": true and \"destination\"");
  if (ref.workdir && ref.kind != UploadRef::Kind::kDirectory)
    return invalid_argument(where + ".kind: a workdir is a directory");
  return ref;
}

}  // namespace

Result<std::vector<UploadRef>> upload_refs(const Json* listed, const spec::Pipeline& pipeline) {
  std::vector<UploadRef> refs;
  if (listed && !listed->is_null()) {
    if (!listed->as_array()) return invalid_argument("uploads: expected a list");
    for (std::size_t i = 0; i < listed->as_array()->size(); ++i) {
      auto ref = upload_ref((*listed->as_array())[i], i);
      if (!ref) return ref.error();
      refs.push_back(std::move(*ref));
    }
  }
  // Each local file the pipeline uses has its upload, once; nothing else has one.
  std::vector<bool> used(refs.size(), false);
  auto take = [&](int task, bool workdir, const std::string& destination) -> Result<void> {
    const std::string what = "pipeline.tasks[" + std::to_string(task) + "]." +
                             (workdir ? std::string("workdir") : "file_mounts." + destination);
    int found = -1;
    for (std::size_t i = 0; i < refs.size(); ++i) {
      if (refs[i].task != task || refs[i].workdir != workdir ||
          (!workdir && refs[i].destination != destination))
        continue;
      if (found >= 0) return invalid_argument("uploads: " + what + " has more than one upload");
      found = static_cast<int>(i);
    }
    if (found < 0) {
      return invalid_argument(
          what +
          ": a local path must be uploaded first (PUT /v1/uploads/{digest}) and named "
          "in \"uploads\"; skyd never reads a path a client names");
    }
    used[static_cast<std::size_t>(found)] = true;
    return {};
  };
  for (std::size_t t = 0; t < pipeline.tasks.size(); ++t) {
    const auto& task = pipeline.tasks[t];
    const int index = static_cast<int>(t);
    if (task.workdir) {
      if (auto taken = take(index, true, ""); !taken) return taken.error();
    }
    for (const auto& mount : task.file_mounts) {
      if (!spec::uploaded_source(mount)) continue;
      if (auto taken = take(index, false, mount.destination); !taken) return taken.error();
    }
  }
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (!used[i]) {
      return invalid_argument("uploads[" + std::to_string(i) +
                              "]: names no workdir or local file mount of the pipeline");
    }
  }
  return refs;
}

namespace {

Result<std::string> submission_key(const Json& key) {
  const auto text = key.as_string();
  const bool fits = text && text->size() >= kMinSubmissionKey &&
                    text->size() <= kMaxSubmissionKey &&
                    text->find_first_not_of("0123456789abcdef-") == std::string_view::npos;
  if (!fits) {
    return invalid_argument("submission_key: expected " + std::to_string(kMinSubmissionKey) +
                            " to " + std::to_string(kMaxSubmissionKey) +
                            " lowercase hex digits or dashes, got " + key.dump());
  }
  return std::string(*text);
}

}  // namespace

Result<SubmitBody> parse_submit_body(std::string_view body) {
  auto object =
      object_body(body, {"name", "pipeline", "priority", "num_jobs", "uploads", "submission_key"});
  if (!object) return object.error();
  SubmitBody submit;
  if (const Json* key = object->find("submission_key"); key && !key->is_null()) {
    auto checked = submission_key(*key);
    if (!checked) return checked.error();
    submit.submission_key = std::move(*checked);
  }
  auto name = job_name(object->find("name"), "name");
  if (!name) return name.error();
  submit.name = std::move(*name);

  const Json* priority = object->find("priority");
  const bool priority_given = priority && !priority->is_null();
  if (priority_given) {
    // An integer as written: 5.0, 1e3 or 2^63 are refused, never rounded or truncated.
    const auto value = priority->is_int() ? priority->as_int() : std::nullopt;
    if (!value || *value < kMinPriority || *value > kMaxPriority) {
      return invalid_argument("priority: expected an integer from " + std::to_string(kMinPriority) +
                              " to " + std::to_string(kMaxPriority) + ", got " + priority->dump());
    }
    submit.priority = static_cast<int>(*value);
  }

  if (const Json* num_jobs = object->find("num_jobs"); num_jobs && !num_jobs->is_null()) {
    const auto value = num_jobs->is_int() ? num_jobs->as_int() : std::nullopt;
    if (!value || *value < 1 || *value > spec::kMaxNumJobs) {
      return invalid_argument("num_jobs: expected an integer from 1 to " +
                              std::to_string(spec::kMaxNumJobs) + ", got " + num_jobs->dump());
    }
    submit.num_jobs = static_cast<int>(*value);
  }

  const Json* pipeline = object->find("pipeline");
  if (!pipeline || !pipeline->is_object())
    return invalid_argument("pipeline: expected the job's pipeline, an object {name, tasks}");
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
          return invalid_argument("pipeline.tasks[" + std::to_string(i) + "]." + field + ": " +
                                  problem);
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
    return invalid_argument(has_path ? "pipeline." + detail : "pipeline: " + detail);
  }
  submit.pipeline = std::move(*parsed);
  // A pool YAML defines workers, not a job (`sky jobs pool apply`).
  for (std::size_t i = 0; i < submit.pipeline.tasks.size(); ++i) {
    if (submit.pipeline.tasks[i].pool) {
      return invalid_argument("pipeline.tasks[" + std::to_string(i) +
                              "].pool: a pool is created with `sky jobs pool apply`, not "
                              "submitted as a job");
    }
  }
  // The tasks' resources.priority is the job's (SkyPilot's rule); a body that names another one
  // contradicts its own pipeline.
  if (const auto pipeline_priority = spec::priority(submit.pipeline)) {
    if (priority_given && submit.priority != *pipeline_priority) {
      return invalid_argument("priority: " + std::to_string(submit.priority) +
                              ", but the pipeline's resources.priority is " +
                              std::to_string(*pipeline_priority));
    }
    submit.priority = *pipeline_priority;
  }
  auto uploads = upload_refs(object->find("uploads"), submit.pipeline);
  if (!uploads) return uploads.error();
  submit.uploads = std::move(*uploads);
  return submit;
}

Result<CancelBody> parse_cancel_body(std::string_view body) {
  auto object = object_body(body, {"ids", "name", "all", "all_users"});
  if (!object) return object.error();
  CancelBody cancel;
  const Json* ids = object->find("ids");
  const Json* name = object->find("name");
  const Json* all = object->find("all");
  const Json* all_users = object->find("all_users");
  if (all && !all->is_bool()) return invalid_argument("all: expected true or false");
  if (all_users && !all_users->is_bool())
    return invalid_argument("all_users: expected true or false");
  cancel.all = all && *all->as_bool();
  cancel.all_users = all_users && *all_users->as_bool();
  if ((ids ? 1 : 0) + (name ? 1 : 0) + (cancel.all || cancel.all_users ? 1 : 0) != 1) {
    return invalid_argument(
        "give exactly one of \"ids\", \"name\", \"all\": true or \"all_users\": true");
  }
  if (ids) {
    const Json::Array* list = ids->as_array();
    if (!list || list->empty() || list->size() > kMaxCancelIds) {
      return invalid_argument("ids: expected a list of 1 to " + std::to_string(kMaxCancelIds) +
                              " job ids");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      const auto id = item.is_int() ? item.as_int() : std::nullopt;
      if (!id || *id <= 0) {
        return invalid_argument("ids[" + std::to_string(i) +
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
