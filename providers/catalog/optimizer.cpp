#include "providers/catalog/optimizer.hpp"

#include "providers/catalog/catalog_error.hpp"
#include "providers/catalog/kubernetes_shape.hpp"
#include "providers/catalog/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

namespace skyd::catalog {
namespace {

constexpr std::string_view kLocalCloud = "local";
// SkyPilot's default node when a request names no shape at all: 8+ vCPUs, 4 GB per vCPU.
constexpr Quantity kDefaultCpus{8, true, false};
constexpr Quantity kDefaultMemory{4, true, true};
constexpr double kEpsilon = 1e-9;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

bool quantity_fits(const Quantity& quantity, double available, double vcpus) {
  const double wanted = quantity.per_vcpu ? quantity.value * vcpus : quantity.value;
  if (quantity.at_least) return available + kEpsilon >= wanted;
  return std::fabs(available - wanted) < kEpsilon;
}

bool names_no_shape(const ResourceRequest& request) {
  return !request.instance_type && !request.cpus && !request.memory && !request.accelerator;
}

bool cloud_considered(const ResourceRequest& request, const Offering& offering) {
  if (request.cloud) return offering.cloud == *request.cloud;
  return offering.cloud != kLocalCloud;
}

bool location_fits(const ResourceRequest& request, const Offering& offering) {
  return cloud_considered(request, offering) &&
         (!request.region || offering.region == *request.region) &&
         (!request.zone || offering.zone == *request.zone);
}

bool accelerator_fits(const ResourceRequest& request, const Offering& offering) {
  if (!request.accelerator) {
    // GPU machines are only chosen for a GPU request, or when named explicitly.
    return !offering.has_accelerator() || request.instance_type.has_value();
  }
  if (!iequals(offering.accelerator_name, request.accelerator->name)) return false;
  // A fractional request (0.5 of a GPU) is served by a one-GPU machine.
  const double count = std::max(request.accelerator->count, 1.0);
  return std::fabs(offering.accelerator_count - count) < kEpsilon;
}

bool shape_fits(const ResourceRequest& request, const Offering& offering) {
  if (request.instance_type && offering.instance_type != *request.instance_type) return false;
  if (!accelerator_fits(request, offering)) return false;
  std::optional<Quantity> cpus = request.cpus;
  std::optional<Quantity> memory = request.memory;
  if (names_no_shape(request) && offering.cloud != kLocalCloud) {
    cpus = kDefaultCpus;
    memory = kDefaultMemory;
  }
  if (cpus && !quantity_fits(*cpus, offering.vcpus, offering.vcpus)) return false;
  if (memory && !quantity_fits(*memory, offering.memory_gb, offering.vcpus)) return false;
  return true;
}

bool blocked(const Blocklist& blocklist, const Offering& offering) {
  return std::any_of(blocklist.begin(), blocklist.end(), [&](const BlockedLocation& entry) {
    return entry.cloud == offering.cloud && (!entry.region || *entry.region == offering.region) &&
           (!entry.zone || *entry.zone == offering.zone);
  });
}

std::string describe_location(const Catalog& catalog, const ResourceRequest& request) {
  if (request.zone) return (request.cloud ? *request.cloud + "/" : "") + "zone " + *request.zone;
  if (request.cloud && request.region) return *request.cloud + "/" + *request.region;
  if (request.cloud) return *request.cloud;
  if (request.region) return "region " + *request.region;
  std::string clouds;
  for (const auto& cloud : default_clouds(catalog)) clouds += (clouds.empty() ? "" : ", ") + cloud;
  return "any of the clouds considered by default (" + clouds + ")";
}

std::string describe_shape(const ResourceRequest& request) {
  std::vector<std::string> parts;
  if (request.accelerator) {
    parts.push_back(format_number(request.accelerator->count) + "×" + request.accelerator->name);
  }
  if (request.instance_type) parts.push_back("instance type " + *request.instance_type);
  if (request.cpus) parts.push_back(to_string(*request.cpus) + " vCPUs");
  if (request.memory) parts.push_back(to_string(*request.memory) + " GB memory");
  if (parts.empty()) parts.push_back("the default shape (8+ vCPUs, 4+ GB per vCPU)");
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  }
  return text;
}

// Why one request has no candidates, as specific as the catalog allows.
std::string explain_infeasible(const Catalog& catalog, const ResourceRequest& request) {
  const auto& offerings = catalog.offerings();
  const bool shape_exists_on_demand = std::any_of(offerings.begin(), offerings.end(), [&](auto& o) {
    return location_fits(request, o) && shape_fits(request, o);
  });
  std::string reason = "no instance type in " + describe_location(catalog, request) + " has " +
                       describe_shape(request);
  if (shape_exists_on_demand && request.use_spot) return reason + " as spot (only on-demand)";
  if (request.accelerator) {
    std::vector<std::string> counts;
    for (const auto& o : offerings) {
      if (!location_fits(request, o) || !iequals(o.accelerator_name, request.accelerator->name)) {
        continue;
      }
      const std::string count = format_number(o.accelerator_count);
      if (std::find(counts.begin(), counts.end(), count) == counts.end()) counts.push_back(count);
    }
    if (!counts.empty()) {
      std::string joined;
      for (const auto& count : counts) joined += (joined.empty() ? "" : ", ") + count;
      reason += " (" + request.accelerator->name + " counts there: " + joined + ")";
    }
  }
  return reason;
}

Result<void> check_name(std::string_view what, const std::string& name,
                        const std::vector<std::string>& known, std::string_view scope) {
  if (std::any_of(known.begin(), known.end(), [&](auto& k) { return iequals(k, name); })) {
    return {};
  }
  return make_error(CatalogErrc::kUnknownName, "unknown " + std::string(what) + " `" + name + "`" +
                                                   std::string(scope) + did_you_mean(name, known));
}

}  // namespace

