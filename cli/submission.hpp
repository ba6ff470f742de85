#pragma once
// POST /v1/jobs so that a lost answer does not lose, or double, a launch: the body carries a key
// made here, and skyd answers a key it has seen with the jobs it made the first time. When the
// database is away for a moment (503) or the answer never comes back (a dropped SSH connection,
// a restart of skyd), the same request goes again until `patience` has passed. A skyd that is
// not running at all fails at once, as every other command does.

#include "cli/daemon_client.hpp"
#include "reactor/json.hpp"

namespace skyd::cli {

inline constexpr Duration kSubmitPatience = std::chrono::seconds(90);

Result<Json> submit_jobs(DaemonClient& client, Json body, Duration patience = kSubmitPatience);

}  // namespace skyd::cli
