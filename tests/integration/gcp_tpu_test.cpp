// Managed jobs on Cloud TPU VMs against fakecloud's Cloud TPU API v2 (bearer tokens it issued;
// every host of a slice a real skylet): a TPU job runs to SUCCEEDED on the runtime version it
// named, a preempted spot TPU is recovered on a new one, cancel deletes the TPU, a multi-host
// slice runs the task on every host with its rank, a zone without TPU capacity moves the launch on,
// and bad accelerator_args are refused by name; network_tier: best is Tier_1 on Compute Engine.
#include "tests/support/clouds_world.hpp"

#include <filesystem>
#include <fstream>
#include <string>

namespace skyd::testing {
namespace {

// fakecloud's TPU nodes (its admin view), whatever their state.
std::vector<Json> tpu_nodes(CloudsWorld& world) {
  std::vector<Json> out;
  auto view = parse_json(world.admin("GET", "/_admin/gcp/tpus"));
  const Json* nodes = view ? view->find("nodes") : nullptr;
  if (nodes && nodes->as_array())
    for (const auto& node : *nodes->as_array()) out.push_back(node);
  return out;
}

std::string field(const Json& node, const char* key) {
  const Json* value = node.find(key);
  return value && value->as_string() ? std::string(*value->as_string()) : "";
}

// A run that marks its start (one mark per host and attempt) and waits for `go`.
std::string waiting_run(const std::string& marks) {
  return "run: |\n  touch " + marks + "/started-$SKYPILOT_NODE_RANK-$$\n  while [ ! -e " + marks +
         "/go ]; do sleep 0.2; done\n  echo done on $SKYPILOT_NODE_RANK\n";
}

bool started(CloudsWorld& world) {
  for (const auto& entry : std::filesystem::directory_iterator(world.dir.path()))
    if (entry.path().filename().string().starts_with("started-")) return true;
  return false;
}

TEST(GcpTpu, ATpuJobRunsToSucceededOnTheRuntimeVersionItNames) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file(
      "tpu.yaml",
      "name: on-tpu\nresources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n"
      "    runtime_version: tpu-vm-tf-2.16.1-pjrt\n" +
          waiting_run(world.dir.path()));
  auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out;
  ASSERT_TRUE(wait_for([&] { return started(world); }))
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  auto nodes = tpu_nodes(world);
  ASSERT_EQ(nodes.size(), 1u) << world.admin("GET", "/_admin/gcp/tpus");
  EXPECT_EQ(field(nodes[0], "acceleratorType"), "v2-8");
  EXPECT_EQ(field(nodes[0], "runtimeVersion"), "tpu-vm-tf-2.16.1-pjrt");
  EXPECT_EQ(field(nodes[0], "state"), "READY");
  EXPECT_EQ(nodes[0].find("labels")->find("skyd-cluster")->as_string(), "on-tpu-1");
  std::ofstream(world.dir.file("go")) << "go\n";
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "done on 0")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(world.launches(1).at(0).substr(0, 4), "gcp/");
  EXPECT_TRUE(wait_for([&] { return tpu_nodes(world).empty(); }))
      << "the TPU went at the end: " << world.admin("GET", "/_admin/gcp/tpus");
}

TEST(GcpTpu, APreemptedSpotTpuIsRecoveredOnANewOne) {
  CloudsWorld world;
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "spot.yaml",
      "name: spot-tpu\nresources:\n  accelerators: tpu-v2-8\n  use_spot: true\nrun: |\n"
      "  n=$(cat " +
          marks + "/runs 2>/dev/null || echo 0); echo $((n+1)) > " + marks +
          "/runs\n  if [ $n -eq 0 ]; then sleep 1000; fi\n  echo finished on run $((n+1))\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return read_text(world.dir.file("runs")) == "1\n"; }))
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  const auto first = tpu_nodes(world);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].find("schedulingConfig")->dump(), R"({"spot":true})");
  const std::string preempted =
      world.admin("POST", "/_admin/gcp/tpu_preempt?cluster=spot-tpu-1&grace_ms=1000");
  ASSERT_TRUE(contains(preempted, "nodes")) << preempted;
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "finished on run 2")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  const std::string controller =
      world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_EQ(world.launches(1).size(), 2u) << controller;
  EXPECT_TRUE(wait_for([&] { return tpu_nodes(world).empty(); }))
      << "the preempted TPU and its replacement are gone: "
      << world.admin("GET", "/_admin/gcp/tpus");
}

