#pragma once
// How jobs look on the API (what `sky jobs queue -o json` prints).

#include "reactor/json.hpp"
#include "store/job_repository.hpp"

namespace skyd::daemon {

// Times are Unix seconds; durations are seconds, computed at `now` for jobs still open.
Json job_to_json(const store::JobRecord& job,
                 store::TimePoint now = std::chrono::system_clock::now());

}  // namespace skyd::daemon
