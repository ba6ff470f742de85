// Managed jobs on GCP, and on AWS and GCP together, against fakecloud (Compute Engine API v1
// with bearer tokens it issued, and EC2; every instance a real skylet): a GCP job, spot
// preemption through the metadata server, failover from AWS to GCP, a pipeline across the two
// clouds, a crash during bulkInsert, and no instance left behind.
#include "tests/support/clouds_world.hpp"

#include <filesystem>
#include <fstream>
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

// The cluster's firewall rules in fakecloud's admin view, by name.
std::map<std::string, Json> firewall_rules(CloudsWorld& world) {
  std::map<std::string, Json> out;
  auto view = parse_json(world.admin("GET", "/_admin/gcp/firewalls"));
  const Json* rules = view ? view->find("firewalls") : nullptr;
  if (!rules || !rules->as_array()) return out;
  for (const auto& rule : *rules->as_array())
    out[std::string(rule.find("name")->as_string().value_or(""))] = rule;
  return out;
}

TEST(GcpJobs, PortsOpenAFirewallRuleForTheClusterThatGoesWithItEvenAfterARestart) {
  CloudsWorld world;
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "ports.yaml",
      "name: ports-gce\nresources:\n  cloud: gcp\n  instance_type: n2-standard-8\n"
      "  ports: [8080, 9000-9010]\nrun: |\n  touch " +
          marks + "/started\n  while [ ! -e " + marks +
          "/go ]; do sleep 0.2; done\n  echo served\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out;
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(world.dir.file("started")); }))
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;

  // While it runs: one rule, TCP on both ranges from anywhere, aimed at the nodes' tag.
  auto rules = firewall_rules(world);
  ASSERT_EQ(rules.size(), 1u) << world.admin("GET", "/_admin/gcp/firewalls");
  const std::string name = "skyd-ports-ports-gce-1";
  ASSERT_TRUE(rules.contains(name)) << world.admin("GET", "/_admin/gcp/firewalls");
  const Json& rule = rules[name];
  EXPECT_EQ(rule.find("ready")->dump(), "true");
  EXPECT_EQ(rule.find("direction")->as_string(), "INGRESS");
  EXPECT_EQ(rule.find("allowed")->dump(), R"([{"IPProtocol":"tcp","ports":["8080","9000-9010"]}])");
  EXPECT_EQ(rule.find("sourceRanges")->dump(), R"(["0.0.0.0/0"])");
  EXPECT_EQ(rule.find("targetTags")->dump(), "[\"" + name + "\"]");
  auto instances = parse_json(world.admin("GET", "/_admin/gcp/instances"));
  ASSERT_TRUE(instances);
  int tagged = 0;
  for (const auto& instance : *instances->find("instances")->as_array()) {
    if (instance.find("deleted")->dump() == "true") continue;
    EXPECT_EQ(instance.find("network_tags")->dump(), "[\"" + name + "\"]") << instance.dump();
    ++tagged;
  }
  EXPECT_EQ(tagged, 1);

  // A skyd killed while the job runs still deletes the rule with the cluster.
  world.skyd.kill();
  world.skyd.restart();
  std::ofstream(world.dir.file("go")) << "go\n";
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "served")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_TRUE(world.all_gce_deleted(1)) << world.admin("GET", "/_admin/gcp/stats");
  EXPECT_TRUE(wait_for([&] { return firewall_rules(world).empty(); }))
      << "the rule went with the cluster: " << world.admin("GET", "/_admin/gcp/firewalls");
}

TEST(GcpJobs, SkydKilledWhileMakingTheFirewallRuleAdoptsItAfterARestart) {
  CloudsWorld world;
  // The rule's operation takes long enough for skyd to die before the instances are asked for.
  world.admin("POST", "/_admin/gcp/chaos", R"({"operation_ms":1500})");
  const auto yaml = world.skyd.write_file(
      "ports.yaml",
      "name: ports-crash\nresources:\n  cloud: gcp\n  instance_type: n2-standard-8\n"
      "  ports: 8080\nrun: echo ran\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_cloud_call(world, "/_admin/gcp/stats", "firewalls.insert"));
  world.skyd.kill();
  world.skyd.restart();
  world.admin("POST", "/_admin/gcp/reset");
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  auto stats = parse_json(world.admin("GET", "/_admin/gcp/stats"));
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->find("calls")->find("firewalls.insert")->as_int().value_or(0), 2)
      << "the restarted skyd asked again and was told the rule exists: " << stats->dump();
  EXPECT_TRUE(world.all_gce_deleted(1)) << world.admin("GET", "/_admin/gcp/stats");
  EXPECT_TRUE(wait_for([&] { return firewall_rules(world).empty(); }))
      << world.admin("GET", "/_admin/gcp/firewalls");
}

TEST(GcpJobs, AFirewallRuleLeftBehindByAStoppedSkydIsSwept) {
  CloudsWorld world;
  const std::string mine = installation_of(world.skyd);
  // A ports rule of this installation whose cluster has no machines (skyd stopped between the
  // instances' deletion and the rule's), and a rule that is not skyd's.
  const auto insert = [&](const std::string& name, const std::string& description) {
    const std::string body = R"({"name":")" + name + R"(","description":")" + description +
                             R"(","allowed":[{"IPProtocol":"tcp","ports":["8080"]}],)" +
                             R"("targetTags":[")" + name + R"("]})";
    return run_command(
               {"/usr/bin/curl", "-s", "-X", "POST", "-H",
                "Authorization: Bearer " + issued_token(world.cloud), "-H",
                "Content-Type: application/json", "-d", body,
                world.cloud.url() + "/compute/v1/projects/" + kProject + "/global/firewalls"})
        .out;
  };
  const std::string made = insert(
      "skyd-ports-gone-7", "skyd-controller=" + mine + " skyd-cluster=gone-7: the task's ports");
  ASSERT_TRUE(contains(made, "compute#operation")) << made;
  ASSERT_TRUE(contains(insert("allow-web", "the operator's"), "compute#operation"));
  ASSERT_TRUE(wait_for([&] { return firewall_rules(world).size() == 2; }));
  world.skyd.stop();
  world.skyd.restart();  // the startup sweep
  EXPECT_TRUE(wait_for([&] { return !firewall_rules(world).contains("skyd-ports-gone-7"); }))
      << world.admin("GET", "/_admin/gcp/firewalls");
  EXPECT_TRUE(firewall_rules(world).contains("allow-web")) << "only skyd's own rules are swept";
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
  ASSERT_TRUE(wait_for_cloud_call(world, "/_admin/gcp/stats", "bulkInsert"));
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
