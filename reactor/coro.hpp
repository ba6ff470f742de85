#pragma once
// The Asio coroutine vocabulary every module uses, in one place.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace skyd {
namespace asio = boost::asio;

template <typename T = void>
using Task = asio::awaitable<T>;

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using namespace std::chrono_literals;

}  // namespace skyd
