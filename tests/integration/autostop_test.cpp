// skyd's autostop on fakecloud: a skyd whose instance metadata is that of a fakecloud instance
// (the controller VM) stops that instance with a signed StopInstances once it has no open job and
// no client for the idle time, and leaves it running while a job is open.
#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace skyd::testing {
namespace {

// fakecloud (process mode) with one instance standing in for the controller VM skyd runs on.
class ControllerVm {
 public:
  explicit ControllerVm(bool tagged_as_controller) : cloud_(dir_) {
    std::string form =
        "ImageId=ami-0a1b2c3d4e5f60718&InstanceType=m6i.xlarge&MinCount=1&MaxCount=1";
    if (tagged_as_controller) {
      form +=
          "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=skyd-role"
          "&TagSpecification.1.Tag.1.Value=controller";
    }
    const auto made = signed_call("RunInstances", form);
    const auto open = made.out.find("<instanceId>");
    if (open == std::string::npos) throw std::runtime_error("RunInstances: " + made.out);
    id_ = made.out.substr(open + 12, made.out.find("</instanceId>") - open - 12);
    if (!wait_for([this] { return state() == "running"; }))
      throw std::runtime_error("the controller VM never ran");
    metadata_url_ = std::string(*record().find("metadata_url")->as_string());
  }

  CommandResult signed_call(const std::string& action, const std::string& form) {
    return run_command({"/usr/bin/curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:ec2", "--user",
                        std::string(kAccessKey) + ":" + kSecret, "-H",
                        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "--data",
                        "Action=" + action + "&Version=2016-11-15&" + form, cloud_.url() + "/"});
  }
  Json record() {
    auto all =
        parse_json(run_command({"/usr/bin/curl", "-s", cloud_.url() + "/_admin/instances"}).out);
    for (const auto& item : *all->find("instances")->as_array())
      if (item.find("instance_id")->as_string() == id_) return item;
    return Json::object();
  }
  std::string state() {
    const Json found = record();
    const Json* state = found.find("state");
    return state ? std::string(*state->as_string()) : "";
  }
  // skyd's environment on this VM: the fake account's keys, and the VM's own metadata service.
  SkydHarness::Environment skyd_environment() const {
    return SkydHarness::Environment{{{"AWS_ACCESS_KEY_ID", kAccessKey},
                                     {"AWS_SECRET_ACCESS_KEY", kSecret},
                                     {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                                     {"AWS_EC2_METADATA_DISABLED", "false"},
                                     {"AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata_url_}}};
  }
  std::map<std::string, std::string> skyd_settings(std::map<std::string, std::string> extra) {
    return aws_settings(cloud_.url(), std::move(extra));
  }
  const std::string& id() const { return id_; }

 private:
  TempDir dir_;
  FakeCloudProcess cloud_;
  std::string id_;
  std::string metadata_url_;
};

std::string read_log(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits (up to 60 s) until skyd's log holds `text`.
bool log_shows(const SkydHarness& skyd, const std::string& text) {
  for (int i = 0; i < 1200; ++i) {
    if (read_log(skyd.log_file()).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(Autostop, AnIdleSkydStopsTheInstanceItRunsOnAndSaysWhy) {
  ControllerVm vm(true);
  SkydHarness skyd(vm.skyd_settings({{"autostop_idle", "2s"}}), vm.skyd_environment());
  ASSERT_TRUE(log_shows(skyd, "autostop on idle=2s instance=" + vm.id() + " region=us-east-1"))
      << read_log(skyd.log_file());
  ASSERT_TRUE(wait_for([&] { return vm.state() == "stopped"; })) << read_log(skyd.log_file());
  // The log is written through within a second.
  EXPECT_TRUE(log_shows(skyd, "autostop stopping instance=" + vm.id() +
                                  " region=us-east-1 reason=\"no open job and no client for "))
      << read_log(skyd.log_file());
  EXPECT_TRUE(log_shows(skyd, "autostop stop requested instance=" + vm.id() + " state=stopping"))
      << read_log(skyd.log_file());
  const auto metrics = skyd.api("GET", "/metrics");
  EXPECT_NE(metrics.body.find("skyd_autostop_stops_total{result=\"requested\"} 1"),
            std::string::npos)
      << metrics.body;
}

TEST(Autostop, AnOpenJobKeepsTheInstanceRunningUntilItEnds) {
  ControllerVm vm(true);
  SkydHarness skyd(vm.skyd_settings({{"autostop_idle", "1s"}}), vm.skyd_environment());
  const auto yaml =
      skyd.write_file("long.yaml", "name: long\nresources:\n  infra: local\nrun: |\n  sleep 300\n");
  auto launched = skyd.sky({"jobs", "launch", "-d", "-y", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  ASSERT_TRUE(log_shows(skyd, "autostop on idle=1s")) << read_log(skyd.log_file());
  // Four idle times with no client: an idle skyd would have stopped the instance by now.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(vm.state(), "running") << read_log(skyd.log_file());
  // Once the job ends, the instance stops after the idle time.
  auto cancelled = skyd.sky({"jobs", "cancel", "-y", "1"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.out << cancelled.err;
  ASSERT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
  EXPECT_TRUE(wait_for([&] { return vm.state() == "stopped"; })) << read_log(skyd.log_file());
}

TEST(Autostop, IsOnByDefaultOnAControllerVmAndOffOnAnyOtherInstance) {
  ControllerVm controller_vm(true);
  SkydHarness on_controller(controller_vm.skyd_settings({}), controller_vm.skyd_environment());
  EXPECT_TRUE(log_shows(on_controller, "autostop on idle=600s instance=" + controller_vm.id()))
      << read_log(on_controller.log_file());

  ControllerVm other_vm(false);
  SkydHarness elsewhere(other_vm.skyd_settings({}), other_vm.skyd_environment());
  EXPECT_TRUE(
      log_shows(elsewhere, "autostop off: instance " + other_vm.id() + " is not a controller VM"))
      << read_log(elsewhere.log_file());
}

TEST(Autostop, OffInTheConfigAsksNothing) {
  ControllerVm vm(true);
  SkydHarness skyd(vm.skyd_settings({{"autostop_idle", "off"}}), vm.skyd_environment());
  EXPECT_TRUE(log_shows(skyd, "autostop off (autostop_idle: off)")) << read_log(skyd.log_file());
}

}  // namespace
}  // namespace skyd::testing