std::string to_string(const Quantity& quantity) {
  return format_number(quantity.value) + (quantity.per_vcpu ? "x" : "") +
         (quantity.at_least ? "+" : "");
}

std::string to_string(const AcceleratorRequest& accelerator) {
  return accelerator.name + ":" + format_number(accelerator.count);
}

std::vector<std::string> default_clouds(const Catalog& catalog) {
  auto clouds = catalog.clouds();
  std::erase(clouds, std::string(kLocalCloud));
  return clouds;
}

Result<void> validate_request(const Catalog& catalog, const ResourceRequest& request) {
  if (request.cloud == kKubernetesCloud) {
    // No catalog: the region is a kubeconfig context, the shape is whatever the pod requests.
    if (request.zone) {
      return make_error(CatalogErrc::kUnknownName,
                        "zone `" + *request.zone + "`: kubernetes has contexts, not zones");
    }
    if (request.instance_type && !parse_pod_instance_type(*request.instance_type)) {
      return pod_shape(request).error();
    }
    return {};
  }
  const std::string scope = request.cloud ? " in " + *request.cloud : "";
  if (request.cloud) {
    if (auto ok = check_name("cloud", *request.cloud, catalog.clouds(), ""); !ok) return ok;
  }
  const std::string cloud = request.cloud.value_or("");
  if (request.region) {
    if (auto ok = check_name("region", *request.region, catalog.regions(cloud), scope); !ok) {
      return ok;
    }
  }
  if (request.zone) {
    if (auto ok = check_name("zone", *request.zone, catalog.zones(cloud), scope); !ok) return ok;
    if (request.region) {
      const auto& offerings = catalog.offerings();
      const bool inside = std::any_of(offerings.begin(), offerings.end(), [&](auto& o) {
        return o.zone == *request.zone && o.region == *request.region;
      });
      if (!inside) {
        return make_error(
            CatalogErrc::kUnknownName,
            "zone `" + *request.zone + "` is not in region `" + *request.region + "`");
      }
    }
  }
  if (request.instance_type) {
    if (auto ok = check_name("instance type", *request.instance_type, catalog.instance_types(cloud),
                             scope);
        !ok) {
      return ok;
    }
  }
  if (request.accelerator) {
    if (auto ok = check_name("accelerator", request.accelerator->name, catalog.accelerators(), "");
        !ok) {
      return ok;
    }
  }
  return {};
}

