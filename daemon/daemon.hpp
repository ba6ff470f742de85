#pragma once
// Runs skyd: brings up the shards, the API socket and (later) the store and job supervisors,
// tells systemd it is ready, and on SIGTERM/SIGINT drains and stops everything in order.

#include "daemon/config.hpp"

namespace skyd::daemon {

// Returns the process exit code.
int run_daemon(const DaemonConfig& config);

}  // namespace skyd::daemon
