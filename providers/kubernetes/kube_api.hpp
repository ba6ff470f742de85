#pragma once
// The Kubernetes core/v1 Pod API as pure functions: the pod skyd makes for a node (labels,
// requests and limits, image, the script that starts skylet), pod lists read back, Status error
// objects classified. No sockets here; kube_provider.cpp does the I/O.

#include "providers/node_boot.hpp"
#include "providers/provider.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::kubernetes {

// Labels on every pod skyd makes: a restart finds them with one LIST per namespace.
inline constexpr std::string_view kControllerLabel = "skyd-controller";
inline constexpr std::string_view kClusterLabel = "skyd-cluster";
inline constexpr std::string_view kLaunchLabel = "skyd-launch";
inline constexpr std::string_view kRankLabel = "skyd-rank";
// The cluster's name as skyd knows it (a label value cannot hold every name).
inline constexpr std::string_view kClusterAnnotation = "skyd.dev/cluster";

// The image a node's pod runs unless the task names one (`image_id: docker:IMAGE`): a small
// image that carries skylet at /opt/skyd/bin/skylet.
inline constexpr std::string_view kDefaultImage = "ghcr.io/skyd/skylet:latest";

// A JSON object's string members (labels, annotations, quantities); others are skipped.
std::map<std::string, std::string> string_map(const Json* json);

std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

// `text` as a label value: [A-Za-z0-9._-], starting and ending alphanumeric, at most 63
// characters; a text that had to change gets a short hash of itself.
std::string label_value(std::string_view text);
// The value standing for a launch's token (40 hex characters).
std::string launch_label_for(std::string_view token);
// A pod's name: "<cluster>-<hash of token>-<rank>", a DNS label (63 characters at most).
std::string pod_name_for(std::string_view cluster_name, std::string_view token, int rank);

// The extended resource a GPU is requested as: amd.com/gpu for AMD's Instinct (MI*) GPUs,
// nvidia.com/gpu for the others.
std::string gpu_resource_for(std::string_view accelerator);
// "4", "0.5" as a CPU quantity; memory in GB as "16G".
std::string cpu_quantity(double cpus);
std::string memory_quantity(double gb);

// What one node's pod asks for.
struct PodSpec {
  std::string name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string image;         // the task's container image, or the default
  std::string skylet_image;  // set when `image` lacks skylet: an init container copies it
  double cpus = 0;
  double memory_gb = 0;
  std::string accelerator_name;
  int accelerator_count = 0;
  std::string boot_script;  // /bin/sh -c
  std::uint16_t skylet_port = 0;
  std::vector<VolumeMount> volumes;  // claims mounted in the node's container
  // network_tier: best (kube_fabric.hpp): the fabric's device resources (requested and
  // limited), the capabilities its RDMA needs and its settings in the container's environment.
  std::map<std::string, std::string> fabric_resources;
  std::vector<std::string> capabilities;
  std::map<std::string, std::string> environment;
};
Json pod_manifest(const PodSpec& spec);
// A core/v1 object of `kind` with its metadata and spec.
Json v1_object(const std::string& kind, Json metadata, Json spec);
// An object's metadata: its name, namespace and labels.
Json object_metadata(const std::string& name, const std::string& namespace_,
                     const std::map<std::string, std::string>& labels);

// The script a pod's container runs: writes the token and TLS files, then execs skylet in the
// foreground (the container lives as long as skylet). fakecloud reads it back with
// parse_skylet_boot.
std::string render_pod_boot(const SkyletBoot& boot);

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };
PodPhase parse_phase(std::string_view phase);

// A pod as the API answers it (the fields skyd reads).
struct Pod {
  std::string name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  PodPhase phase = PodPhase::kUnknown;
  std::string pod_ip;
  bool deleting = false;  // metadata.deletionTimestamp is set
  bool ready = false;     // condition Ready=True
  std::string reason;     // status.reason (Evicted, ...) or an Unschedulable condition's
  std::string message;
  bool unschedulable = false;  // PodScheduled=False, reason Unschedulable
};
Result<Pod> parse_pod(const Json& json);
Result<std::vector<Pod>> parse_pod_list(std::string_view json);

// A non-2xx answer as a provider error: its Status object's message and reason (401/403 kAuth,
// "exceeded quota" kQuota, 404 kNotFound, 409 kInvalid, 400/422 kInvalid, 429 kThrottled, 5xx
// kTransient).
Error classify_status(int http_status, std::string_view body);
// The Status object's reason ("AlreadyExists", "NotFound", ...), empty when the body has none.
std::string status_reason(std::string_view body);

// The query of a LIST: labelSelector=k1=v1,k2=v2 (percent-encoded).
std::string pods_path(std::string_view namespace_);
std::string pod_path(std::string_view namespace_, std::string_view name);
std::string selector_query(const std::map<std::string, std::string>& labels);

}  // namespace skyd::providers::kubernetes
