// Managed jobs on AWS, against fakecloud (the EC2 Query API with SigV4 checks; every instance a
// real skylet): spot recovery across regions, launch failover by error class, and no instance
// left behind.
#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace skyd::testing {
namespace {

std::string waiting_spot_job(const std::string& marks, const std::string& recovery = "") {
  return "name: spot-aws\nresources:\n  cloud: aws\n  instance_type: m6i.large\n  use_spot: "
         "true\n" +
         recovery + "envs:\n  MARKS: " + marks +
         "\nrun: |\n  n=$(cat $MARKS/runs 2>/dev/null || echo 0); echo $((n+1)) > $MARKS/runs\n"
         "  if [ $n -eq 0 ]; then sleep 1000; fi\n  echo finished on run $((n+1))\n";
}

TEST(AwsJobs, ASpotPreemptionRecoversInAnotherRegionFirst) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file("spot.yaml", waiting_spot_job(world.dir.path()));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return read_text(world.dir.file("runs")) == "1\n"; }));
  world.admin("POST", "/_admin/preempt?cluster=spot-aws-1&grace_ms=1000");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "finished on run 2")) << logs.out;
  const auto zones = world.launch_zones(1);
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0], "us-east-1/us-east-1a");
  EXPECT_EQ(zones[1].substr(0, zones[1].find('/')), "us-west-2")
      << "EAGER_NEXT_REGION leaves the lost region";
  EXPECT_TRUE(world.skyd.no_machines_left());
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }))
      << world.admin("GET", "/_admin/stats");
}

TEST(AwsJobs, FailoverRetriesTheSameRegionFirst) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file(
      "spot.yaml", waiting_spot_job(world.dir.path(), "  job_recovery:\n    strategy: FAILOVER\n"));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return read_text(world.dir.file("runs")) == "1\n"; }));
  world.admin("POST", "/_admin/preempt?cluster=spot-aws-1&grace_ms=1000");
  EXPECT_EQ(world.skyd.sky({"jobs", "logs", "1"}).exit_code, 0);
  const auto zones = world.launch_zones(1);
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[1].substr(0, zones[1].find('/')), "us-east-1");
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, AZoneWithoutCapacityMovesTheLaunchToTheNextZone) {
  AwsWorld world;
  world.admin(
      "POST", "/_admin/faults",
      R"({"action":"RunInstances","zone":"us-east-1a","code":"InsufficientInstanceCapacity"})");
  const auto yaml = world.skyd.write_file("job.yaml",
                                          "name: zoned\nresources:\n  cloud: aws\n  instance_type: "
                                          "m6i.large\n  use_spot: true\nrun: echo ok\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  const auto zones = world.launch_zones(1);
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0], "us-east-1/us-east-1a");
  EXPECT_EQ(zones[1], "us-east-1/us-east-1b");
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, WhenSpotIsRefusedEverywhereAnyOfFallsBackToOnDemand) {
  AwsWorld world;
  world.admin("POST", "/_admin/faults",
              R"({"action":"RunInstances","market":"spot","code":"InsufficientInstanceCapacity"})");
  const auto yaml = world.skyd.write_file(
      "anyof.yaml",
      "name: either\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
      "  any_of:\n    - use_spot: true\n    - use_spot: false\nrun: echo ok\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  const std::string json = world.skyd.job_json(1);
  EXPECT_TRUE(contains(json, "\"use_spot\":false")) << json;
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, BadCredentialsFailPrechecks) {
  AwsWorld world({}, "not-the-secret");
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: denied\nresources:\n  cloud: aws\n  instance_type: m6i.large\nrun: echo never\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 100) << launched.out;
  EXPECT_EQ(world.skyd.job_status(1), "FAILED_PRECHECKS");
  EXPECT_EQ(world.live_instances(), 0);
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

template <typename World>
long long stat_of(World& world, const char* key) {
  auto stats = parse_json(world.admin("GET", "/_admin/stats"));
  return stats && stats->find(key) ? stats->find(key)->as_int().value_or(-1) : -1;
}

TEST(AwsJobs, AQuotaErrorMovesTheLaunchToTheNextRegion) {
  AwsWorld world;
  world.admin(
      "POST", "/_admin/faults",
      R"({"action":"RunInstances","zone":"us-east-1a","code":"MaxSpotInstanceCountExceeded"})");
  const auto yaml = world.skyd.write_file("job.yaml",
                                          "name: quota\nresources:\n  cloud: aws\n  instance_type: "
                                          "m6i.large\n  use_spot: true\nrun: echo ok\n");
  EXPECT_EQ(world.skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);
  const auto zones = world.launch_zones(1);
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0], "us-east-1/us-east-1a");
  EXPECT_EQ(zones[1].substr(0, zones[1].find('/')), "us-west-2")
      << "a quota error rules out the whole region";
}

