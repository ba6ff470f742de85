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

Notifier::~Notifier() {
  notify_all();
}

void Notifier::notify_all() {
  timer_.cancel();
  while (deadlines_) {
    Deadline& waiting = *deadlines_;
    unlink(waiting);
    waiting.timer->cancel();
  }
}

void Notifier::link(Deadline& waiting) {
  waiting.next = deadlines_;
  if (deadlines_) deadlines_->previous = &waiting;
  deadlines_ = &waiting;
  waiting.linked = true;
}

void Notifier::unlink(Deadline& waiting) {
  if (!waiting.linked) return;
  if (waiting.previous) waiting.previous->next = waiting.next;
  if (waiting.next) waiting.next->previous = waiting.previous;
  if (deadlines_ == &waiting) deadlines_ = waiting.next;
  waiting.linked = false;
}

Task<bool> Notifier::wait_until(Clock::time_point deadline) {
  asio::steady_timer limit(timer_.get_executor(), deadline);
  Deadline waiting(this, &limit);
  link(waiting);
  co_await limit.async_wait(asio::as_tuple(asio::use_awaitable));
  // Still linked (until `waiting` goes): the deadline passed, or the caller was cancelled. A
  // notification, or the notifier's end, unlinks.
  const bool notified = !waiting.linked;
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    throw boost::system::system_error(asio::error::operation_aborted);
  }
  co_return notified;
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
