// The cost ledger on EC2 (fakecloud, one instance = one real skylet): a finished run is priced at
// its placement's price x nodes x time, in the SQL views, `sky jobs queue -v` and /metrics.
#include "tests/support/aws_world.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace skyd::testing {
namespace {

constexpr double kOnDemandPrice = 0.096;  // m6i.large in us-east-1, from the fake cloud's catalog

TEST(CostLedger, AFinishedRunCostsItsPriceTimesNodesTimesItsTime) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file(
      "paid.yaml",
      "name: paid\nnum_nodes: 2\nresources:\n  cloud: aws\n  region: us-east-1\n  "
      "instance_type: m6i.large\nrun: sleep 3\n");
  const auto submitted = std::chrono::steady_clock::now();
  const auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count();
  ASSERT_EQ(world.skyd.job_status(1), "SUCCEEDED");

  const double billed =
      sql_number(world.skyd, "SELECT billed_seconds FROM attempt_costs WHERE job_id = 1");
  EXPECT_GE(billed, 3) << "at least the run itself";
  EXPECT_LE(billed, wall) << "no more than the job's life";
  const double cost = sql_number(world.skyd, "SELECT cost_usd FROM job_costs WHERE job_id = 1");
  EXPECT_NEAR(cost, kOnDemandPrice * 2 * billed / 3600, 1e-9);
  EXPECT_NEAR(
      sql_number(world.skyd, "SELECT on_demand_equivalent_usd FROM job_costs WHERE job_id = 1"),
      cost, 1e-12)
      << "an on-demand run costs what it would cost on demand";

  // The same figure in `sky jobs queue -v` and /metrics.
  char dollars[32];
  std::snprintf(dollars, sizeof dollars, "$%.4f", cost);
  const std::string queue = world.skyd.sky({"jobs", "queue", "-v"}).out;
  EXPECT_NE(queue.find("ON-DEMAND COST"), std::string::npos) << queue;
  EXPECT_NE(queue.find(dollars), std::string::npos) << queue;
  const auto metrics =
      run_command({program_on_path("curl"), "-sS", "--max-time", "20", "--unix-socket",
                   world.skyd.socket(), "http://localhost/metrics"});
  EXPECT_NEAR(metric_sample(metrics.out, "skyd_job_cost_dollars{market=\"on-demand\"}"), cost, 1e-9)
      << metrics.out;
  EXPECT_EQ(metric_sample(metrics.out, "skyd_job_cost_dollars{market=\"spot\"}"), 0) << metrics.out;
}

}  // namespace
}  // namespace skyd::testing
