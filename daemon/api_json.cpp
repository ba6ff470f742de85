#include "daemon/api_json.hpp"

namespace skyd::daemon {
namespace {

double seconds(store::TimePoint time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

Json optional_time(const std::optional<store::TimePoint>& time) {
  return time ? Json(seconds(*time)) : Json(nullptr);
}

Json task_to_json(const store::TaskRecord& task, store::TimePoint now) {
  Json out = Json::object();
  out.set("index", task.task_index);
  out.set("name", task.name);
  out.set("status", store::to_string(task.status));
  out.set("resources", task.resources);
  if (task.placement_json) {
    if (auto placement = parse_json(*task.placement_json))
      out.set("placement", std::move(*placement));
  }
  out.set("cluster", task.cluster_name ? Json(*task.cluster_name) : Json(nullptr));
  out.set("submitted_at", seconds(task.submitted_at));
  out.set("started_at", optional_time(task.started_at));
  out.set("ended_at", optional_time(task.ended_at));
  // When the current run began: the start, then each recovery's RUNNING (SkyPilot's field).
  out.set("last_recovered_at", optional_time(task.last_recovered_at));
  const store::TimePoint end = task.ended_at.value_or(now);
  out.set("total_duration", std::chrono::duration<double>(end - task.submitted_at).count());
  double running = task.job_duration_seconds;
  if (task.status == store::JobStatus::kRunning && task.last_recovered_at) {
    running += std::chrono::duration<double>(now - *task.last_recovered_at).count();
  }
  out.set("job_duration", running);
  out.set("recovery_count", task.recovery_count);
  out.set("restart_count", task.restart_count);
  out.set("attempt", task.attempt);
  out.set("cost_usd", task.cost_usd);
  out.set("on_demand_cost_usd", task.on_demand_cost_usd);
  out.set("reported_work_seconds", task.reported_work_seconds
                                       ? Json(static_cast<long long>(*task.reported_work_seconds))
                                       : Json(nullptr));
  out.set("failure_reason", task.failure_reason ? Json(*task.failure_reason) : Json(nullptr));
  Json codes = Json::array();
  for (int code : task.exit_codes) codes.push_back(code);
  out.set("exit_codes", std::move(codes));
  return out;
}

}  // namespace

Json job_to_json(const store::JobRecord& job, store::TimePoint now) {
  Json out = Json::object();
  out.set("id", static_cast<long long>(job.id.value));
  out.set("name", job.name);
  out.set("user", job.user_name);
  out.set("user_uid", static_cast<long long>(job.user_uid));
  out.set("status", store::to_string(job.status));
  out.set("priority", job.priority);
  out.set("job_rank", job.job_rank);
  out.set("num_jobs", job.num_jobs);
  out.set("submitted_at", seconds(job.submitted_at));
  out.set("ended_at", optional_time(job.ended_at));
  out.set("failure_reason", job.failure_reason ? Json(*job.failure_reason) : Json(nullptr));
  Json tasks = Json::array();
  for (const auto& task : job.tasks) tasks.push_back(task_to_json(task, now));
  out.set("tasks", std::move(tasks));
  return out;
}

}  // namespace skyd::daemon
