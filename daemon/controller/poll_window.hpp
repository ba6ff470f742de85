#pragma once
// How long a quiet node's long poll waits before its skylet answers it. A fixed window is a fixed
// rate of answers per node: 10,000 nodes at 5 s are 2,000 answers a second, a fifth of a core on
// the controller and as much again on the nodes' side for no news at all. The window widens with
// the nodes watched so that the controller takes at most `polls_per_second` quiet answers in all
// (SkyPilot's controller looks at each job every 20 s); output, a task's end and spot notices
// still answer a poll at once, whatever its window. What a wider window costs: a node that goes
// silent is noticed that much later (the window + node_lost_after), and a task's reported
// progress (what a deadline policy reads) comes with a poll's answer, that much later too.
// A window of a second or more also ends on a tick of the clock (kTick): the answers of thousands
// of quiet nodes then come in a few bursts a second, each handled in one wake of the reactors on
// either end, instead of one wake per answer spread evenly over the second.

#include "reactor/coro.hpp"

#include <atomic>
#include <cstddef>

namespace skyd::daemon {

class PollWindow {
 public:
  // skylet waits a minute at most, whatever it is asked.
  static constexpr Duration kLongest = std::chrono::seconds(60);
  static constexpr Duration kTick = std::chrono::milliseconds(250);

  // `shortest`: the window with few nodes; `polls_per_second`: 0 for no bound (the window stays
  // `shortest`, ending on a tick).
  PollWindow(Duration shortest, double polls_per_second)
      : shortest_(shortest), polls_per_second_(polls_per_second) {}

  // The window for the next poll, given the nodes watched now, ending on a tick.
  Duration next() const {
    return ending_on_a_tick(for_nodes(watched_.load(std::memory_order_relaxed)), Clock::now());
  }
  Duration for_nodes(std::size_t nodes) const;
  // `window` from `now`, lengthened to end on the next tick, or shortened to the tick before
  // when that would pass kLongest (a window already past it, an operator's, is only shortened:
  // skylet cuts it to kLongest anyway). A window under a second is left as it is.
  static Duration ending_on_a_tick(Duration window, Clock::time_point now);

  // Counts a node as watched for as long as it lives (one per node follower, on any shard).
  class Watching {
   public:
    explicit Watching(PollWindow& window) : window_(&window) { ++window_->watched_; }
    ~Watching() { --window_->watched_; }
    Watching(const Watching&) = delete;
    Watching& operator=(const Watching&) = delete;

   private:
    PollWindow* window_;
  };
  std::size_t watched() const { return watched_.load(std::memory_order_relaxed); }

 private:
  Duration shortest_;
  double polls_per_second_;
  std::atomic<std::size_t> watched_{0};
};

}  // namespace skyd::daemon
