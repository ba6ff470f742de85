#include "providers/kubernetes/kube_fabric.hpp"

#include "providers/kubernetes/kube_api.hpp"
#include "providers/provider.hpp"
#include "reactor/json.hpp"

#include <algorithm>
#include <charconv>

namespace skyd::providers::kubernetes {
namespace {

bool has_label_under(const KubeNode& node, std::string_view prefix) {
  return std::any_of(node.labels.begin(), node.labels.end(),
                     [&](const auto& label) { return label.first.starts_with(prefix); });
}

// A whole-number quantity ("4"); 0 when absent or not one.
int count_of(const std::map<std::string, std::string>& quantities, const std::string& resource) {
  const auto found = quantities.find(resource);
  if (found == quantities.end()) return 0;
  int count = 0;
  const auto& text = found->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  return error == std::errc() && end == text.data() + text.size() ? count : 0;
}

// A std::string made once: the nodes' quantities are looked up by it.
const std::string& efa_resource() {
  static const std::string name = "vpc.amazonaws.com/efa";
  return name;
}

Fabric fabric_of(const KubeNode& node) {
  if (has_label_under(node, "nebius.com/")) return Fabric::kNebiusInfiniband;
  if (has_label_under(node, "ib.coreweave.cloud/")) return Fabric::kCoreWeaveInfiniband;
  if (has_label_under(node, "node-role.together.ai/")) return Fabric::kTogetherInfiniband;
  const bool on_eks = has_label_under(node, "topology.k8s.aws/") ||
                      has_label_under(node, "k8s.io/cloud-provider-aws") ||
                      has_label_under(node, "topology.ebs.csi.aws.com");
  if (on_eks && count_of(node.allocatable, efa_resource()) > 0) return Fabric::kAwsEfa;
  if (const auto family = node.labels.find("cloud.google.com/machine-family");
      family != node.labels.end() && (family->second == "a3" || family->second == "a4"))
    return Fabric::kGkeGpuDirect;
  return Fabric::kNone;
}

// NCCL and UCX over the node's eight Mellanox InfiniBand ports (Nebius, Together).
std::map<std::string, std::string> mellanox_environment() {
  return {{"NCCL_IB_HCA", "mlx5"},
          {"UCX_NET_DEVICES",
           "mlx5_0:1,mlx5_1:1,mlx5_2:1,mlx5_3:1,mlx5_4:1,mlx5_5:1,mlx5_6:1,mlx5_7:1"}};
}

}  // namespace

Result<std::vector<KubeNode>> parse_node_list(std::string_view text) {
  auto json = parse_json(text);
  if (!json) return make_error(ProviderErrc::kTransient, "a node list that is not JSON");
  if (string_at(*json, "kind") != "NodeList")
    return make_error(ProviderErrc::kTransient,
                      "expected kind NodeList, got `" + string_at(*json, "kind") + "`");
  std::vector<KubeNode> nodes;
  if (const Json* items = json->find("items"); items && items->as_array()) {
    for (const auto& item : *items->as_array()) {
      KubeNode node;
      if (const Json* metadata = item.find("metadata")) {
        node.name = string_at(*metadata, "name");
        node.labels = string_map(metadata->find("labels"));
      }
      if (const Json* status = item.find("status"))
        node.allocatable = string_map(status->find("allocatable"));
      nodes.push_back(std::move(node));
    }
  }
  return nodes;
}

std::string_view to_string(Fabric fabric) {
  switch (fabric) {
    case Fabric::kNone:
      return "none";
    case Fabric::kNebiusInfiniband:
      return "Nebius InfiniBand";
    case Fabric::kCoreWeaveInfiniband:
      return "CoreWeave InfiniBand";
    case Fabric::kTogetherInfiniband:
      return "Together AI InfiniBand";
    case Fabric::kAwsEfa:
      return "AWS EFA";
    case Fabric::kGkeGpuDirect:
      return "GKE GPUDirect";
  }
  return "none";
}

FoundFabric find_fabric(const std::vector<KubeNode>& nodes) {
  for (const auto& node : nodes) {
    const Fabric fabric = fabric_of(node);
    if (fabric == Fabric::kNone) continue;
    FoundFabric found{fabric, node.name, 0};
    if (fabric == Fabric::kAwsEfa) {
      found.efa_per_node = count_of(node.allocatable, efa_resource());
      found.gpus_per_node = count_of(node.allocatable, "nvidia.com/gpu");
    }
    return found;
  }
  return {};
}

Result<FabricPod> fabric_pod(const FoundFabric& found, int gpus, std::string_view context) {
  FabricPod pod;
  // RDMA pins memory: every fabric's pod may lock it.
  pod.capabilities = {"IPC_LOCK"};
  switch (found.fabric) {
    case Fabric::kNone:
      return make_error(
          ProviderErrc::kInvalid,
          "resources.network_tier: best: no node of kubernetes context `" + std::string(context) +
              "` has a fabric skyd attaches pods to (InfiniBand on Nebius, CoreWeave or Together "
              "AI nodes, or EFA on EKS nodes with vpc.amazonaws.com/efa); use "
              "network_tier: standard there");
    case Fabric::kGkeGpuDirect:
      return make_error(ProviderErrc::kInvalid,
                        "resources.network_tier: best: node " + found.node +
                            " is a GKE A3/A4 machine, whose GPUDirect fabric needs sidecars and "
                            "the host's driver paths, which skyd does not add to pods; use "
                            "network_tier: standard there");
    case Fabric::kNebiusInfiniband:
      pod.environment = mellanox_environment();
      break;
    case Fabric::kCoreWeaveInfiniband:
      pod.resources = {{"rdma/ib", "1"}};
      pod.environment = {{"NCCL_SOCKET_IFNAME", "eth0"},
                         {"NCCL_IB_HCA", "ibp"},
                         {"UCX_TLS", "tcp"},
                         {"UCX_NET_DEVICES", "eth0"}};
      break;
    case Fabric::kTogetherInfiniband:
      // One InfiniBand port per GPU.
      if (gpus > 0) pod.resources = {{"nvidia.com/rdma_ib", std::to_string(gpus)}};
      pod.environment = mellanox_environment();
      break;
    case Fabric::kAwsEfa: {
      // A pod with part of a node's GPUs takes its share of the node's EFA interfaces.
      int interfaces = found.efa_per_node;
      if (gpus > 0 && found.gpus_per_node > 0)
        interfaces =
            std::clamp(gpus * found.efa_per_node / found.gpus_per_node, 1, found.efa_per_node);
      pod.resources = {{efa_resource(), std::to_string(interfaces)}};
      pod.environment = {{"FI_PROVIDER", "efa"}};
      break;
    }
  }
  return pod;
}

}  // namespace skyd::providers::kubernetes
