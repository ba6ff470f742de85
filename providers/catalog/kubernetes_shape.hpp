#pragma once
// Kubernetes in the optimizer: a cluster has no catalog of machine types and no prices, so a
// request for `kubernetes` (infra: k8s[/CONTEXT], cloud: kubernetes) is turned into the one pod
// shape it asks for, named as SkyPilot names it: "<cpus>CPU--<memory>GB", with
// "--<ACCELERATOR>:<count>" when it asks for GPUs (docs/kubernetes-provider.md).

#include "providers/catalog/optimizer.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace skyd::catalog {

inline constexpr std::string_view kKubernetesCloud = "kubernetes";

// "kubernetes" for the names SkyPilot users write (`k8s`, `kubernetes`, any case); else nullopt.
std::optional<std::string> kubernetes_cloud_name(std::string_view name);

// A pod's requests: what the resource request asks for, at its minimum ("4+" → 4). Without
// cpus: 2; without memory: 2 GB per vCPU.
struct PodShape {
  double cpus = 2;
  double memory_gb = 4;
  std::string accelerator_name;  // empty: none
  int accelerator_count = 0;
};

// "4CPU--16GB", "8CPU--64GB--H100:8".
std::string pod_instance_type(const PodShape& shape);
// The shape an instance type names; nullopt when it is not of that form.
std::optional<PodShape> parse_pod_instance_type(std::string_view instance_type);

// The pod shape for a request naming `kubernetes`, or why it cannot be one (an instance type not
// of the form above, spot, a fractional GPU count).
Result<PodShape> pod_shape(const ResourceRequest& request);

// The single candidate for a request naming `kubernetes`: its context (the request's region;
// empty: the kubeconfig's current context) and price 0 (a cluster's pods cost skyd nothing it
// could compare).
Result<Candidate> kubernetes_candidate(const ResourceRequest& request, std::size_t option_index,
                                       int num_nodes);

}  // namespace skyd::catalog
