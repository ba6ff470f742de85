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
  std::string task_id;  // sky-managed-<time>_<name>_<job>-<task>: stable across recoveries
  std::vector<std::string> task_ids;  // every task of the pipeline
  int gpus_per_node = 0;
  std::map<std::string, std::string> envs;     // the user's envs
  std::map<std::string, std::string> secrets;  // like envs, never shown
};

// Everything the node of rank `rank` gets (user envs and secrets, then the SKYPILOT_* variables).
std::map<std::string, std::string> node_environment(const TaskEnvironment& task,
                                                    const providers::Cluster& cluster, int rank);
// Only for setup: SKYPILOT_SETUP_NODE_RANK.
std::map<std::string, std::string> setup_only_environment(int rank);

// "sky-managed-2026-11-29-07-46-40-123456_<name>_<job>-<task>"
std::string make_task_id(std::int64_t submitted_at_us, const std::string& name, std::int64_t job_id,
                         int task_index);

}  // namespace skyd::daemon
