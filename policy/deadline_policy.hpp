#pragma once

#include <chrono>
#include <string>

// Where a job with a deadline should run next: on spot, on on-demand, or nowhere yet.
// After Wu et al., "Can't Be Late: Optimizing Spot Instance Savings under Deadlines" (NSDI '24).
// The rules, their inputs and how skyd and bench/deadline_sim share them: docs/deadline-policy.md.
namespace skyd::policy {

using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::sys_seconds;

enum class DeadlineStrategy {
  kGreedy,           // spot while there is any, wait otherwise, on-demand for good when forced
  kUniformProgress,  // keep progress on the line from start to deadline, on-demand to catch up
  kOnDemandOnly,     // never spot: the baseline costs are measured against
};

// What the job holds when the decision is asked for.
enum class Holding { kSpot, kOnDemand, kNothing, kPreempted };

enum class Placement { kSpot, kOnDemand, kWait };

// The rule that made a decision; describe() words it.
enum class DeadlineRule {
  kWorkDone,        // nothing left to run
  kDeadlineMissed,  // the deadline has passed with work left: on-demand finishes soonest
  kOnDemandOnly,    // the strategy never uses spot
  kSafetyNet,       // the slack can no longer absorb a preemption: on-demand to the end
  kKeepSpot,        // a running spot instance is kept until it is preempted
  kTakeSpot,        // spot is there and the slack can absorb losing it
  kBehindSchedule,  // Uniform Progress: behind the line and no spot: on-demand catches up
  kHoldOnDemand,    // Uniform Progress: not far enough ahead of the line, or no spot, to leave
  kBackToSpot,      // Uniform Progress: ahead of the line by two restarts and spot is back
  kWaitForSpot,     // no spot, and the slack (and the line) allow waiting for it
};

struct DeadlineInputs {
  DeadlineStrategy strategy = DeadlineStrategy::kUniformProgress;
  TimePoint start;  // when the job began waiting: its uniform line starts here
  TimePoint now;
  TimePoint deadline;
  Seconds total_work{0};        // compute time the job needs from start to end
  Seconds remaining_work{0};    // what is left of it (since the last checkpoint counts as left)
  Seconds restart_overhead{0};  // from starting an instance to progress again (launch + setup +
                                // work lost since the last checkpoint)
  Holding holding = Holding::kNothing;
  bool spot_available = false;  // a spot instance could be had (or is still held) now
  Seconds tick{0};  // time until the policy is asked again; 0 when it is asked on every change
};

// The figures a rule compared, kept so that describe() can say why.
struct DeadlineFacts {
  DeadlineStrategy strategy = DeadlineStrategy::kUniformProgress;
  Seconds slack{0};          // time to the deadline minus remaining work
  Seconds safety_margin{0};  // slack below which losing a spot instance would be fatal
  Seconds progress{0};       // work done
  Seconds uniform_line{0};   // progress the line asks for (at now + 2 restarts when leaving
                             // on-demand)
  Seconds remaining_work{0};
  Seconds restart_overhead{0};
  Seconds tick{0};
  Seconds overdue{0};  // how far past the deadline now is
  bool spot_available = false;
  bool switching = false;  // the placement differs from what the job holds
};

struct DeadlineDecision {
  Placement placement = Placement::kWait;
  DeadlineRule rule = DeadlineRule::kWaitForSpot;
  DeadlineFacts facts;
};

// Pure: the same inputs give the same decision. Formatting is left to describe(), so a simulator
// calling this millions of times builds no strings.
DeadlineDecision decide_deadline(const DeadlineInputs& inputs);

// One sentence for people, e.g. "switching to on-demand to the end: slack 15m < 2 × restart
// overhead 10m; losing spot now would miss the deadline".
std::string describe(const DeadlineDecision& decision);

std::string to_string(DeadlineStrategy strategy);
std::string to_string(Holding holding);
std::string to_string(Placement placement);
std::string to_string(DeadlineRule rule);

}  // namespace skyd::policy
