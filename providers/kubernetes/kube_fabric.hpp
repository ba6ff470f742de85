#pragma once
// `network_tier: best` on Kubernetes: which fast fabric a cluster's nodes have, read from their
// labels and allocatable resources as SkyPilot reads them, and what a pod then asks for to use
// it (IPC_LOCK for pinned RDMA memory, the fabric's device resource, NCCL's and UCX's
// settings). Pure functions; kube_provider.cpp lists the nodes.

#include "reactor/error.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::kubernetes {

// A node as GET /api/v1/nodes answers it (the fields the fabric is read from).
struct KubeNode {
  std::string name;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> allocatable;  // status.allocatable: resource -> quantity
};
Result<std::vector<KubeNode>> parse_node_list(std::string_view json);

enum class Fabric {
  kNone,
  kNebiusInfiniband,     // a label under nebius.com/
  kCoreWeaveInfiniband,  // a label under ib.coreweave.cloud/
  kTogetherInfiniband,   // a label under node-role.together.ai/
  kAwsEfa,               // an EKS node (topology.k8s.aws/...) with vpc.amazonaws.com/efa
  kGkeGpuDirect,         // GKE's A3/A4 machines: GPUDirect-TCPX, TCPXO or RDMA
};
std::string_view to_string(Fabric fabric);

// The fabric of the first node that has one (a cluster is one kind of machines).
struct FoundFabric {
  Fabric fabric = Fabric::kNone;
  std::string node;       // the node it was read from
  int efa_per_node = 0;   // kAwsEfa: the node's allocatable vpc.amazonaws.com/efa
  int gpus_per_node = 0;  // kAwsEfa: its allocatable nvidia.com/gpu
};
FoundFabric find_fabric(const std::vector<KubeNode>& nodes);

// What a node's pod adds to use the fabric.
struct FabricPod {
  std::vector<std::string> capabilities;           // securityContext.capabilities.add
  std::map<std::string, std::string> resources;    // requested and limited, as quantities
  std::map<std::string, std::string> environment;  // the container's (skylet's, the task's)
};
// The pod's additions for `found`, or the refusal naming network_tier when skyd cannot use it:
// no fabric at all (`context` names where none was found), or GKE's GPUDirect (sidecars and the
// host's driver paths skyd does not make). `gpus`: the GPUs the pod asks for.
Result<FabricPod> fabric_pod(const FoundFabric& found, int gpus, std::string_view context);

}  // namespace skyd::providers::kubernetes
