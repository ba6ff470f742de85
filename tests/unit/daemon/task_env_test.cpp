// The SKYPILOT_* variables as SkyPilot writes them: SKYPILOT_CLUSTER_INFO's keys and cloud
// spelling, SKYPILOT_TASK_ID's shape, the user hash, and what setup alone sees.
#include "daemon/task_env.hpp"
#include "reactor/json.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

providers::Cluster two_nodes(const std::string& cloud) {
  providers::Cluster cluster;
  cluster.name = "train-7";
  cluster.cloud = cloud;
  cluster.region = "us-east-1";
  cluster.zone = "us-east-1a";
  cluster.nodes.resize(2);
  cluster.nodes[0].ip = "10.0.0.1";
  cluster.nodes[1].ip = "10.0.0.2";
  return cluster;
}

TEST(TaskEnv, ClusterInfoCarriesSkyPilotsKeysWithTheCloudsDisplayName) {
  for (const auto& [cloud, shown] :
       std::map<std::string, std::string>{{"aws", "AWS"}, {"gcp", "GCP"}, {"local", "Local"}}) {
    const auto env = node_environment(TaskEnvironment{}, two_nodes(cloud), 0);
    auto info = parse_json(env.at("SKYPILOT_CLUSTER_INFO"));
    ASSERT_TRUE(info && info->as_object()) << env.at("SKYPILOT_CLUSTER_INFO");
    EXPECT_EQ(info->find("cloud")->as_string(), shown);
    EXPECT_EQ(info->find("cluster_name")->as_string(), "train-7");
    EXPECT_EQ(info->find("region")->as_string(), "us-east-1");
    EXPECT_EQ(info->find("zone")->as_string(), "us-east-1a");
  }
}

TEST(TaskEnv, EveryNodeSeesItsRankAndEveryAddressInRankOrder) {
  TaskEnvironment task;
  task.gpus_per_node = 8;
  const auto worker = node_environment(task, two_nodes("aws"), 1);
  EXPECT_EQ(worker.at("SKYPILOT_NODE_RANK"), "1");
  EXPECT_EQ(worker.at("SKYPILOT_NODE_IPS"), "10.0.0.1\n10.0.0.2");
  EXPECT_EQ(worker.at("SKYPILOT_NUM_NODES"), "2");
  EXPECT_EQ(worker.at("SKYPILOT_NUM_GPUS_PER_NODE"), "8");
  EXPECT_EQ(worker.at("SKYPILOT_JOB_RANK"), "0");
  EXPECT_EQ(worker.count("SKYPILOT_SETUP_NODE_RANK"), 0u) << "setup's own variables stay in setup";
  const auto setup = setup_only_environment(task, two_nodes("aws"), 1);
  EXPECT_EQ(setup.at("SKYPILOT_SETUP_NODE_RANK"), "1");
  EXPECT_EQ(setup.at("SKYPILOT_SETUP_NODE_IPS"), "10.0.0.1\n10.0.0.2");
  EXPECT_EQ(setup.at("SKYPILOT_SETUP_NUM_GPUS_PER_NODE"), "8");
}

TEST(TaskEnv, TheSubmitterIsTheUserAndUserIsTheirsOnlyWhenTheTaskRunsAsThem) {
  TaskEnvironment task;
  task.user_name = "alice";
  task.user_id = user_id_of(1001);
  task.envs = {{"USER", "from-yaml"}};
  auto env = node_environment(task, two_nodes("aws"), 0);
  EXPECT_EQ(env.at("SKYPILOT_USER"), "alice");
  EXPECT_EQ(env.at("SKYPILOT_USER_ID"), "000003e9");
  EXPECT_EQ(env.at("USER"), "from-yaml");
  task.runs_as_submitter = true;
  env = node_environment(task, two_nodes("aws"), 0);
  EXPECT_EQ(env.at("USER"), "alice");
  EXPECT_EQ(env.at("LOGNAME"), "alice");
}

TEST(TaskEnv, TaskIdsHaveSkyPilotsManagedShape) {
  // 2025-12-02 07:20:00.012345 UTC.
  const std::int64_t at = 1764660000012345;
  EXPECT_EQ(make_task_id(at, task_id_name("sweep", "sweep", 1), 42, 0),
            "sky-managed-2025-12-02-07-20-00-012345_sweep_42-0");
  EXPECT_EQ(make_task_id(at, task_id_name("pipe", "train", 2), 42, 1),
            "sky-managed-2025-12-02-07-20-00-012345_pipe_train_42-1");
}

}  // namespace
}  // namespace skyd::daemon
