#pragma once
// Which clouds honour the task's node settings (image_id, disk_size, disk_tier, ports, labels),
// so the optimizer places a task only where every field it sets is honoured, and a task that fits
// nowhere is refused before it is submitted, naming the field. The providers check the same
// fields again at launch (docs/task-spec.md, "Fields that reach the provider").

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::catalog {

// What one resource option asks of its nodes beyond their shape.
struct NodeFields {
  bool image_id = false;
  bool docker_image = false;               // image_id: docker:IMAGE
  std::vector<std::string> image_regions;  // the regions a per-region image_id names; empty: any
  bool disk_size = false;
  bool disk_tier = false;
  bool ports = false;
  bool labels = false;

  friend bool operator==(const NodeFields&, const NodeFields&) = default;
};

// Why `cloud` cannot honour `fields`, naming the first field it cannot; nullopt when it can.
std::optional<std::string> node_fields_refusal(std::string_view cloud, const NodeFields& fields);

}  // namespace skyd::catalog
