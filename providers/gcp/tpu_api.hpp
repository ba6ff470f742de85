#pragma once
// The Cloud TPU API v2 (tpu.googleapis.com/v2) as pure functions: the paths and bodies of the
// calls skyd makes (nodes create, get, list, delete; long-running operations get), reading
// nodes, lists and operations, and classifying its errors. A cluster on TPUs is one TPU VM node
// (a slice) whose hosts (networkEndpoints, in worker order) are the cluster's nodes, as SkyPilot
// runs a pod: each host one node with its own rank. gcp_provider.cpp does the I/O with the same
// authenticated, paced client as Compute Engine.

#include "providers/gcp/gce_api.hpp"
#include "providers/provider.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::gcp {

// What one nodes.create asks for.
struct TpuNodeSpec {
  std::string accelerator_type;  // the API's name: "v5litepod-8"
  std::string runtime_version;   // the TPU VM software: "tpu-vm-base", "v2-alpha-tpuv6e"
  bool spot = false;             // schedulingConfig.spot
  std::map<std::string, std::string> labels;
  std::string startup_script;  // metadata["startup-script"], run by every host
  std::string network = std::string(kDefaultNetwork);
  bool external_ips = false;    // networkConfig.enableExternalIps
  std::string service_account;  // email; empty: none
};
Json tpu_node_body(const TpuNodeSpec& spec);

// Where TPU calls go: "https://tpu.googleapis.com" (path /v2) or an override such as
// CLOUDSDK_API_ENDPOINT_OVERRIDES_TPU's "http://127.0.0.1:port/v2/".
Result<ApiBase> parse_tpu_api_base(std::string_view url);

// Paths below the API base. `zone` may be "-" (every location) for a list.
std::string tpu_nodes_path(std::string_view project, std::string_view zone);
std::string tpu_create_path(std::string_view project, std::string_view zone,
                            std::string_view node_id, std::string_view request_id);
std::string tpu_node_path(std::string_view project, std::string_view zone,
                          std::string_view node_id);
std::string tpu_list_path(std::string_view project, std::string_view zone, int page_size,
                          std::string_view page_token);
// An operation's path from its full name ("projects/p/locations/z/operations/operation-1").
std::string tpu_operation_path(std::string_view operation_name);

// The TPU's node id for a cluster's launch: the cluster's name made a valid id (lowercase
// letters, digits and '-', a letter first, at most 40 characters) with a short hash of the token,
// so two launches of one cluster never collide; `tpu_name` (accelerator_args) when given.
std::string tpu_node_id_for(std::string_view cluster_name, std::string_view token,
                            std::string_view tpu_name);

struct TpuEndpoint {
  std::string ip;           // ipAddress (the VPC address)
  std::string external_ip;  // accessConfig.externalIp, when the node has one
};
struct TpuNode {
  std::string name;  // the full name: projects/p/locations/z/nodes/id
  std::string id;    // the last segment
  std::string zone;
  std::string accelerator_type;
  std::string state;   // CREATING, READY, RESTARTING, REPAIRING, PREEMPTED, DELETING, ...
  std::string health;  // HEALTHY, UNHEALTHY_MAINTENANCE, ...
  std::string health_description;
  bool spot = false;  // schedulingConfig.spot or .preemptible
  std::map<std::string, std::string> labels;
  std::vector<TpuEndpoint> endpoints;  // one per host, in worker order

  std::string label(std::string_view key) const;
};
struct TpuNodePage {
  std::vector<TpuNode> nodes;
  std::string next_page_token;
};
// google.longrunning.Operation.
struct TpuOperation {
  std::string name;
  bool done = false;
  int error_code = 0;  // google.rpc.Code: 8 RESOURCE_EXHAUSTED, 6 ALREADY_EXISTS, ...
  std::string error_message;
};

Result<TpuNode> parse_tpu_node(std::string_view json);
Result<TpuNodePage> parse_tpu_node_list(std::string_view json);
Result<TpuOperation> parse_tpu_operation(std::string_view json);

// The one place the TPU API's errors become ProviderErrc. RESOURCE_EXHAUSTED (HTTP 429, or code
// 8 in an operation) is quota when its message names a quota, else the zone has no capacity;
// ALREADY_EXISTS (409) is kInvalid for the caller to resolve.
ProviderErrc classify_tpu_error(int http_status, std::string_view status, std::string_view message);
Error tpu_error(int http_status, std::string_view body, std::string_view action);
Error tpu_operation_error(const TpuOperation& operation);

// The provider's view of one host of a node (instance_id "<node id>/w-<worker>"): READY runs,
// CREATING/STARTING/RESTARTING/REPAIRING are pending, PREEMPTED is gone and preempted, the rest
// shutting down or gone.
InstanceState tpu_state_of(std::string_view state);
std::vector<InstanceStatus> to_instance_statuses(const TpuNode& node);

}  // namespace skyd::providers::gcp
