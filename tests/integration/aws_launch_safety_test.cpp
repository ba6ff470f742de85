// Create calls on EC2 that go wrong the way a busy account sees them, and two installations in one
// account. A RunInstances whose answer is lost is resolved through its ClientToken, never retried
// elsewhere with the same token; each installation tags its machines with its own identity, uses
// tokens no other installation makes, and sweeps only its own machines, beside (not before) its
// API.
#include "tests/support/aws_world.hpp"

#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {

std::string waiting_job(const std::string& name, const std::string& marks) {
  return "name: " + name +
         "\nresources:\n  cloud: aws\n  instance_type: m6i.large\nenvs:\n  MARKS: " + marks +
         "\nrun: |\n  touch $MARKS/" + name +
         "-started\n  while [ ! -f $MARKS/go ]; do sleep 0.05; done\n  echo released\n";
}

Json instances_of(AwsWorld& world) {
  auto listed = parse_json(world.admin("GET", "/_admin/instances"));
  return listed && listed->find("instances") ? *listed->find("instances") : Json::array();
}

long long task_field(SkydHarness& skyd, long long id, const char* key) {
  auto job = parse_json(skyd.job_json(id));
  if (!job || !job->find("tasks")) return -1;
  const Json& task = (*job->find("tasks")->as_array())[0];
  return task.find(key) && task.find(key)->as_int() ? *task.find(key)->as_int() : -1;
}

TEST(LaunchSafety, ALostRunInstancesAnswerIsResolvedThroughItsTokenNotRetriedElsewhere) {
  AwsWorld world({}, kSecret, {{"aws_request_timeout", "400ms"}});
  // Every RunInstances in us-east-1a is carried out, but its answer comes too late.
  world.admin("POST", "/_admin/faults",
              R"({"action":"RunInstances","zone":"us-east-1a","lose_answer_ms":1500})");
  const auto yaml =
      world.skyd.write_file("lost.yaml",
                            "name: lost\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
                            "run: echo ran on $(hostname)\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out << world.skyd.sky({"jobs", "queue"}).out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(world.launch_zones(1), std::vector<std::string>{"us-east-1/us-east-1a"})
      << "the instances the lost answer made were found and used; nothing was tried elsewhere";
  const Json made = instances_of(world);
  EXPECT_EQ(made.as_array()->size(), 1u) << "one call made one instance, once";
  auto stats = parse_json(world.admin("GET", "/_admin/stats"));
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->find("answers_lost")->as_int().value_or(0), 1);
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(LaunchSafety, FailuresThatPassNeverFailTheJobsPrechecks) {
  AwsWorld world;
  // Every zone answers 500 InternalError for a while, then the calls go through.
  world.admin("POST", "/_admin/faults",
              R"({"action":"RunInstances","code":"InternalError","count":12})");
  const auto yaml =
      world.skyd.write_file("flaky.yaml",
                            "name: flaky\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
                            "run: echo ran\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(TwoInstallations, NeverShareTokensNorSweepEachOthersMachines) {
  AwsWorld world;                                                             // installation A
  SkydHarness other(aws_settings(world.cloud.url(), {}), aws_environment());  // installation B
  const std::string marks = world.dir.path();
  const auto a_fields = world.skyd.write_file("fields.yaml", waiting_job("fields", marks));
  const auto a_other = world.skyd.write_file("other.yaml", waiting_job("other", marks));
  const auto b_fields = other.write_file("fields.yaml", waiting_job("fields", marks + "/b"));
  std::filesystem::create_directories(marks + "/b");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", a_fields}).exit_code, 0);  // A's job 1
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", a_other}).exit_code, 0);   // A's job 2
  ASSERT_EQ(other.sky({"jobs", "launch", "-y", "-d", b_fields}).exit_code, 0);       // B's job 1
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(marks + "/fields-started"); }));
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(marks + "/other-started"); }));
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(marks + "/b/fields-started"); }))
      << "B's job named fields ran on machines of its own, not on A's";
  EXPECT_EQ(world.live_instances(), 3);

  const std::string a = installation_of(world.skyd);
  const std::string b = installation_of(other);
  EXPECT_NE(a, b);
  std::map<std::string, int> by_controller;
  const Json instances = instances_of(world);
  for (const auto& instance : *instances.as_array()) {
    const Json* tags = instance.find("tags");
    const Json* controller = tags ? tags->find("skyd-controller") : nullptr;
    if (controller && controller->as_string())
      ++by_controller[std::string(*controller->as_string())];
  }
  EXPECT_EQ(by_controller[a], 2);
  EXPECT_EQ(by_controller[b], 1);

  // B restarts: its sweep finds A's machines in the account and leaves them alone.
  other.stop();
  other.restart();
  ASSERT_TRUE(wait_for(
      [&] { return contains(read_text(other.dir() + "/skyd-1.log"), "leak sweep done"); }));
  EXPECT_EQ(world.live_instances(), 3);
  EXPECT_EQ(world.skyd.job_status(2), "RUNNING");
  EXPECT_EQ(task_field(world.skyd, 2, "recovery_count"), 0);

  std::ofstream(marks + "/go") << "";
  std::ofstream(marks + "/b/go") << "";
  EXPECT_EQ(world.skyd.sky({"jobs", "logs", "2"}).exit_code, 0);
  EXPECT_EQ(world.skyd.sky({"jobs", "logs", "1"}).exit_code, 0);
  EXPECT_EQ(other.sky({"jobs", "logs", "1"}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

TEST(TwoInstallations, TheStartupSweepRunsBesideTheApiNotBeforeIt) {
  AwsWorld world;
  const std::string mine = installation_of(world.skyd);
  // A leaked machine of this installation (made with curl's own SigV4 signer), in an account
  // whose TerminateInstances says yes and does nothing: the sweep can never finish.
  const auto made = world.signed_call(
      "RunInstances",
      "ImageId=ami-0a1b2c3d4e5f60718&InstanceType=m6i.large"
      "&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance"
      "&TagSpecification.1.Tag.1.Key=skyd-cluster&TagSpecification.1.Tag.1.Value=leak-999"
      "&TagSpecification.1.Tag.2.Key=skyd-controller&TagSpecification.1.Tag.2.Value=" +
          mine);
  ASSERT_TRUE(contains(made.out, "<instanceId>")) << made.out << made.err;
  ASSERT_TRUE(wait_for([&] { return world.live_instances() == 1; }));
  world.admin("POST", "/_admin/faults", R"({"action":"TerminateInstances","no_effect":true})");

  world.skyd.stop();
  world.skyd.restart();  // READY: the API does not wait for the sweep
  auto queue = world.skyd.sky({"jobs", "queue"}, std::chrono::seconds(10));
  EXPECT_EQ(queue.exit_code, 0) << queue.err;
  ASSERT_TRUE(wait_for([&] {
    auto stats = parse_json(world.admin("GET", "/_admin/stats"));
    const Json* calls = stats ? stats->find("calls") : nullptr;
    const Json* terminations = calls ? calls->find("TerminateInstances") : nullptr;
    return terminations && terminations->as_int().value_or(0) > 0;
  })) << "the sweep found the leaked machine";
  EXPECT_EQ(world.live_instances(), 1) << "and it is still reported, so the sweep goes on";
  world.admin("POST", "/_admin/reset");
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }))
      << "once the cloud terminates again, the sweep finishes the job";
}

}  // namespace
}  // namespace skyd::testing
