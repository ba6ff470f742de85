// Jobs with a deadline on EC2 (fakecloud, one instance = one real skylet): the deadline policy
// chooses spot, on-demand or waiting as spot capacity comes and goes, and the cost ledger prices
// every run in its market beside what it would have cost on demand.
#include "tests/support/deadline_checks.hpp"

#include <gtest/gtest.h>

namespace skyd::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSpotGone =
    R"({"action":"RunInstances","market":"spot","code":"InsufficientInstanceCapacity"})";
constexpr double kOnDemandPrice = 0.096;  // m6i.large in us-east-1, from the fake cloud's catalog

// A task on one m6i.large in us-east-1 with `job_recovery` {strategy: DEADLINE, <fields>}.
std::string deadline_job(const std::string& name, const std::string& fields,
                         const std::string& run) {
  return "name: " + name +
         "\nresources:\n  cloud: aws\n  region: us-east-1\n  instance_type: m6i.large\n"
         "  job_recovery: {strategy: DEADLINE, " +
         fields + "}\nrun: " + run + "\n";
}

TEST(DeadlineJobs, SpotCapacityGoneAfterAPreemptionSwitchesToOnDemandAndMeetsTheDeadline) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  const auto yaml = world.skyd.write_file(
      "dl.yaml", deadline_job("dl", "deadline: 60s, work: 20s, restart_overhead: 3s", "sleep 20"));
  expect_running_on_spot(world.skyd, yaml);

  // Spot capacity goes, and the spot machine with it.
  world.admin("POST", "/_admin/faults", kSpotGone);
  world.admin("POST", "/_admin/preempt?all_spot=1&grace_ms=200");
  expect_switched_to_on_demand_in_time(world.skyd);
  // The spot run is priced at its zone's spot price, beside the on-demand price of the same run.
  const double spot_price = sql_number(
      world.skyd, "SELECT node_price FROM attempt_costs WHERE job_id = 1 AND market = 'spot'");
  EXPECT_GT(spot_price, 0);
  EXPECT_LT(spot_price, kOnDemandPrice);
  EXPECT_DOUBLE_EQ(sql_number(world.skyd,
                              "SELECT on_demand_node_price FROM attempt_costs WHERE "
                              "job_id = 1 AND market = 'spot'"),
                   kOnDemandPrice);
  EXPECT_GT(sql_number(world.skyd, "SELECT saved_usd FROM job_costs WHERE job_id = 1"), 0);
}

TEST(DeadlineJobs, AJobWaitingForSpotTakesItWhenItReturns) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  world.admin("POST", "/_admin/faults", kSpotGone);
  const auto yaml = world.skyd.write_file(
      "wait.yaml",
      deadline_job("wait",
                   "deadline: 90s, work: 10s, restart_overhead: 3s, deadline_policy: greedy",
                   "sleep 10"));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  expect_waiting_for_spot(world.skyd, [&] { return world.live_instances(); });

  world.admin("POST", "/_admin/reset");
  expect_succeeded_in(world.skyd, "spot\n", 90s);  // spot came back before the slack ran out
}

