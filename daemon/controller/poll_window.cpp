#include "daemon/controller/poll_window.hpp"

#include <algorithm>

namespace skyd::daemon {

Duration PollWindow::for_nodes(std::size_t nodes) const {
  if (!(polls_per_second_ > 0)) return shortest_;
  const Duration longest = std::max(shortest_, kLongest);
  // In seconds first: a tiny rate would overflow the clock's ticks.
  const double spread = static_cast<double>(nodes) / polls_per_second_;
  if (!(spread < std::chrono::duration<double>(longest).count())) return longest;
  return std::max(shortest_,
                  std::chrono::duration_cast<Duration>(std::chrono::duration<double>(spread)));
}

Duration PollWindow::ending_on_a_tick(Duration window, Clock::time_point now) {
  if (window < std::chrono::seconds(1)) return window;
  const Duration past_the_tick = (now.time_since_epoch() + window) % kTick;
  if (past_the_tick == Duration::zero()) return window;
  if (window + (kTick - past_the_tick) > std::max(window, kLongest)) return window - past_the_tick;
  return window + (kTick - past_the_tick);
}

}  // namespace skyd::daemon
