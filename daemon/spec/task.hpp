#pragma once
// The typed task model that a SkyPilot task YAML parses into. Shared by `sky` (validation, dry
// runs, submission) and `skyd` (which receives the normalized JSON form, see task_json.hpp).
// Plain values: copyable, comparable, no I/O.

#include "daemon/spec/git_workdir.hpp"
#include "providers/catalog/optimizer.hpp"
#include "reactor/json.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::spec {

// kDeadline: the job says how long it needs and by when, and the deadline policy chooses spot,
// on-demand or waiting at every placement, and whether to leave on-demand for spot while it runs
// there (docs/deadline-policy.md); regions as kEagerNextRegion.
enum class RecoveryStrategy { kEagerNextRegion, kFailover, kDeadline };
std::string_view to_string(RecoveryStrategy strategy);

// How a DEADLINE job weighs spot against on-demand (the names users write: uniform_progress,
// greedy, on_demand).
enum class DeadlinePolicy { kUniformProgress, kGreedy, kOnDemand };
std::string_view to_string(DeadlinePolicy policy);

// `job_recovery` of a DEADLINE job.
struct DeadlineSpec {
  // By when: an instant, or a time after the job's submission (exactly one is set).
  std::optional<std::chrono::sys_seconds> at;
  std::optional<std::chrono::seconds> after_submission;
  std::chrono::seconds work{0};  // run time the task needs from start to end
  // From losing a machine to progress again: launch, setup, and work redone since the task's
  // last checkpoint.
  std::chrono::seconds restart_overhead = kDefaultRestartOverhead;
  DeadlinePolicy policy = DeadlinePolicy::kUniformProgress;

  static constexpr std::chrono::seconds kDefaultRestartOverhead = std::chrono::minutes(10);
  friend bool operator==(const DeadlineSpec&, const DeadlineSpec&) = default;
};

struct JobRecovery {
  RecoveryStrategy strategy = RecoveryStrategy::kEagerNextRegion;
  int max_restarts_on_errors = 0;
  std::vector<int> recover_on_exit_codes;
  std::optional<DeadlineSpec> deadline;  // set exactly when strategy is kDeadline

  friend bool operator==(const JobRecovery&, const JobRecovery&) = default;
};

enum class DiskTier { kLow, kMedium, kHigh, kUltra, kBest };
std::string_view to_string(DiskTier tier);

// `network_tier`: best asks for the cloud's fastest fabric between nodes (EFA on EC2).
enum class NetworkTier { kStandard, kBest };
std::string_view to_string(NetworkTier tier);

struct PortRange {
  int first = 0;
  int last = 0;  // inclusive; equal to first for a single port

  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// `image_id`: one image everywhere, or one per region.
struct ImageId {
  std::optional<std::string> any_region;
  std::map<std::string, std::string> per_region;

  friend bool operator==(const ImageId&, const ImageId&) = default;
};

// `accelerator_args` (SkyPilot's TPU settings): the TPU VM software version (unset: SkyPilot's
// default for the generation) and the TPU's own name (unset: the cluster's). `tpu_vm: false`
// (TPU nodes) is refused by the parser.
struct AcceleratorArgs {
  std::optional<std::string> runtime_version;
  std::optional<std::string> tpu_name;

  friend bool operator==(const AcceleratorArgs&, const AcceleratorArgs&) = default;
};

// One resource candidate: every field optional (unset = the optimizer's choice / default).
struct Resources {
  std::optional<std::string> cloud;
  std::optional<std::string> region;
  std::optional<std::string> zone;
  std::optional<std::string> instance_type;
  std::optional<catalog::Quantity> cpus;
  std::optional<catalog::Quantity> memory;
  std::optional<catalog::AcceleratorRequest> accelerator;  // one type per candidate
  std::optional<bool> use_spot;
  std::optional<int> disk_size;  // GB
  std::optional<DiskTier> disk_tier;
  std::optional<NetworkTier> network_tier;
  std::optional<AcceleratorArgs> accelerator_args;
  std::optional<double> max_hourly_cost;  // $/h per instance: spot prices with use_spot
  std::vector<PortRange> ports;           // merged, sorted
  std::map<std::string, std::string> labels;
  std::optional<ImageId> image_id;
  std::optional<JobRecovery> job_recovery;
  // SkyPilot's managed-job priority (-1000..1000, higher is admitted first); the same in every
  // candidate of a task (see Pipeline::priority).
  std::optional<int> priority;

  friend bool operator==(const Resources&, const Resources&) = default;
};

// A task's candidates after expanding any_of / ordered / accelerator sets and lists. A single
// candidate when the YAML asks for one shape.
struct ResourceSet {
  std::vector<Resources> candidates{Resources{}};
  bool ordered = false;
  // Where each candidate came from, for messages ("resources.any_of[1]"); parallel to candidates.
  std::vector<std::string> origins{"resources"};

  // Origins are for messages only and do not make two sets different.
  friend bool operator==(const ResourceSet& a, const ResourceSet& b) {
    return a.candidates == b.candidates && a.ordered == b.ordered;
  }
};

enum class MountMode { kMount, kCopy, kMountCached };
std::string_view to_string(MountMode mode);

enum class StoreType { kS3, kGcs, kAzure, kR2, kIbm, kOci };
std::string_view to_string(StoreType store);

// A file_mounts entry: a local path, a bucket URL, or a storage object.
struct FileMount {
  enum class Kind { kLocalPath, kBucketUrl, kStorage };
  std::string destination;
  Kind kind = Kind::kLocalPath;
  std::vector<std::string> sources;        // local path / URL (one), or a storage object's sources
  std::optional<std::string> bucket_name;  // storage: name of the bucket to create or reuse
  std::optional<StoreType> store;
  MountMode mode = MountMode::kMount;
  bool persistent = true;

