#include "cli/queue_records.hpp"

#include "cli/table.hpp"
#include "providers/cloud_names.hpp"

#include <cstdio>

namespace skyd::cli {
namespace {

std::string text_of(const Json* json, const char* key) {
  const Json* value = json ? json->find(key) : nullptr;
  return value && value->as_string() ? std::string(*value->as_string()) : std::string();
}

Json copy_of(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value ? *value : Json(nullptr);
}

// SkyPilot's user hash is 8 hex characters; skyd's users are uids, so the uid in hex stands in.
std::string user_hash_of(const Json& job) {
  const Json* uid = job.find("user_uid");
  if (!uid || !uid->as_int()) return {};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08llx", static_cast<unsigned long long>(*uid->as_int()));
  return hex;
}

// SkyPilot's `accelerators`: {"V100": 1} for the machine the task runs on, null without one.
Json accelerators_of(const Json* placement) {
  const std::string accelerator = text_of(placement, "accelerator");
  if (accelerator.empty()) return Json(nullptr);
  const Json* count = placement->find("accelerator_count");
  Json out = Json::object();
  out.set(accelerator, count && count->as_double() ? *count : Json(1));
  return out;
}

}  // namespace

std::string task_infra(const Json& task) {
  const Json* placement = task.find("placement");
  return providers::infra_display(text_of(placement, "cloud"), text_of(placement, "region"),
                                  text_of(placement, "zone"));
}

std::string task_cluster_resources(const Json& task) {
  const Json* placement = task.find("placement");
  if (!placement || !placement->is_object()) return "-";
  const Json* nodes = placement->find("nodes");
  std::string out = std::to_string(nodes && nodes->as_int() ? *nodes->as_int() : 1) + "x(";
  const std::string accelerator = text_of(placement, "accelerator");
  if (!accelerator.empty()) {
    const Json* count = placement->find("accelerator_count");
    out += "gpus=" + accelerator + ":" +
           format_number(count && count->as_double() ? *count->as_double() : 1) + ", ";
  }
  out += text_of(placement, "instance_type");
  const Json* spot = placement->find("use_spot");
  if (spot && spot->as_bool().value_or(false)) out += ", spot";
  return out + ")";
}

Json flat_task_records(const Json& jobs) {
  Json records = Json::array();
  if (!jobs.as_array()) return records;
  for (const auto& job : *jobs.as_array()) {
    const Json* tasks = job.find("tasks");
    if (!tasks || !tasks->as_array()) continue;
    for (const auto& task : *tasks->as_array()) {
      Json record = Json::object();
      const Json* placement = task.find("placement");
      record.set("job_id", copy_of(job, "id"));
      record.set("task_id", copy_of(task, "index"));
      record.set("job_name", copy_of(job, "name"));
      record.set("task_name", copy_of(task, "name"));
      record.set("status", copy_of(task, "status"));
      record.set("submitted_at", copy_of(task, "submitted_at"));
      record.set("start_at", copy_of(task, "started_at"));
      record.set("end_at", copy_of(task, "ended_at"));
      record.set("last_recovered_at", copy_of(task, "last_recovered_at"));
      record.set("job_duration", copy_of(task, "job_duration"));
      record.set("recovery_count", copy_of(task, "recovery_count"));
      record.set("resources", copy_of(task, "resources"));
      record.set("cluster_resources", task_cluster_resources(task));
      // SkyPilot's fuller form adds cpus, memory and disk, which skyd's placement lacks.
      record.set("cluster_resources_full", task_cluster_resources(task));
      record.set("accelerators", accelerators_of(placement));
      // As SkyPilot's records: "-" for a task not placed yet, like infra and cluster_resources.
      const std::string cloud = text_of(placement, "cloud");
      const bool placed = !cloud.empty();
      record.set("cloud", placed ? Json(providers::cloud_display_name(cloud)) : Json("-"));
      record.set("region", placed ? copy_of(*placement, "region") : Json("-"));
      record.set("zone", placed ? copy_of(*placement, "zone") : Json("-"));
      record.set("infra", task_infra(task));
      record.set("details", copy_of(job, "details"));
      record.set("failure_reason", copy_of(task, "failure_reason"));
      record.set("user_name", copy_of(job, "user"));
      record.set("user_hash", user_hash_of(job));
      record.set("current_cluster_name", copy_of(task, "cluster"));
      // skyd has neither SkyPilot's workspaces nor its pools: every job is in its default
      // workspace and in no pool.
      record.set("workspace", "default");
      record.set("pool", nullptr);
      // skyd's own fields, as its job list names them.
      if (const auto* members = task.as_object()) {
        for (const auto& [key, value] : *members) {
          if (!record.find(key)) record.set(key, value);
        }
      }
      record.set("job_status", copy_of(job, "status"));
      record.set("job_failure_reason", copy_of(job, "failure_reason"));
      record.set("job_ended_at", copy_of(job, "ended_at"));
      record.set("priority", copy_of(job, "priority"));
      record.set("user_uid", copy_of(job, "user_uid"));
      records.push_back(std::move(record));
    }
  }
  return records;
}

}  // namespace skyd::cli