TEST(DeadlineJobs, AReportedCheckpointIsTheProgressAfterAPreemptionAndAfterARestart) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  const std::string dir = world.dir.path();
  // The first run checkpoints 15 minutes of work at once and goes on; the next one finishes.
  const auto yaml = world.skyd.write_file(
      "ckpt.yaml",
      deadline_job("ckpt", "deadline: 1h, work: 30m, restart_overhead: 10s",
                   "|\n  if [ -e " + dir + "/ran ]; then exit 0; fi\n  touch " + dir +
                       "/ran\n  echo 900 > \"$SKYPILOT_PROGRESS_FILE\"\n  sleep 1000"));
  expect_running_on_spot(world.skyd, yaml);
  ASSERT_TRUE(wait_for([&] {
    return world.skyd.sql("SELECT work_seconds FROM progress_reports WHERE job_id = 1") == "900\n";
  })) << controller_log_of(world.skyd, 1);
  EXPECT_NE(controller_log_of(world.skyd, 1)
                .find("task 0: progress reported: 900s (15m) of work checkpointed, attempt 1"),
            std::string::npos)
      << controller_log_of(world.skyd, 1);

  const std::string queue = world.skyd.sky({"jobs", "queue", "-v"}).out;
  EXPECT_NE(queue.find("CHECKPOINT"), std::string::npos) << queue;
  EXPECT_NE(queue.find("15m 0s"), std::string::npos) << queue;

  // A restarted skyd plans with the stored report, and does not store it again.
  world.skyd.kill();
  world.skyd.restart();
  ASSERT_TRUE(wait_for([&] {
    return controller_log_of(world.skyd, 1).find("re-attached to cluster ckpt-") !=
           std::string::npos;
  })) << controller_log_of(world.skyd, 1);

  // Spot goes 10-20 s in: by the time run the task would be behind its line (15 s by now) and
  // take on-demand; its checkpoint puts it far ahead, so it waits for spot.
  world.admin("POST", "/_admin/faults", kSpotGone);
  world.admin("POST", "/_admin/preempt?all_spot=1&grace_ms=200");
  expect_waiting_for_spot(world.skyd, [&] { return world.live_instances(); });
  const std::string pending = world.skyd.sql(
      "SELECT reason FROM job_transitions WHERE job_id = 1 AND to_status = 'PENDING' "
      "ORDER BY event_id DESC LIMIT 1");
  EXPECT_NE(pending.find("progress 15m is not behind the uniform line"), std::string::npos)
      << pending;

  world.admin("POST", "/_admin/reset");
  expect_succeeded_in(world.skyd, "spot\nspot\n", 90s);
  EXPECT_EQ(world.skyd.sql("SELECT count(*) FROM progress_reports WHERE job_id = 1"), "1\n")
      << "one report, one row";
}

// A run that holds the lock in `dir` for its whole life and says so if it finds it taken (two
// attempts at once); the first attempt runs until it is stopped, later ones for 3 s.
std::string locked_run(const std::string& dir) {
  return "|\n"
         "  exec 9>>" +
         dir +
         "/lock\n"
         "  if ! flock -n 9; then echo taken >> " +
         dir +
         "/violations; exit 3; fi\n"
         "  n=$(( $(cat " +
         dir + "/attempts 2>/dev/null || echo 0) + 1 )); echo $n > " + dir +
         "/attempts\n"
         "  if [ $n -eq 1 ]; then sleep 1000; else sleep 3; fi";
}

// A Uniform Progress job that starts on on-demand: no spot at first, and by the line's 6th second
// it is behind (20 s of work in 120 s).
long long start_on_demand(AwsWorld& world) {
  world.admin("POST", "/_admin/faults", kSpotGone);
  const auto yaml = world.skyd.write_file(
      "back.yaml", deadline_job("back", "deadline: 120s, work: 20s, restart_overhead: 2s",
                                locked_run(world.dir.path())));
  EXPECT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] { return markets_of(world.skyd, 1) == "on-demand\n"; }))
      << controller_log_of(world.skyd, 1);
  EXPECT_TRUE(wait_for([&] { return read_text(world.dir.file("attempts")) == "1\n"; }));
  return 1;
}

// The job ended on spot after running on on-demand, moved by the policy, one attempt at a time.
void expect_back_on_spot(AwsWorld& world) {
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}, 90s));
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED") << controller_log_of(world.skyd, 1);
  EXPECT_EQ(markets_of(world.skyd, 1), "on-demand\nspot\n");
  EXPECT_EQ(read_text(world.dir.file("attempts")), "2\n")
      << "the on-demand run once, then the spot run";
  EXPECT_EQ(read_text(world.dir.file("violations")), "")
      << "the spot run started while the on-demand one still ran";
  const std::string recovery = world.skyd.sql(
      "SELECT reason FROM job_transitions WHERE job_id = 1 AND to_status = 'RECOVERING'");
  EXPECT_EQ(recovery.rfind("back to spot: progress ", 0), 0u) << recovery;
  EXPECT_NE(recovery.find(" ahead of the line by "), std::string::npos) << recovery;
  const double spot_price = sql_number(
      world.skyd, "SELECT node_price FROM attempt_costs WHERE job_id = 1 AND market = 'spot'");
  EXPECT_GT(spot_price, 0);
  EXPECT_LT(spot_price, kOnDemandPrice);
}

