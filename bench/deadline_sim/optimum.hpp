#pragma once

#include <optional>

#include "bench/deadline_sim/job.hpp"
#include "bench/deadline_sim/spot_trace.hpp"

namespace skyd::sim {

// The least any schedule of whole ticks could pay to finish the job by its deadline, knowing the
// whole trace in advance: a lower bound of every policy replay() runs, under the same model.
//
// A dynamic programme over (tick, what runs, productive ticks done). Each tick the schedule
// waits, keeps the instance it runs (spot only where the trace has a 1), or starts spot or
// on-demand: a start pays floor(overhead / tick) ticks without progress and then counts its
// first productive tick whole. When the overhead is not a whole number of ticks that is
// slightly optimistic (replay() gets only the rest of that tick), which keeps it a lower bound;
// it is exact when the tick divides the overhead. The deadline rounds up to a whole tick, and
// the last tick is paid only for the work it finishes, as in replay(). A run cut short inside
// its overhead is never worth starting, so it is not modelled. Returns nothing when even
// on-demand from the start cannot make the deadline.
std::optional<double> optimum_cost(const SpotTrace& trace, const Job& job, const Prices& prices);

}  // namespace skyd::sim
