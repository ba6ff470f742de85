#pragma once
// What `sky jobs queue` reads from skyd's job list, in the shapes SkyPilot's users know: one flat
// record per task with SkyPilot's field names (`sky jobs queue -o json`), and the cells of the
// verbose columns (INFRA, RESOURCES). skyd's job list nests tasks in jobs; the records flatten it.

#include "reactor/json.hpp"

#include <string>

namespace skyd::cli {

// One record per task of every job, in the list's order. SkyPilot's fields (job_id, task_id,
// job_name, task_name, status, submitted_at, start_at, end_at, job_duration, recovery_count,
// resources, cluster_resources, cloud, region, zone, infra, details, failure_reason, user_name,
// user_hash) come first; skyd's own task fields (index, name, placement, cluster, started_at,
// ended_at, total_duration, restart_count, attempt, cost_usd, on_demand_cost_usd, exit_codes)
// and the job's (job_status, job_failure_reason, job_ended_at, priority, user_uid) are extras.
Json flat_task_records(const Json& jobs);

// "AWS (us-east-1a)" where the task runs or last ran; "-" before its first placement.
std::string task_infra(const Json& task);
// The launched machines, SkyPilot style: "2x(m5.large, spot)", "1x(gpus=V100:1, p3.2xlarge)";
// "-" before its first placement.
std::string task_cluster_resources(const Json& task);

}  // namespace skyd::cli