TEST(DeadlineJobs, ARunOnOnDemandGoesBackToSpotWhenSpotReturnsAndItIsAheadOfTheLine) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  start_on_demand(world);
  world.admin("POST", "/_admin/reset");  // spot is back
  expect_back_on_spot(world);
  const std::string log = controller_log_of(world.skyd, 1);
  EXPECT_NE(log.find("deadline policy: back to spot"), std::string::npos) << log;
  EXPECT_NE(log.find("is replaced by spot: stopping its task"), std::string::npos) << log;
}

TEST(DeadlineJobs, WithoutSpotARunAheadOfTheLineStaysOnOnDemand) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  start_on_demand(world);
  // Far enough ahead of the line, it asks for spot every tick and finds none.
  ASSERT_TRUE(wait_for([&] {
    return controller_log_of(world.skyd, 1).find("staying on on-demand: no spot capacity") !=
           std::string::npos;
  })) << controller_log_of(world.skyd, 1);
  EXPECT_EQ(world.skyd.job_status(1), "RUNNING");
  EXPECT_EQ(read_text(world.dir.file("attempts")), "1\n") << "its run goes on";
  EXPECT_EQ(world.live_instances(), 1) << "nothing provisioned is left beside it";
}

TEST(DeadlineJobs, SkydKilledWhileProvisioningSpotKeepsTheOnDemandRunAndLeavesNothing) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  start_on_demand(world);
  // Spot is back, but the first spot launch's answer never comes: its instance is made while
  // skyd waits, and skyd dies then.
  world.admin("POST", "/_admin/reset");
  world.admin("POST", "/_admin/faults",
              R"({"action":"RunInstances","market":"spot","lose_answer_ms":60000,"count":1})");
  ASSERT_TRUE(wait_for([&] { return world.live_instances() == 2; }))
      << world.admin("GET", "/_admin/stats");
  world.skyd.kill();
  world.skyd.restart();
  expect_back_on_spot(world);
  // The restarted skyd released the spot machines no decision had claimed, then re-attached to
  // the on-demand run (the same attempt: its task was not started again).
  const std::string log = controller_log_of(world.skyd, 1);
  const auto released = log.find("skyd restarted before moving the task to them");
  const auto reattached = log.find("re-attached to cluster back-");
  EXPECT_NE(released, std::string::npos) << log;
  EXPECT_NE(reattached, std::string::npos) << log;
  EXPECT_LT(released, reattached) << log;
}

TEST(DeadlineJobs, SkydKilledAfterDecidingToGoBackToSpotRunsOnTheSpotMachinesItMade) {
  AwsWorld world({}, kSecret, {{"launch_backoff", "1s"}});
  start_on_demand(world);
  // The on-demand machine does not go when asked: the recovery stays at its fence, after the
  // decision was written and before the spot run starts. skyd dies there.
  world.admin("POST", "/_admin/reset");  // spot is back
  world.admin("POST", "/_admin/faults", R"({"action":"TerminateInstances","no_effect":true})");
  ASSERT_TRUE(wait_for([&] {
    return world.skyd.sql(
               "SELECT count(*) FROM job_transitions WHERE job_id = 1 AND "
               "reason LIKE 'back to spot:%'") == "1\n";
  })) << controller_log_of(world.skyd, 1);
  world.skyd.kill();
  world.admin("POST", "/_admin/reset");
  world.skyd.restart();
  expect_back_on_spot(world);
  const std::string log = controller_log_of(world.skyd, 1);
  EXPECT_NE(log.find("adopted the spot machines provisioned for attempt"), std::string::npos)
      << log;
  auto stats = parse_json(world.admin("GET", "/_admin/stats"));
  ASSERT_TRUE(stats);
  long long made = 0;
  for (const char* state : {"live", "shutting_down", "terminated"})
    made += stats->find(state) ? stats->find(state)->as_int().value_or(0) : 0;
  EXPECT_EQ(made, 2) << "one on-demand and one spot instance, never a second spot one: "
                     << world.admin("GET", "/_admin/stats");
}

}  // namespace
}  // namespace skyd::testing
