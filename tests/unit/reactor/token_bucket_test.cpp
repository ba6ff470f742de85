#include "reactor/token_bucket.hpp"

#include <gtest/gtest.h>

namespace skyd {
namespace {

TEST(TokenBucket, LetsABurstThroughThenPacesAtTheRate) {
  const auto start = Clock::now();
  TokenBucket bucket(10, 3, start);  // 10 a second, 3 at once
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(start), Duration::zero());
  // Empty: the next caller waits a tenth of a second, the one after it two tenths.
  EXPECT_NEAR(std::chrono::duration<double>(bucket.reserve(start)).count(), 0.1, 1e-6);
  EXPECT_NEAR(std::chrono::duration<double>(bucket.reserve(start)).count(), 0.2, 1e-6);
}

TEST(TokenBucket, RefillsWithTimeButNeverBeyondTheBurst) {
  const auto start = Clock::now();
  TokenBucket bucket(10, 2, start);
  EXPECT_EQ(bucket.reserve(start), Duration::zero());
  EXPECT_EQ(bucket.reserve(start), Duration::zero());
  const auto later = start + std::chrono::seconds(10);  // would be 100 tokens: capped at 2
  EXPECT_EQ(bucket.reserve(later), Duration::zero());
  EXPECT_EQ(bucket.reserve(later), Duration::zero());
  EXPECT_GT(bucket.reserve(later), Duration::zero());
}

}  // namespace
}  // namespace skyd
