// skyd stopping and starting under load: SIGTERM while a hundred jobs run, again and again (as
// every upgrade does under systemd), each stop clean and each start re-attaching to every job.
#include "reactor/json.hpp"
#include "tests/support/skyd_harness.hpp"

#include <filesystem>
#include <set>
#include <thread>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

std::string held_job() {
  return "name: held\nresources:\n  infra: local\n"
         "file_mounts:\n  ~/gate:\n    name: gate\n    mode: MOUNT\n"
         "run: flock -s ~/gate/lock true\n";
}

// Occurrences of `part` in the file.
int count_in(const std::string& path, const std::string& part) {
  const std::string text = read_text(path);
  int found = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++found;
  return found;
}

// The jobs of the queue, by id: status and how often each task recovered.
struct Seen {
  std::string status;
  long long recoveries = -1;
};
std::map<long long, Seen> queue(SkydHarness& skyd) {
  std::map<long long, Seen> jobs;
  // One record per task (each job here has one), as SkyPilot's scripts read them.
  auto listed = parse_json(skyd.sky({"jobs", "queue", "-a", "-o", "json"}).out);
  if (!listed || !listed->as_array()) return jobs;
  for (const auto& task : *listed->as_array()) {
    Seen seen;
    seen.status = std::string(task.find("job_status")->as_string().value_or(""));
    seen.recoveries = task.find("recovery_count")->as_int().value_or(-1);
    jobs[*task.find("job_id")->as_int()] = seen;
  }
  return jobs;
}

// Waits until every job's controller log tells it re-attached `times` times (one per start
// after the first): the runners then follow their machines again.
bool wait_for_reattach(SkydHarness& skyd, int jobs, int times) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int job = 1; job <= jobs; ++job) {
    const std::string log =
        skyd.state_dir() + "/logs/jobs/" + std::to_string(job) + "/controller.log";
    while (count_in(log, "re-attached to cluster") < times) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return true;
}

TEST(Lifecycle, SigtermWithAHundredRunningJobsStopsCleanlyAndEveryStartReattaches) {
  constexpr int kJobs = 100;
  // 20 stops and starts are the requirement; each takes about a second and a half here.
  constexpr int kCycles = 20;
  SkydHarness skyd;
  JobGates gates(skyd.bucket("gate"));
  gates.close("lock");
  const auto yaml = skyd.write_file("held.yaml", held_job());
  for (int i = 0; i < kJobs; ++i) {
    auto launched = skyd.sky({"jobs", "launch", "-y", "-d", yaml});
    ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  }
  ASSERT_TRUE(skyd.wait_for_all_jobs(kJobs, "RUNNING")) << "the hundred jobs never all ran";
  const auto machines = skyd.running_skylets();
  ASSERT_EQ(machines.size(), static_cast<std::size_t>(kJobs));
  const std::set<int> first_machines(machines.begin(), machines.end());

  for (int cycle = 1; cycle <= kCycles; ++cycle) {
    SCOPED_TRACE("stop " + std::to_string(cycle));
    const int postmaster = skyd.postmaster_pid();
    ASSERT_TRUE(process_alive(postmaster));
    const auto status = skyd.stop();
    ASSERT_EQ(status, 0) << "skyd did not exit cleanly on SIGTERM; see " << skyd.dir();
    EXPECT_EQ(count_in(skyd.log_file(), "skyd stopped"), cycle);
    EXPECT_FALSE(process_alive(postmaster)) << "the embedded PostgreSQL still runs";
    EXPECT_FALSE(fs::exists(skyd.socket())) << "the API socket was left behind";
    skyd.start();
    ASSERT_TRUE(wait_for_reattach(skyd, kJobs, cycle));
    const auto now = skyd.running_skylets();
    EXPECT_EQ(std::set<int>(now.begin(), now.end()), first_machines)
        << "every job keeps its machine: nothing relaunched";
  }
  for (const auto& [id, seen] : queue(skyd)) {
    EXPECT_EQ(seen.status, "RUNNING") << "job " << id;
    EXPECT_EQ(seen.recoveries, 0) << "job " << id;
  }

  gates.open("lock");
  EXPECT_TRUE(skyd.wait_for_all_jobs(kJobs, "SUCCEEDED"));
  EXPECT_TRUE(skyd.no_machines_left());
  EXPECT_EQ(skyd.stop(), 0);
}

TEST(Lifecycle, WhatWasLoggedBeforeACrashIsInTheLogFile) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file(
      "noticed.yaml",
      "name: noticed\nresources:\n  infra: local\n  use_spot: true\nrun: sleep 1000\n");
  const auto submitted = std::chrono::steady_clock::now();
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  // Lines below a warning reach the file within a second: this one is older than that.
  std::this_thread::sleep_until(submitted + std::chrono::milliseconds(1500));
  // The preemption logs a warning, then sends the notice the controller recovers on.
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  bool recovered = false;
  for (int i = 0; i < 200 && !recovered; ++i) {
    recovered = contains(skyd.job_json(1), "\"recovery_count\":1");
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(recovered);
  skyd.kill();
  const std::string log = read_text(skyd.log_file());
  EXPECT_TRUE(contains(log, "job submitted job=1 name=noticed")) << log;
  EXPECT_TRUE(contains(log, "preempting cluster=noticed-1")) << log;
}

// Job 1, RUNNING and held there by the closed gate until the test opens it.
bool launch_held_job(SkydHarness& skyd, JobGates& gates) {
  gates.close("lock");
  const auto yaml = skyd.write_file("held.yaml", held_job());
  return skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code == 0 &&
         skyd.wait_for_status(1, {"RUNNING"});
}

TEST(Lifecycle, ACancelIsWrittenBeforeItIsAnswered) {
  SkydHarness skyd;
  JobGates gates(skyd.bucket("gate"));
  ASSERT_TRUE(launch_held_job(skyd, gates));
  ASSERT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  // Whatever the job has done by now, the cancel is in the database.
  EXPECT_EQ(skyd.sql("SELECT cancel_requested_at IS NOT NULL FROM jobs WHERE id = 1"), "t\n");
  EXPECT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
}

TEST(Lifecycle, ACancelAcceptedBeforeACrashIsCarriedOutAfterTheRestart) {
  SkydHarness skyd;
  JobGates gates(skyd.bucket("gate"));
  ASSERT_TRUE(launch_held_job(skyd, gates));
  // What a skyd killed between answering a cancel and acting on it leaves: the recorded cancel,
  // the job still RUNNING, its machine still up.
  skyd.kill();  // its PostgreSQL runs on, to be adopted by the next start
  skyd.sql("UPDATE jobs SET cancel_requested_at = now() WHERE id = 1");
  skyd.restart();
  EXPECT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
  EXPECT_TRUE(skyd.no_machines_left());
}

}  // namespace
}  // namespace skyd::testing