TEST(AwsJobs, WithNoCapacityAnywhereTheJobWaitsInPendingThenRunsWhenCapacityReturns) {
  AwsWorld world;
  world.admin("POST", "/_admin/faults",
              R"({"action":"RunInstances","code":"InsufficientInstanceCapacity"})");
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: patient\nresources:\n  cloud: aws\n  instance_type: m6i.large\nrun: echo ran\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  // Back in PENDING after a launch round found no capacity (a job is PENDING before it starts,
  // too: the controller log tells the two apart).
  std::string controller;
  ASSERT_TRUE(wait_for([&] {
    controller = world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
    return contains(controller, "STARTING -> PENDING (no resources");
  })) << controller;
  // Waiting, not failed: by now the next launch round may have begun (STARTING again).
  const std::string waiting = world.skyd.job_status(1).value_or("(none)");
  EXPECT_TRUE(waiting == "PENDING" || waiting == "STARTING") << waiting;
  world.admin("POST", "/_admin/reset");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "ran")) << logs.out;
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, ThrottlingIsRetriedAndTheJobStillRuns) {
  AwsWorld world;
  world.admin("POST", "/_admin/faults", R"({"code":"RequestLimitExceeded","count":3})");
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: throttled\nresources:\n  cloud: aws\n  instance_type: m6i.large\nrun: echo ran\n");
  EXPECT_EQ(world.skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);
  EXPECT_GE(stat_of(world, "throttled"), 3);
  EXPECT_EQ(world.launch_zones(1).size(), 1u) << "throttling is retried in place, not failed over";
}

