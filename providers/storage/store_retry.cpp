#include "providers/storage/store_retry.hpp"

#include "providers/provider.hpp"
#include "providers/storage/file_pieces.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"

namespace skyd::providers::storage {

Task<bool> try_again(const Error& error, FailedAttempt attempt, Backoff& backoff,
                     RetryCounters counters) {
  const bool ours = error.code.category() == provider_category();
  const auto code = static_cast<ProviderErrc>(error.code.value());
  const bool passing = ours && is_retryable(code);
  if (ours && code == ProviderErrc::kThrottled) ++counters.throttled;
  if (!passing || !attempt.retry_here || !backoff.allows_attempt(attempt.attempt)) {
    // A "not found" is an answer, not a failure worth a warning.
    const bool answered = ours && code == ProviderErrc::kNotFound;
    const bool recovered_elsewhere = passing && !attempt.retry_here;
    if (!answered && !recovered_elsewhere) {
      logger(std::string(attempt.store))
          ->warn("{} call failed operation={} bucket={} attempts={} error=\"{}\"", attempt.store,
                 attempt.operation, attempt.bucket, attempt.attempt, error.detail);
    }
    co_return false;
  }
  ++counters.retries;
  logger(std::string(attempt.store))
      ->debug("{} call retried operation={} bucket={} attempt={} error=\"{}\"", attempt.store,
              attempt.operation, attempt.bucket, attempt.attempt, error.detail);
  co_await sleep_for(backoff.next_delay());
  co_return true;
}

}  // namespace skyd::providers::storage
