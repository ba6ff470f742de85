#pragma once
// What the deadline policy (policy/deadline_policy.hpp) is told about a task with
// `job_recovery: {strategy: DEADLINE}`: pure functions from the job's stored state -- its spec,
// its submission time and its transition log -- to DeadlineInputs. The runner asks the policy
// with these whenever the task needs machines; nothing here is kept anywhere but in the job's
// events, so a restarted skyd resumes the same plan (docs/deadline-policy.md, "In skyd").

#include "daemon/spec/task.hpp"
#include "policy/deadline_policy.hpp"
#include "store/job_repository.hpp"

#include <chrono>
#include <optional>
#include <vector>

namespace skyd::daemon {

// One stretch of a task in RUNNING: from its RUNNING event to the next event of the task.
struct RunStretch {
  policy::TimePoint started;
  std::optional<policy::TimePoint> ended;  // nothing while it runs
  bool lost = false;  // it ended in RECOVERING: machines lost, or a restart after an error
};

// The task's RUNNING stretches, in order, from the job's events (ordered by id).
std::vector<RunStretch> run_stretches(const std::vector<store::JobEvent>& events, int task_index);

// The work done: the time run, less what each lost stretch may not have saved -- up to one
// restart overhead of it (the overhead counts the work redone since the last checkpoint).
std::chrono::seconds progress_of(const std::vector<RunStretch>& stretches,
                                 std::chrono::seconds restart_overhead, policy::TimePoint now);

// The work the task's last reported checkpoint holds ($SKYPILOT_PROGRESS_FILE through skylet):
// the latest of its reports, nothing when it has reported none.
std::optional<std::chrono::seconds> reported_work(const std::vector<store::ProgressReport>& reports,
                                                  int task_index);

// The task's progress: what its last reported checkpoint holds when it has reported one -- that
// is what survives a lost run, and work since it counts as left -- else estimated from the time
// run (progress_of).
std::chrono::seconds task_progress(const std::vector<RunStretch>& stretches,
                                   std::optional<std::chrono::seconds> reported,
                                   std::chrono::seconds restart_overhead, policy::TimePoint now);

// The deadline as an instant: given as one, or as a time after submission.
policy::TimePoint deadline_of(const spec::DeadlineSpec& spec, policy::TimePoint submitted_at);

// What the task holds when it asks for machines: on-demand machines it lost (or that ended by
// an error) leave it on on-demand, lost spot machines leave it preempted, nothing before its first
// run. `last_market_spot`: the market of its last placement, if it had one.
policy::Holding holding_when_placing(std::optional<bool> last_market_spot);

struct DeadlineSituation {
  policy::TimePoint submitted_at;
  policy::TimePoint now;
  std::chrono::seconds progress{0};
  policy::Holding holding = policy::Holding::kNothing;
  bool spot_available = false;
  std::chrono::seconds tick{0};  // until the runner asks again when it waits
};

// The policy's inputs. Remaining work is at least one restart overhead (and one second): a task
// that has run its declared work and still needs machines was given too little, and is not done.
policy::DeadlineInputs deadline_inputs(const spec::DeadlineSpec& spec,
                                       const DeadlineSituation& situation);

policy::DeadlineStrategy strategy_of(spec::DeadlinePolicy policy);

}  // namespace skyd::daemon
