#include "reactor/event.hpp"
#include "reactor/task_group.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace skyd {
namespace {

using testing::run_co;

Task<void> set_later(Event* event) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
  co_await timer.async_wait(asio::use_awaitable);
  event->set();
}

Task<bool> wait_for_event() {
  auto executor = co_await asio::this_coro::executor;
  Event event(executor);
  TaskGroup group(executor, "test");
  group.spawn(set_later(&event));
  co_await event.wait();
  co_await event.wait();  // a set event stays set
  co_await group.wait();
  co_return event.is_set();
}

TEST(Event, WakesItsWaiterAndStaysSet) {
  EXPECT_TRUE(run_co<bool>([] { return wait_for_event(); }));
}

// Sleeps for an hour unless cancelled; counts how many ended by cancellation.
Task<void> sleeper(std::shared_ptr<int> cancelled) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) ++*cancelled;
}

Task<int> cancel_group() {
  auto executor = co_await asio::this_coro::executor;
  auto cancelled = std::make_shared<int>(0);
  TaskGroup group(executor, "sleepers");
  for (int i = 0; i < 10; ++i) group.spawn(sleeper(cancelled));
  EXPECT_EQ(group.size(), 10u);
  group.cancel_all();
  co_await group.wait();
  EXPECT_EQ(group.size(), 0u);
  co_return *cancelled;
}

TEST(TaskGroup, CancelAllEndsEveryChildAndWaitReturns) {
  EXPECT_EQ(run_co<int>([] { return cancel_group(); }), 10);
}

Task<void> failing() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("boom");
}

Task<std::size_t> group_with_failure() {
  TaskGroup group(co_await asio::this_coro::executor, "failing");
  group.spawn(failing());
  co_await group.wait();
  co_return group.size();
}

TEST(TaskGroup, AChildThatThrowsIsRemovedAndTheGroupCarriesOn) {
  EXPECT_EQ(run_co<std::size_t>([] { return group_with_failure(); }), 0u);
}

}  // namespace
}  // namespace skyd
