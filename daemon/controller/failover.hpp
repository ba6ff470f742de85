#pragma once
// The pure half of launch failover, kept apart from the job coroutine so it can be tested alone:
// where a recovery prefers or avoids, the order candidates are tried in, and what each launch
// error rules out for the rest of the round.

#include "providers/catalog/optimizer.hpp"
#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

// Where a recovery should go: EAGER_NEXT_REGION avoids the lost region for one round; FAILOVER
// tries the lost region first for its first rounds. Regions are "cloud/region".
struct RecoveryPreference {
  std::vector<std::string> avoid_regions;
  std::optional<std::string> prefer_region;
};

// The optimizer's candidates in the order to try them: avoided regions left out (unless nothing
// else is feasible), the preferred region first.
Result<std::vector<catalog::Candidate>> plan_candidates(const catalog::Catalog& catalog,
                                                        const catalog::PlanRequest& request,
                                                        const RecoveryPreference& preference);

// What a launch round has ruled out: a zone, a region or a whole cloud, for one market (a spot
// capacity error says nothing about on-demand capacity) or for both.
struct Exclusion {
  catalog::BlockedLocation where;
  std::optional<bool> spot;
};

bool is_excluded(const std::vector<Exclusion>& excluded, const catalog::Candidate& candidate);

enum class LaunchErrorClass {
  kTryNext,        // capacity, quota, throttling, a passing fault: the round goes on
  kCloudUnusable,  // credentials refused: every candidate of that cloud is out
  kPrecheck,       // the request can never succeed: the task fails its prechecks
};
std::string_view to_string(LaunchErrorClass kind);

LaunchErrorClass classify_launch_error(const Error& error);
// The exclusion a failed launch adds: the zone (capacity, throttling, faults), the region (quota),
// or the cloud (auth); nothing for a precheck failure.
std::optional<Exclusion> exclusion_for(const Error& error, const catalog::Candidate& candidate);

}  // namespace skyd::daemon
