#pragma once
// The Compute Engine provider: a cluster is a set of instances made by one bulkInsert (count =
// minCount = nodes, a requestId derived from the idempotency token) in the candidate's zone and
// labelled skyd-cluster=<name>, skyd-controller=<controller id> and skyd-launch=<token hash>;
// each instance boots skylet from its `startup-script` metadata. A task's `ports` are a VPC
// firewall rule of the cluster's own, aimed at a network tag its instances carry, deleted with it.
// Calls carry an OAuth 2.0 bearer token from an AccessTokenSource, are paced by token buckets per
// project, and are retried with backoff on throttling and 5xx. Runs on one shard: create it there
// and call it only from there.
//
// A task on a Cloud TPU (accelerator `tpu-…`) is one TPU VM node made by the Cloud TPU API v2
// (tpu_api.hpp) with the same token, pacing and retries: each host of the slice is a node of the
// cluster, booting skylet from the node's `startup-script` metadata; a preempted spot TPU shows
// as PREEMPTED until it is deleted.

#include "providers/adoption_census.hpp"
#include "providers/catalog/tpu.hpp"
#include "providers/gcp/access_token.hpp"
#include "providers/gcp/gce_api.hpp"
#include "providers/gcp/tpu_api.hpp"
#include "providers/provider.hpp"
#include "providers/skylet_health.hpp"
#include "reactor/backoff.hpp"
#include "reactor/certs.hpp"
#include "reactor/http_client.hpp"
#include "reactor/token_bucket.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace skyd::providers::gcp {

// The image every node boots unless the task or `images` names another: the family the operator
// publishes skylet images under, in the project itself.
inline constexpr std::string_view kDefaultImage = "global/images/family/skyd-skylet";

struct GcpProviderOptions {
  std::string project;  // required
  // Regions the installation uses (docs; describe and list_clusters ask all zones at once).
  std::vector<std::string> regions;
  std::map<std::string, std::string> images;  // region -> image; else kDefaultImage
  // Empty: CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE, then https://compute.googleapis.com. An
  // override may be http:// (fakecloud) and may carry the API path (…/compute/v1/).
  std::string endpoint;
  // The Cloud TPU API's. Empty: CLOUDSDK_API_ENDPOINT_OVERRIDES_TPU, then
  // https://tpu.googleapis.com (path /v2).
  std::string tpu_endpoint;
  // Where tokens come from (Application Default Credentials, or a fixed token in tests). Null:
  // every call fails with kAuth.
  std::shared_ptr<AccessTokenSource> tokens;
  std::string service_account;         // the nodes' service account (email); empty: none
  std::string controller_id = "skyd";  // the skyd-controller label
  std::uint16_t skylet_port = 46590;   // written into the startup script; where skylet is reached
  // Signs each cluster's skylet certificate (see AwsProviderOptions::skylet_authority).
  CertifiedKey skylet_authority;
  std::string notice_signal;  // TERM, INT, HUP, USR1 or USR2 sent to tasks on a spot notice
  std::string scratch_dir = "/tmp/skyd-uploads";
  bool use_public_ip = false;  // give nodes an external address and reach them by it
  // Token buckets per project, one for reads (GET, list) and one for writes.
  double requests_per_second = 20;
  double request_burst = 50;
  BackoffPolicy retry{std::chrono::milliseconds(200), 2.0, std::chrono::seconds(10), 0.2, 8};
  // A bulkInsert whose answer does not come is tried only this often; then what its token made
  // is looked up by label.
  int create_tries = 3;
  Duration request_timeout = std::chrono::seconds(20);
  // One operations.wait call holds at most this long (Compute Engine's own limit is 2 minutes).
  Duration operation_wait = std::chrono::seconds(60);
  Duration launch_timeout = std::chrono::minutes(10);
  Duration terminate_timeout = std::chrono::minutes(5);
  Duration poll_interval = std::chrono::seconds(2);
  int page_size = 500;
  // How long one listing of this controller's instances answers adoptions after a restart.
  Duration census_lifetime = std::chrono::minutes(1);
  std::function<std::optional<std::string>(const char*)> env;  // unset: the process environment
  http::ClientOptions client;
  // The client skylet calls go through (health checks, files). The shard's, so the connection a
  // launch's health check opens is the one the task's calls then reuse: one TLS handshake per
  // node, not two. nullptr: the provider's own.
  http::Client* node_client = nullptr;
};

struct GcpProviderStats {
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;
  std::uint64_t throttled = 0;
};

class GcpProvider final : public Provider {
 public:
  GcpProvider(asio::any_io_executor executor, GcpProviderOptions options);
  ~GcpProvider() override;

