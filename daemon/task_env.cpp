#include "daemon/task_env.hpp"

#include "reactor/json.hpp"

#include <ctime>

namespace skyd::daemon {

std::map<std::string, std::string> node_environment(const TaskEnvironment& task,
                                                    const providers::Cluster& cluster, int rank) {
  std::map<std::string, std::string> env = task.envs;
  for (const auto& [key, value] : task.secrets) env[key] = value;
  std::string ips;
  for (const auto& node : cluster.nodes) {
    if (!ips.empty()) ips += '\n';
    ips += node.ip;
  }
  std::string ids;
  for (const auto& id : task.task_ids) {
    if (!ids.empty()) ids += '\n';
    ids += id;
  }
  Json info = Json::object();
  info.set("cluster_name", cluster.name);
  info.set("cloud", cluster.cloud);
  info.set("region", cluster.region);
  info.set("zone", cluster.zone);
  env["SKYPILOT_TASK_ID"] = task.task_id;
  env["SKYPILOT_TASK_IDS"] = ids;
  env["SKYPILOT_MANAGED_JOB_ID"] = std::to_string(task.job_id);
  env["SKYPILOT_NODE_RANK"] = std::to_string(rank);
  env["SKYPILOT_NODE_IPS"] = ips;
  env["SKYPILOT_NUM_NODES"] = std::to_string(cluster.nodes.size());
  env["SKYPILOT_NUM_GPUS_PER_NODE"] = std::to_string(task.gpus_per_node);
  env["SKYPILOT_CLUSTER_INFO"] = info.dump();
  return env;
}

std::map<std::string, std::string> setup_only_environment(int rank) {
  return {{"SKYPILOT_SETUP_NODE_RANK", std::to_string(rank)}};
}

std::string make_task_id(std::int64_t submitted_at_us, const std::string& name, std::int64_t job_id,
                         int task_index) {
  const std::time_t seconds = static_cast<std::time_t>(submitted_at_us / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H-%M-%S", &utc);
  char micros[16];
  std::snprintf(micros, sizeof micros, "-%06lld",
                static_cast<long long>(submitted_at_us % 1000000));
  return std::string("sky-managed-") + stamp + micros + "_" + name + "_" + std::to_string(job_id) +
         "-" + std::to_string(task_index);
}

}  // namespace skyd::daemon
