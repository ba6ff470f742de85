#pragma once
// The one interface every place that runs machines implements (local processes, EC2, ...). It
// speaks the project's own value types; errors are classified once, in the provider, so the
// controller's failover logic never looks at a cloud's error strings.

#include "reactor/error.hpp"
#include "reactor/http_types.hpp"
#include "reactor/identity.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers {

enum class ProviderErrc {
  kNoCapacity = 1,  // this zone (or region) has no such machine now: try the next one
  kQuota,           // the account's limit in this region: try another region
  kThrottled,       // the API asked us to slow down: retry with backoff
  kAuth,            // credentials missing or refused: this cloud cannot be used
  kInvalid,         // the request can never succeed as written
  kTransient,       // a passing fault (5xx, a process that failed to start): retry
  kNotFound,        // no such cluster or instance
};

std::string_view to_string(ProviderErrc code);
const boost::system::error_category& provider_category();
boost::system::error_code make_error_code(ProviderErrc code);
Error make_error(ProviderErrc code, std::string detail);
// True for the classes worth retrying the same call for (throttled, transient).
bool is_retryable(ProviderErrc code);

struct MountRequest {
  // kByNode: skylet mounts or copies a cloud bucket here at each attempt (docs/storage.md); the
  // provider only makes room for it. kCopy and kMount with a bucket: the local provider's
  // directory buckets.
  enum class Mode { kCopy, kMount, kByNode };
  std::string destination;  // on the node: "/checkpoint", "~/data" or "data" (relative to home)
  std::string source;       // a local path to copy (Mode::kCopy), or empty
  std::string bucket;       // a bucket to mount (Mode::kMount) or to copy from
  Mode mode = Mode::kCopy;
};

// `disk_tier`: what the provider makes of the root disk's speed (docs/aws-provider.md).
enum class DiskTier { kLow, kMedium, kHigh, kUltra, kBest };
std::string_view to_string(DiskTier tier);

struct PortRange {
  int first = 0;
  int last = 0;  // inclusive
};

// A PersistentVolumeClaim mounted in each node's pod (the task's `volumes`): only kubernetes
// honours it.
struct VolumeMount {
  std::string path;      // absolute, in the pod
  std::string claim;     // an existing claim in the provider's namespace
  std::string sub_path;  // inside the claim; empty: its root
};

// What the task asks of its nodes beyond their shape. A provider honours each field it is given
// or refuses the launch with kInvalid and a message that names the field: never ignores one.
struct NodeSettings {
  // For the launch's region; empty: the provider's default. `docker:IMAGE` is a container skylet
  // runs the task in (the attempt's container_image) on the provider's default machine image.
  std::string image_id;
  std::optional<int> disk_size_gb;    // the root disk
  std::optional<DiskTier> disk_tier;  // the root disk's speed
  std::vector<PortRange> ports;       // reachable from outside the cluster
  std::map<std::string, std::string> labels;
  // network_tier: best. On EC2 the instance type's EFA interfaces, one per network card (the
  // optimizer chose a type that has them); a provider without such a fabric refuses it.
  bool best_network = false;
  int efa_interfaces = 0;
  // accelerator_args of a TPU: the TPU VM software version (empty: SkyPilot's default for the
  // generation) and the TPU's own name (empty: one made from the cluster's).
  std::string tpu_runtime_version;
  std::string tpu_name;
  std::vector<VolumeMount> volumes;
};

// Whether the task runs in a container image (`image_id: docker:IMAGE`) on the provider's own
// machine image; and the machine image the settings name otherwise (empty: the provider's).
inline bool wants_container(const NodeSettings& settings) {
  return settings.image_id.starts_with("docker:");
}
inline std::string machine_image(const NodeSettings& settings) {
  return wants_container(settings) ? std::string() : settings.image_id;
}

// kInvalid naming the first volume when `settings` has volumes: a provider whose nodes are not
// pods cannot mount a PersistentVolumeClaim.
Result<void> refuse_volumes(const NodeSettings& settings, std::string_view cloud);

struct LaunchRequest {
  std::string cluster_name;
  int nodes = 1;
  std::string instance_type;
  // The GPUs the candidate has: a cloud whose machine types do not carry them (GCP's N1) attaches
  // them itself. Empty: none.
  std::string accelerator_name;
  int accelerator_count = 0;
  std::string region;
  std::string zone;
  bool use_spot = false;
  std::string idempotency_token;  // the same token never creates a second cluster
  // An earlier call with this token may have made machines whose answer never came (a crash, a
  // lost answer): the provider looks for what the token made before anything else.
  bool token_may_exist = false;
  // The task runs on those machines already (skyd restarted and re-attaches): machines found
  // running as listed are taken as they are, with no wait, no health check and no files shipped;
  // the runner's re-attachment asks each node itself.
  bool task_running = false;
  // Tokens of earlier calls for this cluster whose answers were lost: whatever they made is not
  // this cluster's, and goes once the cluster stands.
  std::vector<std::string> stray_tokens;
  std::map<std::string, std::string> tags;  // job, task, attempt, controller
  std::string skylet_token;                 // the per-cluster bearer token skylet requires
  std::string workdir_snapshot;  // a directory copied to each node's workdir; empty: none
  // Whose the machines' files are, where the provider makes them on this host (local): the
  // sandbox is theirs alone. Empty: skyd's own.
  std::optional<UserIdentity> owner;
  std::vector<MountRequest> mounts;
  NodeSettings settings;
};

struct Node {
  std::string instance_id;
  int rank = 0;
  std::string ip;         // what SKYPILOT_NODE_IPS lists
  http::Endpoint skylet;  // where the controller reaches this node's skylet
  std::string workdir;    // the task's working directory on the node
};

struct Cluster {
  std::string name;
  std::string cloud;
  std::string region;
  std::string zone;
  std::string instance_type;
  bool use_spot = false;
  std::vector<Node> nodes;
};

enum class InstanceState { kPending, kRunning, kShuttingDown, kTerminated };
std::string_view to_string(InstanceState state);

struct InstanceStatus {
  std::string instance_id;
  std::string cluster_name;
  InstanceState state = InstanceState::kRunning;
  bool preempted = false;  // the provider took it away (spot reclaim), not the user's task
  std::string reason;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;

  // Starts the cluster's machines and returns once every node's skylet answers. A request whose
  // idempotency token already made this cluster returns that cluster instead of a second one.
  virtual Task<Result<Cluster>> launch(LaunchRequest request) = 0;
  // Every instance of the named clusters (one call covers many clusters). Unknown clusters are
  // simply absent from the answer.
  virtual Task<Result<std::vector<InstanceStatus>>> describe(
      std::vector<std::string> cluster_names) = 0;
  // Stops every machine of the cluster and removes what it left; succeeds if nothing is left.
  virtual Task<Result<void>> terminate(std::string cluster_name) = 0;
  // Every cluster this provider holds (for the sweep that finds leaks).
  virtual Task<Result<std::vector<std::string>>> list_clusters() = 0;
  // Whether launch() with task_running, for machines the cloud lists running, only asks the
  // cloud (one answer shared by many launches): no node asked, no file shipped, nothing made or
  // removed. A restarted skyd then adopts such tasks at once rather than a slot at a time.
  virtual bool adopts_from_the_cloud_alone() const { return false; }
};

}  // namespace skyd::providers

template <>
struct boost::system::is_error_code_enum<skyd::providers::ProviderErrc> : std::true_type {};
