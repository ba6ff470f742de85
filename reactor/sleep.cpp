#include "reactor/sleep.hpp"

#include <boost/asio/steady_timer.hpp>

namespace skyd {

Task<void> sleep_for(Duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace skyd
