#pragma once
// Runs blocking work (file copies, directory trees, process start-up of heavy tools) on a small
// shared thread pool and resumes the awaiting coroutine on its own executor, so reactor threads
// never block on unbounded file I/O.

#include "reactor/coro.hpp"

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
template <typename T>
Task<T> run_blocking(std::function<T()> work) {
  auto on_pool = detail::call_blocking<T>(std::move(work));
  co_return co_await asio::co_spawn(blocking_pool(), std::move(on_pool), asio::use_awaitable);
}

}  // namespace skyd
