// The simulator on the shipped traces: Uniform Progress never misses a deadline it could meet,
// costs no more than greedy on average, and the optimum is below both on every run.
#include <gtest/gtest.h>

#include <cstdlib>

#include "bench/deadline_sim/experiment.hpp"
#include "bench/deadline_sim/optimum.hpp"
#include "bench/deadline_sim/replay.hpp"

namespace skyd::sim {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

std::string traces_dir() {
  if (const char* env = std::getenv("SKYD_SPOT_TRACES")) return env;
  return SKYD_SOURCE_DIR "/../shared/data/spot-traces";
}

const std::vector<RunRecord>& quick_runs() {
  static const auto* runs = [] {
    static const auto set = load_trace_dir(traces_dir());
    return new std::vector<RunRecord>(run_grid(set.traces, quick_grid(), Prices{}));
  }();
  return *runs;
}

class ShippedTraces : public ::testing::Test {
 protected:
  void SetUp() override {
    if (quick_runs().empty()) GTEST_SKIP() << "no spot traces at " << traces_dir();
  }
};

TEST_F(ShippedTraces, UniformProgressNeverMissesAFeasibleDeadline) {
  for (const auto& run : quick_runs()) {
    ASSERT_TRUE(run.met[kOptimumPolicy]) << run.trace->name;
    EXPECT_TRUE(run.met[kUniformProgressPolicy])
        << run.trace->name << " tick " << run.job.start_tick;
    EXPECT_TRUE(run.met[kGreedyPolicy]) << run.trace->name << " tick " << run.job.start_tick;
  }
}

TEST_F(ShippedTraces, OptimumIsALowerBoundOfEveryPolicy) {
  for (const auto& run : quick_runs()) {
    for (auto policy : {kOnDemandPolicy, kGreedyPolicy, kUniformProgressPolicy})
      EXPECT_LE(run.cost[kOptimumPolicy], run.cost[policy] + 1e-9)
          << run.trace->name << " tick " << run.job.start_tick << " " << policy_name(policy);
  }
}

TEST_F(ShippedTraces, UniformProgressCostsNoMoreThanGreedyOnAverage) {
  std::vector<const RunRecord*> all;
  for (const auto& run : quick_runs()) all.push_back(&run);
  const auto summary = summarize(all);
  EXPECT_LE(summary.relative_cost[kUniformProgressPolicy], summary.relative_cost[kGreedyPolicy]);
  EXPECT_LT(summary.relative_cost[kUniformProgressPolicy], 1.0);
}

// A made-up trace where the optimum is known: spot for the first 4 ticks of 1h, then none.
SpotTrace hourly_trace(std::vector<std::uint8_t> spot) {
  return SpotTrace{"made-up", TraceKind::kAvailability, 1, 3600, std::move(spot)};
}

TEST(Optimum, UsesSpotWhileItLastsThenOnDemand) {
  const auto trace = hourly_trace({1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
  const Job job{hours(5), hours(7), hours(1), 0};
  // Spot: 1h overhead + 3h work; on-demand: 1h overhead + 2h work.
  const Prices prices{1, 3};
  EXPECT_DOUBLE_EQ(*optimum_cost(trace, job, prices), 4 * 1 + 3 * 3);
}

TEST(Optimum, NothingWhenEvenOnDemandIsLate) {
  const auto trace = hourly_trace({0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(optimum_cost(trace, Job{hours(5), hours(5), hours(1), 0}, Prices{}).has_value());
}

TEST(Replay, PaysTheLastTickOnlyForTheWorkItFinishes) {
  const auto trace = hourly_trace({0, 0, 0, 0});
  const Job job{minutes(90), hours(3), minutes(30), 0};
  const auto outcome = replay(trace, job, policy::DeadlineStrategy::kOnDemandOnly, Prices{1, 2});
  EXPECT_TRUE(outcome.met_deadline);
  EXPECT_EQ(outcome.finished_after, hours(2));
  EXPECT_DOUBLE_EQ(outcome.cost, 4);
}

}  // namespace
}  // namespace skyd::sim
