#pragma once
// The daemon's HTTP API on its Unix socket (HTTP/1.1 + JSON): route table and handlers.

#include "reactor/http_server.hpp"

#include <cstddef>
#include <string>

namespace skyd::daemon {

// What the handlers may read about the running daemon.
struct DaemonInfo {
  std::string version;
  std::string state_dir;
  std::size_t shards = 0;
  Clock::time_point started_at = Clock::now();
};

http::Router make_api_router(const DaemonInfo& info);

}  // namespace skyd::daemon
