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
  EXPECT_EQ(window.next(), seconds(3));
  followers.resize(2);
  EXPECT_EQ(window.watched(), 2u);
  EXPECT_EQ(window.next(), seconds(1));
}

}  // namespace
}  // namespace skyd::daemon
