#include "bench/deadline_sim/replay.hpp"

#include <algorithm>
#include <cstdlib>

namespace skyd::sim {
namespace {

using policy::Holding;
using policy::Placement;

// Where the run stands between ticks.
struct RunState {
  Seconds elapsed{0};
  Seconds done{0};
  Seconds overhead_left{0};
  Holding holding = Holding::kNothing;
};

Holding holding_for(Placement placement) {
  switch (placement) {
    case Placement::kSpot:
      return Holding::kSpot;
    case Placement::kOnDemand:
      return Holding::kOnDemand;
    case Placement::kWait:
      return Holding::kNothing;
  }
  return Holding::kNothing;
}

}  // namespace

RunOutcome replay(const SpotTrace& trace, const Job& job, policy::DeadlineStrategy strategy,
                  const Prices& prices) {
  const Seconds tick{trace.tick_seconds};
  const policy::TimePoint start{};
  RunOutcome outcome;
  RunState state;
  for (auto index = job.start_tick; state.done < job.work; ++index) {
    const bool spot_here = index < trace.spot.size() && trace.spot[index] != 0;
    if (state.holding == Holding::kSpot && !spot_here) state.holding = Holding::kPreempted;

    policy::DeadlineInputs inputs;
    inputs.strategy = strategy;
    inputs.start = start;
    inputs.now = start + state.elapsed;
    inputs.deadline = start + job.window;
    inputs.total_work = job.work;
    inputs.remaining_work = job.work - state.done;
    inputs.restart_overhead = job.restart_overhead;
    inputs.holding = state.holding;
    inputs.spot_available = spot_here;
    inputs.tick = tick;
    const auto decision = policy::decide_deadline(inputs);
    if (decision.placement == Placement::kSpot && !spot_here) std::abort();  // a policy bug

    const auto next = holding_for(decision.placement);
    if (next != Holding::kNothing && next != state.holding)
      state.overhead_left = job.restart_overhead;
    state.holding = next;

    if (next != Holding::kNothing) {
      const auto overhead = std::min(state.overhead_left, tick);
      state.overhead_left -= overhead;
      const auto progress = std::min(tick - overhead, job.work - state.done);
      const auto paid = overhead + progress;
      state.done += progress;
      const auto hours = std::chrono::duration<double, std::ratio<3600>>(paid).count();
      if (next == Holding::kSpot) {
        outcome.spot_time += paid;
        outcome.cost += prices.spot_per_hour * trace.nodes * hours;
      } else {
        outcome.on_demand_time += paid;
        outcome.cost += prices.on_demand_per_hour * trace.nodes * hours;
      }
      if (state.done >= job.work) outcome.finished_after = state.elapsed + paid;
    }
    state.elapsed += tick;
  }
  outcome.met_deadline = outcome.finished_after <= job.window;
  return outcome;
}

}  // namespace skyd::sim
