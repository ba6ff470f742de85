#pragma once
// PersistentVolumeClaims as pure functions: the claim `sky volumes apply` makes, claims read
// back, and which of them the pods of a list mount. No sockets here; kube_volumes.cpp does the
// I/O.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::kubernetes {

// Who asked for a claim skyd made (its uid), beside kControllerLabel.
inline constexpr std::string_view kVolumeOwnerLabel = "skyd-volume-owner";

// The access modes a claim may ask for (Kubernetes' names).
bool is_access_mode(std::string_view mode);

// What `sky volumes apply` asks for.
struct ClaimSpec {
  std::string name;
  std::string namespace_;
  std::string size;           // a Kubernetes quantity: "10Gi"
  std::string access_mode;    // one of is_access_mode's
  std::string storage_class;  // empty: the cluster's default
  std::map<std::string, std::string> labels;
};
Json claim_manifest(const ClaimSpec& spec);

// A claim as the API answers it (the fields `sky volumes ls` shows).
struct Claim {
  std::string name;
  std::string size;  // the bound capacity, else the request
  std::vector<std::string> access_modes;
  std::string storage_class;
  std::string phase;    // Pending, Bound, Lost
  std::string created;  // RFC 3339
  std::map<std::string, std::string> labels;
};
Result<Claim> parse_claim(const Json& json);
Result<std::vector<Claim>> parse_claim_list(std::string_view json);

// The claims the pods of a PodList that have not ended mount: claim -> the pods' names.
std::map<std::string, std::vector<std::string>> pods_by_claim(std::string_view pod_list);

std::string claims_path(std::string_view namespace_);
std::string claim_path(std::string_view namespace_, std::string_view name);

}  // namespace skyd::providers::kubernetes
