#include "daemon/database_gate.hpp"

#include "daemon/controller/controller.hpp"

#include <string>

namespace skyd::daemon {
namespace {

Task<http::Response> when_database_up(Controller* controller, Task<http::Response> work) {
  const store::DatabaseHealth& health = controller->database_health();
  if (!health.up()) co_return database_unavailable(health.status().reason);
  co_return co_await std::move(work);
}

}  // namespace

http::Response database_unavailable(std::string_view why) {
  auto response = http::Response::error(
      503, "unavailable", "the database is unavailable, try again shortly: " + std::string(why));
  response.set_header("Retry-After", std::to_string(kDatabaseRetryAfterSeconds));
  return response;
}

http::Handler needing_database(Controller* controller, http::Handler handler) {
  return [controller, handler = std::move(handler)](http::Request& request) {
    return when_database_up(controller, handler(request));
  };
}

}  // namespace skyd::daemon
