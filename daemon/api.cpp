#include "daemon/api.hpp"

#include <unistd.h>

namespace skyd::daemon {
namespace {

Task<http::Response> health(DaemonInfo info, http::Request& request) {
  Json body = Json::object();
  body.set("status", "ok");
  body.set("version", info.version);
  body.set("pid", static_cast<long long>(::getpid()));
  body.set("shards", static_cast<long long>(info.shards));
  body.set("state_dir", info.state_dir);
  body.set("uptime_seconds",
           std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - info.started_at).count());
  if (request.peer.known) body.set("caller_uid", static_cast<long long>(request.peer.uid));
  co_return http::Response::json(200, body);
}

}  // namespace

http::Router make_api_router(const DaemonInfo& info) {
  http::Router router;
  router.add("GET", "/v1/health", "daemon health, version and uptime",
             [info](http::Request& request) { return health(info, request); });
  return router;
}

}  // namespace skyd::daemon
