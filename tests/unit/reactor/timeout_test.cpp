#include "reactor/timeout.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skyd {
namespace {

using testing::run_co;

// Waits `how_long`, recording how its wait ended.
Task<Result<int>> slow_answer(Duration how_long, boost::system::error_code* ended_with) {
  asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  *ended_with = ec;
  if (ec) co_return make_error(ec, "slow answer interrupted");
  co_return 42;
}

TEST(WithTimeout, FiresAndCancelsTheOperation) {
  boost::system::error_code ended_with;
  const auto started = Clock::now();
  auto result = run_co<Result<int>>([&] {
    return with_timeout(slow_answer(std::chrono::hours(1), &ended_with), 20ms, "slow answer");
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NetErrc::kTimedOut);
  EXPECT_NE(result.error().detail.find("slow answer timed out after 20 ms"), std::string::npos);
  EXPECT_EQ(ended_with, asio::error::operation_aborted)
      << "the operation must be cancelled, not left running";
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
}

TEST(WithTimeout, PassesAFastResultThrough) {
  boost::system::error_code ended_with;
  auto result = run_co<Result<int>>([&] {
    return with_timeout(slow_answer(1ms, &ended_with), std::chrono::seconds(10), "fast");
  });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 42);
  EXPECT_FALSE(ended_with);
}

Task<Result<int>> nested(boost::system::error_code* ended_with) {
  co_return co_await with_timeout(slow_answer(std::chrono::hours(1), ended_with),
                                  std::chrono::hours(1), "inner");
}

TEST(WithTimeout, TheEarlierParentDeadlineWins) {
  boost::system::error_code ended_with;
  auto result =
      run_co<Result<int>>([&] { return with_timeout(nested(&ended_with), 20ms, "outer"); });
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().detail.find("outer"), std::string::npos);
  EXPECT_EQ(ended_with, asio::error::operation_aborted);
}

}  // namespace
}  // namespace skyd
