#include "reactor/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace skyd {

std::uint64_t fresh_seed() {
  thread_local std::mt19937_64 seeds{std::random_device{}()};
  return seeds();
}

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), random_(seed) {}

Duration Backoff::next_delay() {
  const double base = std::chrono::duration<double>(policy_.initial).count() *
                      std::pow(policy_.multiplier, delays_taken_);
  const double capped = std::min(base, std::chrono::duration<double>(policy_.cap).count());
  std::uniform_real_distribution<double> factor(1.0 - policy_.jitter, 1.0 + policy_.jitter);
  ++delays_taken_;
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(capped * factor(random_)));
}

bool Backoff::allows_attempt(int attempts_made) const {
  return !policy_.max_attempts || attempts_made < *policy_.max_attempts;
}

}  // namespace skyd
