// `sky controller up|down` against fakecloud (process mode): one on-demand instance with the
// instance profile, an SSH security group and user data that installs skyd's package; a second
// `up` (also after an interruption that lost what the first recorded) makes none; `down` refuses
// while the controller has open jobs and terminates it otherwise.
#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"
#include "tests/support/private_sshd.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {

class ControllerVmTest : public ::testing::Test {
 protected:
  ControllerVmTest() : cloud_(dir_) {
    std::filesystem::create_directories(home());
    std::ofstream(dir_.file("id_ed25519.pub"))
        << "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST alice@laptop\n";
  }

  std::string home() const { return dir_.file("home"); }

  CommandResult sky(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv{binary_path("sky")};
    argv.insert(argv.end(), args.begin(), args.end());
    env.insert({{"HOME", home()},
                {"AWS_ACCESS_KEY_ID", kAccessKey},
                {"AWS_SECRET_ACCESS_KEY", kSecret},
                {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                {"AWS_EC2_METADATA_DISABLED", "true"},
                {"AWS_ENDPOINT_URL_EC2", cloud_.url()},
                {"SKYD_CATALOG_DIR", SKYD_FAKECLOUD_CATALOG_DIR}});
    return run_command(argv, env, std::chrono::seconds(120));
  }
  CommandResult up(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"controller",    "up",
                                  "--infra",       "aws/us-east-1",
                                  "--ssh-cidr",    "198.51.100.7/32",
                                  "--ssh-key",     dir_.file("id_ed25519.pub"),
                                  "--package-url", "https://example.com/skyd_0.1.0_amd64.deb"};
    args.insert(args.end(), extra.begin(), extra.end());
    return sky(args);
  }
  // An EC2 call in us-east-1 signed by curl's SigV4 with the fake account's keys.
  CommandResult signed_call(const std::string& action, const std::string& form) {
    return run_command({"/usr/bin/curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:ec2", "--user",
                        std::string(kAccessKey) + ":" + kSecret, "-H",
                        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "--data",
                        "Action=" + action + "&Version=2016-11-15&" + form, cloud_.url() + "/"});
  }
  Json admin(const std::string& what) {
    return *parse_json(run_command({"/usr/bin/curl", "-s", cloud_.url() + "/_admin/" + what}).out);
  }
  // The instances that are not terminated.
  std::vector<Json> instances() {
    std::vector<Json> out;
    const Json all = admin("instances");
    for (const auto& item : *all.find("instances")->as_array())
      if (item.find("state")->as_string() != "terminated") out.push_back(item);
    return out;
  }
  std::string contexts() { return read_text(home() + "/.sky/contexts.json"); }

  TempDir dir_;
  FakeCloudProcess cloud_;
};

std::string text(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_string() ? std::string(*value->as_string()) : "";
}

TEST_F(ControllerVmTest, UpMakesOneInstanceWithProfileGroupAndUserDataAndRecordsAContext) {
  auto made = up();
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  auto live = instances();
  ASSERT_EQ(live.size(), 1u);
  const Json& vm = live[0];
  EXPECT_EQ(text(vm, "state"), "running");
  EXPECT_EQ(text(*vm.find("tags"), "skyd-role"), "controller");
  EXPECT_EQ(text(vm, "iam_instance_profile"),
            "arn:aws:iam::123456789012:instance-profile/skyd-controller");
  EXPECT_FALSE(vm.find("spot")->as_bool().value_or(true)) << "on demand";
  EXPECT_EQ(vm.find("block_devices")->as_array()->front().find("volume_size")->as_int(), 50);
  // cpus 4+, memory 4x: the fake account's cheapest such type.
  EXPECT_NE(made.out.find("(" + text(vm, "instance_type") + ", 50 GB)"), std::string::npos)
      << made.out;
  const std::string user_data = text(vm, "user_data");
  EXPECT_NE(user_data.find("package_url='https://example.com/skyd_0.1.0_amd64.deb'"),
            std::string::npos)
      << user_data;
  EXPECT_NE(user_data.find("apt-get install -y -q /tmp/skyd.deb"), std::string::npos);
  EXPECT_NE(user_data.find("systemctl enable --now skyd.socket skyd.service"), std::string::npos);
  EXPECT_NE(user_data.find("key='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST alice@laptop'"),
            std::string::npos);
  // The group admits SSH from the given address only.
  const auto& groups = *vm.find("security_groups")->as_array();
  ASSERT_EQ(groups.size(), 1u);
  bool ssh_rule = false;
  const Json all_groups = admin("security_groups");
  for (const auto& group : *all_groups.find("security_groups")->as_array()) {
    if (text(group, "group_id") != *groups[0].as_string()) continue;
    EXPECT_EQ(text(group, "group_name"), "skyd-controller-controller");
    ssh_rule = group.dump().find("198.51.100.7/32") != std::string::npos &&
               group.dump().find("22") != std::string::npos;
  }
  EXPECT_TRUE(ssh_rule) << admin("security_groups").dump();
  EXPECT_NE(contexts().find("\"host\":\"ssh://admin@" + text(vm, "ip") + "\""), std::string::npos)
      << contexts();
}