TEST(AwsJobs, SkydKilledDuringRunInstancesMakesExactlyOneSetOfInstances) {
  AwsWorld world;
  world.admin("POST", "/_admin/chaos", R"({"latency_min_ms":1500,"latency_max_ms":1500})");
  const auto yaml = world.skyd.write_file("job.yaml",
                                          "name: once\nnum_nodes: 2\nresources:\n  cloud: aws\n  "
                                          "instance_type: m6i.large\nrun: echo ran\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"STARTING"}));
  ASSERT_TRUE(wait_for_cloud_call(world, "/_admin/stats", "RunInstances"));
  world.skyd.kill();
  world.skyd.restart();
  world.admin("POST", "/_admin/reset");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
  EXPECT_EQ(stat_of(world, "terminated"), 2)
      << "one instance per node was ever made: " << world.admin("GET", "/_admin/stats");
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

TEST(AwsJobs, ASpotInstanceReclaimedWithoutANoticeIsAPreemptionNotAFailure) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file("reclaimed.yaml", waiting_spot_job(world.dir.path()));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return read_text(world.dir.file("runs")) == "1\n"; }));
  world.admin("POST", "/_admin/reclaim?cluster=spot-aws-1");  // gone, no notice first
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "finished on run 2")) << logs.out;
  const std::string controller =
      world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_TRUE(contains(controller, "spot preemption of node 0")) << controller;
  EXPECT_FALSE(contains(controller, "spot notice")) << "no notice was ever given";
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, ANodeWhoseAgentDiesWhileEc2SaysRunningIsReplaced) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file("silent.yaml", waiting_spot_job(world.dir.path()));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return read_text(world.dir.file("runs")) == "1\n"; }));
  world.admin("POST", "/_admin/kill?cluster=spot-aws-1");  // skylet dies; EC2 still says running
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "finished on run 2")) << logs.out;
  const std::string controller = world.skyd.sky({"jobs", "logs", "--controller", "1"}).out;
  EXPECT_TRUE(contains(controller, "runs but its agent stopped answering")) << controller;
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, TheWorkdirAndLocalFileMountsReachEveryEc2NodeThroughSkylet) {
  AwsWorld world;
  const std::string project = world.dir.file("project");
  std::filesystem::create_directories(project + "/src");
  std::ofstream(project + "/src/train.py") << "print('training')\n";
  std::ofstream(world.dir.file("settings.txt")) << "learning_rate=0.1\n";
  std::filesystem::create_directories(world.dir.file("inputs/shard"));
  std::ofstream(world.dir.file("inputs/shard/part-0")) << std::string(5u << 20, 'x');  // 2 chunks
  const auto yaml = world.skyd.write_file(
      "shipped.yaml",
      "name: shipped\nnum_nodes: 2\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
      "workdir: " +
          project + "\nfile_mounts:\n  ~/config/settings.txt: " + world.dir.file("settings.txt") +
          "\n  data: " + world.dir.file("inputs") +
          "\nrun: |\n  {\n  echo \"rank $SKYPILOT_NODE_RANK in $(basename $PWD): $(cat "
          "src/train.py)\"\n"
          "  echo \"rank $SKYPILOT_NODE_RANK settings: $(cat ~/config/settings.txt)\"\n"
          "  echo \"rank $SKYPILOT_NODE_RANK data bytes: $(wc -c < ~/data/shard/part-0)\"\n"
          "  } | tee " +
          world.dir.file("seen-by-rank-") + "$SKYPILOT_NODE_RANK\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "rank 0 in sky_workdir: print('training')")) << logs.out;
  for (const std::string rank : {"0", "1"}) {  // what each node saw, from its own file
    const std::string seen = read_text(world.dir.file("seen-by-rank-" + rank));
    EXPECT_TRUE(contains(seen, "rank " + rank + " in sky_workdir: print('training')")) << seen;
    EXPECT_TRUE(contains(seen, "rank " + rank + " settings: learning_rate=0.1")) << seen;
    EXPECT_TRUE(contains(seen, "rank " + rank + " data bytes: 5242880")) << seen;
  }
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, TheOperatorsSecurityGroupsAndImagesReachRunInstances) {
  AwsWorld world(
      {}, kSecret,
      {{"aws_security_groups", "sg-0skylet,sg-0extra"},
       {"aws_images", "us-east-1=ami-0a1b2c3d4e5f60718,us-west-2=ami-0c0ffee0c0ffee000"}});
  const auto yaml = world.skyd.write_file(
      "plain.yaml",
      "name: plain\nresources:\n  cloud: aws\n  region: us-east-1\n  instance_type: m6i.large\n"
      "run: echo ok\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  EXPECT_EQ(world.skyd.sky({"jobs", "logs", "1"}).exit_code, 0);
  auto instances = parse_json(world.admin("GET", "/_admin/instances"));
  ASSERT_TRUE(instances && instances->find("instances"));
  const auto& list = *instances->find("instances")->as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].find("image_id")->as_string(), "ami-0a1b2c3d4e5f60718");
  EXPECT_EQ(list[0].find("security_groups")->dump(), R"(["sg-0skylet","sg-0extra"])");
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(AwsJobs, ABucketMountOnAnEc2NodeIsRefusedByNameBeforeAnythingRuns) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file(
      "bucket.yaml",
      "name: bucket\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
      "file_mounts:\n  /checkpoint:\n    name: my-ckpt\n    mode: MOUNT\nrun: echo never\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] {
    return contains(world.skyd.sky({"jobs", "queue", "-a"}).out, "FAILED_PRECHECKS");
  }));
  const std::string queue = world.skyd.sky({"jobs", "queue", "-a"}).out;
  EXPECT_TRUE(contains(queue, "FAILED_PRECHECKS")) << queue;
  const std::string controller =
      world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_TRUE(contains(controller, "cannot mount my-ckpt at /checkpoint")) << controller;
  EXPECT_EQ(world.live_instances(), 0);
}

