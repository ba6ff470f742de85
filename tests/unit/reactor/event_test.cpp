#include "reactor/event.hpp"
#include "reactor/task_group.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <boost/system/system_error.hpp>

#include <functional>
#include <memory>
#include <vector>

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

Task<void> notify_later(Notifier* changed) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
  co_await timer.async_wait(asio::use_awaitable);
  changed->notify_all();
}

// Three long polls on one notifier, one of them cut short by its deadline; a notification wakes
// the other two, and wakes no one twice.
Task<std::vector<int>> three_long_polls() {
  auto executor = co_await asio::this_coro::executor;
  Notifier changed(executor);
  TaskGroup group(executor, "polls");
  std::vector<int> outcomes(3, -1);
  const auto far = Clock::now() + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    const auto deadline = i == 1 ? Clock::now() + 1ms : far;
    group.spawn([](Notifier& on, Clock::time_point until, int* out) -> Task<void> {
      *out = co_await on.wait_until(until) ? 1 : 0;
    }(changed, deadline, &outcomes[static_cast<std::size_t>(i)]));
  }
  group.spawn(notify_later(&changed));
  co_await group.wait();
  // Nobody waits any more: a later notification finds an empty list.
  changed.notify_all();
  co_return outcomes;
}

TEST(Notifier, WaitUntilEndsAtANotificationOrAtItsDeadline) {
  EXPECT_EQ(run_co<std::vector<int>>([] { return three_long_polls(); }),
            (std::vector<int>{1, 0, 1}));
}

Task<bool> cancel_a_long_poll() {
  auto executor = co_await asio::this_coro::executor;
  Notifier changed(executor);
  TaskGroup group(executor, "polls");
  auto threw = std::make_shared<bool>(false);
  group.spawn([](Notifier& on, std::shared_ptr<bool> out) -> Task<void> {
    try {
      co_await on.wait_until(Clock::now() + std::chrono::hours(1));
    } catch (const boost::system::system_error&) {
      *out = true;
      throw;
    }
  }(changed, threw));
  asio::steady_timer settle(executor, 5ms);
  co_await settle.async_wait(asio::use_awaitable);
  group.cancel_all();
  co_await group.wait();
  changed.notify_all();  // the cancelled wait left the list: nothing dangles
  co_return *threw;
}

TEST(Notifier, ACancelledWaitUntilThrowsLikeWaitAndLeavesTheNotifier) {
  EXPECT_TRUE(run_co<bool>([] { return cancel_a_long_poll(); }));
}

Task<int> outlive_the_notifier() {
  auto executor = co_await asio::this_coro::executor;
  auto changed = std::make_unique<Notifier>(executor);
  TaskGroup group(executor, "polls");
  int outcome = -1;
  group.spawn([](Notifier& on, int* out) -> Task<void> {
    *out = co_await on.wait_until(Clock::now() + std::chrono::hours(1)) ? 1 : 0;
  }(*changed, &outcome));
  asio::steady_timer settle(executor, 5ms);
  co_await settle.async_wait(asio::use_awaitable);
  changed.reset();
  co_await group.wait();
  co_return outcome;
}

TEST(Notifier, ANotifierThatGoesWakesItsWaitersAsANotification) {
  EXPECT_EQ(run_co<int>([] { return outlive_the_notifier(); }), 1);
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

// A child that takes a while to end after its cancellation (as a cancelled HTTP request does), then
// writes to an object of its parent's frame.
Task<void> slow_to_end(bool* ended) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_await asio::this_coro::reset_cancellation_state();
  timer.expires_after(20ms);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  *ended = true;
}

Task<void> wait_forever(TaskGroup& group, bool* ended) {
  group.spawn(slow_to_end(ended));
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  co_await timer.async_wait(asio::use_awaitable);
}

// Owns what its child uses; reports whether the child had ended before this frame went.
Task<void> parent_with_scoped_child(std::shared_ptr<bool> child_ended_first) {
  struct Frame {
    bool child_ended = false;
    std::shared_ptr<bool> report;
    ~Frame() { *report = child_ended; }
  } frame{false, child_ended_first};
  bool* ended = &frame.child_ended;
  std::function<Task<void>(TaskGroup&)> body = [ended](TaskGroup& group) {
    return wait_forever(group, ended);
  };
  co_await TaskGroup::scoped("children", std::move(body));
}

Task<bool> cancel_a_parent() {
  auto executor = co_await asio::this_coro::executor;
  auto child_ended_first = std::make_shared<bool>(false);
  TaskGroup parents(executor, "parents");
  parents.spawn(parent_with_scoped_child(child_ended_first));
  asio::steady_timer settle(executor, 5ms);
  co_await settle.async_wait(asio::use_awaitable);
  parents.cancel_all();
  co_await parents.wait();
  co_return *child_ended_first;
}

TEST(TaskGroup, AScopedGroupJoinsItsChildrenBeforeACancelledParentsFrameGoes) {
  EXPECT_TRUE(run_co<bool>([] { return cancel_a_parent(); }));
}

Task<int> add_later(TaskGroup& group, int* sum) {
  group.spawn([](int* out) -> Task<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
    co_await timer.async_wait(asio::use_awaitable);
    *out += 1;
  }(sum));
  co_await group.wait();
  co_return *sum + 41;
}

Task<int> scoped_value() {
  int sum = 0;
  std::function<Task<int>(TaskGroup&)> body = [&sum](TaskGroup& group) {
    return add_later(group, &sum);
  };
  co_return co_await TaskGroup::scoped<int>("adders", std::move(body));
}

TEST(TaskGroup, AScopedGroupGivesTheBodysValue) {
  EXPECT_EQ(run_co<int>([] { return scoped_value(); }), 42);
}

}  // namespace
}  // namespace skyd
