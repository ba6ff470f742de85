#include "providers/catalog/node_fields.hpp"

namespace skyd::catalog {

std::optional<std::string> node_fields_refusal(std::string_view cloud, const NodeFields& fields) {
  if (fields.docker_image) {
    // Checked on this machine: `docker` is installed without a daemon, podman not at all; no
    // node skyd starts (local process, EC2 image) carries a runtime.
    return "resources.image_id: docker:IMAGE asks to run the task in a container, and no node "
           "skyd launches has a container runtime";
  }
  if (cloud == "aws") {
    if (fields.ports) {
      return "resources.ports: skyd does not open ports on EC2 nodes (it creates no security "
             "groups; the operator's groups decide what is reachable)";
    }
    return std::nullopt;
  }
  if (cloud == "local") {
    if (fields.image_id) return "resources.image_id: local machines boot no image";
    if (fields.disk_tier) return "resources.disk_tier: a local machine's disk speed is this host's";
    if (fields.labels) return "resources.labels: local machines carry no labels";
    return std::nullopt;  // disk_size is a free-space check, ports are the host's
  }
  // Clouds without a provider in skyd that carries these settings.
  for (const auto& [set, name] : {std::pair{fields.image_id, "image_id"},
                                  {fields.disk_size, "disk_size"},
                                  {fields.disk_tier, "disk_tier"},
                                  {fields.ports, "ports"},
                                  {fields.labels, "labels"}}) {
    if (set)
      return "resources." + std::string(name) + ": skyd cannot set it on " + std::string(cloud);
  }
  return std::nullopt;
}

}  // namespace skyd::catalog