TEST(AwsJobs, TheTaskOnAnEc2NodeHearsTheSpotNoticeAsItsConfiguredSignal) {
  AwsWorld world({}, kSecret, {{"spot_notice_signal", "USR1"}});
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "hears.yaml",
      "name: hears\nresources:\n  cloud: aws\n  instance_type: m6i.large\n  use_spot: true\n"
      "run: |\n  trap 'cat \"$SKYPILOT_SPOT_NOTICE_FILE\" > " +
          marks + "/n.tmp && mv " + marks + "/n.tmp " + marks + "/notice' USR1\n  touch " + marks +
          "/ready\n  while true; do sleep 0.1; done\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("ready")));
  world.admin("POST", "/_admin/preempt?cluster=hears-1&grace_ms=20000");
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("notice"), std::chrono::seconds(20)));
  EXPECT_TRUE(contains(read_text(world.dir.file("notice")), "instance-metadata"))
      << read_text(world.dir.file("notice"));
  EXPECT_EQ(world.skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }))
      << world.admin("GET", "/_admin/stats");
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

// The calls fakecloud counted, by action, that change something (every action but Describe*).
template <typename World>
std::map<std::string, long long> mutating_calls(World& world) {
  std::map<std::string, long long> out;
  auto stats = parse_json(world.admin("GET", "/_admin/stats"));
  const Json* calls = stats ? stats->find("calls") : nullptr;
  if (!calls || !calls->as_object()) return out;
  for (const auto& [action, count] : *calls->as_object())
    if (!action.starts_with("Describe")) out[action] = count.as_int().value_or(-1);
  return out;
}

// skyd with fakecloud's virtual nodes (no skylet processes): `chaos` is fakecloud's config.
struct VirtualAwsWorld {
  explicit VirtualAwsWorld(const std::string& chaos)
      : cloud(dir, {"--mode", "virtual", "--config", written(dir, "chaos.json", chaos)}),
        skyd(aws_settings(cloud.url(), {{"aws_skylet_port", std::to_string(cloud.virtual_port())}}),
             aws_environment()) {}
  std::string admin(const std::string& method, const std::string& target) {
    return fakecloud_admin(cloud, method, target);
  }
  static std::string written(const TempDir& in, const std::string& name, const std::string& text) {
    std::ofstream(in.file(name)) << text;
    return in.file(name);
  }
  TempDir dir;
  FakeCloudProcess cloud;
  SkydHarness skyd;
};

TEST(AwsJobs, ACancelTheNodeDidNotHearIsSentAgainInsteadOfWaitingForTheDrainLimit) {
  // The node refuses the first cancel (as when its TLS handshake times out under load): the
  // task runs on, and only a cancel sent again ends it before the bucket drain limit (11 min).
  VirtualAwsWorld world(
      R"({"virtual_boot_ms": 100, "virtual_task_ms": 100000000,
          "faults": [{"action": "SkyletSignal", "code": "ServiceUnavailable", "status": 503,
                      "count": 1}]})");
  const auto yaml = world.skyd.write_file("job.yaml",
                                          "name: spot\nresources:\n  cloud: aws\n  instance_type: "
                                          "m6i.large\n  use_spot: true\nrun: train\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_all_jobs(1, "RUNNING", std::chrono::seconds(60)));
  ASSERT_EQ(world.skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] { return world.skyd.job_status(1) == "CANCELLED"; }))
      << world.skyd.job_status(1).value_or("(none)");
  const std::string log = world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  EXPECT_TRUE(contains(log, "cancelling attempt 1 on node 0 failed")) << log;
}

// Submits `jobs` tasks that run until cancelled, one m6i.large each; true once all are RUNNING.
bool long_jobs_running(SkydHarness& skyd, int jobs) {
  const auto yaml = skyd.write_file(
      "job.yaml",
      "name: long\nresources:\n  cloud: aws\n  instance_type: m6i.large\nrun: sleep 1000\n");
  return skyd.sky({"jobs", "launch", "-y", "-d", "--num-jobs", std::to_string(jobs), yaml})
                 .exit_code == 0 &&
         skyd.wait_for_all_jobs(static_cast<std::size_t>(jobs), "RUNNING",
                                std::chrono::seconds(120));
}

