#include "daemon/controller/failover.hpp"

#include "providers/provider.hpp"

#include <algorithm>

namespace skyd::daemon {

Result<std::vector<catalog::Candidate>> plan_candidates(const catalog::Catalog& catalog,
                                                        const catalog::PlanRequest& request,
                                                        const RecoveryPreference& preference) {
  catalog::Blocklist blocklist;
  for (const auto& region : preference.avoid_regions) {
    const auto slash = region.find('/');
    blocklist.push_back({region.substr(0, slash), region.substr(slash + 1), std::nullopt});
  }
  auto planned = catalog::plan(catalog, request, blocklist);
  if (!planned && !blocklist.empty())
    planned = catalog::plan(catalog, request);  // nowhere else fits
  if (!planned) return planned;
  if (preference.prefer_region) {
    std::stable_partition(
        planned->begin(), planned->end(), [&](const catalog::Candidate& candidate) {
          return candidate.cloud + "/" + candidate.region == *preference.prefer_region;
        });
  }
  return planned;
}

bool is_excluded(const std::vector<Exclusion>& excluded, const catalog::Candidate& candidate) {
  for (const auto& entry : excluded) {
    if (entry.where.cloud != candidate.cloud) continue;
    if (entry.where.region && *entry.where.region != candidate.region) continue;
    if (entry.where.zone && *entry.where.zone != candidate.zone) continue;
    if (entry.spot && *entry.spot != candidate.use_spot) continue;
    return true;
  }
  return false;
}

std::string_view to_string(LaunchErrorClass kind) {
  switch (kind) {
    case LaunchErrorClass::kTryNext:
      return "try next";
    case LaunchErrorClass::kCloudUnusable:
      return "cloud unusable";
    case LaunchErrorClass::kPrecheck:
      return "precheck";
  }
  return "unknown";
}

LaunchErrorClass classify_launch_error(const Error& error) {
  if (error.code == providers::ProviderErrc::kInvalid) return LaunchErrorClass::kPrecheck;
  if (error.code == providers::ProviderErrc::kAuth) return LaunchErrorClass::kCloudUnusable;
  return LaunchErrorClass::kTryNext;
}

std::optional<Exclusion> exclusion_for(const Error& error, const catalog::Candidate& candidate) {
  switch (classify_launch_error(error)) {
    case LaunchErrorClass::kPrecheck:
      return std::nullopt;
    case LaunchErrorClass::kCloudUnusable:
      return Exclusion{{candidate.cloud, std::nullopt, std::nullopt}, std::nullopt};
    case LaunchErrorClass::kTryNext:
      break;
  }
  if (error.code == providers::ProviderErrc::kQuota) {
    return Exclusion{{candidate.cloud, candidate.region, std::nullopt}, candidate.use_spot};
  }
  return Exclusion{{candidate.cloud, candidate.region, candidate.zone}, candidate.use_spot};
}

}  // namespace skyd::daemon
