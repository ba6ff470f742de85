// Job groups (`execution: parallel`) end to end: a real skyd (embedded PostgreSQL, local provider,
// real skylets), driven through the real `sky` CLI. The tasks meet through files in a directory
// both can reach, so each test shows they run at the same time.
#include "reactor/json.hpp"
#include "tests/support/skyd_harness.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

namespace skyd::testing {
namespace {

std::string status_of(SkydHarness& skyd, long long id, int index) {
  auto job = parse_json(skyd.job_json(id));
  if (!job) return "";
  const Json& task = (*job->find("tasks")->as_array())[static_cast<std::size_t>(index)];
  const Json* status = task.find("status");
  return status && status->as_string() ? std::string(*status->as_string()) : "";
}

// Polls the task's status as wait_for_status polls the job's (the job shows its first task that
// has not SUCCEEDED, so a group's job can end before its last task does).
bool wait_for_task(SkydHarness& skyd, long long id, int index, const std::string& status) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < limit) {
    if (status_of(skyd, id, index) == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A directory the tasks (run as the test's user) share.
struct Meeting {
  Meeting() { ::chmod(dir.path().c_str(), 0777); }
  TempDir dir;
  std::string at(const std::string& name) const { return dir.file(name); }
};

// A task of the group: local, its run given as shell lines.
std::string group_task(const std::string& name, const std::string& run) {
  return "---\nname: " + name + "\nresources:\n  infra: local\nrun: |\n" + run;
}

// Waits for `file`, then says so: the task cannot end unless its sibling runs beside it.
std::string meets(const Meeting& meeting, const std::string& me, const std::string& other) {
  return "  touch " + meeting.at(me + "-up") + "\n  while [ ! -f " + meeting.at(other + "-up") +
         " ]; do sleep 0.05; done\n  echo " + me + " met " + other + "\n";
}

// A group whose primary task `trainer` meets an auxiliary `server` that would run forever; the
// trainer then runs `trainer_end`, the server first runs `server_start`.
std::string trainer_and_server(const Meeting& meeting, const std::string& delay,
                               const std::string& trainer_end, const std::string& server_start) {
  return "name: aux\nexecution: parallel\nprimary_tasks: [trainer]\ntermination_delay: " + delay +
         "\n" + group_task("trainer", meets(meeting, "trainer", "server") + trainer_end) +
         group_task("server",
                    server_start + meets(meeting, "server", "trainer") + "  sleep 1000\n");
}

TEST(JobGroups, TasksRunAtOnceEachOnItsClusterAndFindEachOther) {
  SkydHarness skyd;
  Meeting meeting;
  const std::string hosts = meeting.at("hosts");
  const auto yaml = skyd.write_file(
      "group.yaml",
      "name: duo\nexecution: parallel\n" +
          group_task("ping", "  echo \"$SKYPILOT_JOBGROUP_NAME\" > " + meeting.at("group") +
                                 "\n  printf '%s' \"$SKYD_JOBGROUP_HOSTS\" > " + hosts + "\n" +
                                 meets(meeting, "ping", "pong")) +
          group_task("pong", meets(meeting, "pong", "ping")));
  // Followed, as a user launches it: the output of both tasks, and the job's end.
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "ping met pong")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "pong met ping")) << launched.out;
  EXPECT_TRUE(wait_for_task(skyd, 1, 0, "SUCCEEDED")) << status_of(skyd, 1, 0);
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "SUCCEEDED")) << status_of(skyd, 1, 1);
  EXPECT_EQ(skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(read_text(meeting.at("group")), "duo\n");
  const std::string lines = read_text(hosts);
  EXPECT_TRUE(contains(lines, " ping-0.duo\n")) << lines;
  EXPECT_TRUE(contains(lines, " pong-0.duo\n")) << lines;

  auto ping = skyd.sky({"jobs", "logs", "--no-follow", "1", "ping"});
  EXPECT_TRUE(contains(ping.out, "ping met pong")) << ping.out;
  EXPECT_FALSE(contains(ping.out, "pong met ping")) << ping.out;
  auto pong = skyd.sky({"jobs", "logs", "--no-follow", "1", "1"});
  EXPECT_TRUE(contains(pong.out, "pong met ping")) << pong.out;
  auto queue = skyd.sky({"jobs", "queue"});
  EXPECT_TRUE(contains(queue.out, " \u21b3  0     ping")) << queue.out;
  EXPECT_TRUE(contains(queue.out, " \u21b3  1     pong")) << queue.out;
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "cluster ping-1 terminated")) << controller.out;
  EXPECT_TRUE(contains(controller.out, "cluster pong-1 terminated")) << controller.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(JobGroups, AuxiliaryTasksStopWhenThePrimaryTaskEnds) {
  SkydHarness skyd;
  Meeting meeting;
  // The trainer fails once the server is up.
  const auto yaml =
      skyd.write_file("aux.yaml", trainer_and_server(meeting, "1h", "  exit 3\n", ""));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  // The primary task failed: the hour's delay is not given, the server is stopped at once.
  ASSERT_TRUE(wait_for_task(skyd, 1, 0, "FAILED")) << status_of(skyd, 1, 0);
  EXPECT_TRUE(skyd.wait_for_status(1, {"FAILED"}));
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "CANCELLED")) << status_of(skyd, 1, 1);
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "auxiliary task stopped: a primary task did not succeed"))
      << controller.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(JobGroups, AuxiliaryTasksGetTheirDelayAfterThePrimaryTasksSucceeded) {
  SkydHarness skyd;
  Meeting meeting;
  const auto yaml = skyd.write_file(
      "delay.yaml", trainer_and_server(meeting, "{default: 1h, server: 3s}", "", ""));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_task(skyd, 1, 0, "SUCCEEDED")) << status_of(skyd, 1, 0);
  EXPECT_EQ(status_of(skyd, 1, 1), "RUNNING") << "the server keeps its 3 s";
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "CANCELLED")) << status_of(skyd, 1, 1);
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(
      contains(controller.out,
               "task 1: auxiliary task stopped: the primary tasks succeeded; stopped in 3 s"))
      << controller.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(JobGroups, SkydKilledDuringTheDelayStillStopsTheAuxiliaryTaskOnce) {
  SkydHarness skyd;
  Meeting meeting;
  const auto yaml = skyd.write_file(
      "restart.yaml",
      trainer_and_server(meeting, "2s", "", "  echo $$ >> " + meeting.at("server-starts") + "\n"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_task(skyd, 1, 0, "SUCCEEDED")) << status_of(skyd, 1, 0);
  skyd.kill();
  skyd.restart();
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "CANCELLED")) << status_of(skyd, 1, 1);
  const std::string starts = read_text(meeting.at("server-starts"));
  EXPECT_EQ(std::count(starts.begin(), starts.end(), '\n'), 1)
      << "the server ran once, re-attached after the restart: " << starts;
  EXPECT_EQ(status_of(skyd, 1, 0), "SUCCEEDED");
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(JobGroups, AFailedTaskLeavesItsSiblingRunningAsInSkyPilot) {
  SkydHarness skyd;
  Meeting meeting;
  const std::string go = meeting.at("go");
  const auto yaml = skyd.write_file(
      "fail.yaml", "name: apart\nexecution: parallel\n" +
                       group_task("quick", meets(meeting, "quick", "slow") + "  exit 4\n") +
                       group_task("slow", meets(meeting, "slow", "quick") + "  while [ ! -f " + go +
                                              " ]; do sleep 0.05; done\n  echo slow done\n"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("quick-up")));
  ASSERT_TRUE(wait_for_task(skyd, 1, 0, "FAILED")) << status_of(skyd, 1, 0);
  EXPECT_EQ(status_of(skyd, 1, 1), "RUNNING") << "every task is primary: the other runs on";
  std::ofstream(go) << "";
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "SUCCEEDED")) << status_of(skyd, 1, 1);
  EXPECT_EQ(skyd.job_status(1), "FAILED");
}

