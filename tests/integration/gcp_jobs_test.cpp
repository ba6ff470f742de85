// Managed jobs on GCP, and on AWS and GCP together, against fakecloud (Compute Engine API v1
// with bearer tokens it issued, and EC2; every instance a real skylet): a GCP job, spot
// preemption through the metadata server, failover from AWS to GCP, a pipeline across the two
// clouds, a crash during bulkInsert, and no instance left behind.
#include "tests/support/clouds_world.hpp"

#include <map>
#include <string>

namespace skyd::testing {
namespace {

std::string gcp_task(const std::string& name, const std::string& run, bool spot = false) {
  return "name: " + name +
         "\nresources:\n  cloud: gcp\n  instance_type: n2-standard-8\n  use_spot: " +
         (spot ? "true" : "false") + "\nrun: |\n  " + run + "\n";
}

TEST(GcpJobs, AJobRunsOnComputeEngineAndSucceeds) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file(
      "job.yaml", gcp_task("on-gce", "echo ran on $SKYPILOT_NODE_RANK in $PWD"));
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "ran on 0 in")) << logs.out;
  const auto launches = world.launches(1);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].substr(0, 4), "gcp/");
  EXPECT_TRUE(world.all_gce_deleted(1))
      << "the cluster went at the end: " << world.admin("GET", "/_admin/gcp/stats");
}

TEST(GcpJobs, ASpotPreemptionNoticeOnTheMetadataServerIsRecovered) {
  CloudsWorld world;
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "spot.yaml",
      gcp_task("spot-gce",
               "n=$(cat " + marks + "/runs 2>/dev/null || echo 0); echo $((n+1)) > " + marks +
                   "/runs\n  if [ $n -eq 0 ]; then sleep 1000; fi\n  echo finished on run "
                   "$((n+1))",
               true));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return read_text(world.dir.file("runs")) == "1\n"; }));
  const std::string preempted =
      world.admin("POST", "/_admin/gcp/preempt?cluster=spot-gce-1&grace_ms=1000");
  ASSERT_TRUE(contains(preempted, "instances")) << preempted;
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "finished on run 2")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  const std::string controller =
      world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_TRUE(contains(controller, "spot notice")) << controller;
  EXPECT_EQ(world.launches(1).size(), 2u) << controller;
  EXPECT_TRUE(wait_for([&] { return world.live_gce() == 0; }))
      << world.admin("GET", "/_admin/gcp/stats");
}

TEST(GcpJobs, AwsOutOfCapacityEverywhereRunsTheJobOnGcp) {
  CloudsWorld world;
  world.admin("POST", "/_admin/faults",
              R"({"action":"RunInstances","code":"InsufficientInstanceCapacity"})");
  const auto yaml = world.skyd.write_file(
      "either.yaml",
      "name: either\nresources:\n  any_of:\n    - cloud: aws\n      instance_type: m6i.large\n"
      "    - cloud: gcp\n      instance_type: n2-standard-8\nrun: echo ran\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  const auto launches = world.launches(1);
  ASSERT_GE(launches.size(), 2u);
  EXPECT_EQ(launches.front().substr(0, 4), "aws/") << "AWS is cheaper and tried first";
  EXPECT_EQ(launches.back().substr(0, 4), "gcp/") << "then the launch moves to GCP";
  EXPECT_TRUE(wait_for([&] { return world.live_gce() == 0 && world.live_ec2() == 0; }));
}

TEST(GcpJobs, AnExhaustedZoneInTheDoneOperationMovesTheLaunchToAnotherZone) {
  CloudsWorld world;
  world.admin("POST", "/_admin/gcp/faults",
              R"({"action":"bulkInsert","code":"ZONE_RESOURCE_POOL_EXHAUSTED","count":1})");
  const auto yaml = world.skyd.write_file("job.yaml", gcp_task("exhausted", "echo ran"));
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  const auto launches = world.launches(1);
  ASSERT_EQ(launches.size(), 2u);
  EXPECT_EQ(launches[0].substr(0, 4), "gcp/");
  EXPECT_EQ(launches[1].substr(0, 4), "gcp/");
  EXPECT_NE(launches[0], launches[1]) << "the exhausted zone is left";
  const std::string controller =
      world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_TRUE(contains(controller, "ZONE_RESOURCE_POOL_EXHAUSTED")) << controller;
  EXPECT_TRUE(wait_for([&] { return world.live_gce() == 0; }));
}

TEST(GcpJobs, APipelineRunsItsFirstTaskOnAwsAndItsSecondOnGcp) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file(
      "pipe.yaml",
      "name: pipe\n---\nname: prep\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
      "run: echo prep on aws\n---\n" +
          gcp_task("train", "echo train on gcp"));
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  const auto launches = world.launches(1);
  ASSERT_EQ(launches.size(), 2u);
  EXPECT_EQ(launches[0].substr(0, 4), "aws/");
  EXPECT_EQ(launches[1].substr(0, 4), "gcp/");
  EXPECT_TRUE(wait_for([&] { return world.live_gce() == 0 && world.live_ec2() == 0; }));
}

