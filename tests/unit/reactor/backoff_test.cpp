#include "reactor/backoff.hpp"
#include "tests/support/test_support.hpp"

#include <cmath>

namespace skyd {
namespace {

using testing::run_co;

TEST(Backoff, DelaysStayInsideTheirJitteredBounds) {
  const BackoffPolicy policy{
      .initial = 100ms, .multiplier = 1.6, .cap = 3s, .jitter = 0.4, .max_attempts = {}};
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Backoff backoff(policy, seed);
    for (int n = 0; n < 20; ++n) {
      const double base = std::min(0.1 * std::pow(1.6, n), 3.0);
      const double delay = std::chrono::duration<double>(backoff.next_delay()).count();
      ASSERT_GE(delay, base * 0.6 - 1e-9) << "seed " << seed << " delay " << n;
      ASSERT_LE(delay, base * 1.4 + 1e-9) << "seed " << seed << " delay " << n;
    }
  }
}

TEST(Backoff, WithoutJitterGrowsGeometricallyToTheCap) {
  Backoff backoff(BackoffPolicy{
      .initial = 10ms, .multiplier = 2, .cap = 50ms, .jitter = 0, .max_attempts = {}});
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next_delay()).count(),
            10);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next_delay()).count(),
            20);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next_delay()).count(),
            40);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next_delay()).count(),
            50);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next_delay()).count(),
            50);
}

struct Attempts {
  int made = 0;
  int succeed_on = 0;  // 0 = never
  Error error = make_error(NetErrc::kClosed, "flaky");
};

Task<Result<int>> attempt(Attempts* attempts) {
  ++attempts->made;
  if (attempts->succeed_on && attempts->made >= attempts->succeed_on) co_return attempts->made;
  co_return attempts->error;
}

const BackoffPolicy kFast{
    .initial = 1ms, .multiplier = 2, .cap = 4ms, .jitter = 0.5, .max_attempts = 5};

TEST(Retry, SucceedsAfterFailures) {
  Attempts attempts{.succeed_on = 3};
  auto result = run_co<Result<int>>([&] {
    return retry<int>(
        kFast, [&] { return attempt(&attempts); }, [](const Error&) { return true; });
  });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 3);
}

TEST(Retry, StopsAtMaxAttempts) {
  Attempts attempts;
  auto result = run_co<Result<int>>([&] {
    return retry<int>(
        kFast, [&] { return attempt(&attempts); }, [](const Error&) { return true; });
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(attempts.made, 5);
}

TEST(Retry, StopsAtAnErrorThatIsNotRetryable) {
  Attempts attempts;
  auto result = run_co<Result<int>>([&] {
    return retry<int>(
        kFast, [&] { return attempt(&attempts); }, [](const Error&) { return false; });
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(attempts.made, 1);
}

TEST(Retry, NeverRetriesCancellation) {
  Attempts attempts{.error = make_error(NetErrc::kCancelled, "cancelled")};
  auto result = run_co<Result<int>>([&] {
    return retry<int>(
        kFast, [&] { return attempt(&attempts); }, [](const Error&) { return true; });
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(attempts.made, 1);
}

}  // namespace
}  // namespace skyd