namespace {

// network_tier: best on EC2 is EFA, which only some instance types take: the others are no place
// for the task (node_fields_refusal has already refused the clouds that cannot do it at all).
// On Compute Engine it is Tier_1 networking (networkPerformanceConfig), which Google offers on
// N2, N2D, C2, C2D and C3 machines of 30 or more vCPUs only.
std::optional<std::string> network_refusal(const Offering& offering, const NodeFields& fields) {
  if (!fields.best_network) return std::nullopt;
  if (offering.cloud == "aws") {
    if (offering.efa_supported()) return std::nullopt;
    return "resources.network_tier: best needs an instance type with EFA, and none that fits has "
           "it";
  }
  if (offering.cloud == "gcp") {
    if (gce_tier1_capable(offering.instance_type, offering.vcpus)) return std::nullopt;
    return "resources.network_tier: best on gcp is Tier_1 networking, which Compute Engine "
           "offers only on N2, N2D, C2, C2D and C3 machines of 30+ vCPUs (not on GPU, A3 or TPU "
           "machines), and none that fits is one";
  }
  return std::nullopt;
}

// max_hourly_cost, as SkyPilot applies it: per instance, against the spot price with use_spot.
std::optional<std::string> price_refusal(const Offering& offering, const ResourceRequest& option) {
  if (!option.max_hourly_cost) return std::nullopt;
  const auto price = option.use_spot ? offering.spot_price : offering.price;
  const std::string cap = "$" + format_number(*option.max_hourly_cost) + "/h";
  const char* market = option.use_spot ? "spot" : "on-demand";
  if (!price) {
    return "resources.max_hourly_cost: no fitting instance has a known " + std::string(market) +
           " price to compare with " + cap + " (a refreshed catalog may know it)";
  }
  if (*price > *option.max_hourly_cost)
    return "resources.max_hourly_cost: every fitting instance costs more than " + cap;
  return std::nullopt;
}

}  // namespace

