// Jobs with a deadline on Compute Engine (fakecloud, one instance = one real skylet): the deadline
// policy chooses spot, on-demand or waiting as spot capacity comes and goes in GCP's zones, and
// the cost ledger prices every GCP run at the catalog's price for its market, zone and region.
#include "tests/support/clouds_world.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace skyd::testing {
namespace {

using namespace std::chrono_literals;

// Every zone is out of spot capacity: the DONE operation of a SPOT bulkInsert says so.
constexpr const char* kSpotGone =
    R"({"action":"bulkInsert","provisioning_model":"SPOT","code":"ZONE_RESOURCE_POOL_EXHAUSTED"})";
// n2-standard-8 in us-central1, from the built-in GCP catalog (providers/catalog/data/gcp).
constexpr double kOnDemandPrice = 0.38847;
constexpr double kSpotPrice = 0.11104;

// A task on n2-standard-8 in us-central1 with `job_recovery` {strategy: DEADLINE, <fields>}.
std::string gcp_deadline_job(const std::string& name, const std::string& fields,
                             const std::string& run) {
  return "name: " + name +
         "\nresources:\n  cloud: gcp\n  region: us-central1\n  instance_type: n2-standard-8\n"
         "  job_recovery: {strategy: DEADLINE, " +
         fields + "}\nrun: " + run + "\n";
}

// The policy is asked every second (the launch backoff's first delay), not every minute.
std::map<std::string, std::string> one_second_ticks() {
  return {{"launch_backoff", "1s"}};
}

double ledger(SkydHarness& skyd, const std::string& column, const std::string& where) {
  return sql_number(skyd, "SELECT " + column + " FROM attempt_costs WHERE job_id = 1 AND " + where);
}

TEST(GcpDeadlineJobs, SpotCapacityGoneAfterAPreemptionSwitchesToOnDemandAndMeetsTheDeadline) {
  CloudsWorld world(one_second_ticks());
  const auto yaml = world.skyd.write_file(
      "dl.yaml",
      gcp_deadline_job("dl", "deadline: 60s, work: 20s, restart_overhead: 3s", "sleep 20"));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"RUNNING"}));
  ASSERT_EQ(markets_of(world.skyd, 1), "spot\n") << "spot is there: the policy takes it";

  // Spot capacity goes in every zone, and the spot machine with it.
  world.admin("POST", "/_admin/gcp/faults", kSpotGone);
  world.admin("POST", "/_admin/gcp/preempt?all_spot=1&grace_ms=200");
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
  EXPECT_NE(log.find("ZONE_RESOURCE_POOL_EXHAUSTED"), std::string::npos)
      << "spot was asked for and refused: " << log;
  // Each run is priced in its market, beside the on-demand price of the same run.
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "node_price", "market = 'spot'"), kSpotPrice);
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "on_demand_node_price", "market = 'spot'"), kOnDemandPrice);
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "node_price", "market = 'on-demand'"), kOnDemandPrice);
  EXPECT_GT(sql_number(world.skyd, "SELECT saved_usd FROM job_costs WHERE job_id = 1"), 0);
  EXPECT_TRUE(world.all_gce_deleted(2)) << world.admin("GET", "/_admin/gcp/stats");
}

TEST(GcpDeadlineJobs, AJobWaitingForSpotTakesItWhenItReturns) {
  CloudsWorld world(one_second_ticks());
  world.admin("POST", "/_admin/gcp/faults", kSpotGone);
  const auto yaml = world.skyd.write_file(
      "wait.yaml",
      gcp_deadline_job("wait",
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
  EXPECT_EQ(world.live_gce(), 0) << "nothing is paid for while it waits";

  world.admin("POST", "/_admin/gcp/reset");
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}, 90s));
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(markets_of(world.skyd, 1), "spot\n") << "spot came back before the slack ran out";
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "node_price", "true"), kSpotPrice);
}

TEST(GcpDeadlineJobs, ARunOnOnDemandGoesBackToSpotWhenSpotReturns) {
  CloudsWorld world(one_second_ticks());
  world.admin("POST", "/_admin/gcp/faults", kSpotGone);
  const std::string dir = world.dir.path();
  // The first run (on-demand) runs until it is stopped; the next one (spot) for 3 s.
  const auto yaml = world.skyd.write_file(
      "back.yaml", gcp_deadline_job("back", "deadline: 120s, work: 20s, restart_overhead: 2s",
                                    "|\n  n=$(( $(cat " + dir +
                                        "/runs 2>/dev/null || echo 0) + 1 ));"
                                        " echo $n > " +
                                        dir +
                                        "/runs\n"
                                        "  if [ $n -eq 1 ]; then sleep 1000; else sleep 3; fi"));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return markets_of(world.skyd, 1) == "on-demand\n"; }))
      << controller_log_of(world.skyd, 1);
  world.admin("POST", "/_admin/gcp/reset");  // spot is back
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}, 90s));
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED") << controller_log_of(world.skyd, 1);
  EXPECT_EQ(markets_of(world.skyd, 1), "on-demand\nspot\n");
  EXPECT_EQ(read_text(world.dir.file("runs")), "2\n");
  const std::string recovery = world.skyd.sql(
      "SELECT reason FROM job_transitions WHERE job_id = 1 AND to_status = 'RECOVERING'");
  EXPECT_EQ(recovery.rfind("back to spot: progress ", 0), 0u) << recovery;
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "node_price", "market = 'spot'"), kSpotPrice);
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "node_price", "market = 'on-demand'"), kOnDemandPrice);
}

TEST(GcpCostLedger, AFinishedRunCostsItsPriceTimesNodesTimesItsTime) {
  CloudsWorld world;
  const auto yaml = world.skyd.write_file(
      "paid.yaml",
      "name: paid\nnum_nodes: 2\nresources:\n  cloud: gcp\n  region: us-central1\n  "
      "instance_type: n2-standard-8\nrun: sleep 3\n");
  const auto submitted = std::chrono::steady_clock::now();
  const auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED", "FAILED_PRECHECKS"}));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count();
  ASSERT_EQ(world.skyd.job_status(1), "SUCCEEDED");

  EXPECT_EQ(world.skyd.sql("SELECT cloud FROM attempt_costs WHERE job_id = 1"), "gcp\n");
  EXPECT_DOUBLE_EQ(ledger(world.skyd, "node_price", "true"), kOnDemandPrice);
  const double billed = ledger(world.skyd, "billed_seconds", "true");
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
  EXPECT_NE(queue.find(dollars), std::string::npos) << queue;
  const auto metrics =
      run_command({program_on_path("curl"), "-sS", "--max-time", "20", "--unix-socket",
                   world.skyd.socket(), "http://localhost/metrics"});
  EXPECT_NEAR(metric_sample(metrics.out, "skyd_job_cost_dollars{market=\"on-demand\"}"), cost, 1e-9)
      << metrics.out;
}

}  // namespace
}  // namespace skyd::testing
