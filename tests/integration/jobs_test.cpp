// Managed jobs end to end: a real skyd (embedded PostgreSQL, local provider, real skylets),
// driven through the real `sky` CLI, as a user would.
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

Json task_of(SkydHarness& skyd, long long id, int index) {
  auto job = parse_json(skyd.job_json(id));
  return job ? (*job->find("tasks")->as_array())[static_cast<std::size_t>(index)] : Json();
}

long long number_of(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_int() ? *value->as_int() : -1;
}

std::string local_task(const std::string& name, const std::string& run,
                       const std::string& extra = "") {
  return "name: " + name + "\nresources:\n  infra: local\n" + extra + "run: |\n  " + run + "\n";
}

TEST(Jobs, ASingleTaskSucceedsAndItsLogsAndQueueSaySo) {
  SkydHarness skyd;
  const auto yaml =
      skyd.write_file("hello.yaml", local_task("hello", "echo \"hi from rank $SKYPILOT_NODE_RANK\"",
                                               "envs:\n  WHO: you\nsetup: echo preparing\n"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "Managed Job ID: 1")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "== attempt 1 of task 0 on local/local-a")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "preparing\nhi from rank 0\n")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "Managed job finished: 1 (status: SUCCEEDED)."))
      << launched.out;

  auto queue = skyd.sky({"jobs", "queue"});
  EXPECT_EQ(queue.exit_code, 0);
  EXPECT_TRUE(contains(queue.out, "No in-progress managed jobs.")) << queue.out;
  EXPECT_TRUE(contains(queue.out, "ID  TASK  NAME   REQUESTED   SUBMITTED")) << queue.out;
  EXPECT_TRUE(contains(queue.out, "1   -     hello  1x[CPU:1+]")) << queue.out;
  EXPECT_TRUE(contains(queue.out, "SUCCEEDED")) << queue.out;

  auto logs = skyd.sky({"jobs", "logs", "1", "--no-follow"});
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_TRUE(contains(logs.out, "hi from rank 0")) << logs.out;
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "launching cluster hello-1 on local/local/local-a"))
      << controller.out;
  EXPECT_TRUE(contains(controller.out, "cluster hello-1 terminated")) << controller.out;
  EXPECT_TRUE(skyd.no_machines_left()) << "no machine outlives its job";
}

TEST(Jobs, ARunFailureEndsFailedWithExitCode100AndPointsToTheControllerLog) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("fail.yaml", local_task("fails", "echo trying; exit 3"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 100) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "Managed job finished: 1 (status: FAILED).")) << launched.out;
  EXPECT_TRUE(contains(
      launched.out,
      "run failed with exit codes [3]. To see the details, run: sky jobs logs --controller 1"))
      << launched.out;
  const Json task = task_of(skyd, 1, 0);
  EXPECT_EQ(number_of(task, "restart_count"), 0);
  EXPECT_EQ(task.find("exit_codes")->dump(), "[3]");
  EXPECT_EQ(skyd.sky({"jobs", "logs", "1"}).exit_code, 100);
}

