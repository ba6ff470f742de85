#include "bench/deadline_sim/optimum.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

namespace skyd::sim {
namespace {

constexpr double kUnreached = std::numeric_limits<double>::infinity();
enum Running { kIdle = 0, kSpot = 1, kOnDemand = 2, kKinds = 3 };

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

// cost[running][done] at one tick, done = 0..needed (needed: finished in that tick); a ring of
// them covers the ticks a start jumps over.
class Layers {
 public:
  Layers(std::size_t count, std::size_t width)
      : width_(width), cells_(count * kKinds * width, kUnreached), count_(count) {}

  double* row(std::int64_t tick, int running) {
    return cells_.data() + ((static_cast<std::size_t>(tick) % count_) * kKinds + running) * width_;
  }
  void clear(std::int64_t tick) { std::fill_n(row(tick, 0), kKinds * width_, kUnreached); }

 private:
  std::size_t width_;
  std::vector<double> cells_;
  std::size_t count_;
};

// Lowers every target[done + shift] to source[done] + cost over a band of `done`.
void relax(const double* source, double* target, std::int64_t from, std::int64_t to, int shift,
           double cost) {
  for (auto done = from; done <= to; ++done)
    target[done + shift] = std::min(target[done + shift], source[done] + cost);
}

// How many ticks from each index on the trace keeps spot usable.
std::vector<std::int64_t> spot_runs(const SpotTrace& trace, std::size_t from, std::size_t ticks) {
  std::vector<std::int64_t> runs(ticks + 1, 0);
  for (auto i = static_cast<std::int64_t>(ticks) - 1; i >= 0; --i) {
    const auto index = from + static_cast<std::size_t>(i);
    const bool spot = index < trace.spot.size() && trace.spot[index] != 0;
    runs[i] = spot ? runs[i + 1] + 1 : 0;
  }
  return runs;
}

}  // namespace

std::optional<double> optimum_cost(const SpotTrace& trace, const Job& job, const Prices& prices) {
  const auto tick = trace.tick_seconds;
  const auto ticks = ceil_div(job.window.count(), tick);  // the deadline, rounded up
  const auto needed = ceil_div(job.work.count(), tick);   // productive ticks
  const auto overhead_ticks = job.restart_overhead.count() / tick;
  if (needed == 0) return 0.0;

  const double hours_per_tick = static_cast<double>(tick) / 3600;
  std::array<double, kKinds> price{0, prices.spot_per_hour * trace.nodes * hours_per_tick,
                                   prices.on_demand_per_hour * trace.nodes * hours_per_tick};
  // The last productive tick is paid only for the part of it the work needs.
  const double unused_share = static_cast<double>(needed * tick - job.work.count()) / tick;

  const auto runs = spot_runs(trace, job.start_tick, static_cast<std::size_t>(ticks));
  const auto start_ticks = overhead_ticks + 1;
  Layers layers(static_cast<std::size_t>(start_ticks + 1), static_cast<std::size_t>(needed + 1));
  layers.row(0, kIdle)[0] = 0;
  double best = kUnreached;

  for (std::int64_t i = 0; i <= ticks; ++i) {
    // Schedules that finished in the tick before i.
    for (int running = kSpot; running < kKinds; ++running)
      best = std::min(best, layers.row(i, running)[needed] - price[running] * unused_share);
    // Progress so far is at most i ticks; what is left must fit in the ticks left.
    const auto lowest = std::max<std::int64_t>(0, needed - (ticks - i));
    const auto highest = std::min<std::int64_t>(i, needed - 1);
    const bool can_start = i + start_ticks <= ticks;
    for (int running = kIdle; running < kKinds && i < ticks && lowest <= highest; ++running) {
      const double* now = layers.row(i, running);
      relax(now, layers.row(i + 1, kIdle), lowest, highest, 0, 0);
      if (running == kOnDemand || (running == kSpot && runs[i] > 0))
        relax(now, layers.row(i + 1, running), lowest, highest, 1, price[running]);
      if (running != kOnDemand && can_start)
        relax(now, layers.row(i + start_ticks, kOnDemand), lowest, highest, 1,
              price[kOnDemand] * start_ticks);
      if (running != kSpot && can_start && runs[i] >= start_ticks)
        relax(now, layers.row(i + start_ticks, kSpot), lowest, highest, 1,
              price[kSpot] * start_ticks);
    }
    layers.clear(i);
  }
  if (best == kUnreached) return std::nullopt;
  return best;
}

}  // namespace skyd::sim
