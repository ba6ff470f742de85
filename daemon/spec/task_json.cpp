#include "daemon/spec/task_json.hpp"

#include "daemon/spec/deadline_text.hpp"

namespace skyd::spec {
namespace {

Json job_recovery_json(const JobRecovery& recovery) {
  Json json = Json::object();
  json.set("strategy", to_string(recovery.strategy));
  json.set("max_restarts_on_errors", recovery.max_restarts_on_errors);
  Json codes = Json::array();
  for (int code : recovery.recover_on_exit_codes) codes.push_back(code);
  json.set("recover_on_exit_codes", std::move(codes));
  if (const auto& deadline = recovery.deadline) {
    // As the user writes them: the same parser reads them back in skyd.
    json.set("deadline", deadline->at ? format_instant_text(*deadline->at)
                                      : format_duration_text(*deadline->after_submission));
    json.set("work", format_duration_text(deadline->work));
    json.set("restart_overhead", format_duration_text(deadline->restart_overhead));
    json.set("deadline_policy", to_string(deadline->policy));
  }
  return json;
}

Json file_mount_json(const FileMount& mount) {
  if (mount.kind != FileMount::Kind::kStorage) return Json(mount.sources.front());
  Json json = Json::object();
  if (mount.bucket_name) json.set("name", *mount.bucket_name);
  if (mount.sources.size() == 1) {
    json.set("source", mount.sources.front());
  } else if (!mount.sources.empty()) {
    Json sources = Json::array();
    for (const auto& source : mount.sources) sources.push_back(source);
    json.set("source", std::move(sources));
  }
  if (mount.store) json.set("store", to_string(*mount.store));
  json.set("mode", to_string(mount.mode));
  json.set("persistent", mount.persistent);
  return json;
}

Json string_map_json(const std::map<std::string, std::string>& values, bool redact) {
  Json json = Json::object();
  for (const auto& [key, value] : values) json.set(key, redact ? std::string(kRedacted) : value);
  return json;
}

}  // namespace

std::string_view to_string(SecretMode mode) {
  switch (mode) {
    case SecretMode::kInclude:
      return "include";
    case SecretMode::kRedact:
      return "redact";
  }
  return "unknown";
}

Json to_json(const Resources& resources) {
  Json json = Json::object();
  if (resources.cloud) json.set("cloud", *resources.cloud);
  if (resources.region) json.set("region", *resources.region);
  if (resources.zone) json.set("zone", *resources.zone);
  if (resources.instance_type) json.set("instance_type", *resources.instance_type);
  if (resources.cpus) json.set("cpus", catalog::to_string(*resources.cpus));
  if (resources.memory) json.set("memory", catalog::to_string(*resources.memory));
  if (resources.accelerator) json.set("accelerators", catalog::to_string(*resources.accelerator));
  if (resources.use_spot) json.set("use_spot", *resources.use_spot);
  if (resources.disk_size) json.set("disk_size", *resources.disk_size);
  if (resources.disk_tier) json.set("disk_tier", to_string(*resources.disk_tier));
  if (resources.network_tier) json.set("network_tier", to_string(*resources.network_tier));
  if (resources.accelerator_args) {
    Json args = Json::object();
    const AcceleratorArgs& given = *resources.accelerator_args;
    if (given.runtime_version) args.set("runtime_version", *given.runtime_version);
    if (given.tpu_name) args.set("tpu_name", *given.tpu_name);
    json.set("accelerator_args", std::move(args));
  }
  if (resources.max_hourly_cost) json.set("max_hourly_cost", *resources.max_hourly_cost);
  if (!resources.ports.empty()) {
    Json ports = Json::array();
    for (const auto& range : resources.ports) {
      ports.push_back(range.first == range.last
                          ? std::to_string(range.first)
                          : std::to_string(range.first) + "-" + std::to_string(range.last));
    }
    json.set("ports", std::move(ports));
  }
  if (!resources.labels.empty()) json.set("labels", string_map_json(resources.labels, false));
  if (resources.image_id) {
    if (resources.image_id->any_region) {
      json.set("image_id", *resources.image_id->any_region);
    } else {
      json.set("image_id", string_map_json(resources.image_id->per_region, false));
    }
  }
  if (resources.job_recovery) json.set("job_recovery", job_recovery_json(*resources.job_recovery));
  if (resources.priority) json.set("priority", *resources.priority);
  return json;
}

Json to_json(const Task& task, SecretMode secrets) {
  Json json = Json::object();
  if (task.name) json.set("name", *task.name);
  if (task.workdir) json.set("workdir", *task.workdir);
  if (task.git_workdir) {
    Json git = Json::object();
    git.set("url", task.git_workdir->url);
    if (task.git_workdir->ref) git.set("ref", *task.git_workdir->ref);
    json.set("workdir", std::move(git));
  }
  json.set("num_nodes", task.num_nodes);
  const auto& candidates = task.resources.candidates;
  if (candidates.size() == 1) {
    json.set("resources", to_json(candidates.front()));
  } else {
    Json list = Json::array();
    for (const auto& candidate : candidates) list.push_back(to_json(candidate));
    Json resources = Json::object();
    resources.set(task.resources.ordered ? "ordered" : "any_of", std::move(list));
    json.set("resources", std::move(resources));
  }
  json.set("envs", string_map_json(task.envs, false));
  json.set("secrets", string_map_json(task.secrets, secrets == SecretMode::kRedact));
  Json mounts = Json::object();
  for (const auto& mount : task.file_mounts) mounts.set(mount.destination, file_mount_json(mount));
  json.set("file_mounts", std::move(mounts));
  if (!task.volumes.empty()) {
    Json volumes = Json::object();
    for (const auto& volume : task.volumes) {
      if (volume.sub_path.empty()) {
        volumes.set(volume.path, volume.claim);
        continue;
      }
      Json entry = Json::object();
      entry.set("name", volume.claim);
      entry.set("sub_path", volume.sub_path);
      volumes.set(volume.path, std::move(entry));
    }
    json.set("volumes", std::move(volumes));
  }
  if (task.setup) json.set("setup", *task.setup);
  if (task.run) json.set("run", *task.run);
  if (task.event_callback) json.set("event_callback", *task.event_callback);
  if (task.config) json.set("config", *task.config);
  if (task.pool) {
    Json pool = Json::object();
    // An autoscaling pool may keep no worker; `workers` is then what it starts with, if more.
    const bool autoscaling = task.pool->max_workers.has_value();
    if (!autoscaling || task.pool->workers != task.pool->min_workers)
      pool.set("workers", task.pool->workers);
    if (autoscaling) pool.set("min_workers", task.pool->min_workers);
    for (const auto& [key, value] :
         {std::pair{"max_workers", task.pool->max_workers},
          {"queue_length_threshold", task.pool->queue_length_threshold},
          {"upscale_delay_seconds", task.pool->upscale_delay_seconds},
          {"downscale_delay_seconds", task.pool->downscale_delay_seconds}}) {
      if (value) pool.set(key, *value);
    }
    json.set("pool", std::move(pool));
  }
  for (const auto& [field, hint] :
       {std::pair{"inputs", &task.inputs}, {"outputs", &task.outputs}}) {
    if (!*hint) continue;
    Json sizes = Json::object();
    sizes.set((*hint)->location, (*hint)->size_gb);
    json.set(field, std::move(sizes));
  }
  return json;
}

Json to_json(const Pipeline& pipeline, SecretMode secrets) {
  Json json = Json::object();
  if (pipeline.name) json.set("name", *pipeline.name);
  Json tasks = Json::array();
  for (const auto& task : pipeline.tasks) tasks.push_back(to_json(task, secrets));
  json.set("tasks", std::move(tasks));
  if (pipeline.group) {
    Json group = Json::object();
    Json primary = Json::array();
    for (const auto& name : pipeline.group->primary_tasks) primary.push_back(name);
    if (!pipeline.group->primary_tasks.empty()) group.set("primary_tasks", std::move(primary));
    Json delays = Json::object();
    delays.set("default", std::to_string(pipeline.group->default_delay.count()) + "s");
    for (const auto& [name, delay] : pipeline.group->delays) {
      delays.set(name, std::to_string(delay.count()) + "s");
    }
    group.set("termination_delay", std::move(delays));
    json.set("job_group", std::move(group));
  }
  return json;
}

std::string summarize(const Resources& resources, int num_nodes) {
  std::string shape;
  if (resources.accelerator) {
    shape = catalog::to_string(*resources.accelerator);
  } else if (resources.instance_type) {
    shape = *resources.instance_type;
  } else if (resources.cpus) {
    shape = "CPU:" + catalog::to_string(*resources.cpus);
  } else {
    shape = "CPU:1+";  // what SkyPilot's queue shows for an unconstrained node
  }
  std::string text = std::to_string(num_nodes) + "x[" + shape + "]";
  if (resources.use_spot.value_or(false)) text += "[Spot]";
  return text;
}

}  // namespace skyd::spec
