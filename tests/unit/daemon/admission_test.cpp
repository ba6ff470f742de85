#include "daemon/controller/admission.hpp"
#include "reactor/task_group.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/post.hpp>

#include <vector>

namespace skyd::daemon {
namespace {

using testing::run_co;

Task<void> take_and_record(Admission* admission, int priority, std::int64_t job,
                           std::vector<std::int64_t>* order) {
  co_await admission->acquire("jobs", 1, priority, job, "waiting", true);
  order->push_back(job);
}

Task<std::vector<std::int64_t>> admit_in_order() {
  auto executor = co_await asio::this_coro::executor;
  Admission admission(executor, AdmissionLimits{1, 0});
  std::vector<std::int64_t> order;
  TaskGroup group(executor, "waiters");
  group.spawn(take_and_record(&admission, 500, 1, &order));  // takes the only slot
  co_await asio::post(executor, asio::use_awaitable);
  group.spawn(take_and_record(&admission, 500, 3, &order));
  group.spawn(take_and_record(&admission, 900, 4, &order));  // higher priority: next
  group.spawn(take_and_record(&admission, 500, 2, &order));  // same priority: lower id first
  co_await asio::post(executor, asio::use_awaitable);
  EXPECT_EQ(admission.waiting_reason(3), "waiting");
  EXPECT_FALSE(admission.waiting_reason(1));
  for (int i = 0; i < 3; ++i) {
    admission.release("jobs");
    for (int hop = 0; hop < 3; ++hop) co_await asio::post(executor, asio::use_awaitable);
  }
  admission.release("jobs");
  co_await group.wait();
  co_return order;
}

TEST(Admission, AdmitsByPriorityThenJobId) {
  EXPECT_EQ(run_co<std::vector<std::int64_t>>([] { return admit_in_order(); }),
            (std::vector<std::int64_t>{1, 4, 2, 3}));
}

Task<int> cancelled_waiter_leaves_the_line() {
  auto executor = co_await asio::this_coro::executor;
  Admission admission(executor, AdmissionLimits{1, 0});
  std::vector<std::int64_t> order;
  TaskGroup first(executor, "first");
  TaskGroup second(executor, "second");
  first.spawn(take_and_record(&admission, 500, 1, &order));
  co_await asio::post(executor, asio::use_awaitable);
  second.spawn(take_and_record(&admission, 500, 2, &order));
  co_await asio::post(executor, asio::use_awaitable);
  second.cancel_all();  // job 2 gives up waiting (cancelled)
  co_await second.wait();
  TaskGroup third(executor, "third");
  third.spawn(take_and_record(&admission, 500, 3, &order));
  admission.release("jobs");
  co_await third.wait();
  co_return static_cast<int>(order.size() * 10 + order.back());
}

TEST(Admission, ACancelledWaiterLeavesTheLine) {
  EXPECT_EQ(run_co<int>([] { return cancelled_waiter_leaves_the_line(); }), 23)
      << "jobs 1 and 3 got slots, 2 did not";
}

// Two tasks of one job (a job group's) wait for slots together: each gets one in turn.
Task<std::vector<std::int64_t>> two_waiters_of_one_job() {
  auto executor = co_await asio::this_coro::executor;
  Admission admission(executor, AdmissionLimits{1, 0});
  std::vector<std::int64_t> order;
  TaskGroup group(executor, "waiters");
  group.spawn(take_and_record(&admission, 0, 1, &order));  // takes the only slot
  co_await asio::post(executor, asio::use_awaitable);
  group.spawn(take_and_record(&admission, 0, 7, &order));
  group.spawn(take_and_record(&admission, 0, 7, &order));
  co_await asio::post(executor, asio::use_awaitable);
  for (int i = 0; i < 3; ++i) {
    admission.release("jobs");
    for (int hop = 0; hop < 3; ++hop) co_await asio::post(executor, asio::use_awaitable);
  }
  co_await group.wait();
  co_return order;
}

TEST(Admission, TwoTasksOfOneJobWaitingTogetherAreBothAdmitted) {
  EXPECT_EQ(run_co<std::vector<std::int64_t>>([] { return two_waiters_of_one_job(); }),
            (std::vector<std::int64_t>{1, 7, 7}));
}

}  // namespace
}  // namespace skyd::daemon
