#pragma once
// The Kubernetes provider: a cluster is one Pod per node in the kubeconfig context's namespace,
// made through the core/v1 API over HTTPS (the server's CA pinned, a bearer token), labelled
// skyd-controller=<controller id>, skyd-cluster=<name>, skyd-launch=<token hash> and
// skyd-rank=<rank>, so one LIST per namespace finds everything a controller made. A pod's
// container starts skylet in the foreground; the controller reaches it at the pod's IP. A pod
// that fails (evicted, its node lost) or is deleted is a lost node. Terminating deletes the
// pods and waits until none is listed. Runs on one shard: create it there and call it only from
// there (docs/kubernetes-provider.md).

#include "providers/kubernetes/kube_api.hpp"
#include "providers/kubernetes/kube_claims.hpp"
#include "providers/kubernetes/kube_fabric.hpp"
#include "providers/kubernetes/kubeconfig.hpp"
#include "providers/provider.hpp"
#include "providers/skylet_health.hpp"
#include "reactor/backoff.hpp"
#include "reactor/certs.hpp"
#include "reactor/http_client.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::providers::kubernetes {

struct KubeProviderOptions {
  KubeAccess access;  // from the kubeconfig (its context is the candidates' region)
  // Set when the kubeconfig could not be used: every call fails with it (naming the field).
  std::optional<Error> access_error;
  std::string image = std::string(kDefaultImage);  // the node image (carries skylet)
  std::string controller_id = "skyd";
  std::uint16_t skylet_port = 46590;
  CertifiedKey skylet_authority;  // signs each cluster's skylet certificate
  std::string notice_signal;
  std::string scratch_dir = "/tmp/skyd-uploads";
  BackoffPolicy retry{std::chrono::milliseconds(200), 2.0, std::chrono::seconds(10), 0.2, 6};
  Duration request_timeout = std::chrono::seconds(20);
  Duration launch_timeout = std::chrono::minutes(10);
  // A pod the scheduler cannot place this long is a lack of capacity (the next candidate).
  Duration unschedulable_timeout = std::chrono::minutes(2);
  Duration terminate_timeout = std::chrono::minutes(5);
  Duration poll_interval = std::chrono::seconds(1);
  http::ClientOptions client;
};

class KubeProvider final : public Provider {
 public:
  KubeProvider(asio::any_io_executor executor, KubeProviderOptions options);

  std::string_view name() const override { return "kubernetes"; }
  Task<Result<Cluster>> launch(LaunchRequest request) override;
  Task<Result<std::vector<InstanceStatus>>> describe(
      std::vector<std::string> cluster_names) override;
  Task<Result<void>> terminate(std::string cluster_name) override;
  Task<Result<std::vector<std::string>>> list_clusters() override;

  // One API call (retried with backoff on throttling, 5xx and lost answers): the response body
  // on 2xx; `accept` lists further statuses answered as success with their body (409 on create).
  Task<Result<std::string>> call(std::string method, std::string target, std::string body,
                                 std::vector<int> accept = {});
  // The pods of this controller matching `labels` (one LIST).
  Task<Result<std::vector<Pod>>> list(std::map<std::string, std::string> labels);
  // network_tier: best: the fabric the context's nodes have, as a pod with `gpus` uses it.
  Task<Result<FabricPod>> fabric_for(int gpus);

  // Volumes (`sky volumes`): the claims of the namespace skyd uses (kube_volumes.cpp).
  const KubeAccess& access() const { return options_.access; }
  // Makes `spec` in skyd's namespace, labelled as this controller's and `owner`'s.
  Task<Result<Claim>> create_claim(ClaimSpec spec, std::string owner);
  Task<Result<std::optional<Claim>>> find_claim(std::string name);
  Task<Result<std::vector<Claim>>> list_claims();
  Task<Result<void>> delete_claim(std::string name);
  // Which pods of this controller mount each claim (one LIST).
  Task<Result<std::map<std::string, std::vector<std::string>>>> claim_users();
  // Whether this controller made `claim` (`sky volumes apply`), not found it.
  bool made_here(const Claim& claim) const;
  // The uid this controller made `claim` for; nullopt for a claim it did not make.
  std::optional<std::int64_t> owner_of(const Claim& claim) const;

 private:
  Task<Result<std::vector<Pod>>> wait_running(std::string token, int nodes,
                                              Clock::time_point deadline);
  // Each volume's claim is in the namespace: a pod naming a missing one would wait in Pending
  // until the launch timed out, with no word of why.
  // A claim `sky volumes apply` made for another user is theirs: `owner` (the job's submitter;
  // unset for skyd's own) may mount only their own, and claims skyd did not make.
  Task<Result<void>> check_claims(std::vector<VolumeMount> volumes,
                                  std::optional<UserIdentity> owner);
  Task<void> discard(std::map<std::string, std::string> labels);
  // Deletes whatever the launch with this token made.
  Task<void> discard_launch(std::string token);

  asio::any_io_executor executor_;
  KubeProviderOptions options_;
  http::Client client_;
  // The fabric the nodes were last found to have, and when (kept kFabricLifetime).
  static constexpr Duration kFabricLifetime = std::chrono::seconds(30);
  std::optional<FoundFabric> fabric_seen_;
  Clock::time_point fabric_seen_at_;
};

}  // namespace skyd::providers::kubernetes
