// `sky volumes` on the Kubernetes provider: the claims of the namespace skyd uses, made, read,
// listed and deleted through the same authenticated, retrying client as its pods.

#include "providers/kubernetes/kube_provider.hpp"

#include "reactor/numbers.hpp"

namespace skyd::providers::kubernetes {

Task<Result<Claim>> KubeProvider::create_claim(ClaimSpec spec, std::string owner) {
  spec.namespace_ = options_.access.namespace_;
  spec.labels[std::string(kControllerLabel)] = label_value(options_.controller_id);
  spec.labels[std::string(kVolumeOwnerLabel)] = label_value(owner);
  const std::vector<int> exists_is_an_answer{409};
  auto made = co_await call("POST", claims_path(spec.namespace_), claim_manifest(spec).dump(),
                            exists_is_an_answer);
  if (!made) co_return made.error();
  if (status_reason(*made) == "AlreadyExists") {
    co_return make_error(ProviderErrc::kInvalid,
                         "a PersistentVolumeClaim `" + spec.name + "` is already in namespace `" +
                             spec.namespace_ + "`; to mount it, set use_existing: true");
  }
  auto json = parse_json(*made);
  if (!json) co_return make_error(ProviderErrc::kTransient, "a created claim that is not JSON");
  co_return parse_claim(*json);
}

Task<Result<std::optional<Claim>>> KubeProvider::find_claim(std::string name) {
  const std::vector<int> missing_is_an_answer{404};
  auto found =
      co_await call("GET", claim_path(options_.access.namespace_, name), "", missing_is_an_answer);
  if (!found) co_return found.error();
  if (status_reason(*found) == "NotFound") co_return std::optional<Claim>();
  auto json = parse_json(*found);
  if (!json) co_return make_error(ProviderErrc::kTransient, "a claim that is not JSON");
  auto claim = parse_claim(*json);
  if (!claim) co_return claim.error();
  co_return std::optional<Claim>(std::move(*claim));
}

Task<Result<std::vector<Claim>>> KubeProvider::list_claims() {
  auto listed = co_await call("GET", claims_path(options_.access.namespace_), "");
  if (!listed) co_return listed.error();
  co_return parse_claim_list(*listed);
}

Task<Result<void>> KubeProvider::delete_claim(std::string name) {
  auto deleted = co_await call("DELETE", claim_path(options_.access.namespace_, name), "");
  if (!deleted) co_return deleted.error();
  co_return Result<void>{};
}

Task<Result<std::map<std::string, std::vector<std::string>>>> KubeProvider::claim_users() {
  // Every pod of the namespace, skyd's or not: a claim a pod still holds is in use.
  auto pods = co_await call("GET", pods_path(options_.access.namespace_), "");
  if (!pods) co_return pods.error();
  co_return pods_by_claim(*pods);
}

bool KubeProvider::made_here(const Claim& claim) const {
  const auto made_by = claim.labels.find(std::string(kControllerLabel));
  return made_by != claim.labels.end() && made_by->second == label_value(options_.controller_id);
}

std::optional<std::int64_t> KubeProvider::owner_of(const Claim& claim) const {
  const auto owner = claim.labels.find(std::string(kVolumeOwnerLabel));
  if (!made_here(claim) || owner == claim.labels.end()) return std::nullopt;
  return parse_int64(owner->second);
}

}  // namespace skyd::providers::kubernetes
