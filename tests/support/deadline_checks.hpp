#pragma once
// Checks the deadline and cost-ledger tests make alike on every cloud (EC2 and Compute Engine
// through fakecloud): a job that waits for spot, and a finished run's price in the ledger, the
// queue and /metrics. Each speaks of job 1.

#include "tests/support/aws_world.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace skyd::testing {

// Job 1 waits for spot: the policy says so in the controller log, the PENDING transition says
// why, and nothing is paid for meanwhile (`live`: the cloud's live instances).
inline void expect_waiting_for_spot(SkydHarness& skyd, const std::function<long long()>& live) {
  ASSERT_TRUE(wait_for([&] {
    return controller_log_of(skyd, 1).find("deadline policy: waiting for spot") !=
           std::string::npos;
  })) << controller_log_of(skyd, 1);
  const std::string pending = skyd.sql(
      "SELECT reason FROM job_transitions WHERE job_id = 1 AND to_status = 'PENDING' "
      "ORDER BY event_id DESC LIMIT 1");
  EXPECT_EQ(pending.rfind("waiting for spot: slack", 0), 0u)
      << "the job's events say why it waits: " << pending;
  // The preempted machines go on the cloud's time, which may end just after the decision.
  EXPECT_TRUE(wait_for([&] { return live() == 0; })) << "nothing is paid for while it waits";
}

// Job 1 ends SUCCEEDED within `limit`, having run in `markets` (the ledger's, in order).
inline void expect_succeeded_in(SkydHarness& skyd, const std::string& markets,
                                std::chrono::seconds limit) {
  ASSERT_TRUE(skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}, limit));
  EXPECT_EQ(skyd.job_status(1), "SUCCEEDED") << controller_log_of(skyd, 1);
  EXPECT_EQ(markets_of(skyd, 1), markets);
}

// Launches `yaml` (a DEADLINE job) and waits until it runs, on spot since spot is there.
inline void expect_running_on_spot(SkydHarness& skyd, const std::string& yaml) {
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  ASSERT_EQ(markets_of(skyd, 1), "spot\n") << "spot is there: the policy takes it";
}

// After its spot machine went with spot capacity, job 1 (due 60 s after submission) finished on
// on-demand in time, and the policy said why it took each market. Returns its controller log.
inline std::string expect_switched_to_on_demand_in_time(SkydHarness& skyd) {
  expect_succeeded_in(skyd, "spot\non-demand\n", std::chrono::seconds(90));
  EXPECT_LE(sql_number(skyd,
                       "SELECT extract(epoch FROM ended_at - submitted_at) FROM jobs WHERE "
                       "id = 1"),
            60)
      << "the deadline was met";
  const std::string log = controller_log_of(skyd, 1);
  EXPECT_NE(log.find("deadline policy: taking spot"), std::string::npos) << log;
  EXPECT_NE(log.find("deadline policy: switching to on-demand"), std::string::npos) << log;
  return log;
}

// Launches `yaml` (two on-demand nodes that run `sleep 3`) and checks its one run in the ledger:
// price x 2 nodes x billed time, billed from the launch to the end, and the same figure in
// `sky jobs queue -v` and /metrics.
inline void expect_two_node_run_priced(SkydHarness& skyd, const std::string& yaml,
                                       double on_demand_price) {
  const auto submitted = std::chrono::steady_clock::now();
  const auto launched = skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  ASSERT_TRUE(skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count();
  ASSERT_EQ(skyd.job_status(1), "SUCCEEDED");

  EXPECT_DOUBLE_EQ(sql_number(skyd, "SELECT node_price FROM attempt_costs WHERE job_id = 1"),
                   on_demand_price);
  const double billed =
      sql_number(skyd, "SELECT billed_seconds FROM attempt_costs WHERE job_id = 1");
  EXPECT_GE(billed, 3) << "at least the run itself";
  EXPECT_LE(billed, wall) << "no more than the job's life";
  const double cost = sql_number(skyd, "SELECT cost_usd FROM job_costs WHERE job_id = 1");
  EXPECT_NEAR(cost, on_demand_price * 2 * billed / 3600, 1e-9);
  EXPECT_NEAR(sql_number(skyd, "SELECT on_demand_equivalent_usd FROM job_costs WHERE job_id = 1"),
              cost, 1e-12)
      << "an on-demand run costs what it would cost on demand";

  char dollars[32];
  std::snprintf(dollars, sizeof dollars, "$%.4f", cost);
  const std::string queue = skyd.sky({"jobs", "queue", "-v"}).out;
  EXPECT_NE(queue.find("ON-DEMAND COST"), std::string::npos) << queue;
  EXPECT_NE(queue.find(dollars), std::string::npos) << queue;
  const auto metrics = run_command({program_on_path("curl"), "-sS", "--max-time", "20",
                                    "--unix-socket", skyd.socket(), "http://localhost/metrics"});
  EXPECT_NEAR(metric_sample(metrics.out, "skyd_job_cost_dollars{market=\"on-demand\"}"), cost, 1e-9)
      << metrics.out;
  EXPECT_EQ(metric_sample(metrics.out, "skyd_job_cost_dollars{market=\"spot\"}"), 0) << metrics.out;
}

}  // namespace skyd::testing
