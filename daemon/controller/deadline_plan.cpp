#include "daemon/controller/deadline_plan.hpp"

#include <algorithm>

namespace skyd::daemon {
namespace {

policy::TimePoint to_seconds(store::TimePoint time) {
  return std::chrono::floor<std::chrono::seconds>(time);
}

}  // namespace

std::vector<RunStretch> run_stretches(const std::vector<store::JobEvent>& events, int task_index) {
  std::vector<RunStretch> stretches;
  for (const auto& event : events) {
    if (event.task_index != task_index) continue;
    if (!stretches.empty() && !stretches.back().ended) {
      stretches.back().ended = to_seconds(event.at);
      stretches.back().lost = event.to == store::JobStatus::kRecovering;
    }
    if (event.to == store::JobStatus::kRunning) {
      RunStretch running;
      running.started = to_seconds(event.at);
      stretches.push_back(running);
    }
  }
  return stretches;
}

std::chrono::seconds progress_of(const std::vector<RunStretch>& stretches,
                                 std::chrono::seconds restart_overhead, policy::TimePoint now) {
  std::chrono::seconds done{0};
  for (const auto& stretch : stretches) {
    const auto ran =
        std::max(std::chrono::seconds(0), stretch.ended.value_or(now) - stretch.started);
    done += stretch.lost ? ran - std::min(ran, restart_overhead) : ran;
  }
  return done;
}

std::optional<std::chrono::seconds> reported_work(const std::vector<store::ProgressReport>& reports,
                                                  int task_index) {
  std::optional<std::chrono::seconds> last;
  for (const auto& report : reports) {
    if (report.task_index == task_index) last = std::chrono::seconds(report.work_seconds);
  }
  return last;
}

std::chrono::seconds task_progress(const std::vector<RunStretch>& stretches,
                                   std::optional<std::chrono::seconds> reported,
                                   std::chrono::seconds restart_overhead, policy::TimePoint now) {
  if (reported) return std::max(*reported, std::chrono::seconds(0));
  return progress_of(stretches, restart_overhead, now);
}

policy::TimePoint deadline_of(const spec::DeadlineSpec& spec, policy::TimePoint submitted_at) {
  if (spec.at) return *spec.at;
  return submitted_at + spec.after_submission.value_or(std::chrono::seconds(0));
}

policy::Holding holding_when_placing(std::optional<bool> last_market_spot) {
  if (!last_market_spot) return policy::Holding::kNothing;
  return *last_market_spot ? policy::Holding::kPreempted : policy::Holding::kOnDemand;
}

policy::DeadlineStrategy strategy_of(spec::DeadlinePolicy policy) {
  switch (policy) {
    case spec::DeadlinePolicy::kUniformProgress:
      return policy::DeadlineStrategy::kUniformProgress;
    case spec::DeadlinePolicy::kGreedy:
      return policy::DeadlineStrategy::kGreedy;
    case spec::DeadlinePolicy::kOnDemand:
      return policy::DeadlineStrategy::kOnDemandOnly;
  }
  return policy::DeadlineStrategy::kOnDemandOnly;
}

policy::DeadlineInputs deadline_inputs(const spec::DeadlineSpec& spec,
                                       const DeadlineSituation& situation) {
  policy::DeadlineInputs inputs;
  inputs.strategy = strategy_of(spec.policy);
  inputs.start = situation.submitted_at;
  inputs.now = situation.now;
  inputs.deadline = deadline_of(spec, situation.submitted_at);
  inputs.total_work = spec.work;
  const std::chrono::seconds least = std::max(spec.restart_overhead, std::chrono::seconds(1));
  inputs.remaining_work = std::max(spec.work - situation.progress, least);
  inputs.restart_overhead = spec.restart_overhead;
  inputs.holding = situation.holding;
  inputs.spot_available = situation.spot_available;
  inputs.tick = situation.tick;
  return inputs;
}

}  // namespace skyd::daemon