TEST(Jobs, ASetupFailureEndsFailedSetup) {
  SkydHarness skyd;
  const auto yaml =
      skyd.write_file("setup.yaml", local_task("setup-fails", "echo never", "setup: exit 9\n"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 100) << launched.out;
  EXPECT_EQ(skyd.job_status(1), "FAILED_SETUP");
  EXPECT_FALSE(contains(launched.out, "never"));
}

TEST(Jobs, MaxRestartsOnErrorsRestartsUntilTheTaskSucceeds) {
  SkydHarness skyd;
  // Fails on its first two runs, succeeds on the third; the count lives in a bucket mount.
  const auto yaml = skyd.write_file(
      "restarts.yaml",
      "name: flaky\nresources:\n  infra: local\n  job_recovery:\n    max_restarts_on_errors: 2\n"
      "file_mounts:\n  ~/state:\n    name: flaky-state\n    mode: MOUNT\n"
      "run: |\n  n=$(cat ~/state/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > ~/state/runs\n"
      "  echo run $n; [ $n -ge 3 ]\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "run 1")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "== attempt 3 of task 0")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "run 3")) << launched.out;
  const Json task = task_of(skyd, 1, 0);
  EXPECT_EQ(number_of(task, "restart_count"), 2);
  EXPECT_EQ(read_text(skyd.bucket("flaky-state") + "/runs"), "3\n");
}

TEST(Jobs, RecoverOnExitCodesRestartsWithoutUsingTheBudget) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file(
      "codes.yaml",
      "name: coded\nresources:\n  infra: local\n  job_recovery:\n    recover_on_exit_codes: [42]\n"
      "file_mounts:\n  ~/state:\n    name: coded-state\n    mode: MOUNT\n"
      "run: |\n  if [ ! -f ~/state/once ]; then touch ~/state/once; exit 42; fi; echo second "
      "try\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_TRUE(contains(launched.out, "second try")) << launched.out;
  const Json task = task_of(skyd, 1, 0);
  EXPECT_EQ(number_of(task, "restart_count"), 0);
  EXPECT_EQ(number_of(task, "attempt"), 2);
}

TEST(Jobs, TheRestartBudgetSurvivesASkydRestart) {
  SkydHarness skyd;
  // Always fails; the second run waits for a go-ahead so skyd can be killed while it runs.
  const auto yaml = skyd.write_file(
      "budget.yaml",
      "name: budget\nresources:\n  infra: local\n  job_recovery:\n    max_restarts_on_errors: 1\n"
      "file_mounts:\n  ~/state:\n    name: budget-state\n    mode: MOUNT\n"
      "run: |\n  n=$(cat ~/state/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > ~/state/runs\n"
      "  if [ $n -ge 2 ]; then touch ~/state/second; while [ ! -f ~/state/go ]; do sleep 0.05; "
      "done; fi; exit 1\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.err;
  ASSERT_TRUE(skyd.wait_for_file(skyd.bucket("budget-state") + "/second"));
  skyd.kill();
  skyd.restart();
  std::ofstream(skyd.bucket("budget-state") + "/go") << "";
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 100) << logs.out;
  EXPECT_EQ(read_text(skyd.bucket("budget-state") + "/runs"), "2\n")
      << "the spent restart was remembered";
  EXPECT_EQ(number_of(task_of(skyd, 1, 0), "restart_count"), 1);
}

std::string pipeline(const std::string& first_run, const std::string& second_run) {
  return "name: train-eval\n---\nname: train\nresources:\n  infra: local\nrun: " + first_run +
         "\n---\nname: eval\nresources:\n  infra: local\nrun: " + second_run + "\n";
}

TEST(Jobs, APipelineWhoseSecondTaskFailsEndsFailedAfterTheFirstSucceeded) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("pipe.yaml", pipeline("echo trained", "exit 5"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 100) << launched.out;
  EXPECT_EQ(skyd.job_status(1), "FAILED");
  EXPECT_EQ(task_of(skyd, 1, 0).find("status")->dump(), "\"SUCCEEDED\"");
  EXPECT_EQ(task_of(skyd, 1, 1).find("status")->dump(), "\"FAILED\"");
  auto queue = skyd.sky({"jobs", "queue"});
  EXPECT_TRUE(contains(queue.out, "1         train-eval")) << queue.out;
  EXPECT_TRUE(contains(queue.out, " \u21b3  0     train")) << queue.out;
  EXPECT_TRUE(contains(queue.out, " \u21b3  1     eval")) << queue.out;
}

TEST(Jobs, APipelineWhoseFirstTaskFailsCancelsTheSecond) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("pipe.yaml", pipeline("exit 1", "echo never"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 100);
  EXPECT_EQ(task_of(skyd, 1, 0).find("status")->dump(), "\"FAILED\"");
  EXPECT_EQ(task_of(skyd, 1, 1).find("status")->dump(), "\"CANCELLED\"");
  EXPECT_FALSE(contains(launched.out, "never"));
}

TEST(Jobs, CancelWhileRunningStopsTheTaskAndLeavesNoMachine) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("long.yaml", local_task("long", "echo started; sleep 1000"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  auto cancelled = skyd.sky({"jobs", "cancel", "-y", "1"});
  EXPECT_EQ(cancelled.exit_code, 0);
  EXPECT_EQ(cancelled.out, "Job with ID 1 is scheduled to be cancelled.\n");
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 103) << logs.out;
  EXPECT_EQ(skyd.job_status(1), "CANCELLED");
  EXPECT_TRUE(skyd.no_machines_left());
  EXPECT_FALSE(fs::exists(skyd.state_dir() + "/local/clusters/long-1"));
  auto again = skyd.sky({"jobs", "cancel", "-y", "1"});
  EXPECT_EQ(again.out, "Jobs with IDs 1 have already finished.\n");
}

TEST(Jobs, CancelWhilePendingInLaunchBackoff) {
  // A skylet that cannot start makes every launch round fail: the job waits in PENDING.
  SkydHarness skyd({{"skylet_binary", "/nonexistent/skylet"}, {"launch_backoff", "1s"}});
  const auto yaml = skyd.write_file("stuck.yaml", local_task("stuck", "echo never"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  // PENDING from its submission on: the failed round is what the controller log says.
  std::string controller;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    controller = skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  } while (!contains(controller, "no resources") && std::chrono::steady_clock::now() < give_up);
  EXPECT_TRUE(contains(controller, "no resources")) << controller;
  EXPECT_EQ(skyd.job_status(1), "PENDING");
  EXPECT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
}

TEST(Jobs, CancelDuringALaunch) {
  // skylet takes a few seconds to start, so the cancel lands mid-launch.
  TempDir scripts;
  const std::string slow = slow_skylet(scripts, 3);
  SkydHarness slow_skyd({{"skylet_binary", slow}});
  const auto yaml = slow_skyd.write_file("job.yaml", local_task("launching", "sleep 1000"));
  ASSERT_EQ(slow_skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(slow_skyd.wait_for_status(1, {"STARTING"}));
  EXPECT_EQ(slow_skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(slow_skyd.wait_for_status(1, {"CANCELLED"}));
  EXPECT_TRUE(slow_skyd.no_machines_left());
}

TEST(Jobs, SkydKilledWhileATaskRunsReattachesWithoutRerunningIt) {
  SkydHarness skyd;
  const auto yaml =
      skyd.write_file("reattach.yaml",
                      "name: steady\nresources:\n  infra: local\nfile_mounts:\n  ~/state:\n    "
                      "name: steady-state\n    mode: MOUNT\n"
                      "run: |\n  echo $$ >> ~/state/starts\n  echo before-crash\n  while [ ! -f "
                      "~/state/go ]; do sleep 0.05; done\n  echo after-crash\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.bucket("steady-state") + "/starts"));
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  skyd.kill();
  skyd.restart();
  std::ofstream(skyd.bucket("steady-state") + "/go") << "";
  auto logs = skyd.sky({"jobs", "logs", "1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "before-crash\nafter-crash\n")) << logs.out;
  const std::string starts = read_text(skyd.bucket("steady-state") + "/starts");
  EXPECT_EQ(std::count(starts.begin(), starts.end(), '\n'), 1)
      << "the task ran once (same pid): " << starts;
  EXPECT_EQ(number_of(task_of(skyd, 1, 0), "recovery_count"), 0);
}

TEST(Jobs, SkydKilledDuringALaunchNeverDuplicatesMachines) {
  TempDir scripts;
  const std::string slow = slow_skylet(scripts, 2);
  SkydHarness skyd({{"skylet_binary", slow}});
  const auto yaml = skyd.write_file(
      "two.yaml", "name: pair\nnum_nodes: 2\nresources:\n  infra: local\nrun: sleep 1000\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.state_dir() + "/local/clusters/pair-1/node-0/skylet.pid"));
  skyd.kill();
  skyd.restart();
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  EXPECT_EQ(skyd.running_skylets().size(), 2u) << "exactly one machine per node";
  EXPECT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(Jobs, AnotherUsersJobIsVisibleButItsCancelAndLogsAreRefused) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("mine.yaml", local_task("mine", "sleep 1000"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  // Let an unprivileged user reach the socket (as an admin might), then try as `nobody`.
  ::chmod(skyd.socket().c_str(), 0666);
  auto as_nobody =
      run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                   binary_path("sky"), "--socket", skyd.socket(), "jobs", "cancel", "-y", "1"});
  EXPECT_EQ(as_nobody.exit_code, 1) << as_nobody.out << as_nobody.err;
  EXPECT_TRUE(contains(as_nobody.err, "belong to another user")) << as_nobody.err;
  auto queue = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            binary_path("sky"), "--socket", skyd.socket(), "jobs", "queue", "-u"});
  EXPECT_TRUE(contains(queue.out, "mine")) << "every user's jobs are listed with -u: " << queue.out;
  auto logs = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           binary_path("sky"), "--socket", skyd.socket(), "jobs", "logs",
                           "--no-follow", "1"});
  EXPECT_NE(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.err, "only they or a member of the admin group")) << logs.err;
  EXPECT_NE(skyd.job_status(1), "CANCELLED");
}

TEST(Jobs, CancelNeedsExactlyOneSelector) {
  SkydHarness skyd;
  auto both = skyd.sky({"jobs", "cancel", "-y", "1", "-a"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(contains(
      both.err,
      "Can only specify one of JOB_IDS, --name, or --all/--all-users. Provided 'JOB_IDS --all'."))
      << both.err;
  auto none = skyd.sky({"jobs", "cancel", "-y", "-a"});
  EXPECT_EQ(none.out, "No job to cancel.\n");
  EXPECT_EQ(skyd.sky({"jobs", "logs", "42"}).exit_code, 102);
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

TEST(Jobs, JobsOverTheRunningLimitWaitInPendingWithTheReasonShown) {
  SkydHarness skyd(std::map<std::string, std::string>{{"max_running_jobs", "1"}});
  const auto first = skyd.write_file("first.yaml",
                                     "name: first\nresources:\n  infra: local\nfile_mounts:\n  "
                                     "~/s:\n    name: gate\n    mode: MOUNT\n"
                                     "run: while [ ! -f ~/s/go ]; do sleep 0.05; done\n");
  const auto second = skyd.write_file("second.yaml", local_task("second", "echo second ran"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", first}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", second}).exit_code, 0);
  bool shown = false;
  for (int i = 0; i < 100 && !shown; ++i) {
    shown = contains(skyd.sky({"jobs", "queue"}).out,
                     "PENDING (waiting for a job slot: 1 jobs may run at once)");
    if (!shown) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(shown) << skyd.sky({"jobs", "queue"}).out;
  EXPECT_EQ(skyd.job_status(2), "PENDING");
  std::ofstream(skyd.bucket("gate") + "/go") << "";
  auto logs = skyd.sky({"jobs", "logs", "2"});
  EXPECT_EQ(logs.exit_code, 0) << logs.out;
  EXPECT_TRUE(contains(logs.out, "second ran"));
}

// A task written for SkyPilot Serve runs as a managed job, as with SkyPilot's `sky jobs launch`;
// sky says at the line that `service` is ignored.
TEST(Jobs, ATaskWithAServiceSectionRunsAsAJobWithAWarning) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file(
      "serve.yaml",
      local_task("serve", "echo served", "service:\n  readiness_probe: /health\n  replicas: 2\n"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.err;
  EXPECT_TRUE(contains(launched.err, "Warning: " + yaml + ":4:1: service: ignored"))
      << launched.err;
  EXPECT_EQ(skyd.job_status(1), "SUCCEEDED");
  EXPECT_TRUE(contains(skyd.sky({"jobs", "logs", "1"}).out, "served"));
}

// resources.priority in the YAML orders the jobs that wait for a slot: higher first, then the
// order of submission.
TEST(Jobs, AHigherPriorityJobTakesAFreedSlotBeforeAnEarlierLowerPriorityOne) {
  SkydHarness skyd(std::map<std::string, std::string>{{"max_running_jobs", "1"}});
  const std::string gate = "file_mounts:\n  ~/s:\n    name: gate\n    mode: MOUNT\n";
  const auto holder = skyd.write_file(
      "holder.yaml", local_task("holder", "while [ ! -f ~/s/go ]; do sleep 0.05; done", gate));
  const auto low = skyd.write_file(
      "low.yaml", local_task("low", "echo low >> ~/s/order", "  priority: -10\n" + gate));
  const auto high = skyd.write_file(
      "high.yaml", local_task("high", "echo high >> ~/s/order", "  priority: 900\n" + gate));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", holder}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  auto submitted = skyd.sky({"jobs", "launch", "-y", "-d", low});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  submitted = skyd.sky({"jobs", "launch", "-y", "-d", high});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_EQ(skyd.sql("SELECT priority FROM jobs ORDER BY id"), "0\n-10\n900\n");
  // Both wait for the slot before it is freed.
  std::string queue;
  for (int i = 0; i < 200; ++i) {
    queue = skyd.sky({"jobs", "queue"}).out;
    std::size_t waiting = 0;
    for (std::size_t at = queue.find("waiting for a job slot"); at != std::string::npos;
         at = queue.find("waiting for a job slot", at + 1)) {
      ++waiting;
    }
    if (waiting == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(contains(queue, "waiting for a job slot")) << queue;
  std::ofstream(skyd.bucket("gate") + "/go") << "";
  ASSERT_TRUE(skyd.wait_for_status(2, {"SUCCEEDED"}));
  ASSERT_TRUE(skyd.wait_for_status(3, {"SUCCEEDED"}));
  std::ifstream order(skyd.bucket("gate") + "/order");
  std::stringstream text;
  text << order.rdbuf();
  EXPECT_EQ(text.str(), "high\nlow\n");
}

TEST(Jobs, LogsOfJobsEndedLongerAgoThanTheRetentionAreRemoved) {
  SkydHarness skyd(std::map<std::string, std::string>{{"log_retention", "1s"}});
  const auto yaml = skyd.write_file("short.yaml", local_task("short", "echo kept for a moment"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);
  const std::string logs = skyd.state_dir() + "/logs/jobs/1";
  EXPECT_TRUE(fs::exists(logs));
  std::this_thread::sleep_for(
      std::chrono::milliseconds(1100));  // the retention must pass: time is the point
  skyd.stop();
  skyd.restart();  // the sweep runs at start (and hourly)
  bool removed = false;
  for (int i = 0; i < 100 && !removed; ++i) {
    removed = !fs::exists(logs);
    if (!removed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(removed);
  EXPECT_EQ(skyd.job_status(1), "SUCCEEDED") << "the job itself stays in the queue";
}

}  // namespace
}  // namespace skyd::testing