TEST(GcpTpu, CancelDeletesTheTpu) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file(
      "cancel.yaml",
      "name: cancel-tpu\nresources:\n  accelerators: tpu-v5e-4\n" + waiting_run(world.dir.path()));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return started(world); }))
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  ASSERT_EQ(tpu_nodes(world).size(), 1u);
  EXPECT_EQ(field(tpu_nodes(world)[0], "acceleratorType"), "v5litepod-4");
  EXPECT_EQ(field(tpu_nodes(world)[0], "runtimeVersion"), "v2-alpha-tpuv5-lite")
      << "SkyPilot's default for v5e";
  auto cancelled = world.skyd.sky({"jobs", "cancel", "-y", "1"});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.out;
  EXPECT_TRUE(wait_for([&] { return world.skyd.job_status(1) == "CANCELLED"; }));
  EXPECT_TRUE(wait_for([&] { return tpu_nodes(world).empty(); }))
      << world.admin("GET", "/_admin/gcp/tpus");
  auto view = parse_json(world.admin("GET", "/_admin/gcp/tpus"));
  ASSERT_TRUE(view);
  EXPECT_GE(view->find("calls")->find("nodes.delete")->as_int().value_or(0), 1) << view->dump();
}

TEST(GcpTpu, AMultiHostTpuRunsItsRunOnEveryHostWithItsRank) {
  CloudsWorld world;
  const auto yaml =
      world.skyd.write_file("pod.yaml",
                            "name: pod\nresources:\n  accelerators: tpu-v4-32\nrun: |\n"
                            "  echo host rank=$SKYPILOT_NODE_RANK of=$SKYPILOT_NUM_NODES "
                            "ips=$(echo \"$SKYPILOT_NODE_IPS\" | wc -l)\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  for (int rank = 0; rank < 4; ++rank)
    EXPECT_TRUE(contains(logs.out, "host rank=" + std::to_string(rank) + " of=4 ips=4"))
        << logs.out;
  EXPECT_TRUE(contains(world.launches(1).at(0), "us-central2")) << "v4 is sold in us-central2-b";
  EXPECT_TRUE(wait_for([&] { return tpu_nodes(world).empty(); }))
      << world.admin("GET", "/_admin/gcp/tpus");
}

TEST(GcpTpu, NoTpuCapacityInAZoneMovesTheLaunchToAnotherZone) {
  CloudsWorld world;
  // The first create's operation ends RESOURCE_EXHAUSTED ("no more capacity in the zone").
  world.admin("POST", "/_admin/gcp/tpu_fail_next?error=capacity");
  const auto yaml = world.skyd.write_file(
      "full.yaml", "name: full\nresources:\n  accelerators: tpu-v2-8\nrun: echo ran\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  const auto launches = world.launches(1);
  ASSERT_EQ(launches.size(), 2u)
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_NE(launches[0], launches[1]) << "the exhausted zone is not tried again";
  EXPECT_TRUE(wait_for([&] { return tpu_nodes(world).empty(); }))
      << world.admin("GET", "/_admin/gcp/tpus");
}

TEST(GcpTpu, BadAcceleratorArgsAreRefusedByName) {
  CloudsWorld world;
  const auto node =
      world.skyd.write_file("node.yaml",
                            "resources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n"
                            "    tpu_vm: false\nrun: echo\n");
  auto refused = world.skyd.sky({"jobs", "launch", "-y", node});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.out + refused.err,
                       "node.yaml:4:13: resources.accelerator_args.tpu_vm: false asks for a TPU "
                       "node"))
      << refused.out << refused.err;
  const auto unknown =
      world.skyd.write_file("unknown.yaml",
                            "resources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n"
                            "    runtime: tpu-vm-base\nrun: echo\n");
  refused = world.skyd.sky({"jobs", "launch", "-y", unknown});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.out + refused.err,
                       "resources.accelerator_args.runtime: unknown field `runtime`"))
      << refused.out << refused.err;
  EXPECT_TRUE(tpu_nodes(world).empty());
}

// network_tier: best on Compute Engine is Tier_1 networking, which fakecloud checks as Google
// does (N2/N2D/C2/C2D/C3 of 30+ vCPUs with a gVNIC).
TEST(GcpNetworkTier, BestIsTier1NetworkingOnTheInstance) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file(
      "tier1.yaml",
      "name: tier1\nresources:\n  cloud: gcp\n  instance_type: n2-standard-32\n"
      "  network_tier: best\nrun: echo fast\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  auto instances = parse_json(world.admin("GET", "/_admin/gcp/instances"));
  ASSERT_TRUE(instances);
  const Json* list = instances->find("instances");
  ASSERT_TRUE(list && list->as_array() && list->as_array()->size() == 1) << instances->dump();
  const Json& instance = list->as_array()->front();
  EXPECT_EQ(instance.find("egress_tier")->as_string(), "TIER_1") << instance.dump();
  EXPECT_EQ(instance.find("nic_type")->as_string(), "GVNIC") << instance.dump();
  const auto small =
      world.skyd.write_file("small.yaml",
                            "resources:\n  cloud: gcp\n  instance_type: n2-standard-8\n"
                            "  network_tier: best\nrun: echo\n");
  auto refused = world.skyd.sky({"jobs", "launch", "-y", small});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.out + refused.err,
                       "resources.network_tier: best on gcp is Tier_1 networking"))
      << refused.out << refused.err;
}

}  // namespace
}  // namespace skyd::testing