  std::string_view name() const override { return "gcp"; }
  // Errors: kNoCapacity (zone), kQuota (region), kAuth, kInvalid, kThrottled/kTransient after the
  // retries; a launch that fails after instances exist deletes them.
  Task<Result<Cluster>> launch(LaunchRequest request) override;
  Task<Result<std::vector<InstanceStatus>>> describe(
      std::vector<std::string> cluster_names) override;
  Task<Result<void>> terminate(std::string cluster_name) override;
  Task<Result<std::vector<std::string>>> list_clusters() override;

  // One Compute Engine call below the API base (rate-limited, retried, with a bearer token):
  // the response body on 2xx. `transient_tries` > 0 gives up after that many failures that may
  // hide a lost answer.
  Task<Result<std::string>> call(std::string method, std::string path, std::string body,
                                 int transient_tries = 0);
  // The same for the Cloud TPU API (its own base and error shapes).
  Task<Result<std::string>> call_tpu(std::string method, std::string path, std::string body,
                                     int transient_tries = 0);
  // Every TPU node of this controller, in every zone (nodes.list on location "-").
  Task<Result<std::vector<TpuNode>>> list_tpus();
  // Every instance, in every zone, matching the filter (aggregated list, across pages).
  Task<Result<std::vector<GceInstance>>> list_all(std::string filter);

  const ApiBase& api_base() const { return base_; }
  const GcpProviderStats& stats() const { return stats_; }

 private:
  Task<void> acquire(bool write);
  Task<Result<std::string>> send_call(bool tpu, std::string method, std::string path,
                                      std::string body, int transient_tries);
  Task<Result<Cluster>> launch_tpu(LaunchRequest request, catalog::TpuSlice slice);
  // Waits for a TPU long-running operation (its full name) to be done; its error as an Error.
  Task<Result<void>> wait_tpu_operation(std::string operation, Clock::time_point deadline);
  // Polls the node until it is READY with every host's address; PREEMPTED or gone on the way is
  // kNoCapacity.
  Task<Result<TpuNode>> wait_tpu_ready(std::string zone, std::string node_id, int hosts,
                                       Clock::time_point deadline);
  // Deletes the node and waits for the deletion's operation; gone already is success.
  Task<Result<void>> delete_tpu(std::string zone, std::string node_id, Clock::time_point deadline);
  // The instances a launch with this token made (any zone), in name order (the rank).
  Task<Result<std::vector<GceInstance>>> made_by(std::string token);
  // The same answer for an adoption, from the census of this controller's instances when the
  // token was not sent by this process.
  Task<Result<std::vector<GceInstance>>> made_before(std::string token);
  // Waits for a zone operation to be DONE; its error (if any) as an Error.
  Task<Result<void>> wait_operation(std::string zone, std::string operation,
                                    Clock::time_point deadline);
  // The outcome of a call's operation (`answer`): its error if it failed already, else waits.
  Task<Result<void>> finish_operation(std::string zone, std::string answer,
                                      Clock::time_point deadline);
  // Polls what the launch made until every node runs; `seen` is the launch's own first look.
  Task<Result<std::vector<GceInstance>>> wait_running(std::string token, int nodes,
                                                      Clock::time_point deadline,
                                                      std::vector<GceInstance> seen);
  // Makes (or adopts) the cluster's firewall rule for `ports`: its name, the instances' tag.
  Task<Result<std::string>> open_ports(std::string cluster_name, std::vector<PortRange> ports,
                                       Clock::time_point deadline);
  // Deletes the cluster's rule, if any.
  Task<Result<void>> close_ports(std::string cluster_name, Clock::time_point deadline);
  SkyletReach skylet_reach() const;
  http::Client& node_client() { return options_.node_client ? *options_.node_client : client_; }
  // Deletes the instances (without waiting for them to go); logs what it cannot delete.
  Task<void> discard(std::vector<GceInstance> instances);
  Task<void> discard_strays(std::vector<std::string> tokens);
  // Spot instances seen before and gone now whose zone records a preemption of them.
  Task<void> add_preempted(const std::set<std::string>& listed, std::set<std::string> clusters,
                           std::vector<InstanceStatus>& out);

  asio::any_io_executor executor_;
  GcpProviderOptions options_;
  ApiBase base_;
  std::optional<Error> base_error_;  // the endpoint could not be parsed
  ApiBase tpu_base_;
  std::optional<Error> tpu_base_error_;
  http::Client client_;
  std::unique_ptr<TokenBucket> reads_;
  std::unique_ptr<TokenBucket> writes_;
  AdoptionCensus<GceInstance> census_;  // by launch label
  // Spot instances describe() saw running, by cluster: a preempted one is deleted at once (its
  // termination action), so its absence is checked against the zone's preemption operations.
  struct SeenSpot {
    std::string name;
    std::string zone;
  };
  std::map<std::string, std::vector<SeenSpot>> seen_spot_;
  GcpProviderStats stats_;
};

}  // namespace skyd::providers::gcp
