// skyd's admission limits: how many jobs run, and how many tasks are launched, at once.
#include "tests/unit/daemon/config_file.hpp"

#include <gtest/gtest.h>

#include <string>

namespace skyd::daemon {
namespace {

TEST(ConfigLimits, LaunchesInFlightAreBoundedByDefaultAndJobsAreNot) {
  auto invocation = with_config("", "skyd-limits");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.max_launches_in_flight, 256);
  EXPECT_EQ(invocation->config.max_reattachments_in_flight, 1024);
  EXPECT_EQ(invocation->config.max_running_jobs, 0);
  EXPECT_EQ(invocation->config.max_launches_per_region, 0);
  invocation = with_config(
      "max_launches_in_flight: 0\nmax_running_jobs: 40\nmax_launches_per_region: 8\n"
      "max_reattachments_in_flight: 64\n",
      "skyd-limits");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.max_launches_in_flight, 0);  // no limit
  EXPECT_EQ(invocation->config.max_running_jobs, 40);
  EXPECT_EQ(invocation->config.max_launches_per_region, 8);
  EXPECT_EQ(invocation->config.max_reattachments_in_flight, 64);
}

TEST(ConfigLimits, ANegativeLimitIsRefusedWithItsLine) {
  for (const std::string key : {"max_launches_in_flight", "max_running_jobs",
                                "max_launches_per_region", "max_reattachments_in_flight"}) {
    auto invocation = with_config("log_level: warn\n" + key + ": -1\n", "skyd-limits");
    ASSERT_FALSE(invocation) << key;
    EXPECT_NE(invocation.error().detail.find(":2: '" + key + "' must be 0 (no limit) or more"),
              std::string::npos)
        << invocation.error().detail;
  }
}

TEST(ConfigLimits, AQuietNodesPollWindowIsSetInTheFileAndNeverZero) {
  auto invocation = with_config("", "skyd-poll");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.log_poll_wait, std::chrono::seconds(5));
  invocation = with_config("log_poll_wait: 20s\n", "skyd-poll");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.log_poll_wait, std::chrono::seconds(20));
  invocation = with_config("log_level: warn\nlog_poll_wait: 0s\n", "skyd-poll");
  ASSERT_FALSE(invocation);
  EXPECT_NE(invocation.error().detail.find(":2: 'log_poll_wait': expected 100ms or more, got '0s'"),
            std::string::npos)
      << invocation.error().detail;
}

TEST(ConfigLimits, TheQuietPollsAnsweredPerSecondAreUnboundedByDefaultAndNeverNegative) {
  auto invocation = with_config("", "skyd-polls");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.log_polls_per_second, 0) << "0: no bound, the window stays fixed";
  invocation = with_config("log_polls_per_second: 500\n", "skyd-polls");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.log_polls_per_second, 500);
  for (const std::string refused : {"-1", ".nan", ".inf"}) {
    invocation =
        with_config("log_level: warn\nlog_polls_per_second: " + refused + "\n", "skyd-polls");
    ASSERT_FALSE(invocation) << refused;
    EXPECT_NE(
        invocation.error().detail.find(":2: 'log_polls_per_second' must be 0 (no limit) or more"),
        std::string::npos)
        << invocation.error().detail;
  }
}

}  // namespace
}  // namespace skyd::daemon
