#include "daemon/skylet/spot_watcher.hpp"

#include "reactor/http_client.hpp"
#include "reactor/log.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>

#include <set>

namespace skyd::skylet {
namespace {

using namespace asio::experimental::awaitable_operators;

struct MetadataPath {
  const char* path;
  const char* kind;
};
constexpr MetadataPath kWatched[] = {
    {"/latest/meta-data/spot/instance-action", "spot_notice"},
    {"/latest/meta-data/events/recommendations/rebalance", "rebalance"},
};

Task<std::string> session_token(http::Client& client, const http::Endpoint& endpoint) {
  http::Request request;
  request.method = "PUT";
  request.target = "/latest/api/token";
  request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  auto response = co_await client.request(endpoint, request, {std::chrono::seconds(2)});
  co_return response && response->status == 200 ? response->body : std::string();
}

Task<void> watch_ec2(http::Endpoint endpoint, Duration interval,
                     std::function<void(Json)> on_event) {
  auto executor = co_await asio::this_coro::executor;
  http::Client client(executor);
  asio::steady_timer timer(executor);
  std::set<std::string> seen;  // a notice stays up until the machine goes: report each once
  for (;;) {
    const std::string token = co_await session_token(client, endpoint);
    for (const auto& watched : kWatched) {
      http::Request request;
      request.target = watched.path;
      if (!token.empty()) request.headers.emplace_back("X-aws-ec2-metadata-token", token);
      auto response = co_await client.request(endpoint, request, {std::chrono::seconds(2)});
      if (!response || response->status != 200) continue;  // 404: nothing announced
      if (!seen.insert(std::string(watched.kind) + response->body).second) continue;
      Json event = Json::object();
      event.set("kind", watched.kind);
      event.set("source", "instance-metadata");
      if (auto detail = parse_json(response->body)) {
        event.set("detail", std::move(*detail));
      } else {
        event.set("detail", response->body);
      }
      on_event(std::move(event));
    }
    timer.expires_after(interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// What one Compute Engine value means once it changes: an event, or nothing.
using GceReading = std::function<std::optional<Json>(std::string_view value)>;

Json gce_event(std::string_view kind, std::string_view value, std::int64_t grace_ms) {
  Json detail = Json::object();
  detail.set("value", std::string(value));
  if (grace_ms > 0) detail.set("grace_ms", grace_ms);
  Json event = Json::object();
  event.set("kind", std::string(kind));
  event.set("source", "instance-metadata");
  event.set("detail", std::move(detail));
  return event;
}

std::optional<Json> read_preempted(std::string_view value) {
  // Compute Engine gives a preempted spot VM 30 seconds before it stops it.
  if (value != "TRUE") return std::nullopt;
  return gce_event("spot_notice", value, 30'000);
}

std::optional<Json> read_maintenance(std::string_view value) {
  if (value == "NONE" || value.empty()) return std::nullopt;
  // A VM that cannot live-migrate (GPUs, spot) is stopped for the maintenance: as good as a
  // notice. Migrations only pause it, so they are recorded, not acted on.
  if (value.starts_with("TERMINATE_ON_HOST_MAINTENANCE")) return gce_event("spot_notice", value, 0);
  return gce_event("maintenance", value, 0);
}

// Long-polls one value: each answer comes when it changes (or after timeout_sec, unchanged), and
// its ETag asks for the next change only.
Task<void> watch_gce_value(http::Endpoint endpoint, std::string path, Duration retry,
                           GceReading reading, std::function<void(Json)> on_event) {
  auto executor = co_await asio::this_coro::executor;
  http::Client client(executor);
  asio::steady_timer timer(executor);
  std::string etag;
  std::string last_reported;
  for (;;) {
    http::Request request;
    request.target = path + "?wait_for_change=true&timeout_sec=60";
    if (!etag.empty()) request.target += "&last_etag=" + http::percent_encode(etag);
    request.headers.emplace_back("Metadata-Flavor", "Google");
    auto response = co_await client.request(endpoint, request, {std::chrono::seconds(75)});
    if (!response || response->status != 200) {
      etag.clear();
      timer.expires_after(retry);
      co_await timer.async_wait(asio::use_awaitable);
      continue;
    }
    if (const std::string* tag = response->header("ETag")) etag = *tag;
    std::string_view value = response->body;
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    if (value == last_reported) continue;
    last_reported = std::string(value);
    if (auto event = reading(value)) on_event(std::move(*event));
  }
}

}  // namespace

Task<void> watch_spot_notices(SpotWatchOptions options, std::function<void(Json)> on_event) {
  auto endpoint = http::Endpoint::parse(options.metadata_url);
  if (!endpoint) {
    logger("skylet")->error("spot watcher disabled: {}", endpoint.error().message());
    co_return;
  }
  if (options.flavor == SpotWatchOptions::Flavor::kEc2) {
    co_await watch_ec2(*endpoint, options.interval, std::move(on_event));
    co_return;
  }
  co_await (watch_gce_value(*endpoint, "/computeMetadata/v1/instance/preempted", options.interval,
                            read_preempted, on_event) &&
            watch_gce_value(*endpoint, "/computeMetadata/v1/instance/maintenance-event",
                            options.interval, read_maintenance, on_event));
}

}  // namespace skyd::skylet
