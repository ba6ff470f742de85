#pragma once
// What a store does after one failed attempt of a call (S3Store and GcsStore alike): count a
// throttled answer, decide whether to try again (throttling and passing faults, while the backoff
// allows), log a failure that ends the call (not a "not found", which is an answer), and wait the
// backoff's delay before the next attempt.

#include "reactor/backoff.hpp"
#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <cstdint>
#include <string_view>

namespace skyd::providers::storage {

struct FailedAttempt {
  std::string_view store;  // "s3", "gcs": the logger and the log line's first word
  std::string_view operation;
  std::string_view bucket;
  int attempt = 1;
  // False: the caller recovers from a passing fault itself (a resumable chunk): no retry here,
  // and no warning for it.
  bool retry_here = true;
};

struct RetryCounters {
  std::uint64_t& retries;
  std::uint64_t& throttled;
};

// True when the call should be tried again (the delay has then passed); false when `error` ends
// it.
Task<bool> try_again(const Error& error, FailedAttempt attempt, Backoff& backoff,
                     RetryCounters counters);

}  // namespace skyd::providers::storage
