#include "bench/deadline_sim/experiment.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "bench/deadline_sim/optimum.hpp"
#include "bench/deadline_sim/replay.hpp"

namespace skyd::sim {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Seconds deadline_window(Seconds work, double slack_ratio) {
  return Seconds{static_cast<Seconds::rep>(static_cast<double>(work.count()) * (1 + slack_ratio))};
}

// Evenly spaced starts that leave room for the whole window (and a margin to run past it).
std::vector<std::size_t> start_ticks(const SpotTrace& trace, Seconds window, int starts) {
  const auto window_ticks = window.count() / trace.tick_seconds + 1;
  const auto room = static_cast<std::int64_t>(trace.spot.size()) - window_ticks;
  std::vector<std::size_t> ticks;
  if (room < 0 || starts < 1) return ticks;
  for (int i = 0; i < starts; ++i) ticks.push_back(static_cast<std::size_t>(room * i / starts));
  return ticks;
}

RunRecord run_one(const SpotTrace& trace, const Job& job, double slack_ratio,
                  const Prices& prices) {
  RunRecord record;
  record.trace = &trace;
  record.job = job;
  record.slack_ratio = slack_ratio;
  const std::array<std::pair<Policy, policy::DeadlineStrategy>, 3> strategies{{
      {kOnDemandPolicy, policy::DeadlineStrategy::kOnDemandOnly},
      {kGreedyPolicy, policy::DeadlineStrategy::kGreedy},
      {kUniformProgressPolicy, policy::DeadlineStrategy::kUniformProgress},
  }};
  for (const auto& [column, strategy] : strategies) {
    const auto outcome = replay(trace, job, strategy, prices);
    record.cost[column] = outcome.cost;
    record.met[column] = outcome.met_deadline;
  }
  const auto optimum = optimum_cost(trace, job, prices);
  record.cost[kOptimumPolicy] = optimum.value_or(0);
  record.met[kOptimumPolicy] = optimum.has_value();
  return record;
}

std::vector<RunRecord> run_trace(const SpotTrace& trace, const Grid& grid, const Prices& prices) {
  std::vector<RunRecord> records;
  for (const auto work : grid.job_lengths) {
    for (const auto ratio : grid.slack_ratios) {
      const auto window = deadline_window(work, ratio);
      for (const auto overhead : grid.restart_overheads) {
        for (const auto tick : start_ticks(trace, window, grid.starts))
          records.push_back(run_one(trace, Job{work, window, overhead, tick}, ratio, prices));
      }
    }
  }
  return records;
}

}  // namespace

Grid full_grid() {
  return {{hours(8), hours(24), hours(48)}, {0.1, 0.25, 0.5}, {minutes(3), minutes(12)}, 6};
}

Grid quick_grid() {
  return {{hours(24)}, {0.25}, {minutes(3), minutes(12)}, 1};
}

std::vector<RunRecord> run_grid(const std::vector<SpotTrace>& traces, const Grid& grid,
                                const Prices& prices) {
  // Traces are independent: one worker per core takes the next one; results keep trace order.
  std::vector<std::vector<RunRecord>> per_trace(traces.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (auto i = next++; i < traces.size(); i = next++)
      per_trace[i] = run_trace(traces[i], grid, prices);
  };
  std::vector<std::jthread> workers;
  for (unsigned n = std::max(1u, std::thread::hardware_concurrency()); n > 1; --n)
    workers.emplace_back(work);
  work();
  workers.clear();  // joins
  std::vector<RunRecord> records;
  for (auto& runs : per_trace) records.insert(records.end(), runs.begin(), runs.end());
  return records;
}

Summary summarize(const std::vector<const RunRecord*>& runs) {
  Summary summary;
  for (const auto* run : runs) {
    ++summary.runs;
    const double baseline = run->cost[kOnDemandPolicy];
    for (int policy = 0; policy < kPolicies; ++policy) {
      summary.relative_cost[policy] += run->cost[policy] / baseline;
      if (!run->met[policy]) ++summary.missed[policy];
    }
  }
  if (summary.runs > 0) {
    for (auto& cost : summary.relative_cost) cost /= summary.runs;
  }
  return summary;
}

std::string policy_name(Policy policy) {
  switch (policy) {
    case kOnDemandPolicy:
      return "on-demand";
    case kGreedyPolicy:
      return "greedy";
    case kUniformProgressPolicy:
      return "uniform progress";
    case kOptimumPolicy:
      return "optimum";
    case kPolicies:
      break;
  }
  return "unknown";
}

}  // namespace skyd::sim
