#pragma once

#include <array>
#include <string>
#include <vector>

#include "bench/deadline_sim/job.hpp"
#include "bench/deadline_sim/spot_trace.hpp"

namespace skyd::sim {

// The columns of the comparison, in table order.
enum Policy {
  kOnDemandPolicy = 0,
  kGreedyPolicy,
  kUniformProgressPolicy,
  kOptimumPolicy,
  kPolicies
};

// Jobs to drop on every trace: each length × slack ratio × overhead, from `starts` evenly spaced
// start ticks. deadline = start + length × (1 + slack ratio). A combination whose deadline does
// not fit in a trace is skipped for that trace.
struct Grid {
  std::vector<Seconds> job_lengths;
  std::vector<double> slack_ratios;
  std::vector<Seconds> restart_overheads;
  int starts = 1;
};

// The paper's ranges (job fraction 0.67..0.91, overhead 0.05h and 0.2h) in about a minute of
// Release on two cores.
Grid full_grid();
// The paper's headline case (24h of work due in 30h) from one start per trace: seconds in a
// Debug build, for tests and CI.
Grid quick_grid();

struct RunRecord {
  const SpotTrace* trace = nullptr;
  Job job;
  double slack_ratio = 0;
  std::array<double, kPolicies> cost{};  // the optimum's is 0 when it found no schedule
  std::array<bool, kPolicies> met{};
};

std::vector<RunRecord> run_grid(const std::vector<SpotTrace>& traces, const Grid& grid,
                                const Prices& prices);

// Means over a set of runs: cost relative to always-on-demand, and deadlines missed.
struct Summary {
  int runs = 0;
  std::array<double, kPolicies> relative_cost{};
  std::array<int, kPolicies> missed{};
};

Summary summarize(const std::vector<const RunRecord*>& runs);

std::string policy_name(Policy policy);

}  // namespace skyd::sim
