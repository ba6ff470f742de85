#pragma once
// Exponential backoff with jitter, and a retry loop built on it. Cancellation is never retried.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <optional>
#include <random>

namespace skyd {

struct BackoffPolicy {
  Duration initial = std::chrono::milliseconds(100);
  double multiplier = 2.0;
  Duration cap = std::chrono::seconds(30);
  double jitter = 0.2;              // each delay is scaled by a factor in [1-jitter, 1+jitter]
  std::optional<int> max_attempts;  // attempts in all, the first included; empty = forever
};

// A seed for a backoff's jitter: read from the OS once per thread, then drawn from a generator
// (a std::random_device per backoff read the device on every database write).
std::uint64_t fresh_seed();

// The delays of one retry sequence. Delay n (0-based) is min(cap, initial * multiplier^n),
// jittered. Deterministic for a given seed, which tests use.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, std::uint64_t seed = fresh_seed());

  Duration next_delay();
  int delays_taken() const { return delays_taken_; }
  // True when another attempt is allowed after `attempts_made` attempts.
  bool allows_attempt(int attempts_made) const;
  void reset() { delays_taken_ = 0; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 random_;
  int delays_taken_ = 0;
};

// Calls `attempt()` (which returns Task<Result<T>>) until it succeeds, returns an error that
// `is_retryable` rejects, or the policy's attempts run out; sleeps the backoff in between.
template <typename T, typename Attempt, typename IsRetryable>
Task<Result<T>> retry(BackoffPolicy policy, Attempt attempt, IsRetryable is_retryable) {
  Backoff backoff(policy);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempts = 1;; ++attempts) {
    Result<T> result = co_await attempt();
    if (result) co_return result;
    if (is_cancellation(result.error().code) || !is_retryable(result.error()) ||
        !backoff.allows_attempt(attempts)) {
      co_return result;
    }
    timer.expires_after(backoff.next_delay());
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace skyd
