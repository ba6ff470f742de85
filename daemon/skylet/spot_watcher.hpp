#pragma once
// Watches the instance metadata service for spot interruption notices and rebalance
// recommendations (AWS IMDSv2: a session token from PUT /latest/api/token, then
// /latest/meta-data/spot/instance-action, where 404 means no notice) and hands each new one to
// the agent at once.

#include "reactor/coro.hpp"
#include "reactor/json.hpp"

#include <functional>
#include <string>

namespace skyd::skylet {

struct SpotWatchOptions {
  std::string metadata_url = "http://169.254.169.254";
  Duration interval = std::chrono::seconds(5);
};

// Polls until cancelled; `on_event` receives {"kind":"spot_notice"|"rebalance", ...}.
Task<void> watch_spot_notices(SpotWatchOptions options, std::function<void(Json)> on_event);

}  // namespace skyd::skylet
