// Recovery end to end on the local provider: spot preemptions (notice, grace, kill), machines that
// die without notice, and crashes of skyd itself in the middle of a recovery.
#include "reactor/json.hpp"
#include "tests/support/skyd_harness.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

long long task_number(SkydHarness& skyd, long long id, const char* key) {
  auto job = parse_json(skyd.job_json(id));
  if (!job) return -1;
  const Json& task = (*job->find("tasks")->as_array())[0];
  return task.find(key) && task.find(key)->as_int() ? *task.find(key)->as_int() : -1;
}

// Counts to 40 in a bucket checkpoint, one step per 50 ms, resuming where the checkpoint says.
std::string counting_job(const std::string& name, bool spot, const std::string& setup = "") {
  return "name: " + name +
         "\nresources:\n  infra: local\n  use_spot: " + (spot ? "true" : "false") +
         "\nfile_mounts:\n  ~/ckpt:\n    name: " + name + "-ckpt\n    mode: MOUNT\n" + setup +
         "run: |\n  step=$(cat ~/ckpt/step 2>/dev/null || echo 0); echo resuming at step $step\n"
         "  while [ $step -lt 40 ]; do step=$((step+1)); echo $step > ~/ckpt/step.tmp; mv "
         "~/ckpt/step.tmp ~/ckpt/step;"
         " sleep 0.05; done\n  echo done\n";
}

bool wait_for_step(SkydHarness& skyd, const std::string& bucket, int at_least) {
  const std::string path = skyd.bucket(bucket) + "/step";
  for (int i = 0; i < 600; ++i) {
    const std::string text = read_text(path);
    if (!text.empty() && std::atoi(text.c_str()) >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(Recovery, APreemptedSpotJobRecoversAndResumesFromItsCheckpoint) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("spot.yaml", counting_job("count", true));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_step(skyd, "count-ckpt", 5));
  auto preempted = skyd.preempt(1);
  EXPECT_EQ(preempted.exit_code, 0) << preempted.err;
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "== attempt 1 of task 0")) << logs.out;
  EXPECT_TRUE(contains(logs.out, "== attempt 2 of task 0")) << logs.out;
  EXPECT_TRUE(contains(logs.out, "resuming at step 0")) << logs.out;
  EXPECT_FALSE(contains(logs.out.substr(logs.out.find("== attempt 2")), "resuming at step 0"))
      << "the second attempt starts from the checkpoint: " << logs.out;
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "spot notice from node 0")) << controller.out;
  EXPECT_TRUE(contains(controller.out, "RUNNING -> RECOVERING (spot preemption notice)"))
      << controller.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(Recovery, AMachineThatDiesWithoutNoticeIsDetectedAndReplaced) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("dies.yaml", counting_job("dies", false));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_step(skyd, "dies-ckpt", 3));
  const int pid =
      std::atoi(read_text(skyd.state_dir() + "/local/clusters/dies-1/node-0/skylet.pid").c_str());
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);  // the machine's agent dies silently; the task goes with the machine below
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "== attempt 2 of task 0")) << logs.out;
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "stopped answering and is gone")) << controller.out;
}

TEST(Recovery, APreemptionDuringSetupRecovers) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file(
      "setup.yaml",
      "name: setup-spot\nresources:\n  infra: local\n  use_spot: true\n"
      "file_mounts:\n  ~/state:\n    name: setup-state\n    mode: MOUNT\n"
      "setup: |\n  echo setup >> ~/state/setups\n  while [ ! -f ~/state/go ]; do sleep 0.05; done\n"
      "run: echo ran\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string setups = skyd.bucket("setup-state") + "/setups";
  ASSERT_TRUE(skyd.wait_for_file(setups));
  auto preempted = skyd.preempt(1);
  ASSERT_EQ(preempted.exit_code, 0) << preempted.err;
  // The replacement is in its setup: the preemption was seen and acted on.
  ASSERT_TRUE(wait_until([&] { return read_text(setups) == "setup\nsetup\n"; }))
      << read_text(setups);
  std::ofstream(skyd.bucket("setup-state") + "/go") << "";
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "ran")) << logs.out;
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  EXPECT_EQ(read_text(skyd.bucket("setup-state") + "/setups"), "setup\nsetup\n");
}

TEST(Recovery, CancelDuringRecovering) {
  TempDir scripts;
  SkydHarness skyd({{"skylet_binary", slow_skylet(scripts, 3)}});
  const auto yaml = skyd.write_file("spot.yaml", counting_job("cancelled", true));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_step(skyd, "cancelled-ckpt", 1));
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RECOVERING"}));
  EXPECT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_EQ(skyd.sky({"jobs", "logs", "1"}).exit_code, 103);
  EXPECT_EQ(skyd.job_status(1), "CANCELLED");
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(Recovery, SkydKilledDuringARecoveryResumesWithExactlyOneReplacement) {
  TempDir scripts;
  SkydHarness skyd({{"skylet_binary", slow_skylet(scripts, 2)}});
  const auto yaml = skyd.write_file("spot.yaml", counting_job("crashy", true));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_step(skyd, "crashy-ckpt", 1));
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RECOVERING"}));
  skyd.kill();
  skyd.restart();
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  EXPECT_TRUE(skyd.no_machines_left());
  const std::string json = skyd.job_json(1);
  EXPECT_TRUE(contains(json, "\"status\":\"SUCCEEDED\"")) << json;
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

