#pragma once
// A token bucket: `rate` requests a second, up to `burst` at once. A caller that finds it empty
// takes a token on credit and is told how long to sleep until it would have refilled, so waiters
// leave in arrival order and a burst is smoothed, not rejected. Belongs to one shard (no locks).
// Cloud APIs keep such buckets on their side (EC2 per region, S3 per prefix); clients that keep
// their own stay under them instead of learning the limit from throttling errors.

#include "reactor/coro.hpp"

#include <algorithm>
#include <chrono>

namespace skyd {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst, Clock::time_point now = Clock::now())
      : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token; how long the caller must wait before using it (zero when one was there).
  Duration reserve(Clock::time_point now = Clock::now()) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    tokens_ -= 1;
    if (tokens_ >= 0) return Duration::zero();
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / rate_));
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace skyd
