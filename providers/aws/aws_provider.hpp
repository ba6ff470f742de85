#pragma once
// The EC2 provider: a cluster is a set of instances made by one RunInstances call (MinCount =
// MaxCount = nodes, the idempotency token as ClientToken) and tagged skyd-cluster=<name> and
// skyd-controller=<controller id>; each instance boots skylet from its user data. Calls are
// signed with SigV4, rate-limited per region by a token bucket, and retried with backoff on
// throttling and 5xx. Runs on one shard: create it there and call it only from there.

#include "providers/adoption_census.hpp"
#include "providers/aws/aws_auth.hpp"
#include "providers/aws/ec2_api.hpp"
#include "providers/node_files.hpp"
#include "providers/provider.hpp"
#include "providers/skylet_health.hpp"
#include "reactor/backoff.hpp"
#include "reactor/gathered_call.hpp"
#include "reactor/http_client.hpp"
#include "reactor/token_bucket.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace skyd::providers::aws {

// One image per region (an AMI with skylet at /opt/skyd/bin/skylet); overridable per region.
std::map<std::string, std::string> default_images();

class AwsProvider;

struct AwsProviderOptions {
  std::string default_region = "us-east-1";
  // Regions describe() and list_clusters() look in (plus every region launched in).
  std::vector<std::string> regions;
  std::map<std::string, std::string> images = default_images();
  // The root device of an image EC2 resolves from an SSM parameter (DescribeImages cannot name
  // it); an AMI's own is asked for. skyd's skylet image is Debian's, whose root is /dev/xvda.
  std::string image_root_device = "/dev/xvda";
  // Groups every node joins; one of them must let the controller reach skylet_port. Empty: the
  // VPC's default group (which admits traffic from its own members, such as a controller in it).
  std::vector<std::string> security_group_ids;
  // The instance profile (name or ARN) every node gets: its bucket mounts use the profile's role,
  // so no keys travel to a node. Empty: none (nodes then cannot mount private buckets).
  std::string instance_profile;
  // Empty: AWS_ENDPOINT_URL_EC2, then AWS_ENDPOINT_URL, then https://ec2.<region>.amazonaws.com.
  // An override may be http:// (fakecloud).
  std::string endpoint;
  // The Price List service (catalog refresh). Empty: AWS_ENDPOINT_URL_PRICING, then
  // AWS_ENDPOINT_URL, then https://api.pricing.us-east-1.amazonaws.com.
  std::string pricing_endpoint;
  std::string controller_id = "skyd";  // the skyd-controller tag
  std::uint16_t skylet_port = 46590;   // written into user data; where skylet is reached
  // Signs each cluster's skylet certificate; the controller trusts only it when calling nodes.
  // Ed25519, so a cluster's certificate comes out the same on every retry. Keep it across
  // restarts (skyd stores it in its state directory) so adopted nodes still verify; empty: one
  // is made for this provider's lifetime.
  CertifiedKey skylet_authority;
  std::string notice_signal;  // TERM, INT, HUP, USR1 or USR2 sent to tasks on a spot notice
  std::string scratch_dir = "/tmp/skyd-uploads";  // where workdir archives are made to ship
  bool use_public_ip = false;  // reach nodes by ipAddress instead of privateIpAddress
  // Token buckets per region, one for Describe* calls and one for the rest, as EC2 keeps them
  // (its own refill ~20/s).
  double requests_per_second = 20;
  double request_burst = 50;
  BackoffPolicy retry{std::chrono::milliseconds(200), 2.0, std::chrono::seconds(10), 0.2, 8};
  // RunInstances whose answer does not come (a timeout, a 5xx) is tried only this often: then
  // what its ClientToken made is looked up. Throttling is retried as usual.
  int create_tries = 3;
  Duration request_timeout = std::chrono::seconds(20);
  Duration launch_timeout = std::chrono::minutes(10);
  Duration terminate_timeout = std::chrono::minutes(5);
  Duration poll_interval = std::chrono::seconds(2);
  Duration describe_gather = std::chrono::milliseconds(20);   // describe() calls joined into one
  Duration terminate_gather = std::chrono::milliseconds(20);  // terminate() calls joined into one
  int describe_page_size = 1000;
  // How long one describe of this controller's instances answers adoptions after a restart.
  Duration census_lifetime = std::chrono::minutes(1);
  EnvLookup env = process_environment();
  http::ClientOptions client;
  // The client skylet calls go through (health checks, files). The shard's, so the connection a
  // launch's health check opens is the one the task's calls then reuse: one TLS handshake per
  // node, not two. nullptr: the provider's own.
  http::Client* node_client = nullptr;
  // Another shard's provider whose adoption census this one takes its listing from (one
  // DescribeInstances of the controller's instances per region for the whole process, not one
  // per shard), and the executor it runs on. Unset: this provider lists them itself.
  AwsProvider* census_home = nullptr;
  asio::any_io_executor census_home_executor;
};

struct AwsProviderStats {
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;
  std::uint64_t throttled = 0;
};

class AwsProvider final : public Provider {
 public:
  AwsProvider(asio::any_io_executor executor, AwsProviderOptions options);
  ~AwsProvider() override;

  std::string_view name() const override { return "aws"; }
  // Errors: kNoCapacity (zone), kQuota (region), kAuth, kInvalid, kThrottled/kTransient after
  // the retries; a launch that fails after RunInstances terminates what it made.
  Task<Result<Cluster>> launch(LaunchRequest request) override;
  Task<Result<std::vector<InstanceStatus>>> describe(
      std::vector<std::string> cluster_names) override;
  Task<Result<void>> terminate(std::string cluster_name) override;
  Task<Result<std::vector<std::string>>> list_clusters() override;
  // Running machines are taken as DescribeInstances lists them (the census of the controller's
  // instances per region).
  bool adopts_from_the_cloud_alone() const override { return true; }

