#include "daemon/task_env.hpp"

#include "providers/cloud_names.hpp"
#include "reactor/json.hpp"

#include <cstdio>
#include <ctime>

namespace skyd::daemon {

namespace {

// One address a line, in rank order.
std::string node_ips(const providers::Cluster& cluster) {
  std::string ips;
  for (const auto& node : cluster.nodes) {
    if (!ips.empty()) ips += '\n';
    ips += node.ip;
  }
  return ips;
}

}  // namespace

std::map<std::string, std::string> node_environment(const TaskEnvironment& task,
                                                    const providers::Cluster& cluster, int rank) {
  std::map<std::string, std::string> env = task.envs;
  for (const auto& [key, value] : task.secrets) env[key] = value;
  std::string ids;
  for (const auto& id : task.task_ids) {
    if (!ids.empty()) ids += '\n';
    ids += id;
  }
  // As SkyPilot writes it: the cloud by its display name ("AWS", "GCP").
  Json info = Json::object();
  info.set("cluster_name", cluster.name);
  info.set("cloud", providers::cloud_display_name(cluster.cloud));
  info.set("region", cluster.region);
  info.set("zone", cluster.zone);
  env["SKYPILOT_TASK_ID"] = task.task_id;
  env["SKYPILOT_TASK_IDS"] = ids;
  env["SKYPILOT_MANAGED_JOB_ID"] = std::to_string(task.job_id);
  // SkyPilot's rank among the jobs of one `--num-jobs` launch (a job launched alone: 0 of 1).
  env["SKYPILOT_JOB_RANK"] = std::to_string(task.job_rank);
  env["SKYPILOT_NUM_JOBS"] = std::to_string(task.num_jobs);
  env["SKYPILOT_NODE_RANK"] = std::to_string(rank);
  env["SKYPILOT_NODE_IPS"] = node_ips(cluster);
  env["SKYPILOT_NUM_NODES"] = std::to_string(cluster.nodes.size());
  env["SKYPILOT_NUM_GPUS_PER_NODE"] = std::to_string(task.gpus_per_node);
  env["SKYPILOT_CLUSTER_INFO"] = info.dump();
  env["SKYPILOT_USER"] = task.user_name;
  env["SKYPILOT_USER_ID"] = task.user_id;
  if (!task.job_group.empty()) {
    env["SKYPILOT_JOBGROUP_NAME"] = task.job_group;
    env["SKYD_JOBGROUP_HOSTS"] = task.job_group_hosts;
  }
  if (task.runs_as_submitter && !task.user_name.empty()) {
    env["USER"] = task.user_name;
    env["LOGNAME"] = task.user_name;
  }
  return env;
}

std::map<std::string, std::string> setup_only_environment(const TaskEnvironment& task,
                                                          const providers::Cluster& cluster,
                                                          int rank) {
  return {{"SKYPILOT_SETUP_NODE_RANK", std::to_string(rank)},
          {"SKYPILOT_SETUP_NODE_IPS", node_ips(cluster)},
          {"SKYPILOT_SETUP_NUM_GPUS_PER_NODE", std::to_string(task.gpus_per_node)}};
}

std::string task_id_name(const std::string& job_name, const std::string& task_name,
                         std::size_t task_count) {
  return task_count <= 1 ? job_name : job_name + "_" + task_name;
}

std::string user_id_of(std::int64_t uid) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08llx", static_cast<unsigned long long>(uid));
  return hex;
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
