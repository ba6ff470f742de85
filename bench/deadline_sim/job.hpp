#pragma once

#include <chrono>
#include <cstdint>

namespace skyd::sim {

using Seconds = std::chrono::seconds;

// A job dropped onto a trace at `start_tick`: `work` of compute due `window` after it starts.
struct Job {
  Seconds work{0};
  Seconds window{0};  // deadline - start
  Seconds restart_overhead{0};
  std::size_t start_tick = 0;
};

// Per instance-hour. The paper's simulator prices a p3.2xlarge (one V100) in us-west-2:
// $3.06 on-demand, $0.9731 spot, so spot costs 0.318 of on-demand (k = 3.14).
struct Prices {
  double spot_per_hour = 0.9731;
  double on_demand_per_hour = 3.06;
};

// What one run cost, and when it finished relative to its start.
struct RunOutcome {
  double cost = 0;
  Seconds finished_after{0};
  Seconds spot_time{0};       // instance time on spot, restart overheads included
  Seconds on_demand_time{0};  // likewise on on-demand
  bool met_deadline = false;
};

}  // namespace skyd::sim