Result<std::vector<Candidate>> plan(const Catalog& catalog, const PlanRequest& request,
                                    const Blocklist& blocklist) {
  if (request.options.empty()) {
    return make_error(CatalogErrc::kInfeasible, "no resource options were given");
  }
  std::vector<Candidate> candidates;
  std::vector<std::string> reasons;
  bool any_feasible = false;
  for (std::size_t index = 0; index < request.options.size(); ++index) {
    const ResourceRequest& option = request.options[index];
    if (auto valid = validate_request(catalog, option); !valid) return valid.error();
    bool feasible = false;
    // Places that fit but cannot carry the option's node fields, and why: one line per reason,
    // naming the clouds it holds for ("aws, gcp: resources.image_id: ...").
    std::vector<std::string> refused;
    std::vector<std::pair<std::string, std::string>> refused_clouds;  // reason, clouds
    auto refuse_on = [&](const std::string& cloud, const std::string& why) {
      auto same = std::find_if(refused_clouds.begin(), refused_clouds.end(),
                               [&](const auto& entry) { return entry.first == why; });
      if (same == refused_clouds.end()) {
        refused_clouds.emplace_back(why, cloud);
      } else if (!same->second.ends_with(cloud) &&
                 same->second.find(cloud + ",") == std::string::npos) {
        same->second += ", " + cloud;
      }
    };
    if (option.cloud == kKubernetesCloud) {
      auto why = node_fields_refusal(kKubernetesCloud, option.node_fields);
      auto candidate = kubernetes_candidate(option, index, request.num_nodes);
      if (why) {
        reasons.push_back(std::string(kKubernetesCloud) + ": " + *why);
      } else if (!candidate) {
        reasons.push_back(candidate.error().detail);
      } else {
        any_feasible = true;
        const bool is_blocked = std::any_of(blocklist.begin(), blocklist.end(), [&](auto& entry) {
          return entry.cloud == kKubernetesCloud &&
                 (!entry.region || *entry.region == candidate->region);
        });
        if (!is_blocked) candidates.push_back(std::move(*candidate));
      }
      continue;
    }
    // A task's volumes are claims of the cluster: it goes there, enabled by default or not.
    const bool kubernetes_too = request.kubernetes_by_default || option.node_fields.volumes;
    if (kubernetes_too && !option.cloud && !option.region && !option.zone &&
        !option.instance_type) {
      // The cluster's own shape (no catalog defaults); an option a pod cannot be is left to the
      // clouds, and where only a pod could have it (volumes), why it cannot is said.
      const auto why = node_fields_refusal(kKubernetesCloud, option.node_fields);
      auto candidate = why ? Result<Candidate>(make_error(CatalogErrc::kInfeasible, *why))
                           : kubernetes_candidate(option, index, request.num_nodes);
      if (!candidate && option.node_fields.volumes) {
        refused.push_back(std::string(kKubernetesCloud) + ": " + candidate.error().detail);
      } else if (candidate) {
        feasible = true;
        const bool is_blocked = std::any_of(blocklist.begin(), blocklist.end(), [&](auto& entry) {
          return entry.cloud == kKubernetesCloud &&
                 (!entry.region || *entry.region == candidate->region);
        });
        if (!is_blocked) candidates.push_back(std::move(*candidate));
      }
    }
    for (const auto& offering : catalog.offerings()) {
      if (!location_fits(option, offering) || !shape_fits(option, offering)) continue;
      if (option.use_spot && !offering.spot) continue;
      if (auto why = node_fields_refusal(offering.cloud, option.node_fields)) {
        refuse_on(offering.cloud, *why);
        continue;
      }
      if (auto why = price_refusal(offering, option)) {
        refuse_on(offering.cloud, *why);
        continue;
      }
      if (auto why = network_refusal(offering, option.node_fields)) {
        refuse_on(offering.cloud, *why);
        continue;
      }
      const auto& images = option.node_fields.image_regions;
      if (!images.empty() &&
          std::find(images.begin(), images.end(), offering.region) == images.end()) {
        std::string named;
        for (const auto& region : images) named += (named.empty() ? "" : ", ") + region;
        const std::string line = option.region
                                     ? "resources.image_id has no image for region " +
                                           *option.region + " (it names " + named + ")"
                                     : "resources.image_id names an image only for " + named;
        if (std::find(refused.begin(), refused.end(), line) == refused.end())
          refused.push_back(line);
        continue;
      }
      feasible = true;
      if (blocked(blocklist, offering)) continue;
      Candidate candidate;
      candidate.option_index = index;
      candidate.cloud = offering.cloud;
      candidate.instance_type = offering.instance_type;
      candidate.region = offering.region;
      candidate.zone = offering.zone;
      candidate.vcpus = offering.vcpus;
      candidate.memory_gb = offering.memory_gb;
      candidate.accelerator_name = offering.accelerator_name;
      candidate.accelerator_count = offering.accelerator_count;
      candidate.use_spot = option.use_spot;
      candidate.node_price = option.use_spot ? offering.spot_price : offering.price;
      candidate.num_nodes = request.num_nodes;
      if (option.node_fields.best_network) candidate.efa_interfaces = offering.max_efa_interfaces;
      candidates.push_back(std::move(candidate));
    }
    any_feasible = any_feasible || feasible;
    for (const auto& [why, clouds] : refused_clouds) refused.push_back(clouds + ": " + why);
    if (!feasible && !refused.empty()) {
      std::string why;
      for (const auto& line : refused) why += (why.empty() ? "" : "; ") + line;
      reasons.push_back(why);
    } else if (!feasible) {
      reasons.push_back(explain_infeasible(catalog, option));
    }
  }
  if (!any_feasible) {
    std::string detail;
    for (std::size_t i = 0; i < reasons.size(); ++i) {
      if (reasons.size() > 1)
        detail += (i == 0 ? "" : "; ") + ("option " + std::to_string(i + 1) + ": ");
      detail += reasons[i];
    }
    return make_error(CatalogErrc::kInfeasible, detail);
  }
  if (candidates.empty()) {
    return make_error(CatalogErrc::kAllBlocked,
                      "every candidate location is blocked after earlier failures");
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const Candidate& a, const Candidate& b) {
                     if (request.ordered && a.option_index != b.option_index)
                       return a.option_index < b.option_index;
                     // A known price beats an unknown one; unknown prices are never guessed, so
                     // among them the smaller machine goes first.
                     if (a.node_price.has_value() != b.node_price.has_value())
                       return a.node_price.has_value();
                     if (a.node_price && *a.node_price != *b.node_price)
                       return *a.node_price < *b.node_price;
                     if (!a.node_price && (a.vcpus != b.vcpus || a.memory_gb != b.memory_gb))
                       return std::pair(a.vcpus, a.memory_gb) < std::pair(b.vcpus, b.memory_gb);
                     return a.option_index < b.option_index;
                   });
  return candidates;
}

bool gce_tier1_capable(std::string_view machine_type, double vcpus) {
  const std::string_view series = machine_type.substr(0, machine_type.find('-'));
  static constexpr std::string_view kSeries[] = {"n2", "n2d", "c2", "c2d", "c3"};
  return vcpus >= 30 &&
         std::find(std::begin(kSeries), std::end(kSeries), series) != std::end(kSeries);
}

}  // namespace skyd::catalog