TEST(AwsJobs, ARestartedSkydAdoptsEveryClusterByDescribingAndCreatesNothing) {
  AwsWorld world;
  constexpr int kJobs = 6;
  ASSERT_TRUE(long_jobs_running(world.skyd, kJobs));
  const auto mutations = mutating_calls(world);
  const long long lookups = stat_of(world, "describes_by_client_token");

  world.skyd.kill();
  world.skyd.restart();
  EXPECT_TRUE(wait_until_reattached(world.skyd, kJobs));
  EXPECT_EQ(mutating_calls(world), mutations) << "adoption made, ended or changed nothing";
  EXPECT_EQ(stat_of(world, "describes_by_client_token"), lookups)
      << "no cluster was looked up on its own: the controller's instances were described at once";
  EXPECT_EQ(world.live_instances(), kJobs);
  EXPECT_EQ(world.skyd.job_statuses().size(), static_cast<std::size_t>(kJobs));
}

TEST(AwsJobs, ARestartedSkydGivesTheAttemptAgainToANodeThatLostIt) {
  VirtualAwsWorld world(R"({"virtual_boot_ms": 100, "virtual_task_ms": 100000000})");
  ASSERT_TRUE(long_jobs_running(world.skyd, 2));
  ASSERT_EQ(stat_of(world, "attempt_runs"), 2);
  auto job = parse_json(world.skyd.job_json(1));
  ASSERT_TRUE(job);
  const Json* cluster = (*job->find("tasks")->as_array())[0].find("cluster");
  ASSERT_TRUE(cluster && cluster->as_string());
  const auto mutations = mutating_calls(world);

  world.skyd.kill();
  // While skyd is down, job 1's node restarts its agent: the attempt is gone from it.
  world.admin("POST", "/_admin/restart_agent?cluster=" + std::string(*cluster->as_string()));
  world.skyd.restart();
  EXPECT_TRUE(wait_until_reattached(world.skyd, 2));
  EXPECT_EQ(stat_of(world, "attempt_runs"), 3)
      << "job 1's node got its attempt again; job 2's node still held its own";
  EXPECT_EQ(stat_of(world, "attempt_overlaps"), 0);
  EXPECT_EQ(world.skyd.job_status(1), "RUNNING");
  EXPECT_EQ(world.skyd.job_status(2), "RUNNING");
  EXPECT_EQ(mutating_calls(world), mutations) << "the node is still there: nothing launched";
  EXPECT_EQ(world.skyd.sky({"jobs", "cancel", "-u", "-y"}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] { return stat_of(world, "live") == 0; }));
}

// fakecloud's count of DescribeInstances listing every instance of a controller, by region.
template <typename World>
std::map<std::string, long long> controller_listings(World& world) {
  std::map<std::string, long long> by_region;
  auto stats = parse_json(world.admin("GET", "/_admin/stats"));
  const Json* listings = stats ? stats->find("controller_listings") : nullptr;
  if (listings && listings->as_object()) {
    for (const auto& [region, count] : *listings->as_object())
      by_region[region] = count.as_int().value_or(-1);
  }
  return by_region;
}

// A restart's adoption and its sweep of leaked clusters need the same list of the controller's
// instances: one DescribeInstances listing per region serves both, not one each.
TEST(AwsJobs, ARestartedSkydListsItsInstancesOncePerRegionForAdoptionAndTheSweep) {
  AwsWorld world;
  constexpr int kJobs = 3;
  ASSERT_TRUE(long_jobs_running(world.skyd, kJobs));
  const auto before = controller_listings(world);

  world.skyd.kill();
  world.skyd.restart();
  EXPECT_TRUE(wait_until_reattached(world.skyd, kJobs));
  ASSERT_TRUE(wait_for([&] {
    return contains(read_text(world.skyd.dir() + "/skyd-1.log"), "leak sweep done");
  })) << "the sweep at start finished";
  const auto after = controller_listings(world);
  ASSERT_FALSE(after.empty());
  for (const auto& [region, count] : after) {
    const auto was = before.find(region);
    EXPECT_EQ(count - (was == before.end() ? 0 : was->second), 1) << region;
  }
  EXPECT_EQ(world.live_instances(), kJobs);
}

// The calls fakecloud's virtual nodes answered on one route ("POST /tasks/{id}/release").
template <typename World>
long long node_calls(World& world, const std::string& route) {
  auto stats = parse_json(world.admin("GET", "/_admin/stats"));
  const Json* calls = stats ? stats->find("node_calls") : nullptr;
  const Json* count = calls ? calls->find(route) : nullptr;
  return count ? count->as_int().value_or(-1) : 0;
}

