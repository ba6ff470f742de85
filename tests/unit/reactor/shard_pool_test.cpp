#include "reactor/shard_pool.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <future>

namespace skyd {
namespace {

Task<std::size_t> whoami() {
  co_return ShardPool::current_shard().value_or(999);
}

struct Hops {
  std::size_t callee = 999;
  std::size_t caller_after = 999;
};

Task<Hops> hop(asio::any_io_executor target) {
  Hops hops;
  hops.callee = co_await ShardPool::call_on<std::size_t>(target, [] { return whoami(); });
  hops.caller_after = ShardPool::current_shard().value_or(999);
  co_return hops;
}

TEST(ShardPool, CrossShardCallRunsOnTheTargetShardAndResumesOnTheCaller) {
  ShardPool pool(2);
  pool.start();
  auto target = pool.executor(1);
  const Hops hops = pool.submit<Hops>(0, [target] { return hop(target); }).get();
  EXPECT_EQ(hops.callee, 1u);
  EXPECT_EQ(hops.caller_after, 0u);
}

// Waits `wait` unless cancelled first; counts how it ended, on shard 1.
struct Endings {
  std::atomic<int> cancelled_on_1{0};
  std::atomic<int> completed_on_1{0};
};
Task<void> wait_unless_cancelled(Duration wait, Endings* endings) {
  asio::steady_timer timer(co_await asio::this_coro::executor, wait);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ShardPool::current_shard() != 1) co_return;
  ++(ec == asio::error::operation_aborted ? endings->cancelled_on_1 : endings->completed_on_1);
}

// Cancels cross-shard calls while they start, run, or end by themselves at that very moment.
Task<void> cancel_calls(asio::any_io_executor target, Endings* endings) {
  using namespace asio::experimental::awaitable_operators;
  for (int round = 0; round < 300; ++round) {
    const Duration wait =
        round < 100 ? std::chrono::hours(1) : std::chrono::microseconds(round % 50);
    std::function<Task<void>()> work = [wait, endings] {
      return wait_unless_cancelled(wait, endings);
    };
    auto call = ShardPool::call_on<void>(target, std::move(work));
    asio::steady_timer soon(co_await asio::this_coro::executor,
                            std::chrono::microseconds(round % 50));
    co_await (std::move(call) || soon.async_wait(asio::use_awaitable));
  }
}

TEST(ShardPool, CancellingACrossShardCallEndsTheWorkOnItsOwnShard) {
  ShardPool pool(2);
  pool.start();
  auto target = pool.executor(1);
  Endings endings;
  auto done = pool.submit<void>(0, [&] { return cancel_calls(target, &endings); });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "a cancelled call did not end";
  done.get();
  EXPECT_GE(endings.cancelled_on_1, 100) << "the hour-long waits end only by their cancellation";
  EXPECT_EQ(endings.cancelled_on_1 + endings.completed_on_1, 300);
}

TEST(ShardPool, SubmitRunsOnTheChosenShard) {
  ShardPool pool(3);
  pool.start();
  for (std::size_t shard = 0; shard < 3; ++shard) {
    EXPECT_EQ(pool.submit<std::size_t>(shard, [] { return whoami(); }).get(), shard);
  }
}

Task<void> sleep_for_an_hour(std::atomic<int>* ended) {
  struct CountOnExit {
    std::atomic<int>* ended;
    ~CountOnExit() { ++*ended; }
  } count{ended};
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  co_await timer.async_wait(asio::use_awaitable);
}

TEST(ShardPool, StopCancelsAndAwaitsEverySpawnedCoroutine) {
  std::atomic<int> ended{0};
  const auto started = Clock::now();
  {
    ShardPool pool(2);
    pool.start();
    for (int i = 0; i < 20; ++i) {
      pool.spawn(static_cast<std::size_t>(i % 2), [&ended] { return sleep_for_an_hour(&ended); });
    }
    // The spawns are posted; a round trip through each shard makes sure they have started.
    for (std::size_t shard = 0; shard < 2; ++shard)
      pool.submit<std::size_t>(shard, [] { return whoami(); }).get();
    pool.stop();
    EXPECT_EQ(ended.load(), 20) << "stop() must leave no coroutine running";
  }
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace skyd
