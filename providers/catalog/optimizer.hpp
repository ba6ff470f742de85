#pragma once
// The optimizer: turns resource requests into priced, ordered placement candidates.
// It speaks its own request vocabulary (ResourceRequest) so that providers never depend on the
// task spec; the spec library converts its parsed resources into these types.

#include "providers/catalog/catalog.hpp"
#include "providers/catalog/node_fields.hpp"
#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::catalog {

// A vCPU or memory amount: exact ("4"), at least ("4+"), and for memory optionally relative to
// the instance's vCPUs ("4x" = 4 GB per vCPU).
struct Quantity {
  double value = 0;
  bool at_least = false;
  bool per_vcpu = false;

  friend bool operator==(const Quantity&, const Quantity&) = default;
};

// "4", "4+", "16x", "2.5+" — the form users write.
std::string to_string(const Quantity& quantity);

struct AcceleratorRequest {
  std::string name;
  double count = 1;

  friend bool operator==(const AcceleratorRequest&, const AcceleratorRequest&) = default;
};

// "V100:2" (count omitted when 1 is not what was asked is never ambiguous: always printed).
std::string to_string(const AcceleratorRequest& accelerator);

// One way to run a task's node. Unset fields are unconstrained.
struct ResourceRequest {
  std::optional<std::string> cloud;
  std::optional<std::string> region;
  std::optional<std::string> zone;
  std::optional<std::string> instance_type;
  std::optional<Quantity> cpus;
  std::optional<Quantity> memory;  // GB
  std::optional<AcceleratorRequest> accelerator;
  bool use_spot = false;
  // Only instances whose known price (spot with use_spot, else on demand) is at most this, $/h:
  // an unknown price cannot be shown to fit.
  std::optional<double> max_hourly_cost;
  NodeFields node_fields;  // only clouds that honour them are candidates

  friend bool operator==(const ResourceRequest&, const ResourceRequest&) = default;
};

// A task's alternatives. Unordered: every candidate competes on price. Ordered: the first
// request's candidates come first (each request's own candidates cheapest-first).
struct PlanRequest {
  std::vector<ResourceRequest> options;
  bool ordered = false;
  int num_nodes = 1;
  // Kubernetes is enabled (skyd has a kubernetes provider): an option that names no cloud,
  // region, zone or instance type gets a kubernetes candidate too, as SkyPilot offers an enabled
  // cluster. Off: kubernetes only when an option names it.
  bool kubernetes_by_default = false;
};

// Failover exclusions: a zone, a region, or a whole cloud (unset fields match everything).
struct BlockedLocation {
  std::string cloud;
  std::optional<std::string> region;
  std::optional<std::string> zone;
};
using Blocklist = std::vector<BlockedLocation>;

struct Candidate {
  std::size_t option_index = 0;  // which PlanRequest option it satisfies
  std::string cloud;
  std::string instance_type;
  std::string region;
  std::string zone;
  double vcpus = 0;
  double memory_gb = 0;
  std::string accelerator_name;  // empty: none
  double accelerator_count = 0;
  bool use_spot = false;
  std::optional<double> node_price;  // $/hour for one node; empty: the catalog does not know
  int num_nodes = 1;
  int efa_interfaces = 0;  // network_tier: best on EC2: the type's EFA interfaces, all attached

  std::optional<double> hourly_cost() const {
    if (!node_price) return std::nullopt;
    return *node_price * num_nodes;
  }
};

// The clouds the optimizer considers when a request names none: every catalog cloud except
// `local`, which is only used when asked for (it runs tasks on this machine).
std::vector<std::string> default_clouds(const Catalog& catalog);

// Validates the names in a request against the catalog (unknown cloud, region, zone, instance
// type or accelerator), with a "did you mean" hint. Returns kUnknownName on failure.
Result<void> validate_request(const Catalog& catalog, const ResourceRequest& request);

// Every offering satisfying some option, priced for num_nodes, best first (see PlanRequest), one
// per (option, instance type, zone, spot). Within an option's rank, priced candidates come
// cheapest first and those whose price is unknown after all of them (smallest shape first). Errors:
// kUnknownName, kInfeasible (why: "no instance type in aws/us-east-1 has 16×H100"), kAllBlocked.
Result<std::vector<Candidate>> plan(const Catalog& catalog, const PlanRequest& request,
                                    const Blocklist& blocklist = {});

// Whether a Compute Engine machine type takes Tier_1 networking (network_tier: best): N2, N2D, C2,
// C2D and C3 machines of 30 or more vCPUs (Google's "Configure per VM Tier_1 networking
// performance").
bool gce_tier1_capable(std::string_view machine_type, double vcpus);

}  // namespace skyd::catalog
