#include "reactor/shard_pool.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>

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
