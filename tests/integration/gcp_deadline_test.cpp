// Jobs with a deadline on Compute Engine (fakecloud, one instance = one real skylet): the deadline
// policy chooses spot, on-demand or waiting as spot capacity comes and goes in GCP's zones, and
// the cost ledger prices every GCP run at the catalog's price for its market, zone and region.
#include "tests/support/clouds_world.hpp"
#include "tests/support/deadline_checks.hpp"

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
  expect_running_on_spot(world.skyd, yaml);

  // Spot capacity goes in every zone, and the spot machine with it.
  world.admin("POST", "/_admin/gcp/faults", kSpotGone);
  world.admin("POST", "/_admin/gcp/preempt?all_spot=1&grace_ms=200");
  const std::string log = expect_switched_to_on_demand_in_time(world.skyd);
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
  expect_waiting_for_spot(world.skyd, [&] { return world.live_gce(); });

  world.admin("POST", "/_admin/gcp/reset");
  expect_succeeded_in(world.skyd, "spot\n", 90s);  // spot came back before the slack ran out
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
  expect_two_node_run_priced(world.skyd, yaml, kOnDemandPrice);
  EXPECT_EQ(world.skyd.sql("SELECT cloud FROM attempt_costs WHERE job_id = 1"), "gcp\n");
}

}  // namespace
}  // namespace skyd::testing
