// Jobs with a deadline on EC2 (fakecloud, one instance = one real skylet): the deadline policy
// chooses spot, on-demand or waiting as spot capacity comes and goes, and the cost ledger prices
// every run in its market beside what it would have cost on demand.
#include "tests/support/aws_world.hpp"

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
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"RUNNING"}));
  ASSERT_EQ(markets_of(world.skyd, 1), "spot\n") << "spot is there: the policy takes it";

  // Spot capacity goes, and the spot machine with it.
  world.admin("POST", "/_admin/faults", kSpotGone);
  world.admin("POST", "/_admin/preempt?all_spot=1&grace_ms=200");
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}, 90s));
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(markets_of(world.skyd, 1), "spot\non-demand\n");
  EXPECT_LE(sql_number(world.skyd,
                       "SELECT extract(epoch FROM ended_at - submitted_at) FROM jobs WHERE id = 1"),
            60)
      << "the deadline was met";
  const std::string log = controller_log_of(world.skyd, 1);
  EXPECT_NE(log.find("deadline policy: taking spot"), std::string::npos) << log;
  EXPECT_NE(log.find("deadline policy: switching to on-demand"), std::string::npos) << log;
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
  ASSERT_TRUE(wait_for([&] {
    return controller_log_of(world.skyd, 1).find("deadline policy: waiting for spot") !=
           std::string::npos;
  })) << controller_log_of(world.skyd, 1);
  const std::string pending = world.skyd.sql(
      "SELECT reason FROM job_transitions WHERE job_id = 1 AND to_status = 'PENDING' "
      "ORDER BY event_id DESC LIMIT 1");
  EXPECT_EQ(pending.rfind("waiting for spot: slack", 0), 0u)
      << "the job's events say why it waits: " << pending;
  EXPECT_EQ(world.live_instances(), 0) << "nothing is paid for while it waits";

  world.admin("POST", "/_admin/reset");
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}, 90s));
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(markets_of(world.skyd, 1), "spot\n") << "spot came back before the slack ran out";
}

}  // namespace
}  // namespace skyd::testing
