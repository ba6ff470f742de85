#include "daemon/controller/poll_window.hpp"

#include <algorithm>

namespace skyd::daemon {

Duration PollWindow::for_nodes(std::size_t nodes) const {
  if (polls_per_second_ <= 0) return shortest_;
  const auto spread = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(static_cast<double>(nodes) / polls_per_second_));
  return std::clamp(spread, shortest_, std::max(shortest_, kLongest));
}

}  // namespace skyd::daemon
