#pragma once
// The Compute Engine API v1 as pure functions: build the JSON bodies and paths of the calls skyd
// makes, read instances, lists and operations, and classify errors. No sockets here, so every
// mapping is unit-tested against recorded payloads; gcp_provider.cpp does the I/O.

#include "providers/node_boot.hpp"
#include "providers/provider.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::gcp {

// Labels the provider puts on every instance it makes.
inline constexpr std::string_view kClusterLabel = "skyd-cluster";
inline constexpr std::string_view kControllerLabel = "skyd-controller";
// A hash of the launch's idempotency token: what a call whose answer was lost made is found by it
// (EC2 has `client-token` for this; Compute Engine has only labels).
inline constexpr std::string_view kLaunchLabel = "skyd-launch";

// The VPC network the instances and their firewall rules are on.
inline constexpr std::string_view kDefaultNetwork = "global/networks/default";

// Where calls go: scheme, host and port (`origin`) and the API's path ("/compute/v1").
struct ApiBase {
  std::string origin;
  std::string path;
};
// "https://compute.googleapis.com" (path defaults to /compute/v1) or a full override such as
// CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE's "https://host/compute/v1/".
Result<ApiBase> parse_api_base(std::string_view url);

// A name-based UUID (version 5 layout) from a SHA-256 of `token`: Compute Engine's requestId must
// be a UUID, and the same token must give the same one on every retry and after a restart.
std::string request_id_for(std::string_view token);
// The label value standing for a launch's token (40 hex characters).
std::string launch_label_for(std::string_view token);
// The instances' name prefix: the cluster's name made a valid instance name, with a short hash
// of the token so two calls for one cluster never collide; bulkInsert appends "-####".
std::string name_prefix_for(std::string_view cluster_name, std::string_view token);
// `text` as a label value: lowercase letters, digits, '-' and '_' only (others become '-'), at
// most 63 characters.
std::string label_value(std::string_view text);

// The boot disk's type for a `disk_tier` on a machine type, as SkyPilot maps tiers on GCP: low
// pd-standard, medium pd-balanced, high pd-ssd, ultra (and best) pd-extreme; series without
// pd-extreme (n1, a2, g2, n2 below 64 vCPUs) get pd-ssd, series without pd-standard (a3, g2)
// get pd-balanced, and a3's ultra is hyperdisk-balanced.
std::string disk_type_for(DiskTier tier, std::string_view machine_type);
// pd-extreme's provisioned IOPS (SkyPilot's 20,000); nothing for the other types.
std::optional<int> provisioned_iops_for(std::string_view disk_type);

// The acceleratorType name of a catalog GPU ("T4" -> "nvidia-tesla-t4"); nothing when unknown.
std::optional<std::string> accelerator_type_for(std::string_view gpu);
// A2, A3 and G2 machine types carry their GPUs: no guestAccelerators are sent for them.
bool has_builtin_gpus(std::string_view machine_type);

// A reason naming the label when `labels` cannot be labels on an instance
// (catalog::gce_label_refusal, which the optimizer applies too).
Result<void> check_labels(const std::map<std::string, std::string>& labels);
// What Compute Engine nodes cannot do, refused by the field's name: a port range outside
// 1..65535, an image that is not an image path (a `docker:` image runs on the default one);
// labels as above; a disk size outside 10..65,536 GB.
Result<void> check_node_settings(const NodeSettings& settings);

// What one bulkInsert asks for.
struct InstanceSpec {
  std::string zone;
  std::string machine_type;  // "n1-standard-4"
  std::string source_image;  // "projects/p/global/images/family/f", "global/images/x", a URL
  std::optional<int> disk_size_gb;
  std::string disk_type;  // empty: the zone's default (pd-standard)
  std::optional<int> provisioned_iops;
  bool spot = false;
  std::string accelerator_type;  // empty: none
  int accelerator_count = 0;
  std::map<std::string, std::string> labels;
  std::string startup_script;
  bool public_ip = false;  // an ONE_TO_ONE_NAT access config
  std::string network = std::string(kDefaultNetwork);
  std::string service_account;            // email; empty: none (the nodes make no cloud calls)
  std::vector<std::string> network_tags;  // tags.items: what firewall rules target
  // network_tier: best: Tier_1 networking (networkPerformanceConfig), which needs the gVNIC
  // driver on the interface.
  bool tier1_network = false;
};
// instanceProperties of a bulkInsert (names, not URLs, as that field takes them).
Json instance_properties(const InstanceSpec& spec);
// The whole bulkInsert body: count = minCount = `count` (all or nothing), namePattern
// "<prefix>-####".
Json bulk_insert_body(const InstanceSpec& spec, int count, std::string_view name_prefix);