  // One signed EC2 call (rate-limited, retried); the response body on 2xx.
  Task<Result<std::string>> call(std::string region, QueryParams params);
  // The same, giving up after `transient_tries` failures that may hide a lost answer (0: as
  // `retry` allows).
  Task<Result<std::string>> call(std::string region, QueryParams params, int transient_tries);
  // One signed call to the Price List service (JSON protocol, `AWSPriceListService.<operation>`,
  // signed for us-east-1; rate-limited and retried like EC2 calls): the response body on 2xx.
  Task<Result<std::string>> call_pricing(std::string operation, std::string json_body);
  // Every instance matching the filters in a region, across pages.
  Task<Result<std::vector<Ec2Instance>>> describe_all(std::string region,
                                                      std::vector<Ec2Filter> filters);

  // The name a cluster's skylet certificate carries (and the controller verifies).
  static std::string skylet_tls_name(const std::string& cluster_name);

  // The endpoint a region's calls go to.
  Result<http::Endpoint> endpoint_for(const std::string& region) const;
  const AwsProviderStats& stats() const { return stats_; }

 private:
  // One signed request of either protocol (EC2's Query API or a JSON-protocol service).
  struct SignedCall {
    std::string region;   // signing region, and the rate limiter's bucket
    std::string service;  // signing name: ec2, pricing
    http::Endpoint endpoint;
    std::string action;  // for the rate limiter, logs and errors
    std::string body;
    std::string json_target;  // set: JSON protocol (X-Amz-Target), errors in JSON
  };
  Task<Result<std::string>> send(SignedCall call, int transient_tries);
  struct LaunchWatch;
  Task<Result<std::vector<InstanceStatus>>> describe_now(std::vector<std::string> cluster_names);
  // Terminates every instance of the clusters, waits for them to go, deletes their groups.
  Task<Result<void>> terminate_now(std::vector<std::string> cluster_names);
  Task<void> poll_launches(std::string region, LaunchWatch* watch);
  Task<void> acquire(const std::string& region, const std::string& action);
  Task<Result<std::vector<Ec2Instance>>> wait_running(std::string region,
                                                      std::vector<std::string> ids,
                                                      Clock::time_point deadline);
  SkyletReach skylet_reach() const;
  http::Client& node_client() { return options_.node_client ? *options_.node_client : client_; }
  Task<void> discard(std::string region, std::vector<std::string> ids);
  // The live instances a RunInstances with this ClientToken made in the region, in launch order.
  Task<Result<std::vector<Ec2Instance>>> described_made_by(std::string region,
                                                           std::string client_token);
  Task<Result<std::vector<std::string>>> made_by(std::string region, std::string client_token);
  // The same answer for an adoption, from the region's census of this controller's instances
  // when the token was not sent by this process.
  AdoptionCensus<Ec2Instance>& census_of(const std::string& region);
  // The controller's live instances in `region` as this provider's census lists them (for the
  // censuses of other shards' providers; on this provider's executor).
  Task<Result<std::vector<Ec2Instance>>> controller_instances(std::string region);
  Task<Result<std::vector<Ec2Instance>>> made_before(std::string region, std::string client_token);
  // Image, certificate, disk and groups for a new cluster, then RunInstances: its instance ids.
  Task<Result<std::vector<std::string>>> create_instances(const LaunchRequest& request,
                                                          std::string region, std::string image,
                                                          std::string tls_name,
                                                          std::string client_token);
  // Terminates whatever calls with these tokens made, in every region (lost answers' orphans).
  Task<void> discard_strays(std::vector<std::string> tokens);
  std::vector<std::string> all_regions() const;
  // The cluster's own security group admitting `ports` (found by its name, else made and
  // tagged), with the ingress rules; its id.
  Task<Result<std::string>> open_ports(std::string region, std::string cluster_name,
                                       std::vector<PortRange> ports);
  // The groups of a region matching the filters.
  Task<Result<std::vector<Ec2SecurityGroup>>> security_groups(std::string region,
                                                              std::vector<Ec2Filter> filters);
  // Deletes the clusters' security groups in the region once no instance holds them.
  Task<Result<void>> close_ports(std::string region, std::vector<std::string> cluster_names,
                                 Clock::time_point deadline);
  // The root volume `settings` ask for on `image` (nothing when they ask for none); an unknown
  // AMI is refused by the field's name.
  Task<Result<std::optional<BlockDeviceMapping>>> root_disk(std::string region, std::string image,
                                                            NodeSettings settings);

  asio::any_io_executor executor_;
  AwsProviderOptions options_;
  std::string endpoint_override_;
  http::Client client_;
  CredentialChain credentials_;
  std::map<std::string, std::unique_ptr<TokenBucket>> buckets_;
  std::map<std::string, std::unique_ptr<LaunchWatch>> launch_watches_;  // by region
  // describe() and terminate() calls that come close together, each answered by one round.
  GatheredCall<Result<std::vector<InstanceStatus>>> descriptions_;
  GatheredCall<Result<void>> terminations_;
  std::set<std::string> launched_regions_;
  std::map<std::string, std::unique_ptr<AdoptionCensus<Ec2Instance>>> censuses_;  // by region
  // The first sweep of leaked clusters (at start) takes any listing this process made, whoever
  // asked for it first; a later sweep only one asked for since it began.
  Clock::time_point made_at_ = Clock::now();
  bool swept_ = false;
  AwsProviderStats stats_;
};

}  // namespace skyd::providers::aws
