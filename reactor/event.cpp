#include "reactor/event.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/system/system_error.hpp>

namespace skyd {

Event::Event(asio::any_io_executor executor)
    : timer_(std::move(executor), Clock::time_point::max()) {}

void Event::set() {
  set_ = true;
  timer_.cancel();
}

void Event::reset() {
  set_ = false;
}

Task<void> Event::wait() {
  while (!set_) {
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      throw boost::system::system_error(asio::error::operation_aborted);
    }
  }
}

Notifier::Notifier(asio::any_io_executor executor)
    : timer_(std::move(executor), Clock::time_point::max()) {}

void Notifier::notify_all() {
  timer_.cancel();
}

Task<void> Notifier::wait() {
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    throw boost::system::system_error(asio::error::operation_aborted);
  }
}

Task<void> Notifier::wait_shielded() {
  co_await timer_.async_wait(
      asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
}

}  // namespace skyd
