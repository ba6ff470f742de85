#include "policy/deadline_policy.hpp"

#include <algorithm>

#include "policy/duration_text.hpp"

namespace skyd::policy {
namespace {

// Progress the uniform line from (start, 0) to (deadline, total work) asks for at `when`.
Seconds uniform_line_at(const DeadlineInputs& in, TimePoint when) {
  const auto window = (in.deadline - in.start).count();
  const auto elapsed = std::clamp<Seconds::rep>((when - in.start).count(), 0, window);
  if (window <= 0) return in.total_work;
  return Seconds{in.total_work.count() * elapsed / window};
}

// The paper's safety net is R(t) < C(t) + 2d: one restart may be lost to a preemption right
// after a spot start, and on-demand needs one more. A decision taken every `tick` learns of a
// preemption, or ends a wait, only a tick later, so the first restart is max(d, tick) here.
Seconds safety_margin(const DeadlineInputs& in) {
  return in.restart_overhead + std::max(in.restart_overhead, in.tick);
}

DeadlineFacts facts_of(const DeadlineInputs& in) {
  DeadlineFacts facts;
  facts.strategy = in.strategy;
  facts.slack = (in.deadline - in.now) - in.remaining_work;
  facts.safety_margin = safety_margin(in);
  facts.progress = in.total_work - in.remaining_work;
  facts.uniform_line = uniform_line_at(in, in.now);
  facts.remaining_work = in.remaining_work;
  facts.restart_overhead = in.restart_overhead;
  facts.tick = in.tick;
  facts.overdue = std::max(Seconds{0}, in.now - in.deadline);
  facts.spot_available = in.spot_available;
  return facts;
}

bool holds_running(Holding holding, Placement placement) {
  return (holding == Holding::kSpot && placement == Placement::kSpot) ||
         (holding == Holding::kOnDemand && placement == Placement::kOnDemand);
}

DeadlineDecision decided(Placement placement, DeadlineRule rule, DeadlineFacts facts,
                         Holding holding) {
  facts.switching = placement != Placement::kWait && !holds_running(holding, placement);
  return {placement, rule, facts};
}

// Rules every strategy obeys before its own: done, too late, never spot, keep a spot that runs.
bool decided_by_common_rules(const DeadlineInputs& in, const DeadlineFacts& facts,
                             DeadlineDecision& out) {
  if (in.remaining_work <= Seconds{0}) {
    out = decided(Placement::kWait, DeadlineRule::kWorkDone, facts, in.holding);
  } else if (in.now >= in.deadline) {
    out = decided(Placement::kOnDemand, DeadlineRule::kDeadlineMissed, facts, in.holding);
  } else if (in.strategy == DeadlineStrategy::kOnDemandOnly) {
    out = decided(Placement::kOnDemand, DeadlineRule::kOnDemandOnly, facts, in.holding);
  } else if (in.holding == Holding::kSpot && in.spot_available) {
    // Exploitation: the slack was enough when this instance started, and it only shrinks while
    // the restart overhead runs, so keeping it is always safe.
    out = decided(Placement::kSpot, DeadlineRule::kKeepSpot, facts, in.holding);
  } else {
    return false;
  }
  return true;
}

bool slack_exhausted(const DeadlineFacts& facts) {
  return facts.slack <= Seconds{0} || facts.slack < facts.safety_margin;
}

DeadlineDecision decide_greedy(const DeadlineInputs& in, const DeadlineFacts& facts) {
  // Greedy enters on-demand only through the safety net, so on-demand is for good.
  if (in.holding == Holding::kOnDemand || slack_exhausted(facts))
    return decided(Placement::kOnDemand, DeadlineRule::kSafetyNet, facts, in.holding);
  if (in.spot_available)
    return decided(Placement::kSpot, DeadlineRule::kTakeSpot, facts, in.holding);
  return decided(Placement::kWait, DeadlineRule::kWaitForSpot, facts, in.holding);
}

DeadlineDecision decide_uniform_progress(const DeadlineInputs& in, DeadlineFacts facts) {
  if (slack_exhausted(facts))
    return decided(Placement::kOnDemand, DeadlineRule::kSafetyNet, facts, in.holding);
  if (in.holding == Holding::kOnDemand) {
    // Hysteresis: leave on-demand only when ahead of where the line will be two restarts from
    // now, so that one preemption does not send the job straight back.
    facts.uniform_line = uniform_line_at(in, in.now + 2 * in.restart_overhead);
    if (in.spot_available && facts.progress >= facts.uniform_line)
      return decided(Placement::kSpot, DeadlineRule::kBackToSpot, facts, in.holding);
    return decided(Placement::kOnDemand, DeadlineRule::kHoldOnDemand, facts, in.holding);
  }
  // Taking risks: spot whenever it is there, even behind the line.
  if (in.spot_available)
    return decided(Placement::kSpot, DeadlineRule::kTakeSpot, facts, in.holding);
  if (facts.progress < facts.uniform_line)
    return decided(Placement::kOnDemand, DeadlineRule::kBehindSchedule, facts, in.holding);
  return decided(Placement::kWait, DeadlineRule::kWaitForSpot, facts, in.holding);
}

std::string margin_text(const DeadlineFacts& facts) {
  const auto overhead = duration_text(facts.restart_overhead);
  if (facts.tick > facts.restart_overhead)
    return "restart overhead " + overhead + " + decision tick " + duration_text(facts.tick);
  return "2 × restart overhead " + overhead;
}

std::string safety_net_text(const DeadlineFacts& facts) {
  const auto verb = facts.switching ? "switching to on-demand" : "staying on on-demand";
  const auto slack = "slack " + duration_text(facts.slack);
  if (facts.switching && facts.slack < facts.restart_overhead)
    return std::string(verb) + " to the end: " + slack + " < restart overhead " +
           duration_text(facts.restart_overhead) + "; the deadline will be missed by " +
           duration_text(facts.restart_overhead - facts.slack) + " at best";
  if (!facts.switching && facts.slack < facts.safety_margin)
    return std::string(verb) + " to the end: " + slack + " < " + margin_text(facts) +
           "; no room left to try spot";
  if (!facts.switching) return std::string(verb) + " to the end (greedy leaves it only when done)";
  return std::string(verb) + " to the end: " + slack + " < " + margin_text(facts) + " with " +
         duration_text(facts.remaining_work) +
         " of work left; losing spot now would miss the "
         "deadline";
}

}  // namespace

DeadlineDecision decide_deadline(const DeadlineInputs& in) {
  const auto facts = facts_of(in);
  DeadlineDecision out;
  if (decided_by_common_rules(in, facts, out)) return out;
  switch (in.strategy) {
    case DeadlineStrategy::kGreedy:
      return decide_greedy(in, facts);
    case DeadlineStrategy::kUniformProgress:
      return decide_uniform_progress(in, facts);
    case DeadlineStrategy::kOnDemandOnly:
      break;  // decided by the common rules
  }
  return out;
}

std::string describe(const DeadlineDecision& d) {
  const auto& f = d.facts;
  const auto progress = "progress " + duration_text(f.progress);
  const auto line = "the uniform line " + duration_text(f.uniform_line);
  switch (d.rule) {
    case DeadlineRule::kWorkDone:
      return "work done: nothing left to run";
    case DeadlineRule::kDeadlineMissed:
      return "deadline missed " + duration_text(f.overdue) + " ago with " +
             duration_text(f.remaining_work) + " of work left: on-demand finishes soonest";
    case DeadlineRule::kOnDemandOnly:
      return "on-demand: the job's policy never uses spot";
    case DeadlineRule::kSafetyNet:
      return safety_net_text(f);
    case DeadlineRule::kKeepSpot:
      return "staying on spot until it is preempted";
    case DeadlineRule::kTakeSpot:
      return "taking spot: capacity is there and slack " + duration_text(f.slack) +
             " covers losing it (" + margin_text(f) + ")";
    case DeadlineRule::kBehindSchedule:
      return "switching to on-demand: no spot capacity and " + progress + " is behind " + line;
    case DeadlineRule::kHoldOnDemand:
      if (!f.spot_available) return "staying on on-demand: no spot capacity";
      return "staying on on-demand: " + progress + " is behind " + line +
             " two restart overheads from now";
    case DeadlineRule::kBackToSpot:
      return "back to spot: " + progress + " is ahead of the line by " +
             duration_text(f.progress - f.uniform_line) + " (the uniform line " +
             duration_text(f.uniform_line) + " two restart overheads from now)";
    case DeadlineRule::kWaitForSpot:
      if (f.strategy != DeadlineStrategy::kUniformProgress)
        return "waiting for spot: slack " + duration_text(f.slack) + " ≥ " + margin_text(f);
      return "waiting for spot: slack " + duration_text(f.slack) + " ≥ " + margin_text(f) +
             " and " + progress + " is not behind " + line;
  }
  return "unknown rule";
}

std::string to_string(DeadlineStrategy strategy) {
  switch (strategy) {
    case DeadlineStrategy::kGreedy:
      return "greedy";
    case DeadlineStrategy::kUniformProgress:
      return "uniform_progress";
    case DeadlineStrategy::kOnDemandOnly:
      return "on_demand";
  }
  return "unknown";
}

std::string to_string(Holding holding) {
  switch (holding) {
    case Holding::kSpot:
      return "spot";
    case Holding::kOnDemand:
      return "on_demand";
    case Holding::kNothing:
      return "nothing";
    case Holding::kPreempted:
      return "preempted";
  }
  return "unknown";
}

std::string to_string(Placement placement) {
  switch (placement) {
    case Placement::kSpot:
      return "spot";
    case Placement::kOnDemand:
      return "on_demand";
    case Placement::kWait:
      return "wait";
  }
  return "unknown";
}

std::string to_string(DeadlineRule rule) {
  switch (rule) {
    case DeadlineRule::kWorkDone:
      return "work_done";
    case DeadlineRule::kDeadlineMissed:
      return "deadline_missed";
    case DeadlineRule::kOnDemandOnly:
      return "on_demand_only";
    case DeadlineRule::kSafetyNet:
      return "safety_net";
    case DeadlineRule::kKeepSpot:
      return "keep_spot";
    case DeadlineRule::kTakeSpot:
      return "take_spot";
    case DeadlineRule::kBehindSchedule:
      return "behind_schedule";
    case DeadlineRule::kHoldOnDemand:
      return "hold_on_demand";
    case DeadlineRule::kBackToSpot:
      return "back_to_spot";
    case DeadlineRule::kWaitForSpot:
      return "wait_for_spot";
  }
  return "unknown";
}

}  // namespace skyd::policy
