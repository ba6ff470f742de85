#include "reactor/signals.hpp"

#include <boost/asio/signal_set.hpp>

#include <csignal>

namespace skyd {

Task<int> wait_for_stop_signal() {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGTERM, SIGINT);
  co_return co_await signals.async_wait(asio::use_awaitable);
}

}  // namespace skyd
