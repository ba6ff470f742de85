#pragma once
// Clouds as SkyPilot names them to its users: `AWS`, `GCP` (its clouds' display names, the ones
// SKYPILOT_CLUSTER_INFO carries and the INFRA columns show), and an infra cell such as
// `AWS (us-east-1a)`: the cloud, then the zone, or the region when no zone is known.

#include <cctype>
#include <string>
#include <string_view>

namespace skyd::providers {

// "aws" -> "AWS", "gcp" -> "GCP", "local" -> "Local"; a name skyd does not know keeps its case
// with the first letter raised.
inline std::string cloud_display_name(std::string_view cloud) {
  if (cloud == "aws") return "AWS";
  if (cloud == "gcp") return "GCP";
  std::string name(cloud);
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

// "AWS (us-east-1a)", "AWS (us-east-1)", "AWS"; "-" without a cloud.
inline std::string infra_display(std::string_view cloud, std::string_view region,
                                 std::string_view zone) {
  if (cloud.empty()) return "-";
  std::string out = cloud_display_name(cloud);
  const std::string_view where = !zone.empty() ? zone : region;
  if (!where.empty()) out += " (" + std::string(where) + ")";
  return out;
}

}  // namespace skyd::providers
