#pragma once
// with_timeout: runs an operation against a deadline. When the deadline passes first, the
// operation is cancelled (and awaited, so nothing it owns outlives the call) and the result is a
// kTimedOut error. Children use the earlier of their own limit and their parent's by nesting.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>
#include <variant>

namespace skyd {

template <typename T>
Task<Result<T>> with_timeout(Task<Result<T>> operation, Duration limit, std::string what) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  auto outcome = co_await (std::move(operation) || timer.async_wait(asio::use_awaitable));
  if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
  co_return make_error(
      NetErrc::kTimedOut,
      what + " timed out after " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) +
          " ms");
}

inline Task<Result<void>> as_result(Task<void> operation) {
  co_await std::move(operation);
  co_return Result<void>{};
}

}  // namespace skyd
