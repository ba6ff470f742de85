#include "daemon/controller/poll_window.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

namespace skyd::daemon {
namespace {

using std::chrono::seconds;

TEST(PollWindow, StaysAtItsShortestWhileFewNodesAreWatched) {
  const PollWindow window(seconds(5), 500);
  EXPECT_EQ(window.for_nodes(0), seconds(5));
  EXPECT_EQ(window.for_nodes(1), seconds(5));
  EXPECT_EQ(window.for_nodes(2500), seconds(5)) << "2,500 nodes every 5 s: 500 answers a second";
}

TEST(PollWindow, WidensSoTheAnswersPerSecondStayBoundedUpToSkyletsLongestWait) {
  const PollWindow window(seconds(5), 500);
  EXPECT_EQ(window.for_nodes(10000), seconds(20));
  EXPECT_EQ(window.for_nodes(20000), seconds(40));
  EXPECT_EQ(window.for_nodes(100000), PollWindow::kLongest);
  EXPECT_EQ(PollWindow(seconds(90), 500).for_nodes(1), seconds(90))
      << "a shortest window set above skylet's longest wait is the operator's to keep";
  EXPECT_EQ(PollWindow(seconds(5), 1e-12).for_nodes(10000), PollWindow::kLongest)
      << "a rate so small that the window would overflow the clock's ticks";
}

TEST(PollWindow, WithoutABoundTheWindowIsFixed) {
  const PollWindow window(seconds(5), 0);
  EXPECT_EQ(window.for_nodes(100000), seconds(5));
}

TEST(PollWindow, CountsTheNodesWatchedWhileTheirFollowersLive) {
  PollWindow window(seconds(1), 2);
  std::vector<std::unique_ptr<PollWindow::Watching>> followers;
  for (int i = 0; i < 6; ++i) followers.push_back(std::make_unique<PollWindow::Watching>(window));
  EXPECT_EQ(window.watched(), 6u);
  EXPECT_GE(window.next(), seconds(3));
  EXPECT_LT(window.next(), seconds(3) + PollWindow::kTick);
  followers.resize(2);
  EXPECT_EQ(window.watched(), 2u);
  EXPECT_GE(window.next(), seconds(1));
  EXPECT_LT(window.next(), seconds(1) + PollWindow::kTick);
}

// Quiet answers come in bursts a few times a second, not one wake of the reactor per answer.
TEST(PollWindow, AWindowOfASecondOrMoreEndsOnATickOfTheClock) {
  using std::chrono::milliseconds;
  const Clock::time_point on_a_tick{seconds(1000)};
  for (const auto now : {on_a_tick, on_a_tick + milliseconds(1), on_a_tick + milliseconds(130),
                         on_a_tick + milliseconds(249)}) {
    for (const auto window : {Duration(seconds(1)), Duration(seconds(5)), Duration(seconds(20))}) {
      const Duration aligned = PollWindow::ending_on_a_tick(window, now);
      EXPECT_EQ((now + aligned).time_since_epoch() % PollWindow::kTick, Duration::zero());
      EXPECT_GE(aligned, window);
      EXPECT_LT(aligned, window + PollWindow::kTick);
    }
  }
  EXPECT_EQ(PollWindow::ending_on_a_tick(milliseconds(200), on_a_tick + milliseconds(7)),
            milliseconds(200))
      << "a short window (a test's, a few nodes') is not made longer by a quarter of itself";
  const Duration longest =
      PollWindow::ending_on_a_tick(PollWindow::kLongest, on_a_tick + milliseconds(100));
  EXPECT_LE(longest, PollWindow::kLongest) << "skylet would cut a longer wait short, off the tick";
  EXPECT_EQ((on_a_tick + milliseconds(100) + longest).time_since_epoch() % PollWindow::kTick,
            Duration::zero());
}

}  // namespace
}  // namespace skyd::daemon
