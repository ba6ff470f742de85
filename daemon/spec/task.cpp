#include "daemon/spec/task.hpp"

namespace skyd::spec {

std::string_view to_string(RecoveryStrategy strategy) {
  switch (strategy) {
    case RecoveryStrategy::kEagerNextRegion:
      return "EAGER_NEXT_REGION";
    case RecoveryStrategy::kFailover:
      return "FAILOVER";
    case RecoveryStrategy::kDeadline:
      return "DEADLINE";
  }
  return "unknown";
}

std::string_view to_string(DeadlinePolicy policy) {
  switch (policy) {
    case DeadlinePolicy::kUniformProgress:
      return "uniform_progress";
    case DeadlinePolicy::kGreedy:
      return "greedy";
    case DeadlinePolicy::kOnDemand:
      return "on_demand";
  }
  return "unknown";
}

std::string_view to_string(NetworkTier tier) {
  return tier == NetworkTier::kBest ? "best" : "standard";
}

std::string_view to_string(DiskTier tier) {
  switch (tier) {
    case DiskTier::kLow:
      return "low";
    case DiskTier::kMedium:
      return "medium";
    case DiskTier::kHigh:
      return "high";
    case DiskTier::kUltra:
      return "ultra";
    case DiskTier::kBest:
      return "best";
  }
  return "unknown";
}

std::string_view to_string(MountMode mode) {
  switch (mode) {
    case MountMode::kMount:
      return "MOUNT";
    case MountMode::kCopy:
      return "COPY";
    case MountMode::kMountCached:
      return "MOUNT_CACHED";
  }
  return "unknown";
}

std::string_view to_string(StoreType store) {
  switch (store) {
    case StoreType::kS3:
      return "S3";
    case StoreType::kGcs:
      return "GCS";
    case StoreType::kAzure:
      return "AZURE";
    case StoreType::kR2:
      return "R2";
    case StoreType::kIbm:
      return "IBM";
    case StoreType::kOci:
      return "OCI";
  }
  return "unknown";
}

std::string_view to_string(FileMount::Kind kind) {
  switch (kind) {
    case FileMount::Kind::kLocalPath:
      return "local";
    case FileMount::Kind::kBucketUrl:
      return "bucket_url";
    case FileMount::Kind::kStorage:
      return "storage";
  }
  return "unknown";
}

std::optional<std::string> uploaded_source(const FileMount& mount) {
  if (mount.sources.size() != 1) return std::nullopt;
  const std::string& source = mount.sources.front();
  if (mount.kind == FileMount::Kind::kLocalPath) return source;
  if (mount.kind == FileMount::Kind::kStorage && source.find("://") == std::string::npos)
    return source;
  return std::nullopt;
}

catalog::ResourceRequest to_resource_request(const Resources& resources) {
  catalog::ResourceRequest request;
  request.cloud = resources.cloud;
  request.region = resources.region;
  request.zone = resources.zone;
  request.instance_type = resources.instance_type;
  request.cpus = resources.cpus;
  request.memory = resources.memory;
  request.accelerator = resources.accelerator;
  request.use_spot = resources.use_spot.value_or(false);
  request.max_hourly_cost = resources.max_hourly_cost;
  catalog::NodeFields& fields = request.node_fields;
  if (resources.image_id) {
    fields.image_id = true;
    const ImageId& image = *resources.image_id;
    fields.docker_image = image.any_region && image.any_region->starts_with("docker:");
    for (const auto& [region, id] : image.per_region) {
      fields.image_regions.push_back(region);
      fields.docker_image = fields.docker_image || id.starts_with("docker:");
    }
  }
  fields.disk_size = resources.disk_size.has_value();
  fields.disk_tier = resources.disk_tier.has_value();
  fields.best_network = resources.network_tier == NetworkTier::kBest;
  fields.ports = !resources.ports.empty();
  fields.labels = resources.labels;
  return request;
}

std::optional<int> priority(const Pipeline& pipeline) {
  for (const auto& task : pipeline.tasks) {
    if (const auto& given = task.resources.candidates.front().priority) return given;
  }
  return std::nullopt;
}

bool is_primary(const JobGroup& group, const Task& task) {
  if (group.primary_tasks.empty()) return true;
  const std::string name = task.name.value_or("");
  return std::find(group.primary_tasks.begin(), group.primary_tasks.end(), name) !=
         group.primary_tasks.end();
}

std::chrono::seconds termination_delay(const JobGroup& group, const Task& task) {
  const auto given = group.delays.find(task.name.value_or(""));
  return given == group.delays.end() ? group.default_delay : given->second;
}

catalog::PlanRequest to_plan_request(const Task& task) {
  catalog::PlanRequest request;
  for (const auto& candidate : task.resources.candidates) {
    request.options.push_back(to_resource_request(candidate));
    // Volumes are the task's, not an option's: every option must reach them.
    request.options.back().node_fields.volumes = !task.volumes.empty();
  }
  request.ordered = task.resources.ordered;
  request.num_nodes = task.num_nodes;
  return request;
}

}  // namespace skyd::spec
