// skylet's watch of Compute Engine's metadata server: a real HTTP server answering as GCE does
// (Metadata-Flavor required, wait_for_change long polls keyed by ETag).
#include "daemon/skylet/spot_watcher.hpp"
#include "reactor/event.hpp"
#include "reactor/http_server.hpp"
#include "reactor/shard_pool.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>
#include <vector>

namespace skyd::skylet {
namespace {

using http::Request;
using http::Response;

// One value that changes once, when the test says so.
struct GceValue {
  std::string before, after;
  std::unique_ptr<Event> changed;
  int requests_without_flavor = 0;
};

Task<Response> answer(GceValue& value, Request& request) {
  const std::string* flavor = request.header("Metadata-Flavor");
  if (!flavor || *flavor != "Google") {
    ++value.requests_without_flavor;
    co_return Response::text(403, "Missing Metadata-Flavor:Google header.");
  }
  const auto [path, query] = http::split_target(request.target);
  const auto etag = query.find("last_etag");
  if (etag != query.end() && query.count("wait_for_change")) {
    // Waiting for a change from the first value: answer only once it changes.
    if (etag->second == "first") co_await value.changed->wait();
    if (etag->second == "second") co_await Event(co_await asio::this_coro::executor).wait();
  }
  const bool now_changed = value.changed->is_set();
  Response response = Response::text(200, now_changed ? value.after : value.before);
  response.set_header("ETag", now_changed ? "second" : "first");
  co_return response;
}

class GceNoticeWatch : public ::testing::Test {
 protected:
  void SetUp() override {
    preempted_.before = "FALSE";
    preempted_.after = "TRUE";
    maintenance_.before = "NONE";
    maintenance_.after = "TERMINATE_ON_HOST_MAINTENANCE";
    auto executor = pool_.executor(0);
    preempted_.changed = std::make_unique<Event>(executor);
    maintenance_.changed = std::make_unique<Event>(executor);
    http::Router router;
    router.add("GET", "/computeMetadata/v1/instance/preempted", "preempted",
               [this](Request& request) { return answer(preempted_, request); });
    router.add("GET", "/computeMetadata/v1/instance/maintenance-event", "maintenance",
               [this](Request& request) { return answer(maintenance_, request); });
    server_ = std::make_unique<http::Server>(pool_.executors(), std::move(router));
    ASSERT_TRUE(server_->listen_tcp("127.0.0.1", 0));
    server_->start();
    pool_.start();
    SpotWatchOptions options;
    options.metadata_url = "http://127.0.0.1:" + std::to_string(server_->tcp_port());
    options.flavor = SpotWatchOptions::Flavor::kGce;
    options.interval = std::chrono::milliseconds(50);
    pool_.spawn(0, [this, options] {
      return watch_spot_notices(options, [this](Json event) { record(std::move(event)); });
    });
  }

  void TearDown() override {
    pool_.submit<void>(0, [this] { return server_->drain(std::chrono::milliseconds(200)); }).get();
    pool_.stop();
  }

  void record(Json event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    if (events_.size() == 1) first_event_.set_value();
  }

  void change(GceValue& value) {
    pool_
        .submit<void>(0,
                      [&value]() -> Task<void> {
                        value.changed->set();
                        co_return;
                      })
        .get();
  }

  // The first event, waited for (not slept for).
  Json first_event() {
    EXPECT_EQ(first_event_future_.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    std::lock_guard lock(mutex_);
    return events_.empty() ? Json() : events_.front();
  }

  ShardPool pool_{1};
  std::unique_ptr<http::Server> server_;
  GceValue preempted_, maintenance_;
  std::mutex mutex_;
  std::vector<Json> events_;
  std::promise<void> first_event_;
  std::future<void> first_event_future_ = first_event_.get_future();
};

TEST_F(GceNoticeWatch, APreemptionIsASpotNoticeWithGcesThirtySeconds) {
  change(preempted_);
  const Json event = first_event();
  ASSERT_TRUE(event.is_object()) << event.dump();
  EXPECT_EQ(event.find("kind")->as_string(), std::string_view("spot_notice"));
  const Json* detail = event.find("detail");
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->find("value")->as_string(), std::string_view("TRUE"));
  EXPECT_EQ(detail->find("grace_ms")->as_int(), 30'000);
  EXPECT_EQ(preempted_.requests_without_flavor, 0);
}

TEST_F(GceNoticeWatch, TerminationForHostMaintenanceIsANoticeToo) {
  change(maintenance_);
  const Json event = first_event();
  ASSERT_TRUE(event.is_object()) << event.dump();
  EXPECT_EQ(event.find("kind")->as_string(), std::string_view("spot_notice"));
  EXPECT_EQ(event.find("detail")->find("value")->as_string(),
            std::string_view("TERMINATE_ON_HOST_MAINTENANCE"));
  std::lock_guard lock(mutex_);
  EXPECT_EQ(events_.size(), 1u) << "FALSE and NONE are not notices";
}

}  // namespace
}  // namespace skyd::skylet
