#include "providers/kubernetes/kube_claims.hpp"

#include "providers/kubernetes/kube_api.hpp"
#include "providers/provider.hpp"
#include "reactor/http_types.hpp"

#include <algorithm>
#include <array>

namespace skyd::providers::kubernetes {
namespace {

std::map<std::string, std::string> labels_of(const Json& metadata) {
  std::map<std::string, std::string> labels;
  if (const Json* found = metadata.find("labels"); found && found->as_object())
    for (const auto& [key, value] : *found->as_object())
      if (auto text = value.as_string()) labels[key] = std::string(*text);
  return labels;
}

}  // namespace

bool is_access_mode(std::string_view mode) {
  static constexpr std::array<std::string_view, 4> kModes = {"ReadWriteOnce", "ReadOnlyMany",
                                                             "ReadWriteMany", "ReadWriteOncePod"};
  return std::find(kModes.begin(), kModes.end(), mode) != kModes.end();
}

Json claim_manifest(const ClaimSpec& spec) {
  Json metadata = object_metadata(spec.name, spec.namespace_, spec.labels);
  Json modes = Json::array();
  modes.push_back(spec.access_mode);
  Json requests = Json::object();
  requests.set("storage", spec.size);
  Json resources = Json::object();
  resources.set("requests", std::move(requests));
  Json claim_spec = Json::object();
  claim_spec.set("accessModes", std::move(modes));
  claim_spec.set("resources", std::move(resources));
  if (!spec.storage_class.empty()) claim_spec.set("storageClassName", spec.storage_class);
  return v1_object("PersistentVolumeClaim", std::move(metadata), std::move(claim_spec));
}

Result<Claim> parse_claim(const Json& json) {
  const Json* metadata = json.find("metadata");
  const Json* spec = json.find("spec");
  if (!metadata || !spec) return make_error(ProviderErrc::kTransient, "a claim without metadata");
  Claim claim;
  claim.name = string_at(*metadata, "name");
  claim.created = string_at(*metadata, "creationTimestamp");
  claim.labels = labels_of(*metadata);
  claim.storage_class = string_at(*spec, "storageClassName");
  const Json* state = json.find("status");
  if (state) claim.phase = string_at(*state, "phase");
  const Json* capacity = state ? state->find("capacity") : nullptr;
  const Json* resources = spec->find("resources");
  const Json* requests = resources ? resources->find("requests") : nullptr;
  claim.size = capacity ? string_at(*capacity, "storage") : "";
  if (claim.size.empty() && requests) claim.size = string_at(*requests, "storage");
  if (const Json* modes = spec->find("accessModes"); modes && modes->as_array())
    for (const auto& mode : *modes->as_array())
      if (auto text = mode.as_string()) claim.access_modes.emplace_back(*text);
  return claim;
}

Result<std::vector<Claim>> parse_claim_list(std::string_view text) {
  auto json = parse_json(text);
  if (!json) return make_error(ProviderErrc::kTransient, "a claim list that is not JSON");
  std::vector<Claim> claims;
  const Json* items = json->find("items");
  if (!items || !items->as_array()) return claims;
  for (const auto& item : *items->as_array()) {
    auto claim = parse_claim(item);
    if (!claim) return claim.error();
    claims.push_back(std::move(*claim));
  }
  return claims;
}

std::map<std::string, std::vector<std::string>> pods_by_claim(std::string_view pod_list) {
  std::map<std::string, std::vector<std::string>> users;
  auto json = parse_json(pod_list);
  const Json* items = json ? json->find("items") : nullptr;
  if (!items || !items->as_array()) return users;
  for (const auto& pod : *items->as_array()) {
    const Json* metadata = pod.find("metadata");
    const Json* spec = pod.find("spec");
    const Json* volumes = spec ? spec->find("volumes") : nullptr;
    if (!metadata || !volumes || !volumes->as_array()) continue;
    // A pod whose containers have ended holds its claims no more.
    const Json* state = pod.find("status");
    const std::string phase = state ? string_at(*state, "phase") : "";
    if (phase == "Succeeded" || phase == "Failed") continue;
    for (const auto& volume : *volumes->as_array()) {
      if (const Json* claim = volume.find("persistentVolumeClaim"))
        users[string_at(*claim, "claimName")].push_back(string_at(*metadata, "name"));
    }
  }
  return users;
}

std::string claims_path(std::string_view namespace_) {
  return "/api/v1/namespaces/" + http::percent_encode(namespace_) + "/persistentvolumeclaims";
}

std::string claim_path(std::string_view namespace_, std::string_view name) {
  return claims_path(namespace_) + "/" + http::percent_encode(name);
}

}  // namespace skyd::providers::kubernetes
