#pragma once
// How the HTTP routes (API socket and dashboard) treat a database that is away: a call that needs
// it is refused at once with 503 and a Retry-After, rather than left waiting for a connection
// that cannot come; /v1/health and /metrics keep answering and say why.

#include "reactor/http_server.hpp"

#include <string_view>

namespace skyd::daemon {

class Controller;

// Seconds a client is told to wait before calling again (the database is checked every second).
inline constexpr int kDatabaseRetryAfterSeconds = 1;

// 503 {"error":{"code":"unavailable",...}} with Retry-After.
http::Response database_unavailable(std::string_view why);

// The handler, answering database_unavailable at once while the controller's database is down.
http::Handler needing_database(Controller* controller, http::Handler handler);

}  // namespace skyd::daemon
