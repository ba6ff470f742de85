#pragma once
// Which clouds honour the task's node settings (image_id, disk_size, disk_tier, ports, labels,
// volumes), so the optimizer places a task only where every field it sets is honoured, and a task
// that fits nowhere is refused before it is submitted, naming the field. The providers check the
// same fields again at launch (docs/task-spec.md, "Fields that reach the provider").

#include <map>
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
  bool best_network = false;  // network_tier: best
  bool ports = false;
  std::map<std::string, std::string> labels;
  bool volumes = false;  // the task mounts PersistentVolumeClaims (kubernetes only)

  friend bool operator==(const NodeFields&, const NodeFields&) = default;
};

// Why `cloud` cannot honour `fields`, naming the first field it cannot; nullopt when it can.
std::optional<std::string> node_fields_refusal(std::string_view cloud, const NodeFields& fields);

// Why `labels` cannot be tags on an EC2 instance, naming the label: a key skyd tags with itself
// (`Name`, `skyd-*`), an `aws:` key, a key over 128 or a value over 256 characters, or more labels
// than EC2's 50 tags leave beside skyd's own.
std::optional<std::string> ec2_label_refusal(const std::map<std::string, std::string>& labels);

// Why `labels` cannot be labels on a Compute Engine instance, naming the label: a key skyd labels
// with itself (`skyd-*`), a key Google reserves (`goog*`), a key not matching
// [a-z][a-z0-9_-]{0,62} or a value not matching [a-z0-9_-]{0,63}, or more labels than the 64 an
// instance takes beside skyd's own.
std::optional<std::string> gce_label_refusal(const std::map<std::string, std::string>& labels);

}  // namespace skyd::catalog
