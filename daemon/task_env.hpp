#pragma once
// The environment SkyPilot users rely on in setup and run, built for each node of a cluster.

#include "providers/provider.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace skyd::daemon {

struct TaskEnvironment {
  std::int64_t job_id = 0;
  int job_rank = 0;     // among the jobs of its `--num-jobs` submission: SKYPILOT_JOB_RANK
  int num_jobs = 1;     // SKYPILOT_NUM_JOBS
  std::string task_id;  // sky-managed-<time>_<name>_<job>-<task>: stable across recoveries
  std::vector<std::string> task_ids;  // every task of the pipeline
  int gpus_per_node = 0;
  std::string user_name;           // the submitter: SKYPILOT_USER
  std::string user_id;             // SKYPILOT_USER_ID (see user_id_of)
  bool runs_as_submitter = false;  // the task runs as its submitter: USER and LOGNAME are theirs
  std::string job_group;           // a job group's name: SKYPILOT_JOBGROUP_NAME
  std::string job_group_hosts;     // its tasks' nodes: SKYD_JOBGROUP_HOSTS (group_directory.hpp)
  std::map<std::string, std::string> envs;     // the user's envs
  std::map<std::string, std::string> secrets;  // like envs, never shown
};

// Everything the node of rank `rank` gets (user envs and secrets, then the SKYPILOT_* variables).
std::map<std::string, std::string> node_environment(const TaskEnvironment& task,
                                                    const providers::Cluster& cluster, int rank);
// Only for setup: SKYPILOT_SETUP_NODE_RANK, SKYPILOT_SETUP_NODE_IPS and
// SKYPILOT_SETUP_NUM_GPUS_PER_NODE.
std::map<std::string, std::string> setup_only_environment(const TaskEnvironment& task,
                                                          const providers::Cluster& cluster,
                                                          int rank);

// SKYPILOT_TASK_ID in SkyPilot's shape:
// "sky-managed-2026-11-29-07-46-40-123456_<name>_<job>-<task>" where <name> is the job's name for a
// single task and "<job name>_<task name>" in a pipeline.
std::string make_task_id(std::int64_t submitted_at_us, const std::string& name, std::int64_t job_id,
                         int task_index);
std::string task_id_name(const std::string& job_name, const std::string& task_name,
                         std::size_t task_count);

// SKYPILOT_USER_ID: SkyPilot's user hash is 8 hex digits; skyd's users are uids, so it is the uid
// in 8 hex digits (the same `user_hash` as `sky jobs queue -o json`).
std::string user_id_of(std::int64_t uid);

}  // namespace skyd::daemon
