// skylet's API as the controller speaks it. A node's events ride on an attempt's output long
// poll: the controller follows a spot node's output and its notice over one connection. A
// restarted controller takes a running attempt back with one start, which also releases a held
// run.
#include "tests/support/skylet_node.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace skyd::testing {
namespace {

Json sleeping_attempt(const std::string& id) {
  Json body = Json::object();
  body.set("attempt_id", id);
  body.set("setup", "");
  body.set("run", "sleep 120");
  return body;
}

TEST(SkyletEvents, ANoticeEndsTheOutputLongPollThatAsksForEventsAndIsCounted) {
  TempDir dir;
  SkyletNode node(dir, "node");
  const std::string id = "job-1-task-0-attempt-1";
  node.api().start(sleeping_attempt(id));
  ASSERT_EQ(node.api().wait_phase(id, {"RUNNING"}), "RUNNING");

  // Without a notice, an answer says how many events the node has had: none.
  const auto quiet = node.api().get_with_headers("/tasks/" + id + "/logs?offset=0");
  EXPECT_TRUE(contains(quiet.out, "X-Node-Events: 0")) << quiet.out;

  CommandResult answer;
  std::chrono::steady_clock::duration took{};
  std::thread poll([&] {
    const auto started = std::chrono::steady_clock::now();
    answer =
        node.api().get_with_headers("/tasks/" + id + "/logs?offset=0&wait_ms=60000&events_since=0");
    took = std::chrono::steady_clock::now() - started;
  });
  Json notice = Json::object();
  notice.set("kind", "spot_notice");
  node.api().call("POST", "/events", notice.dump());
  poll.join();
  EXPECT_TRUE(contains(answer.out, "X-Node-Events: 1")) << answer.out;
  // It ended for the notice, not at the end of its minute's wait.
  EXPECT_LT(took, std::chrono::seconds(30));
  node.api().cancel(id);
}

TEST(SkyletEvents, AnAttemptStartedAgainWithoutAHoldRunsOnceAndAHeldOneIsReleased) {
  TempDir dir;
  SkyletNode node(dir, "node");
  const std::string id = "job-1-task-0-attempt-1";
  Json held = Json::object();
  held.set("attempt_id", id);
  held.set("setup", "");
  held.set("run", "echo ran once");
  held.set("hold_run", true);
  node.api().start(held);
  ASSERT_EQ(node.api().wait_phase(id, {"READY"}), "READY");
  // Started again with its hold: still held.
  node.api().start(held);
  EXPECT_EQ(node.api().phase(id), "READY");

  Json again = held;
  again.set("hold_run", false);
  node.api().start(again);
  EXPECT_EQ(node.api().wait_finished(id), "SUCCEEDED");
  const std::string log = node.api().log(id);
  EXPECT_TRUE(contains(log, "ran once")) << log;
  EXPECT_EQ(log.find("ran once"), log.rfind("ran once")) << "one run of two starts: " << log;
}

}  // namespace
}  // namespace skyd::testing