// A restarted skyd takes each running attempt back with one call per node: a start without a
// hold (the attempt passed its fence long ago), not a start and then a release.
TEST(AwsJobs, ARestartedSkydReattachesEachNodeWithOneCall) {
  VirtualAwsWorld world(R"({"virtual_boot_ms": 100, "virtual_task_ms": 100000000})");
  constexpr int kJobs = 2;
  ASSERT_TRUE(long_jobs_running(world.skyd, kJobs));
  const long long starts = node_calls(world, "POST /tasks");
  const long long releases = node_calls(world, "POST /tasks/{id}/release");
  ASSERT_EQ(starts, kJobs);
  ASSERT_EQ(releases, kJobs) << "a new attempt is started held, then released after its fence";

  world.skyd.kill();
  world.skyd.restart();
  EXPECT_TRUE(wait_until_reattached(world.skyd, kJobs));
  EXPECT_EQ(node_calls(world, "POST /tasks"), starts + kJobs);
  EXPECT_EQ(node_calls(world, "POST /tasks/{id}/release"), releases);
  EXPECT_EQ(stat_of(world, "attempt_runs"), kJobs) << "no attempt ran again";
  EXPECT_EQ(stat_of(world, "attempt_overlaps"), 0);
  for (int id = 1; id <= kJobs; ++id) EXPECT_EQ(world.skyd.job_status(id), "RUNNING");
  EXPECT_EQ(world.skyd.sky({"jobs", "cancel", "-u", "-y"}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] { return stat_of(world, "live") == 0; }));
}

// The cluster a job's first task runs on, from its JSON ("" when it has none).
std::string cluster_of(SkydHarness& skyd, long long id) {
  auto job = parse_json(skyd.job_json(id));
  const Json* tasks = job ? job->find("tasks") : nullptr;
  if (!tasks || !tasks->as_array() || tasks->as_array()->empty()) return "";
  const Json* cluster = (*tasks->as_array())[0].find("cluster");
  return cluster && cluster->as_string() ? std::string(*cluster->as_string()) : "";
}

// Adoption asks EC2, not the nodes: nodes that do not answer after a restart hold the one
// re-attachment slot (asked again for node_lost_after), yet every job's machines are adopted at
// once, and a job whose machine went while skyd was down recovers without waiting for them.
TEST(AwsJobs, ARestartedSkydAdoptsEveryJobsMachinesWithoutWaitingForOtherJobsNodes) {
  AwsWorld world({}, kSecret, {{"max_reattachments_in_flight", "1"}, {"node_lost_after", "90s"}});
  constexpr int kJobs = 4;
  ASSERT_TRUE(long_jobs_running(world.skyd, kJobs));
  std::vector<std::string> clusters;
  for (int id = 1; id <= kJobs; ++id) clusters.push_back(cluster_of(world.skyd, id));
  ASSERT_EQ(std::count(clusters.begin(), clusters.end(), ""), 0);

  world.skyd.kill();
  // While skyd is down, jobs 1-3's agents die (EC2 still says running) and job 4's machine is
  // reclaimed.
  for (int id = 1; id < kJobs; ++id)
    world.admin("POST", "/_admin/kill?cluster=" + clusters[id - 1]);
  world.admin("POST", "/_admin/reclaim?cluster=" + clusters[kJobs - 1]);
  world.skyd.restart();
  for (int id = 1; id < kJobs; ++id) {
    EXPECT_TRUE(wait_for([&] {
      return contains(controller_log_of(world.skyd, id), "adopted cluster " + clusters[id - 1]);
    })) << controller_log_of(world.skyd, id);
  }
  EXPECT_TRUE(wait_for([&] {
    return contains(controller_log_of(world.skyd, kJobs), "machines lost while skyd was down");
  })) << controller_log_of(world.skyd, kJobs);
  const std::string metrics = world.skyd.api("GET", "/metrics").body;
  EXPECT_EQ(metric_sample(metrics, "skyd_tasks_adopted_total"), kJobs - 1) << metrics;
  EXPECT_LE(metric_sample(metrics, "skyd_tasks_reattached_total"), 0)
      << "no node of jobs 1-3 answered, so none is re-attached";
  for (int id = 1; id < kJobs; ++id)
    EXPECT_FALSE(contains(controller_log_of(world.skyd, id), "re-attached to cluster"));
}

