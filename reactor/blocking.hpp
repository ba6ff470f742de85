#pragma once
// Runs blocking work (file copies, directory trees, process start-up of heavy tools) on a small
// shared thread pool and resumes the awaiting coroutine on its own executor, so reactor threads
// never block on unbounded file I/O.

#include "reactor/coro.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>

namespace skyd {

asio::thread_pool& blocking_pool();

namespace detail {
template <typename T>
Task<T> call_blocking(std::function<T()> work) {
  co_return work();
}
}  // namespace detail

// g++ 12 destroys a temporary with a destructor in a co_await expression twice: the callable is
// therefore passed by name, and the caller should hand over a named std::function as well.
// Blocking work cannot be interrupted, so the caller's cancellation is not forwarded to the pool:
// Asio 1.81 forwards it by posting to the pool a handler that may already be gone (a crash when a
// shard stops while such work runs). A cancelled caller resumes when the work is done.
template <typename T>
Task<T> run_blocking(std::function<T()> work) {
  auto on_pool = detail::call_blocking<T>(std::move(work));
  auto token = asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable);
  co_return co_await asio::co_spawn(blocking_pool(), std::move(on_pool), std::move(token));
}

}  // namespace skyd
