#include "daemon/skylet/spot_watcher.hpp"

#include "reactor/http_client.hpp"
#include "reactor/log.hpp"

#include <boost/asio/steady_timer.hpp>

#include <set>

namespace skyd::skylet {
namespace {

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

}  // namespace

Task<void> watch_spot_notices(SpotWatchOptions options, std::function<void(Json)> on_event) {
  auto executor = co_await asio::this_coro::executor;
  auto endpoint = http::Endpoint::parse(options.metadata_url);
  if (!endpoint) {
    logger("skylet")->error("spot watcher disabled: {}", endpoint.error().message());
    co_return;
  }
  http::Client client(executor);
  asio::steady_timer timer(executor);
  std::set<std::string> seen;  // a notice stays up until the machine goes: report each once
  for (;;) {
    const std::string token = co_await session_token(client, *endpoint);
    for (const auto& watched : kWatched) {
      http::Request request;
      request.target = watched.path;
      if (!token.empty()) request.headers.emplace_back("X-aws-ec2-metadata-token", token);
      auto response = co_await client.request(*endpoint, request, {std::chrono::seconds(2)});
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
    timer.expires_after(options.interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace skyd::skylet
