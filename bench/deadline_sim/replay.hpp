#pragma once

#include "bench/deadline_sim/job.hpp"
#include "bench/deadline_sim/spot_trace.hpp"
#include "policy/deadline_policy.hpp"

namespace skyd::sim {

// Replays `trace` from the job's start tick, asking the deadline policy at every tick what to
// hold for that tick. The model (the paper's, section 3.1):
// - Starting an instance (spot or on-demand, after waiting or a preemption or a switch) costs
//   `restart_overhead` of paid time without progress; staying costs nothing extra.
// - A spot instance runs through a tick when the trace has a 1 there; a 0 preempts it at the
//   tick's start. On-demand is always there.
// - Instance time is paid by the second until the work is done, at the kind's price × nodes.
// - A job past its deadline keeps running (on on-demand) until done; beyond the trace's end no
//   spot is assumed.
RunOutcome replay(const SpotTrace& trace, const Job& job, policy::DeadlineStrategy strategy,
                  const Prices& prices);

}  // namespace skyd::sim