TEST(Recovery, ATaskFailureWhoseMachineIsGoneIsARecoveryNotTheUsersFailure) {
  // The task fails; while skyd waits its grace before blaming the user, the machine dies.
  SkydHarness skyd(std::map<std::string, std::string>{{"failure_check_grace", "3s"}});
  const auto yaml = skyd.write_file(
      "lost.yaml",
      "name: lost\nresources:\n  infra: local\nfile_mounts:\n  ~/s:\n    name: lost-state\n    "
      "mode: MOUNT\n"
      "run: |\n  if [ ! -f ~/s/once ]; then touch ~/s/once; exit 1; fi\n  echo second run\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.bucket("lost-state") + "/once"));
  const int pid =
      std::atoi(read_text(skyd.state_dir() + "/local/clusters/lost-1/node-0/skylet.pid").c_str());
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "second run")) << logs.out;
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  EXPECT_EQ(task_number(skyd, 1, "restart_count"), 0) << "no restart budget was charged";
  // Whether skyd heard the exit status before the machine went or not, the loss is the machine's.
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "the task failed, but its machines are gone") ||
              contains(controller.out, "stopped answering and is gone"))
      << controller.out;
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

TEST(Recovery, ASpotNoticeProvisionsTheReplacementInsideTheWindowAndRunsItAfter) {
  // The old task ignores the notice: the replacement is launched and set up while the old machine
  // runs out its window, and its run starts only once the old machine has gone.
  SkydHarness skyd(std::map<std::string, std::string>{{"local_preemption_grace", "5s"}});
  const auto yaml = skyd.write_file(
      "overlap.yaml",
      "name: overlap\nresources:\n  infra: local\n  use_spot: true\nfile_mounts:\n  ~/s:\n"
      "    name: overlap-state\n    mode: MOUNT\nsetup: echo setup >> ~/s/setups\n"
      "run: |\n  if [ -f ~/s/ran ]; then echo second run; exit 0; fi\n"
      "  touch ~/s/ran; sleep 1000\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.bucket("overlap-state") + "/ran"));
  const auto noticed = std::chrono::steady_clock::now();
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  bool set_up = false;
  while (!set_up && std::chrono::steady_clock::now() - noticed < std::chrono::seconds(5)) {
    set_up = read_text(skyd.bucket("overlap-state") + "/setups") == "setup\nsetup\n";
    if (!set_up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(set_up) << "the replacement is set up inside the notice window";
  EXPECT_TRUE(std::filesystem::exists(skyd.state_dir() + "/local/clusters/overlap-1"))
      << "while the old machine still stands";
  EXPECT_EQ(skyd.job_status(1), "RECOVERING");
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "second run")) << logs.out;
  EXPECT_GE(std::chrono::steady_clock::now() - noticed, std::chrono::seconds(5))
      << "the replacement ran only after the window";
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  EXPECT_TRUE(skyd.no_machines_left());
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

TEST(Recovery, LosingOneNodeOfAMultiNodeTaskRecoversTheWholeCluster) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("pair.yaml",
                                    "name: pair\nnum_nodes: 2\nresources:\n  infra: local\n"
                                    "file_mounts:\n  ~/s:\n    name: pair-state\n    mode: MOUNT\n"
                                    "run: |\n  echo $SKYPILOT_NODE_RANK >> ~/s/starts\n"
                                    "  if [ $(wc -l < ~/s/starts) -le 2 ]; then sleep 1000; fi\n  "
                                    "echo rank $SKYPILOT_NODE_RANK done\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  const std::string pid_file = skyd.state_dir() + "/local/clusters/pair-1/node-1/skylet.pid";
  ASSERT_TRUE(skyd.wait_for_file(pid_file));
  ::kill(std::atoi(read_text(pid_file).c_str()), SIGKILL);  // node 1 dies; node 0 is fine
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "== attempt 2 of task 0")) << logs.out;
  EXPECT_EQ(task_number(skyd, 1, "recovery_count"), 1);
  const std::string starts = read_text(skyd.bucket("pair-state") + "/starts");
  EXPECT_EQ(std::count(starts.begin(), starts.end(), '\n'), 4)
      << "both nodes ran again: " << starts;
  EXPECT_TRUE(skyd.no_machines_left());
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

TEST(Recovery, TheTaskHearsTheSpotNoticeAsASignalAndFindsItInItsNoticeFile) {
  SkydHarness skyd(std::map<std::string, std::string>{{"spot_notice_signal", "USR1"},
                                                      {"local_preemption_grace", "20s"}});
  const auto yaml = skyd.write_file("hears.yaml",
                                    "name: hears\nresources:\n  infra: local\n  use_spot: true\n"
                                    "file_mounts:\n  ~/s:\n    name: hears-state\n    mode: MOUNT\n"
                                    "run: |\n  trap 'cat \"$SKYPILOT_SPOT_NOTICE_FILE\" > "
                                    "~/s/n.tmp && mv ~/s/n.tmp ~/s/notice' USR1\n"
                                    "  touch ~/s/ready\n  while true; do sleep 0.1; done\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.bucket("hears-state") + "/ready"));
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.bucket("hears-state") + "/notice", std::chrono::seconds(20)));
  EXPECT_TRUE(
      contains(read_text(skyd.bucket("hears-state") + "/notice"), "\"kind\":\"spot_notice\""));
}

}  // namespace
}  // namespace skyd::testing