  friend bool operator==(const FileMount&, const FileMount&) = default;
};
std::string_view to_string(FileMount::Kind kind);
// The local path whose contents the submitter uploads for this mount: a plain local-path mount's
// source, or a storage mount's `source:` directory (what fills its bucket); nullopt otherwise.
std::optional<std::string> uploaded_source(const FileMount& mount);

// A `volumes` entry: a Kubernetes PersistentVolumeClaim mounted at `path` in each of the task's
// pods (its `sub_path` directory, when given). The claim must exist in the namespace skyd uses;
// only kubernetes mounts it, so a task with volumes is placed there (docs/task-spec.md).
struct VolumeMount {
  std::string path;      // absolute, in the pod
  std::string claim;     // the claim's name
  std::string sub_path;  // relative, inside the claim; empty: its root
  friend bool operator==(const VolumeMount&, const VolumeMount&) = default;
};

// `inputs` / `outputs`: where a task's data is and its estimated size in GB (SkyPilot's hint for
// the optimizer's egress cost). Carried, not yet priced (docs/task-spec.md).
struct DataHint {
  std::string location;  // a bucket URL or path, as written
  double size_gb = 0;

  friend bool operator==(const DataHint&, const DataHint&) = default;
};

// SkyPilot's `pool:` section of a pool YAML (`sky jobs pool apply`): workers, each a cluster of
// the task's resources with its setup and file mounts done once; a fixed number of them, or with
// `max_workers` as many as the waiting jobs ask for, between `workers` and `max_workers`.
struct PoolSpec {
  int workers = 1;      // how many it starts with (the fixed size without max_workers)
  int min_workers = 1;  // the fewest it keeps: `workers` unless given; 0 with max_workers
  std::optional<int> max_workers;
  std::optional<int> queue_length_threshold;  // SkyPilot's knob for scaling on waiting jobs
  std::optional<int> upscale_delay_seconds;
  std::optional<int> downscale_delay_seconds;
  // Where `pool:` is written ("file:line:col"), for the error of a command that takes no pool.
  std::string where;

  friend bool operator==(const PoolSpec& a, const PoolSpec& b) {
    return a.workers == b.workers && a.min_workers == b.min_workers &&
           a.max_workers == b.max_workers && a.queue_length_threshold == b.queue_length_threshold &&
           a.upscale_delay_seconds == b.upscale_delay_seconds &&
           a.downscale_delay_seconds == b.downscale_delay_seconds;
  }
};

struct Task {
  std::optional<std::string> name;
  std::optional<std::string> workdir;     // local directory, after ${VAR} substitution
  std::optional<GitWorkdir> git_workdir;  // workdir: {url, ref}: cloned on each node instead
  int num_nodes = 1;
  ResourceSet resources;
  std::map<std::string, std::string> envs;
  std::map<std::string, std::string> secrets;  // never printed: see task_json.hpp
  std::vector<FileMount> file_mounts;          // sorted by destination
  std::vector<VolumeMount> volumes;            // sorted by path
  std::optional<std::string> setup;
  std::optional<std::string> run;
  std::optional<std::string> event_callback;
  std::optional<Json> config;  // per-task config overrides, kept as given
  std::optional<DataHint> inputs;
  std::optional<DataHint> outputs;
  std::optional<PoolSpec> pool;  // set only in a pool YAML

  friend bool operator==(const Task&, const Task&) = default;
};

// SkyPilot's job group (`execution: parallel`): every task runs at once, each on its own cluster.
struct JobGroup {
  // The tasks whose end ends the group; the others (auxiliary) are stopped then. Empty: all.
  std::vector<std::string> primary_tasks;
  // How long auxiliary tasks are given after every primary task succeeded (termination_delay).
  std::chrono::seconds default_delay{0};
  std::map<std::string, std::chrono::seconds> delays;  // by task name, over the default

  friend bool operator==(const JobGroup&, const JobGroup&) = default;
};

// A managed job: one task, several run one after another, or a job group run at once.
struct Pipeline {
  std::optional<std::string> name;  // from a header document (`name:` alone), if any
  std::vector<Task> tasks;
  std::optional<JobGroup> group;  // `execution: parallel`
  // What was accepted but will not act as written ("file:line:col: service: ..."), for the user
  // to read; not part of the normalized form, so it does not make two pipelines different.
  std::vector<std::string> warnings;

  friend bool operator==(const Pipeline& a, const Pipeline& b) {
    return a.name == b.name && a.tasks == b.tasks && a.group == b.group;
  }
};

// Whether the task is one of the group's primary tasks (every task is, without primary_tasks).
bool is_primary(const JobGroup& group, const Task& task);
// How long the auxiliary task is given after the primary tasks succeeded.
std::chrono::seconds termination_delay(const JobGroup& group, const Task& task);

// The job's priority: the one its tasks give (they agree; the parser checks), if any.
std::optional<int> priority(const Pipeline& pipeline);

// The optimizer's view of a task's resources (num_nodes included).
catalog::PlanRequest to_plan_request(const Task& task);
catalog::ResourceRequest to_resource_request(const Resources& resources);

}  // namespace skyd::spec
