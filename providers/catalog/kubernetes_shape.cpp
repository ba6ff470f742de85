#include "providers/catalog/kubernetes_shape.hpp"

#include "providers/catalog/catalog_error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace skyd::catalog {
namespace {

constexpr double kDefaultCpus = 2;
constexpr double kDefaultMemoryPerCpu = 2;

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value > 0)) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string> kubernetes_cloud_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "k8s" || lower == kKubernetesCloud) return std::string(kKubernetesCloud);
  return std::nullopt;
}

std::string pod_instance_type(const PodShape& shape) {
  std::string out = format_number(shape.cpus) + "CPU--" + format_number(shape.memory_gb) + "GB";
  if (!shape.accelerator_name.empty())
    out += "--" + shape.accelerator_name + ":" + std::to_string(shape.accelerator_count);
  return out;
}

std::optional<PodShape> parse_pod_instance_type(std::string_view text) {
  PodShape shape;
  const auto cpu_end = text.find("CPU--");
  if (cpu_end == std::string_view::npos) return std::nullopt;
  auto cpus = parse_number(text.substr(0, cpu_end));
  std::string_view rest = text.substr(cpu_end + 5);
  const auto gb_end = rest.find("GB");
  if (!cpus || gb_end == std::string_view::npos) return std::nullopt;
  auto memory = parse_number(rest.substr(0, gb_end));
  if (!memory) return std::nullopt;
  shape.cpus = *cpus;
  shape.memory_gb = *memory;
  rest = rest.substr(gb_end + 2);
  if (rest.empty()) return shape;
  if (!rest.starts_with("--")) return std::nullopt;
  rest = rest.substr(2);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  int count = 0;
  const std::string_view digits = rest.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (ec != std::errc() || end != digits.data() + digits.size() || count < 1) return std::nullopt;
  shape.accelerator_name = std::string(rest.substr(0, colon));
  shape.accelerator_count = count;
  return shape;
}

Result<PodShape> pod_shape(const ResourceRequest& request) {
  if (request.use_spot) {
    return make_error(CatalogErrc::kInfeasible,
                      "use_spot: Kubernetes pods have no spot market (run them on demand)");
  }
  PodShape shape;
  if (request.instance_type) {
    auto named = parse_pod_instance_type(*request.instance_type);
    if (!named) {
      return make_error(CatalogErrc::kUnknownName,
                        "instance_type `" + *request.instance_type +
                            "` on kubernetes: expected <cpus>CPU--<memory>GB[--<GPU>:<count>] "
                            "(e.g. 4CPU--16GB)");
    }
    shape = *named;
  } else {
    if (request.cpus) shape.cpus = request.cpus->value;
    if (request.memory) {
      shape.memory_gb =
          request.memory->per_vcpu ? request.memory->value * shape.cpus : request.memory->value;
    } else {
      shape.memory_gb = shape.cpus * kDefaultMemoryPerCpu;
    }
  }
  if (request.accelerator) {
    const double count = request.accelerator->count;
    if (count < 1 || std::fabs(count - std::round(count)) > 1e-9) {
      return make_error(CatalogErrc::kInfeasible,
                        "accelerators: a pod takes whole GPUs; " + format_number(count) + "×" +
                            request.accelerator->name + " cannot be requested on kubernetes");
    }
    if (!shape.accelerator_name.empty() && shape.accelerator_name != request.accelerator->name) {
      return make_error(CatalogErrc::kInfeasible, "instance_type `" + *request.instance_type +
                                                      "` carries " + shape.accelerator_name +
                                                      ", not " + request.accelerator->name);
    }
    shape.accelerator_name = request.accelerator->name;
    shape.accelerator_count = static_cast<int>(std::lround(count));
  }
  if (shape.cpus <= 0 || shape.memory_gb <= 0)
    return make_error(CatalogErrc::kInfeasible, "a pod needs some cpus and memory");
  return shape;
}

Result<Candidate> kubernetes_candidate(const ResourceRequest& request, std::size_t option_index,
                                       int num_nodes) {
  auto shape = pod_shape(request);
  if (!shape) return shape.error();
  Candidate candidate;
  candidate.option_index = option_index;
  candidate.cloud = std::string(kKubernetesCloud);
  candidate.instance_type = pod_instance_type(*shape);
  candidate.region = request.region.value_or("");
  candidate.vcpus = shape->cpus;
  candidate.memory_gb = shape->memory_gb;
  candidate.accelerator_name = shape->accelerator_name;
  candidate.accelerator_count = shape->accelerator_count;
  candidate.node_price = 0.0;
  candidate.num_nodes = num_nodes;
  return candidate;
}

}  // namespace skyd::catalog
