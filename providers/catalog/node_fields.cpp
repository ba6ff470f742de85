#include "providers/catalog/node_fields.hpp"

#include <algorithm>
#include <cctype>

namespace skyd::catalog {

std::optional<std::string> node_fields_refusal(std::string_view cloud, const NodeFields& fields) {
  // skylet runs the task in the container with the node's docker or podman: the host's on local
  // machines; on EC2 and Compute Engine nodes the boot makes sure there is one.
  if (cloud == "kubernetes") {
    // The pod's container image is the task's image, with or without `docker:` as in SkyPilot
    // (skylet is copied into it at start); a per-region map names machine images.
    if (fields.image_id && !fields.image_regions.empty())
      return "resources.image_id: a pod runs one container image, not one per region";
    if (fields.disk_size)
      return "resources.disk_size: skyd does not size a pod's disk (ephemeral storage)";
    if (fields.disk_tier) return "resources.disk_tier: skyd cannot set it on kubernetes";
    if (fields.ports) return "resources.ports: skyd makes no Kubernetes services for ports";
    // network_tier: best is the fabric the cluster's nodes have (InfiniBand, EFA), found from
    // their labels when the pods are made (kube_fabric.hpp); a cluster without one refuses then.
    if (!fields.labels.empty()) return "resources.labels: skyd cannot set them on kubernetes";
    return std::nullopt;
  }
  if (fields.volumes) {
    return "volumes: a volume is a Kubernetes PersistentVolumeClaim, which only kubernetes pods "
           "mount; " +
           std::string(cloud) + " nodes cannot";
  }
  if (fields.docker_image && cloud != "local" && cloud != "aws" && cloud != "gcp") {
    return "resources.image_id: docker:IMAGE asks to run the task in a container, which skyd "
           "does on aws, gcp, kubernetes and local nodes, not on " +
           std::string(cloud);
  }
  if (cloud == "aws") {
    return ec2_label_refusal(fields.labels);
  }
  if (cloud == "gcp") {
    // network_tier: best is Tier_1 networking, which only some machine types take: the
    // optimizer's network_refusal picks those.
    return gce_label_refusal(fields.labels);
  }
  if (cloud == "local") {
    // A container image runs on the host's runtime; a per-region map names machine images.
    if (fields.image_id && !(fields.docker_image && fields.image_regions.empty()))
      return "resources.image_id: local machines boot no image";
    if (fields.disk_tier) return "resources.disk_tier: a local machine's disk speed is this host's";
    if (fields.best_network)
      return "resources.network_tier: best: local machines share this host's network";
    if (!fields.labels.empty()) return "resources.labels: local machines carry no labels";
    return std::nullopt;  // disk_size is a free-space check, ports are the host's
  }
  // Clouds without a provider in skyd that carries these settings.
  for (const auto& [set, name] : {std::pair{fields.image_id, "image_id"},
                                  {fields.disk_size, "disk_size"},
                                  {fields.disk_tier, "disk_tier"},
                                  {fields.ports, "ports"},
                                  {fields.best_network, "network_tier"},
                                  {!fields.labels.empty(), "labels"}}) {
    if (set)
      return "resources." + std::string(name) + ": skyd cannot set it on " + std::string(cloud);
  }
  return std::nullopt;
}

std::optional<std::string> ec2_label_refusal(const std::map<std::string, std::string>& labels) {
  constexpr std::size_t kMaxLabels = 50 - 7;  // EC2's 50 tags per resource, less skyd's own
  if (labels.size() > kMaxLabels) {
    return "resources.labels: " + std::to_string(labels.size()) +
           " labels; an EC2 instance takes at most " + std::to_string(kMaxLabels) +
           " besides skyd's own tags";
  }
  for (const auto& [key, value] : labels) {
    const std::string where = "resources.labels." + key + ": ";
    if (key == "Name" || key.starts_with("skyd-"))
      return where +
             "skyd tags every instance with this key itself (`Name` and `skyd-*` are reserved)";
    std::string head = key.substr(0, 4);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (head == "aws:") return where + "EC2 reserves tag keys that begin `aws:`";
    if (key.empty() || key.size() > 128) return where + "an EC2 tag key has 1 to 128 characters";
    if (value.size() > 256) return where + "an EC2 tag value has at most 256 characters";
  }
  return std::nullopt;
}

std::optional<std::string> gce_label_refusal(const std::map<std::string, std::string>& labels) {
  constexpr std::size_t kMaxLabels = 64 - 6;  // Compute Engine's 64 labels, less skyd's own
  if (labels.size() > kMaxLabels) {
    return "resources.labels: " + std::to_string(labels.size()) +
           " labels; a Compute Engine instance takes at most " + std::to_string(kMaxLabels) +
           " besides skyd's own labels";
  }
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  };
  for (const auto& [key, value] : labels) {
    const std::string where = "resources.labels." + key + ": ";
    if (key.starts_with("skyd-"))
      return where + "skyd labels every instance with `skyd-*` keys itself";
    if (key.starts_with("goog")) return where + "Google reserves label keys that begin `goog`";
    if (key.empty() || key.size() > 63 || !(key.front() >= 'a' && key.front() <= 'z') ||
        !std::all_of(key.begin(), key.end(), allowed))
      return where +
             "a GCP label key is 1 to 63 lowercase letters, digits, '-' or '_', starting with a "
             "letter";
    if (value.size() > 63 || !std::all_of(value.begin(), value.end(), allowed))
      return where + "a GCP label value is at most 63 lowercase letters, digits, '-' or '_'";
  }
  return std::nullopt;
}

}  // namespace skyd::catalog
