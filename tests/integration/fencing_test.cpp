// Never two live attempts of one task. Every attempt of these jobs takes an exclusive lock in the
// job's checkpoint bucket for its whole life (flock: released only when the last process of the
// attempt is gone) and records it when it finds the lock taken; a replacement whose run started
// while its predecessor still ran would find it. Covered: a spot notice (the replacement is
// provisioned inside the window, its run waits for the old task), a node whose agent falls silent
// while its task keeps running (cut off before the replacement runs), and skyd killed in the middle
// of a recovery.
#include "reactor/json.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/skyd_harness.hpp"

#include <signal.h>

#include <filesystem>
#include <functional>
#include <thread>

namespace skyd::testing {
namespace {

// The run takes the lock in $LOCK_DIR (default: the bucket at ~/ckpt), or fails with exit 3
// leaving a line in `violations`. Then it counts in a checkpoint there, one step per 50 ms, from
// where the last attempt left it: the first attempt on and on (until it is stopped), later ones
// for 20 more steps.
std::string locked_counting_run() {
  return "run: |\n"
         "  LOCK_DIR=${LOCK_DIR:-$HOME/ckpt}\n"
         "  exec 9>>\"$LOCK_DIR/lock\"\n"
         "  if ! flock -n 9; then echo \"attempt found the lock taken\" >> "
         "\"$LOCK_DIR/violations\"; exit 3; fi\n"
         "  n=$(( $(cat \"$LOCK_DIR/attempts\" 2>/dev/null || echo 0) + 1 )); echo $n > "
         "\"$LOCK_DIR/attempts\"\n"
         "  step=$(cat \"$LOCK_DIR/step\" 2>/dev/null || echo 0); echo resuming at step $step\n"
         "  if [ $n -eq 1 ]; then last=1000000; else last=$((step+20)); fi\n"
         "  while [ $step -lt $last ]; do step=$((step+1)); echo $step > \"$LOCK_DIR/step.tmp\";"
         " mv \"$LOCK_DIR/step.tmp\" \"$LOCK_DIR/step\"; sleep 0.05; done\n"
         "  echo done at step $step\n";
}

// A local spot job whose lock and checkpoint live in its bucket.
std::string local_locked_job(const std::string& name, bool spot) {
  return "name: " + name +
         "\nresources:\n  infra: local\n  use_spot: " + (spot ? "true" : "false") +
         "\nfile_mounts:\n  ~/ckpt:\n    name: " + name + "-ckpt\n    mode: MOUNT\n" +
         "setup: echo setting up\n" + locked_counting_run();
}

int step_in(const std::string& dir) {
  return std::atoi(read_text(dir + "/step").c_str());
}

long long recoveries(SkydHarness& skyd, long long id) {
  auto job = parse_json(skyd.job_json(id));
  if (!job || !job->find("tasks")) return -1;
  const Json& task = (*job->find("tasks")->as_array())[0];
  const Json* count = task.find("recovery_count");
  return count && count->as_int() ? *count->as_int() : -1;
}

// The job ended SUCCEEDED after one recovery, no attempt ever found the lock taken, and the
// second attempt resumed from the checkpoint.
void expect_one_clean_recovery(SkydHarness& skyd, const std::string& lock_dir) {
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_FALSE(std::filesystem::exists(lock_dir + "/violations"))
      << "an attempt ran while its predecessor still held the lock: "
      << read_text(lock_dir + "/violations") << logs.out;
  EXPECT_EQ(recoveries(skyd, 1), 1);
  const auto second = logs.out.find("== attempt 2");
  ASSERT_NE(second, std::string::npos) << logs.out;
  EXPECT_FALSE(contains(logs.out.substr(second), "resuming at step 0")) << logs.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(NeverTwoLiveAttempts, ASpotNoticeRunsTheReplacementOnlyOnceTheOldTaskHasStopped) {
  // The old task ignores the notice and holds the lock until the machine goes at the window's end.
  SkydHarness skyd(std::map<std::string, std::string>{{"local_preemption_grace", "3s"}});
  const auto yaml = skyd.write_file("spot.yaml", local_locked_job("notice", true));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string lock_dir = skyd.bucket("notice-ckpt");
  ASSERT_TRUE(wait_until([&] { return step_in(lock_dir) >= 5; }));
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  expect_one_clean_recovery(skyd, lock_dir);
  const std::string controller = skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  const auto replacement = controller.find("launching cluster notice-a2-1");
  const auto old_gone = controller.find("cluster notice-1 terminated");
  ASSERT_NE(replacement, std::string::npos) << controller;
  ASSERT_NE(old_gone, std::string::npos) << controller;
  EXPECT_LT(replacement, old_gone)
      << "the replacement is provisioned during the notice window: " << controller;
}

TEST(NeverTwoLiveAttempts, ANoticedTaskThatStopsAtOnceIsReplacedWellInsideTheWindow) {
  // A checkpoint-aware task: it hears the notice as SIGTERM, checkpoints and dies of it (143);
  // that is a preemption, not the task's failure, and the replacement runs as soon as it has
  // died, not at the window's end.
  SkydHarness skyd(std::map<std::string, std::string>{{"local_preemption_grace", "30s"},
                                                      {"spot_notice_signal", "TERM"}});
  const auto yaml = skyd.write_file(
      "aware.yaml",
      "name: aware\nresources:\n  infra: local\n  use_spot: true\nfile_mounts:\n  ~/ckpt:\n"
      "    name: aware-ckpt\n    mode: MOUNT\n"
      "run: |\n"
      "  LOCK_DIR=$HOME/ckpt\n"
      "  exec 9>>\"$LOCK_DIR/lock\"\n"
      "  if ! flock -n 9; then echo taken >> \"$LOCK_DIR/violations\"; exit 3; fi\n"
      "  if [ -f \"$LOCK_DIR/first\" ]; then echo second run; exit 0; fi\n"
      "  touch \"$LOCK_DIR/first\"\n"
      "  trap 'echo checkpointed; exit 143' TERM\n"
      "  while true; do sleep 0.05; done\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string lock_dir = skyd.bucket("aware-ckpt");
  ASSERT_TRUE(skyd.wait_for_file(lock_dir + "/first"));
  const auto noticed = std::chrono::steady_clock::now();
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  ASSERT_TRUE(
      wait_until([&] { return skyd.job_status(1) == "SUCCEEDED"; }, std::chrono::seconds(25)))
      << "the replacement ran well inside the 30 s window";
  EXPECT_LT(std::chrono::steady_clock::now() - noticed, std::chrono::seconds(25));
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "checkpointed")) << logs.out;
  EXPECT_TRUE(contains(logs.out, "second run")) << logs.out;
  EXPECT_FALSE(std::filesystem::exists(lock_dir + "/violations"));
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(NeverTwoLiveAttempts, ANodeWhoseAgentFallsSilentIsCutOffBeforeItsReplacementRuns) {
  // The agent stops answering but the machine and its task run on: the replacement may only
  // run once the old machine has been terminated.
  SkydHarness skyd(std::map<std::string, std::string>{{"node_lost_after", "1s"}});
  const auto yaml = skyd.write_file("silent.yaml", local_locked_job("silent", false));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string lock_dir = skyd.bucket("silent-ckpt");
  ASSERT_TRUE(wait_until([&] { return step_in(lock_dir) >= 5; }));
  const int pid =
      std::atoi(read_text(skyd.state_dir() + "/local/clusters/silent-1/node-0/skylet.pid").c_str());
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGSTOP);  // a hung agent; its task keeps counting and holding the lock
  expect_one_clean_recovery(skyd, lock_dir);
  ::kill(pid, SIGCONT);
}

TEST(NeverTwoLiveAttempts, SkydKilledInTheMiddleOfARecoveryStillWaitsForTheOldTask) {
  SkydHarness skyd(std::map<std::string, std::string>{{"local_preemption_grace", "6s"}});
  const auto yaml = skyd.write_file("crash.yaml", local_locked_job("crash", true));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string lock_dir = skyd.bucket("crash-ckpt");
  ASSERT_TRUE(wait_until([&] { return step_in(lock_dir) >= 5; }));
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  // Killed once the replacement is being provisioned, while the old task still holds the lock.
  ASSERT_TRUE(wait_until([&] {
    return std::filesystem::exists(skyd.state_dir() + "/local/clusters/crash-a2-1/cluster.json");
  }));
  skyd.kill();
  skyd.restart();
  expect_one_clean_recovery(skyd, lock_dir);
}

TEST(NeverTwoLiveAttempts, OnEc2TheReplacementRunsOnlyOnceTheNoticedInstanceIsGone) {
  TempDir dir;
  FakeCloudProcess cloud(dir);
  SkydHarness skyd(std::map<std::string, std::string>{{"aws_enabled", "true"},
                                                      {"aws_endpoint", cloud.url()},
                                                      {"aws_regions", "us-east-1,us-west-2"},
                                                      // what the fake account sells
                                                      {"catalog_dir", SKYD_FAKECLOUD_CATALOG_DIR}},
                   SkydHarness::Environment{
                       {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                        {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                        {"AWS_EC2_METADATA_DISABLED", "true"}}});
  // fakecloud's instances are skylet processes on this machine: a host directory is the bucket.
  const std::string lock_dir = dir.file("bucket");
  std::filesystem::create_directories(lock_dir);
  const auto yaml =
      skyd.write_file("ec2.yaml",
                      "name: ec2\nresources:\n  cloud: aws\n  instance_type: m6i.large\n"
                      "  use_spot: true\nenvs:\n  LOCK_DIR: " +
                          lock_dir + "\n" + locked_counting_run());
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return step_in(lock_dir) >= 5; }));
  run_command({"/usr/bin/curl", "-s", "-X", "POST",
               cloud.url() + "/_admin/preempt?cluster=ec2-1&grace_ms=3000"});
  expect_one_clean_recovery(skyd, lock_dir);
}

}  // namespace
}  // namespace skyd::testing