TEST_F(ControllerVmTest, ANameThatIsNotAPlainWordIsRefusedBeforeAnyCall) {
  auto refused = up({"--name", "../evil"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--name: letters, digits"), std::string::npos) << refused.err;
  EXPECT_EQ(sky({"controller", "down", "--name", "a/b"}).exit_code, 2);
  EXPECT_TRUE(instances().empty());
  EXPECT_FALSE(std::filesystem::exists(home() + "/.sky/evil.json"));
}

TEST_F(ControllerVmTest, UpAgainAndUpAfterAnInterruptionFindTheOneInstance) {
  auto first = up();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string id = text(instances().at(0), "instance_id");
  auto again = up();
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("Found controller instance " + id), std::string::npos) << again.out;
  // An `up` interrupted after RunInstances was sent: only its token was recorded, no context.
  const std::string state_path = home() + "/.sky/controllers/controller.json";
  auto state = parse_json(read_text(state_path));
  ASSERT_TRUE(state);
  state->set("instance_id", "");
  std::ofstream(state_path) << state->dump();
  std::filesystem::remove(home() + "/.sky/contexts.json");
  auto resumed = up();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("Found controller instance " + id), std::string::npos) << resumed.out;
  EXPECT_EQ(instances().size(), 1u) << "one controller, never two";
  EXPECT_NE(contexts().find("ssh://admin@"), std::string::npos);
}

TEST_F(ControllerVmTest, DownRefusesWhileJobsAreOpenThenTerminatesAndLeavesNothing) {
  auto made = up();
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  // The controller's skyd stands in as a local one: its context points at that socket.
  SkydHarness skyd;
  std::string saved = contexts();
  const auto at = saved.find("ssh://admin@");
  saved.replace(at, saved.find('"', at) - at, skyd.socket());
  std::ofstream(home() + "/.sky/contexts.json") << saved;
  const auto yaml =
      skyd.write_file("long.yaml", "name: long\nresources:\n  infra: local\nrun: |\n  sleep 300\n");
  auto launched = skyd.sky({"jobs", "launch", "-d", "-y", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;

  auto refused = sky({"controller", "down"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("has 1 open job"), std::string::npos) << refused.err;
  EXPECT_EQ(instances().size(), 1u);

  ASSERT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
  auto removed = sky({"controller", "down"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_TRUE(instances().empty());
  EXPECT_EQ(admin("stats").find("live")->as_int(), 0);
  EXPECT_EQ(contexts().find("\"controller\""), std::string::npos) << contexts();
  EXPECT_EQ(admin("security_groups").dump().find("skyd-controller-controller"), std::string::npos);
}

TEST_F(ControllerVmTest, DownOfAnUnreachableControllerNeedsPurge) {
  auto made = up();
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  // Its context names a socket nothing listens on (as a stopped controller answers nothing).
  std::string saved = contexts();
  const auto at = saved.find("ssh://admin@");
  saved.replace(at, saved.find('"', at) - at, dir_.file("nobody.sock"));
  std::ofstream(home() + "/.sky/contexts.json") << saved;
  auto refused = sky({"controller", "down"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("--purge"), std::string::npos) << refused.err;
  EXPECT_EQ(instances().size(), 1u);
  auto purged = sky({"controller", "down", "--purge"});
  ASSERT_EQ(purged.exit_code, 0) << purged.out << purged.err;
  EXPECT_TRUE(instances().empty());
}

TEST_F(ControllerVmTest, ACommandThroughTheContextOfAStoppedControllerStartsItFirst) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd's privilege separation";
  if (!std::filesystem::exists("/usr/sbin/sshd") || !std::filesystem::exists("/usr/bin/ssh"))
    GTEST_SKIP() << "needs OpenSSH's client and server (openssh-client, openssh-server)";
  // The controller's skyd and its sshd stand on loopback; the test's ssh configuration sends
  // every host (the instance's public address) to that sshd.
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  const std::string url = sshd.url(current_user());
  const std::string base =
      sshd.client_env(home())["SKYD_SSH_COMMAND"].substr(std::string("/usr/bin/ssh -F ").size());
  write_text(dir_.file("ssh_config"), "Host *\n  HostName 127.0.0.1\n  Port " +
                                          url.substr(url.rfind(':') + 1) + "\n" + read_text(base));
  const std::map<std::string, std::string> ssh{
      {"SKYD_SSH_COMMAND", "/usr/bin/ssh -F " + dir_.file("ssh_config")}};
  auto made = up({"--ssh-user", current_user()});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  ASSERT_EQ(sky({"context", "use", "controller"}).exit_code, 0);
  const std::string id = text(instances().at(0), "instance_id");
  auto queue = sky({"jobs", "queue"}, ssh);
  ASSERT_EQ(queue.exit_code, 0) << queue.out << queue.err;
  EXPECT_EQ(queue.err.find("was stopped"), std::string::npos) << "a running controller is used";

  // Autostop stopped it.
  ASSERT_NE(signed_call("StopInstances", "InstanceId.1=" + id).out.find("<name>stopping</name>"),
            std::string::npos);
  ASSERT_TRUE(wait_for([&] { return text(instances().at(0), "state") == "stopped"; }));
  auto woken = sky({"jobs", "queue"}, ssh);
  ASSERT_EQ(woken.exit_code, 0) << woken.out << woken.err;
  EXPECT_NE(woken.err.find("Controller controller was stopped; started instance " + id),
            std::string::npos)
      << woken.err;
  EXPECT_NE(woken.out.find("No in-progress managed jobs"), std::string::npos) << woken.out;
  EXPECT_EQ(text(instances().at(0), "state"), "running");
  EXPECT_EQ(admin("stats").find("calls")->find("StartInstances")->as_int(), 1);
  EXPECT_EQ(instances().size(), 1u);
}

}  // namespace
}  // namespace skyd::testing