// The sessions a shard keeps with its nodes, in its saved files: one record per node.
int saved_tls_sessions(const std::string& state_dir) {
  int sessions = 0;
  for (const auto& file : std::filesystem::directory_iterator(state_dir + "/tls-sessions")) {
    const std::string text = read_text(file.path().string());
    for (auto at = text.find("https://"); at != std::string::npos;
         at = text.find("https://", at + 1))
      ++sessions;
  }
  return sessions;
}

// skyd's TLS handshakes with nodes of one kind since it started (none yet: 0).
double tls_handshakes(SkydHarness& skyd, const std::string& kind) {
  const double seen = metric_sample(skyd.api("GET", "/metrics").body,
                                    "skyd_tls_handshakes_total{kind=\"" + kind + "\"}");
  return std::max(seen, 0.0);
}

TEST(AwsJobs, ARestartedSkydResumesTheTlsSessionsItHadWithItsNodes) {
  AwsWorld world;
  constexpr int kJobs = 3;
  ASSERT_TRUE(long_jobs_running(world.skyd, kJobs));
  const std::string saved = world.skyd.state_dir() + "/tls-sessions";
  ASSERT_TRUE(wait_for([&] {
    return std::filesystem::exists(saved) && saved_tls_sessions(world.skyd.state_dir()) == kJobs;
  }));
  // Resumption secrets: only skyd reads them.
  EXPECT_EQ(std::filesystem::status(saved).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  for (const auto& file : std::filesystem::directory_iterator(saved))
    EXPECT_EQ(file.status().permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  world.skyd.kill();
  world.skyd.restart();
  EXPECT_TRUE(wait_until_reattached(world.skyd, kJobs));
  EXPECT_EQ(tls_handshakes(world.skyd, "full"), 0) << "no node sent its certificate again";
  EXPECT_GE(tls_handshakes(world.skyd, "resumed"), kJobs);
  EXPECT_EQ(world.live_instances(), kJobs);
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

// max_launches_in_flight: with one slot, a batch of jobs is launched one task at a time -- no two
// tasks are between STARTING and RUNNING together -- and the others wait in PENDING saying why.
TEST(AwsJobs, TasksAreLaunchedNoMoreAtOnceThanTheLaunchSlotsAllow) {
  AwsWorld world({}, kSecret, {{"max_launches_in_flight", "1"}});
  // Every EC2 call takes 300 ms, so launches that were let through together would overlap.
  world.admin("POST", "/_admin/chaos", R"({"latency_min_ms":300,"latency_max_ms":300})");
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: slots\nresources:\n  cloud: aws\n  instance_type: m6i.large\nrun: sleep 1000\n");
  constexpr int kJobs = 3;
  ASSERT_EQ(
      world.skyd.sky({"jobs", "launch", "-y", "-d", "--num-jobs", std::to_string(kJobs), yaml})
          .exit_code,
      0);
  std::string queue;
  EXPECT_TRUE(wait_for([&] {
    queue = world.skyd.sky({"jobs", "queue"}).out;
    return contains(queue, "waiting for a launch slot: 1 tasks are launched at once");
  })) << queue;
  ASSERT_TRUE(world.skyd.wait_for_all_jobs(kJobs, "RUNNING", std::chrono::seconds(120)));
  // Each task's launch, from its STARTING to its RUNNING; no two may overlap.
  const std::string launches = R"(
    WITH launch AS (
      SELECT job_id, min(at) FILTER (WHERE to_status = 'STARTING') AS started,
             min(at) FILTER (WHERE to_status = 'RUNNING') AS running
      FROM job_events GROUP BY job_id)
    SELECT count(*) FROM launch a JOIN launch b
      ON a.job_id < b.job_id AND a.started < b.running AND b.started < a.running)";
  EXPECT_EQ(world.skyd.sql(launches), "0\n");
  EXPECT_EQ(world.skyd.sql("SELECT count(DISTINCT job_id) FROM job_events "
                           "WHERE to_status = 'STARTING'"),
            std::to_string(kJobs) + "\n");
}

}  // namespace
}  // namespace skyd::testing