TEST(JobGroups, CancelEndsEveryTask) {
  SkydHarness skyd;
  Meeting meeting;
  const auto yaml = skyd.write_file(
      "cancel.yaml", "name: both\nexecution: parallel\n" +
                         group_task("a", meets(meeting, "a", "b") + "  sleep 1000\n") +
                         group_task("b", meets(meeting, "b", "a") + "  sleep 1000\n"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("a-up")));
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("b-up")));
  EXPECT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(skyd.wait_for_status(1, {"CANCELLED"})) << skyd.job_json(1);
  EXPECT_TRUE(wait_for_task(skyd, 1, 0, "CANCELLED")) << status_of(skyd, 1, 0);
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "CANCELLED")) << status_of(skyd, 1, 1);
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(JobGroups, SkydKilledMidRunReattachesEveryTaskWithoutASecondLaunch) {
  SkydHarness skyd;
  Meeting meeting;
  const std::string go = meeting.at("go");
  auto task = [&](const std::string& me, const std::string& other) {
    return group_task(me, "  echo $$ >> " + meeting.at(me + "-starts") + "\n" +
                              meets(meeting, me, other) + "  while [ ! -f " + go +
                              " ]; do sleep 0.05; done\n  echo " + me + " after-crash\n");
  };
  const auto yaml =
      skyd.write_file("crash.yaml", "name: steady\nexecution: parallel\n" + task("left", "right") +
                                        task("right", "left"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("left-up")));
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("right-up")));
  const auto skylets = skyd.running_skylets().size();
  skyd.kill();
  skyd.restart();
  std::ofstream(go) << "";
  EXPECT_EQ(skylets, 2u) << "one machine per task";
  EXPECT_TRUE(wait_for_task(skyd, 1, 0, "SUCCEEDED")) << status_of(skyd, 1, 0);
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "SUCCEEDED")) << status_of(skyd, 1, 1);
  for (const std::string me : {"left", "right"}) {
    const std::string starts = read_text(meeting.at(me + "-starts"));
    EXPECT_EQ(std::count(starts.begin(), starts.end(), '\n'), 1)
        << me << " ran once (same pid): " << starts;
  }
  auto controller = skyd.sky({"jobs", "logs", "--controller", "1"});
  EXPECT_TRUE(contains(controller.out, "task 0: re-attached to cluster left-1")) << controller.out;
  EXPECT_TRUE(contains(controller.out, "task 1: re-attached to cluster right-1")) << controller.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST(JobGroups, SkydKilledWhileTheTasksLaunchNeverDuplicatesMachines) {
  TempDir scripts;
  const std::string slow = slow_skylet(scripts, 2);
  SkydHarness skyd({{"skylet_binary", slow}});
  Meeting meeting;
  const auto yaml = skyd.write_file(
      "launching.yaml", "name: pair\nexecution: parallel\n" +
                            group_task("a", meets(meeting, "a", "b") + "  sleep 1000\n") +
                            group_task("b", meets(meeting, "b", "a") + "  sleep 1000\n"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(skyd.state_dir() + "/local/clusters/a-1/node-0/skylet.pid"));
  ASSERT_TRUE(skyd.wait_for_file(skyd.state_dir() + "/local/clusters/b-1/node-0/skylet.pid"));
  skyd.kill();
  skyd.restart();
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("a-up")));
  ASSERT_TRUE(skyd.wait_for_file(meeting.at("b-up")));
  EXPECT_TRUE(wait_for_task(skyd, 1, 0, "RUNNING")) << status_of(skyd, 1, 0);
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "RUNNING")) << status_of(skyd, 1, 1);
  EXPECT_EQ(skyd.running_skylets().size(), 2u) << "exactly one machine per task";
  EXPECT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  EXPECT_TRUE(wait_for_task(skyd, 1, 0, "CANCELLED")) << status_of(skyd, 1, 0);
  EXPECT_TRUE(wait_for_task(skyd, 1, 1, "CANCELLED")) << status_of(skyd, 1, 1);
  EXPECT_TRUE(skyd.no_machines_left());
}

}  // namespace
}  // namespace skyd::testing