// The name of a cluster's firewall rule for its `ports`, which is also the network tag its
// instances carry and the rule targets: "skyd-ports-<cluster>" (as SkyPilot's
// "sky-ports-<cluster>"), made a valid resource name; a cluster name that had to change, or is too
// long, gets a short hash of itself so two clusters never share a rule.
std::string ports_rule_name(std::string_view cluster_name);
// The description the rule carries: how list_clusters finds the cluster a left-over rule is of.
std::string ports_rule_description(std::string_view controller_id, std::string_view cluster_name);
// The cluster a rule's description names when this controller made it; empty otherwise.
std::string cluster_of_ports_rule(std::string_view description, std::string_view controller_id);
// firewalls.insert's body: an INGRESS rule on `network` allowing TCP on each range ("8080",
// "9000-9010"; overlapping and adjacent ranges merged) from 0.0.0.0/0 to instances tagged `name`.
Json firewall_body(std::string_view name, std::string_view network,
                   const std::vector<PortRange>& ports, std::string_view description);
// A firewall rule as Compute Engine answers it (the fields skyd reads).
struct GceFirewall {
  std::string name;
  std::string description;
  std::vector<std::string> target_tags;
  std::vector<std::string> tcp_ports;  // allowed[].ports of the tcp entries
};
Result<GceFirewall> parse_firewall(std::string_view json);
struct FirewallPage {
  std::vector<GceFirewall> firewalls;
  std::string next_page_token;
};
Result<FirewallPage> parse_firewall_list(std::string_view json);

// Paths below the API base.
std::string firewalls_path(std::string_view project);                        // insert
std::string firewall_path(std::string_view project, std::string_view name);  // get, delete
// `filter` and `page_token` may be empty.
std::string firewall_list_path(std::string_view project, std::string_view filter,
                               std::string_view page_token);
std::string global_operation_wait_path(std::string_view project, std::string_view operation);
std::string zone_path(std::string_view project, std::string_view zone);
std::string bulk_insert_path(std::string_view project, std::string_view zone,
                             std::string_view request_id);
std::string instance_path(std::string_view project, std::string_view zone, std::string_view name);
// `filter` and `page_token` may be empty.
std::string list_path(std::string_view project, std::string_view zone, std::string_view filter,
                      int max_results, std::string_view page_token);
std::string aggregated_list_path(std::string_view project, std::string_view filter, int max_results,
                                 std::string_view page_token);
std::string operation_wait_path(std::string_view project, std::string_view zone,
                                std::string_view operation);
std::string operations_list_path(std::string_view project, std::string_view zone,
                                 std::string_view filter, std::string_view page_token);
// "labels.k=v AND labels.k2=v2"; one key with several values: "(labels.k=a OR labels.k=b)".
std::string label_filter(const std::vector<std::pair<std::string, std::vector<std::string>>>& by);
// The last segment of a resource URL ("…/zones/us-central1-a" -> "us-central1-a").
std::string last_segment(std::string_view url);
// A zone's region ("us-central1-a" -> "us-central1").
std::string region_of_zone(std::string_view zone);

// --- parsed responses ---

struct GceInstance {
  std::string name;
  std::string id;
  std::string zone;          // the zone's name
  std::string machine_type;  // the type's name
  std::string status;        // PROVISIONING, STAGING, RUNNING, STOPPING, SUSPENDED, TERMINATED
  std::string status_message;
  std::map<std::string, std::string> labels;
  std::string private_ip;
  std::string public_ip;
  std::string provisioning_model;  // SPOT or STANDARD
  std::string creation_timestamp;

  std::string label(std::string_view key) const;
};
struct InstancePage {
  std::vector<GceInstance> instances;
  std::string next_page_token;
};
struct OperationError {
  std::string code;  // ZONE_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED, ...
  std::string message;
};
struct GceOperation {
  std::string name;
  std::string zone;
  std::string operation_type;
  std::string status;  // PENDING, RUNNING, DONE
  std::string target_link;
  std::string status_message;
  int http_error_status = 0;
  std::vector<OperationError> errors;

  bool done() const { return status == "DONE"; }
};
struct OperationPage {
  std::vector<GceOperation> operations;
  std::string next_page_token;
};

Result<GceInstance> parse_instance(std::string_view json);
Result<InstancePage> parse_instance_list(std::string_view json);
// aggregated/instances: every zone's instances in one page.
Result<InstancePage> parse_aggregated_list(std::string_view json);
Result<GceOperation> parse_operation(std::string_view json);
Result<OperationPage> parse_operation_list(std::string_view json);

struct GceError {
  int http_status = 0;
  std::string reason;  // errors[0].reason: rateLimitExceeded, quotaExceeded, notFound, ...
  std::string status;  // RESOURCE_EXHAUSTED, UNAUTHENTICATED, ...
  std::string message;
};
// The error of a non-2xx response; a body that is not Google's envelope (a proxy's page) gives
// only the status and the start of the body.
GceError parse_error(int http_status, std::string_view body);

// The one place Compute Engine's error reasons and codes become ProviderErrc (HTTP errors and
// operation errors alike).
ProviderErrc classify_error(int http_status, std::string_view reason, std::string_view status);
Error to_error(const GceError& error, std::string_view action);
// A DONE operation's error (capacity and quota failures come this way, not as HTTP errors); the
// worst class among its errors decides.
Error operation_error(const GceOperation& operation);
using providers::is_retryable;

// The provider's view of an instance; a spot instance stopping or terminated with a status
// message that names preemption is `preempted`.
InstanceStatus to_instance_status(const GceInstance& instance);
InstanceState instance_state_of(std::string_view status);

}  // namespace skyd::providers::gcp