TEST(GcpJobs, SkydKilledDuringBulkInsertMakesExactlyOneSetOfInstances) {
  CloudsWorld world;
  // Operations take long enough for skyd to die between the call and its end.
  world.admin("POST", "/_admin/gcp/chaos", R"({"operation_ms":1500})");
  const auto yaml =
      world.skyd.write_file("job.yaml",
                            "name: once\nnum_nodes: 2\nresources:\n  cloud: gcp\n  instance_type: "
                            "n2-standard-8\nrun: echo ran\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] {
    auto stats = parse_json(world.admin("GET", "/_admin/gcp/stats"));
    const Json* calls = stats ? stats->find("calls") : nullptr;
    return calls && calls->find("bulkInsert");
  }));
  world.skyd.kill();
  world.skyd.restart();
  world.admin("POST", "/_admin/gcp/reset");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_TRUE(world.all_gce_deleted(2)) << world.admin("GET", "/_admin/gcp/stats");
  EXPECT_EQ(world.made_gce(), 2) << "one instance per node was ever made: "
                                 << world.admin("GET", "/_admin/gcp/stats");
}

TEST(GcpJobs, ARefusedTokenTakesGcpOutWithTheReason) {
  CloudsWorld world;
  world.admin("POST", "/_admin/gcp/revoke_tokens");
  const auto yaml = world.skyd.write_file("job.yaml", gcp_task("denied", "echo never"));
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_NE(launched.exit_code, 0) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "FAILED_PRECHECKS");
  const std::string json = world.skyd.job_json(1);
  EXPECT_TRUE(contains(json, "gcp/")) << json;
  EXPECT_EQ(world.live_gce(), 0);
}

// The calls fakecloud's Compute Engine counted, by action, that change something.
std::map<std::string, long long> mutating_gce_calls(CloudsWorld& world) {
  std::map<std::string, long long> out;
  auto stats = parse_json(world.admin("GET", "/_admin/gcp/stats"));
  const Json* calls = stats ? stats->find("calls") : nullptr;
  if (!calls || !calls->as_object()) return out;
  for (const auto& [action, count] : *calls->as_object())
    if (action == "insert" || action == "bulkInsert" || action == "delete")
      out[action] = count.as_int().value_or(-1);
  return out;
}

TEST(GcpJobs, ARestartedSkydAdoptsEveryClusterFromOneListingAndCreatesNothing) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file("job.yaml", gcp_task("long", "sleep 1000"));
  constexpr int kJobs = 4;
  ASSERT_EQ(
      world.skyd.sky({"jobs", "launch", "-y", "-d", "--num-jobs", std::to_string(kJobs), yaml})
          .exit_code,
      0);
  ASSERT_TRUE(world.skyd.wait_for_all_jobs(kJobs, "RUNNING", std::chrono::seconds(120)));
  const auto mutations = mutating_gce_calls(world);
  const long long lookups = world.stat("/_admin/gcp/stats", "lists_by_launch_label");

  world.skyd.kill();
  world.skyd.restart();
  EXPECT_TRUE(wait_until_reattached(world.skyd, kJobs));
  EXPECT_EQ(mutating_gce_calls(world), mutations) << "adoption made or deleted nothing";
  EXPECT_EQ(world.stat("/_admin/gcp/stats", "lists_by_launch_label"), lookups)
      << "no cluster was looked up on its own: the controller's instances were listed at once";
  EXPECT_EQ(world.live_gce(), kJobs);
}

}  // namespace
}  // namespace skyd::testing
