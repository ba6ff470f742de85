#include "daemon/controller/job_runner.hpp"

#include "daemon/controller/admission.hpp"
#include "daemon/controller/deadline_plan.hpp"
#include "daemon/controller/failover.hpp"
#include "daemon/controller/git_checkout.hpp"
#include "daemon/controller/job_files.hpp"
#include "daemon/controller/poll_window.hpp"
#include "daemon/controller/shared_pipelines.hpp"
#include "policy/duration_text.hpp"
#include "reactor/shard_pool.hpp"

#include "daemon/controller/controller_metrics.hpp"
#include "daemon/skylet_client.hpp"
#include "daemon/spec/names.hpp"
#include "daemon/spec/task_json.hpp"
#include "daemon/task_env.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/timeout.hpp"
#include "store/store_errc.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace skyd::daemon {
namespace {

using store::JobStatus;
using namespace asio::experimental::awaitable_operators;

std::int64_t to_micros(store::TimePoint time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

std::string lowercase_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-');
  }
  return out;
}

std::string join_codes(const std::vector<int>& codes) {
  std::string out = "[";
  for (std::size_t i = 0; i < codes.size(); ++i) out += (i ? ", " : "") + std::to_string(codes[i]);
  return out + "]";
}

Json placement_json(const catalog::Candidate& candidate, const providers::Cluster& cluster) {
  Json out = Json::object();
  out.set("cloud", candidate.cloud);
  out.set("region", cluster.region);
  out.set("zone", cluster.zone);
  out.set("instance_type", candidate.instance_type);
  out.set("use_spot", candidate.use_spot);
  out.set("accelerator", candidate.accelerator_name);
  out.set("accelerator_count", candidate.accelerator_count);
  // An unknown price is left out (the cost views then count the run at 0), never made up.
  if (candidate.node_price) out.set("node_price", *candidate.node_price);
  out.set("nodes", candidate.num_nodes);
  // Which of the task's resource options it is: the node settings (image, disk, labels) come
  // from it, and a call sent again must carry the same ones.
  out.set("option", static_cast<std::int64_t>(candidate.option_index));
  if (candidate.efa_interfaces > 0) out.set("efa_interfaces", candidate.efa_interfaces);
  out.set("cluster", cluster.name);
  return out;
}

// What the placement's nodes cost per hour on demand: its own price unless it runs on spot.
std::optional<double> on_demand_node_price(const catalog::Candidate& candidate) {
  if (!candidate.use_spot) return candidate.node_price;
  auto price = catalog::on_demand_price(*catalog::current(), candidate.cloud, candidate.region,
                                        candidate.instance_type);
  return price ? price : candidate.node_price;
}

catalog::Candidate candidate_from_json(const Json& json) {
  catalog::Candidate candidate;
  auto text = [&](const char* key) {
    const Json* value = json.find(key);
    return value && value->as_string() ? std::string(*value->as_string()) : std::string();
  };
  candidate.cloud = text("cloud");
  candidate.region = text("region");
  candidate.zone = text("zone");
  candidate.instance_type = text("instance_type");
  candidate.accelerator_name = text("accelerator");
  if (const Json* v = json.find("use_spot")) candidate.use_spot = v->as_bool().value_or(false);
  if (const Json* v = json.find("accelerator_count"))
    candidate.accelerator_count = v->as_double().value_or(0);
  if (const Json* v = json.find("node_price")) candidate.node_price = v->as_double();
  if (const Json* v = json.find("nodes"))
    candidate.num_nodes = static_cast<int>(v->as_int().value_or(1));
  if (const Json* v = json.find("efa_interfaces"))
    candidate.efa_interfaces = static_cast<int>(v->as_int().value_or(0));
  if (const Json* v = json.find("option"))
    candidate.option_index =
        static_cast<std::size_t>(std::max<std::int64_t>(0, v->as_int().value_or(0)));
  return candidate;
}

providers::DiskTier provider_disk_tier(spec::DiskTier tier) {
  switch (tier) {
    case spec::DiskTier::kLow:
      return providers::DiskTier::kLow;
    case spec::DiskTier::kMedium:
      return providers::DiskTier::kMedium;
    case spec::DiskTier::kHigh:
      return providers::DiskTier::kHigh;
    case spec::DiskTier::kUltra:
      return providers::DiskTier::kUltra;
    case spec::DiskTier::kBest:
      return providers::DiskTier::kBest;
  }
  return providers::DiskTier::kMedium;
}

// The node settings of the resource option a candidate satisfies, with the image for its region.
providers::NodeSettings node_settings(const spec::Task& task, const catalog::Candidate& candidate) {
  providers::NodeSettings settings;
  const auto& options = task.resources.candidates;
  if (candidate.option_index >= options.size()) return settings;
  const spec::Resources& resources = options[candidate.option_index];
  if (resources.image_id) {
    const auto& per_region = resources.image_id->per_region;
    if (auto it = per_region.find(candidate.region); it != per_region.end())
      settings.image_id = it->second;
    else
      settings.image_id = resources.image_id->any_region.value_or("");
  }
  settings.disk_size_gb = resources.disk_size;
  if (resources.disk_tier) settings.disk_tier = provider_disk_tier(*resources.disk_tier);
  for (const auto& range : resources.ports) settings.ports.push_back({range.first, range.last});
  settings.labels = resources.labels;
  for (const auto& volume : task.volumes)
    settings.volumes.push_back({volume.path, volume.claim, volume.sub_path});
  settings.best_network = resources.network_tier == spec::NetworkTier::kBest;
  settings.efa_interfaces = candidate.efa_interfaces;
  if (resources.accelerator_args) {
    settings.tpu_runtime_version = resources.accelerator_args->runtime_version.value_or("");
    settings.tpu_name = resources.accelerator_args->tpu_name.value_or("");
  }
  return settings;
}

// The container image the task's scripts run in, for the candidate's option and region
// (`image_id: docker:IMAGE` without the prefix); empty: on the node itself.
std::string container_image(const spec::Task& task, const catalog::Candidate& candidate) {
  // A pod's container is the image itself: skylet runs in it and runs the task there directly.
  if (candidate.cloud == "kubernetes") return "";
  const std::string image = node_settings(task, candidate).image_id;
  constexpr std::string_view kPrefix = "docker:";
  return image.starts_with(kPrefix) ? image.substr(kPrefix.size()) : "";
}

// What the provider makes of the task's file mounts: local sources come from the job's snapshot
// (what its submitter uploaded), never from the path the task names. With `buckets_on_nodes`,
// skylet mounts every bucket at each attempt and the provider only makes room for it; without,
// buckets are the local provider's directories.
std::vector<providers::MountRequest> mounts_of(const spec::Task& task, const std::string& snapshot,
                                               int index, bool buckets_on_nodes) {
  using providers::MountRequest;
  std::vector<MountRequest> mounts;
  for (std::size_t n = 0; n < task.file_mounts.size(); ++n) {
    const auto& mount = task.file_mounts[n];
    MountRequest request;
    request.destination = mount.destination;
    if (buckets_on_nodes && mount.kind != spec::FileMount::Kind::kLocalPath) {
      request.mode = MountRequest::Mode::kByNode;
      mounts.push_back(std::move(request));
      continue;
    }
    const bool mounted = mount.mode != spec::MountMode::kCopy;
    switch (mount.kind) {
      case spec::FileMount::Kind::kLocalPath:
        request.source = snapshot_mount(snapshot, index, n);
        request.mode = MountRequest::Mode::kCopy;
        break;
      case spec::FileMount::Kind::kBucketUrl:
        request.bucket =
            spec::bucket_of_url(mount.sources.empty() ? std::string() : mount.sources.front());
        request.mode = mounted ? MountRequest::Mode::kMount : MountRequest::Mode::kCopy;
        break;
      case spec::FileMount::Kind::kStorage:
        request.bucket = mount.bucket_name.value_or(
            mount.sources.empty() ? std::string() : spec::bucket_of_url(mount.sources.front()));
        request.mode = mounted ? MountRequest::Mode::kMount : MountRequest::Mode::kCopy;
        break;
    }
    mounts.push_back(std::move(request));
  }
  return mounts;
}

// How long noticed machines have, by their notice: the local provider says `grace_ms`, EC2's
// instance-action gives the `time` it acts; EC2's documented two minutes otherwise.
constexpr Duration kDefaultNoticeWindow = std::chrono::minutes(2);

Duration notice_window(const Json& event, std::chrono::system_clock::time_point now) {
  const Json* detail = event.find("detail");
  if (!detail || !detail->is_object()) return kDefaultNoticeWindow;
  Duration window = kDefaultNoticeWindow;
  if (const Json* grace = detail->find("grace_ms"); grace && grace->as_int()) {
    window = std::chrono::milliseconds(*grace->as_int());
  } else if (const Json* time = detail->find("time"); time && time->as_string()) {
    std::tm parts{};
    std::istringstream text{std::string(*time->as_string())};
    text >> std::get_time(&parts, "%Y-%m-%dT%H:%M:%S");
    if (!text.fail()) {
      const auto at = std::chrono::system_clock::from_time_t(::timegm(&parts));
      window = std::chrono::duration_cast<Duration>(at - now);
    }
  }
  return std::clamp<Duration>(window, Duration::zero(), std::chrono::minutes(10));
}

// Why a candidate's cloud cannot be used here. A task with volumes is placed on kubernetes
// whether it is enabled or not (the claims are the cluster's), so the field is named.
std::string no_provider_reason(const std::string& cloud, const spec::Task& task) {
  if (cloud == "kubernetes" && !task.volumes.empty()) {
    const spec::VolumeMount& volume = task.volumes.front();
    return "volumes: " + volume.path + ": " + volume.claim +
           " is a Kubernetes PersistentVolumeClaim, and this controller has no kubernetes "
           "cluster (kubernetes_enabled is off or has no credentials)";
  }
  return cloud + ": no credentials are configured for this cloud";
}

}  // namespace

// What one node's attempt came to, as the monitor sees it.
struct JobRunner::NodeResult {
  bool done = false;
  bool lost = false;
  bool preempted = false;
  AttemptStatus status;
  std::string reason;
};

JobRunner::JobRunner(ShardContext& shard, const ControllerOptions& options, store::JobId id)
    : shard_(shard),
      options_(options),
      id_(id),
      cancel_(shard.executor),
      logs_(options.logs_root(), id.value) {}

JobRunner::JobRunner(ShardContext& shard, const ControllerOptions& options, store::JobId id,
                     int group_task, GroupDirectory* directory)
    : JobRunner(shard, options, id) {
  group_task_ = group_task;
  directory_ = directory;
}

std::string JobRunner::cluster_name(int index, int attempt) const {
  // <task>-<job id> for the first attempt, <task>-a<attempt>-<job id> for replacements (which may
  // stand beside the machines they replace during a spot notice). A long task name is shortened
  // with a hash; the job id always ends the name (the leak sweep reads it back).
  std::string task = lowercase_name(pipeline_->tasks[index].name.value_or(job_.name));
  if (task.size() > 32) task = task.substr(0, 24) + "-" + sha256_hex(task).substr(0, 7);
  if (attempt > 1) task += "-a" + std::to_string(attempt);
  return task + "-" + std::to_string(id_.value);
}

std::string JobRunner::launch_token(int index, int attempt, int seq) const {
  // The installation's identity first: two installations in one account never share a token.
  return options_.controller_id + "-" + std::to_string(id_.value) + "-" + std::to_string(index) +
         "-" + std::to_string(attempt) + "-" + std::to_string(seq);
}

std::string JobRunner::legacy_launch_token(int index, int attempt) const {
  return cluster_name(index, attempt) + "-attempt-" + std::to_string(attempt);
}

Task<void> JobRunner::retire_older_clusters(int index, int attempt) {
  for (int older = 1; older < attempt; ++older) {
    const std::string name = cluster_name(index, older);
    if (!terminated_clusters_.contains(name)) co_await teardown("", name);
  }
}

void JobRunner::keep_predecessor(int index, Placement old, int attempt,
                                 Clock::time_point window_end) {
  predecessor_ =
      std::make_unique<Predecessor>(shard_.executor, std::move(old), attempt, window_end);
  predecessor_->noticed = window_end > Clock::now();
  predecessor_->nodes_running = predecessor_->placement.cluster.nodes.size();
  if (predecessor_->nodes_running == 0) predecessor_->stopped.set();
  for (const auto& node : predecessor_->placement.cluster.nodes) {
    silence_.erase(node.instance_id);  // followed afresh, as a predecessor
    predecessor_followers_->spawn(follow_predecessor(index, predecessor_.get(), node));
  }
}

Task<void> JobRunner::follow_predecessor(int index, Predecessor* old, providers::Node node) {
  co_await follow_node(index, old->placement.candidate.cloud, old->placement.cluster.name, node,
                       attempt_id(index, old->attempt), old->attempt,
                       std::make_shared<NodeResult>(), &old->changed);
  // This node's attempt ended, or its machine is gone.
  if (--old->nodes_running == 0) old->stopped.set();
}

Task<void> JobRunner::fence(int index, int attempt) {
  if (predecessor_) {
    Predecessor& old = *predecessor_;
    if (!old.stopped.is_set()) {
      // A noticed task may still checkpoint: it has until its window ends, then it is stopped.
      asio::steady_timer window(shard_.executor, old.window_ends);
      co_await (old.stopped.wait() || window.async_wait(asio::as_tuple(asio::use_awaitable)) ||
                cancel_.wait());
    }
    if (!old.stopped.is_set() && !cancel_.is_set() && old.noticed) {
      logs_.record(old.stopping.empty()
                       ? "the notice window of attempt " + std::to_string(old.attempt) +
                             " ended: stopping its task"
                       : old.stopping);
      co_await with_timeout(as_result(stop_attempts(old.placement, index, old.attempt)),
                            options_.node_lost_after, "stopping the replaced task");
    }
  }
  co_await drop_predecessor();
  // Whatever the old task did, its machines are cut off: the replacement's run starts only once
  // the clouds say they are going.
  co_await retire_older_clusters(index, attempt);
}

Task<void> JobRunner::drop_predecessor() {
  if (!predecessor_) co_return;
  predecessor_followers_->cancel_all();
  co_await predecessor_followers_->wait();
  predecessor_.reset();
}

Task<Result<void>> JobRunner::release_attempts(int index, const Placement& placement,
                                               int attempt_number) {
  SkyletClient skylet(*shard_.http, skylet_token(index, attempt_number));
  for (const auto& node : placement.cluster.nodes) {
    auto released = co_await skylet.release(node, attempt_id(index, attempt_number));
    if (!released) co_return released.error();
  }
  co_return Result<void>{};
}

namespace {

// A call the node never answered (as opposed to one it refused).
bool went_unanswered(const Error& error) {
  for (NetErrc code :
       {NetErrc::kTimedOut, NetErrc::kConnectFailed, NetErrc::kTlsFailed, NetErrc::kClosed}) {
    if (error.code == make_error_code(code)) return true;
  }
  return false;
}

}  // namespace

Task<Result<void>> JobRunner::reattach(int index, const Placement& placement,
                                       const store::TaskRecord& task, AttemptMark mark) {
  // Earlier attempts were fenced before this one ran, so the start goes without a hold: one call
  // per node that only re-attaches (the start is idempotent), gives the attempt again to a node
  // that lost it, and releases a run still held. Thousands of runners do it at once after a
  // restart: a node slow to answer then is asked again, for up to node_lost_after, not taken for
  // lost.
  const auto give_up_at = Clock::now() + options_.node_lost_after;
  asio::steady_timer pause(shard_.executor);
  for (;;) {
    auto started = co_await start_attempts(index, placement, task, RunHold::kNone, mark);
    if (started || !went_unanswered(started.error()) || Clock::now() >= give_up_at ||
        cancel_.is_set())
      co_return started;
    pause.expires_after(std::chrono::seconds(1));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

Task<bool> JobRunner::take_reattachment_slot(bool& held) {
  const int limit = shard_.admission->limits().max_reattachments_in_flight;
  if (limit <= 0) co_return true;
  std::string why = "re-attaching after a restart: " + std::to_string(limit) + " tasks at once";
  held = co_await take_slot("reattachments", limit, std::move(why), true);
  co_return held;
}

bool JobRunner::adopts_from_the_cloud_alone(const catalog::Candidate& candidate) const {
  const providers::Provider* provider = shard_.provider_for(candidate.cloud);
  return provider && provider->adopts_from_the_cloud_alone();
}

std::optional<JobRunner::StoredPlacement> JobRunner::stored_placement(
    int index, const store::TaskRecord& task) const {
  if (!task.placement_json) return std::nullopt;
  auto stored = parse_json(*task.placement_json);
  if (!stored) return std::nullopt;
  const Json* token = stored->find("launch_token");
  return StoredPlacement{candidate_from_json(*stored),
                         token && token->as_string() ? std::string(*token->as_string())
                                                     : legacy_launch_token(index, task.attempt)};
}

std::string JobRunner::skylet_token(int index, int attempt) const {
  // Derived, not stored: a restarted skyd can talk to the machines it launched before. One per
  // attempt, whichever of its calls made the machines.
  return hmac_sha256_hex(options_.controller_key, legacy_launch_token(index, attempt));
}

std::optional<UserIdentity> JobRunner::owner() const {
  // Jobs submitted before their groups were kept ran as skyd; they go on that way.
  if (!job_.user_gid) return std::nullopt;
  UserIdentity who;
  who.uid = static_cast<uid_t>(job_.user_uid);
  who.gid = static_cast<gid_t>(*job_.user_gid);
  for (auto group : job_.user_groups) who.groups.push_back(static_cast<gid_t>(group));
  return who;
}

std::string JobRunner::attempt_id(int index, int attempt) const {
  return "job-" + std::to_string(id_.value) + "-task-" + std::to_string(index) + "-attempt-" +
         std::to_string(attempt);
}

template <typename Call>
auto JobRunner::until_stored(Call call, std::string_view what) -> decltype(call()) {
  Backoff backoff(BackoffPolicy{.initial = std::chrono::milliseconds(100),
                                .multiplier = 2,
                                .cap = std::chrono::seconds(5),
                                .jitter = 0.3,
                                .max_attempts = std::nullopt});
  asio::steady_timer timer(shard_.executor);
  for (;;) {
    auto done = co_await call();
    if (done ||
        (!store::is_retryable(done.error()) && done.error().code != store::StoreErrc::kTimedOut))
      co_return done;
    logger("controller")
        ->warn("{} retried job={} error=\"{}\"", what, id_.value, done.error().message());
    timer.expires_after(backoff.next_delay());
    co_await timer.async_wait(asio::use_awaitable);
  }
}

Task<Result<store::TaskRecord>> JobRunner::move(store::TaskRecord& task, JobStatus to,
                                                std::string reason,
                                                store::TransitionRequest extras) {
  extras.job_id = id_;
  extras.task_index = task.task_index;
  extras.from = task.status;
  extras.to = to;
  extras.reason = reason;
  extras.idempotency_key = attempt_id(task.task_index, task.attempt) + "-" +
                           std::string(store::to_string(task.status)) + "-" +
                           std::string(store::to_string(to));
  // The database may be away (restarting, unreachable): the decision is kept and written once it
  // is back -- the runner does not act on it before.
  auto moved = co_await until_stored([&] { return shard_.jobs->transition(extras); }, "transition");
  if (moved) {
    if (to != JobStatus::kStarting && to != JobStatus::kRecovering) give_back_launch_slot();
    record_transition(task.status, to, reason);
    logger("controller")
        ->info("job transition job={} task={} from={} to={} reason=\"{}\"", id_.value,
               task.task_index, store::to_string(task.status), store::to_string(to), reason);
    logs_.record("task " + std::to_string(task.task_index) + ": " +
                 std::string(store::to_string(task.status)) + " -> " +
                 std::string(store::to_string(to)) + " (" + reason + ")");
    task = *moved;
  }
  co_return moved;
}

Task<bool> JobRunner::take_slot(std::string key, int limit, std::string reason, bool wait_in_line) {
  Admission* admission = shard_.admission;
  const int priority = job_.priority;
  const std::int64_t id = id_.value;
  std::function<Task<void>()> take = [admission, key, limit, priority, id, reason, wait_in_line] {
    return admission->acquire(key, limit, priority, id, reason, wait_in_line);
  };
  auto taking = ShardPool::call_on<void>(admission->home(), std::move(take));
  auto taken = co_await (std::move(taking) || cancel_.wait());
  co_return taken.index() == 0;
}

Task<bool> JobRunner::take_launch_slot(bool wait_in_line) {
  const int limit = shard_.admission->limits().max_launches_in_flight;
  if (limit <= 0 || holding_launch_slot_) co_return true;
  holding_launch_slot_ = co_await take_slot(
      "launches", limit,
      "waiting for a launch slot: " + std::to_string(limit) + " tasks are launched at once",
      wait_in_line);
  co_return holding_launch_slot_;
}

void JobRunner::give_back_launch_slot() {
  if (std::exchange(holding_launch_slot_, false)) shard_.admission->release("launches");
}

Task<void> JobRunner::run() {
  store::JobRepository* jobs = shard_.jobs.get();
  const store::JobId id = id_;
  std::function<Task<Result<store::JobRecord>>()> load = [jobs, id] { return jobs->get_job(id); };
  auto loaded = co_await until_stored(std::move(load), "job load");
  if (!loaded) {
    logger("controller")
        ->error("job cannot be loaded job={} error=\"{}\"", id_.value, loaded.error().message());
    co_return;
  }
  job_ = std::move(*loaded);
  // A cancel accepted before this runner existed (or before a restart) still counts.
  if (job_.cancel_requested_at) cancel_.set();
  // Off the shard: a spec with 8 MiB scripts takes a while to read. Its text is not needed
  // afterwards: the parsed pipeline, shared with the runners of identical specs, is what stays.
  std::function<Result<std::shared_ptr<const spec::Pipeline>>()> read =
      [spec = std::move(job_.spec_json), id = id_.value] {
        return shared_pipelines().read(spec, "job " + std::to_string(id));
      };
  job_.spec_json.clear();
  auto pipeline =
      co_await run_blocking<Result<std::shared_ptr<const spec::Pipeline>>>(std::move(read));
  if (!pipeline || (*pipeline)->tasks.size() != job_.tasks.size()) {
    const std::string why =
        pipeline ? "the stored spec does not match the job's tasks" : pipeline.error().message();
    for (auto& task : job_.tasks) {
      if (!store::is_terminal(task.status))
        co_await move(task, JobStatus::kFailedController, "unreadable job spec: " + why);
    }
    co_return;
  }
  pipeline_ = std::move(*pipeline);
  placements_.resize(job_.tasks.size());
  bucket_mounts_.resize(job_.tasks.size());
  for (std::size_t i = 0; i < job_.tasks.size(); ++i) {
    const std::string name =
        task_id_name(job_.name, pipeline_->tasks[i].name.value_or(job_.name), job_.tasks.size());
    task_ids_.push_back(
        make_task_id(to_micros(job_.submitted_at), name, id_.value, static_cast<int>(i)));
  }
  // A launch slot still held when the runner ends (a shutdown mid-launch) goes back.
  struct GiveBackLaunchSlot {
    JobRunner& runner;
    ~GiveBackLaunchSlot() { runner.give_back_launch_slot(); }
  } give_back_launch{*this};
  if (group_task_) {  // the job's runner holds its slot and ends it
    ended_ = co_await run_task(*group_task_);
    co_return;
  }
  // A slot among the jobs that may run at once; a job that already ran before a restart keeps its.
  const auto& limits = shard_.admission->limits();
  bool holding_job_slot = false;
  struct GiveBack {
    Admission& admission;
    bool& holding;
    ~GiveBack() {
      if (holding) admission.release("jobs");
    }
  } give_back{*shard_.admission, holding_job_slot};
  if (limits.max_running_jobs > 0) {
    const auto& first = job_.tasks.front();
    const bool fresh = first.status == JobStatus::kPending && first.attempt == 0;
    holding_job_slot =
        co_await take_slot("jobs", limits.max_running_jobs,
                           "waiting for a job slot: " + std::to_string(limits.max_running_jobs) +
                               " jobs may run at once",
                           fresh);
  }
  if (pipeline_->group) {
    co_await run_group();
  } else {
    for (std::size_t i = 0; i < job_.tasks.size(); ++i) {
      const JobStatus ended = co_await run_task(static_cast<int>(i));
      if (ended != JobStatus::kSucceeded) {
        co_await cancel_later_tasks(static_cast<int>(i), "task " + std::to_string(i) + " ended " +
                                                             std::string(store::to_string(ended)));
        break;
      }
    }
  }
  logs_.record("job ended");
  // The buckets it made that were not to outlive it; a crash before this leaves them due, and the
  // controller's sweep deletes them.
  if (shard_.bucket_keeper) co_await shard_.bucket_keeper->delete_due();
}

Task<void> JobRunner::fail_prechecks(store::TaskRecord& task, std::string reason) {
  store::TransitionRequest details;
  details.failure_reason = reason;  // what `sky jobs queue` shows
  co_await move(task, JobStatus::kFailedPrechecks, std::move(reason), details);
}

Task<void> JobRunner::cancel_later_tasks(int after_index, std::string reason) {
  for (std::size_t j = static_cast<std::size_t>(after_index) + 1; j < job_.tasks.size(); ++j) {
    auto& task = job_.tasks[j];
    if (task.status == JobStatus::kPending) co_await move(task, JobStatus::kCancelled, reason);
  }
}

Task<bool> JobRunner::wait_backoff(Backoff& backoff, std::string what) {
  const Duration delay = backoff.next_delay();
  logs_.record(
      what + " in " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()) + " ms");
  asio::steady_timer timer(shard_.executor, delay);
  auto outcome = co_await (timer.async_wait(asio::as_tuple(asio::use_awaitable)) || cancel_.wait());
  co_return outcome.index() == 0;
}

bool JobRunner::restart_allowed(int index, const MonitorOutcome& outcome, bool& uses_budget) const {
  const auto& candidates = pipeline_->tasks[index].resources.candidates;
  const spec::JobRecovery recovery =
      candidates.empty() ? spec::JobRecovery{}
                         : candidates.front().job_recovery.value_or(spec::JobRecovery{});
  for (int code : outcome.exit_codes) {
    if (std::find(recovery.recover_on_exit_codes.begin(), recovery.recover_on_exit_codes.end(),
                  code) != recovery.recover_on_exit_codes.end()) {
      uses_budget = false;  // listed exit codes restart without using the budget
      return true;
    }
  }
  uses_budget = true;
  return job_.tasks[index].restart_count < recovery.max_restarts_on_errors;
}

Task<store::JobStatus> JobRunner::run_task(int index) {
  // The machines a recovery replaces are followed beside the task, in this group: it is joined
  // before the task's frame (and the runner) can go.
  std::function<Task<JobStatus>(TaskGroup&)> drive = [this, index](TaskGroup& followers) {
    predecessor_followers_ = &followers;
    return drive_task(index);
  };
  const JobStatus ended = co_await TaskGroup::scoped<JobStatus>("predecessor", std::move(drive));
  predecessor_followers_ = nullptr;
  co_return ended;
}

Task<store::JobStatus> JobRunner::drive_task(int index) {
  auto& task = job_.tasks[index];
  const spec::Task& spec = pipeline_->tasks[index];
  auto& placement = placements_[index];
  Backoff backoff(options_.launch_backoff);
  // After a loss: EAGER_NEXT_REGION avoids the lost region for one round; FAILOVER tries it first
  // for three rounds.
  RecoveryPreference preference;
  int preferred_rounds_left = 0;

  // A task skyd finds already launching (it stopped mid-launch) keeps launching at once.
  bool resuming = true;
  for (;;) {
    const bool resumed_here = std::exchange(resuming, false);
    if (store::is_terminal(task.status)) {
      if (provisioned_) {  // provisioned for a run that will not happen
        co_await teardown("", provisioned_->placement->cluster.name);
        provisioned_.reset();
      }
      co_await drop_predecessor();
      co_await retire_older_clusters(index, task.attempt);
      co_return task.status;
    }
    if (cancel_.is_set() && task.status != JobStatus::kCancelling) {
      const bool nothing_started = task.status == JobStatus::kPending && !task.cluster_name;
      co_await move(task, nothing_started ? JobStatus::kCancelled : JobStatus::kCancelling,
                    cancel_reason_);
      continue;
    }
    switch (task.status) {
      case JobStatus::kPending: {
        if (!spec.run || spec.run->empty()) {  // nothing to run: done without a cluster
          co_await move(task, JobStatus::kStarting, "the task has no run command");
          co_await move(task, JobStatus::kRunning, "the task has no run command");
          co_await move(task, JobStatus::kSucceeded, "the task has no run command");
          break;
        }
        const bool admitted = co_await take_launch_slot(true);
        if (!admitted) break;  // cancelled while waiting
        const bool recovering = task.started_at.has_value();
        co_await move(task, recovering ? JobStatus::kRecovering : JobStatus::kStarting,
                      recovering ? "relaunching" : "launching");
        break;
      }
      case JobStatus::kStarting:
      case JobStatus::kRecovering: {
        const bool admitted = co_await take_launch_slot(!resumed_here);
        if (!admitted) break;  // cancelled while waiting
        if (placement) {
          // The machines of a failed attempt: cut off while the replacement launches.
          co_await drop_predecessor();
          keep_predecessor(index, std::move(*placement), task.attempt - 1, Clock::now());
          placement.reset();
        }
        if (const std::string refused = co_await ready_buckets(index); !refused.empty()) {
          co_await fail_prechecks(task, refused);
          break;
        }
        if (cancel_.is_set()) break;
        const bool has_deadline = deadline_spec(index) != nullptr;
        LaunchOutcome outcome;
        std::optional<LaunchOutcome> adopted;
        if (provisioned_) {
          // Back to spot: the machines were provisioned before the decision was written.
          adopted = std::move(provisioned_);
          provisioned_.reset();
        } else if (has_deadline) {
          adopted = co_await adopt_provisioned(index, task);
        }
        if (adopted) {
          outcome = std::move(*adopted);
        } else if (has_deadline) {
          outcome = co_await launch_for_deadline(index, task, preference);
        } else {
          outcome = co_await launch(index, task, preference, std::nullopt);
        }
        preference.avoid_regions.clear();
        if (preferred_rounds_left > 0 && --preferred_rounds_left == 0)
          preference.prefer_region.reset();
        if (outcome.kind == LaunchOutcome::Kind::kCancelled) break;
        if (outcome.kind == LaunchOutcome::Kind::kPrecheckFailed) {
          co_await teardown("", cluster_name(index, task.attempt));
          co_await fail_prechecks(task, outcome.reason);
          break;
        }
        if (outcome.kind == LaunchOutcome::Kind::kWait) {
          co_await move(task, JobStatus::kPending, outcome.reason);
          co_await wait_tick();
          break;
        }
        if (outcome.kind == LaunchOutcome::Kind::kNoResources) {
          co_await move(task, JobStatus::kPending, "no resources: " + outcome.reason);
          // The deadline policy's guarantee holds when it is asked at least every tick.
          if (has_deadline) {
            co_await wait_tick();
          } else {
            co_await wait_backoff(backoff);
          }
          break;
        }
        placement = std::move(outcome.placement);
        backoff.reset();
        // Setup runs now, while an earlier attempt may still be running; the run waits for the
        // fence below, so two attempts of the task never run at once.
        // A job group's task with its machines up: waiting for the other tasks holds no launch
        // slot (they may be waiting for one).
        if (directory_) give_back_launch_slot();
        const bool met = co_await meet_group(index, *placement, true);
        if (!met) break;  // cancelled while its siblings launched
        auto started = co_await start_attempts(index, *placement, task, RunHold::kUntilReleased);
        if (started) {
          co_await fence(index, task.attempt);
          if (cancel_.is_set()) break;
          started = co_await release_attempts(index, *placement, task.attempt);
        }
        if (!started) {
          logs_.record("the task could not be started: " + started.error().message());
          co_await teardown(placement->candidate.cloud, placement->cluster.name);
          placement.reset();
          co_await move(task, JobStatus::kPending,
                        "the task could not be started: " + started.error().message());
          co_await wait_backoff(backoff);
          break;
        }
        store::TransitionRequest details;
        details.cluster_name = placement->cluster.name;
        Json where = placement_json(placement->candidate, placement->cluster);
        where.set("launch_token", placement->launch_token);
        // The cost ledger (view attempt_costs) prices each run from these.
        if (auto on_demand = on_demand_node_price(placement->candidate)) {
          where.set("on_demand_node_price", *on_demand);
        }
        where.set("launched_at",
                  std::chrono::duration<double>(placement->launched_at.time_since_epoch()).count());
        std::string running =
            "running on " + placement->cluster.cloud + "/" + placement->cluster.zone;
        if (!outcome.deadline_reason.empty()) {
          where.set("deadline", outcome.deadline_reason);
          running += "; " + outcome.deadline_reason;
        }
        details.placement_json = where.dump();
        details.details_json = *details.placement_json;  // where each run was, for the timeline
        co_await move(task, JobStatus::kRunning, std::move(running), details);
        break;
      }
      case JobStatus::kRunning: {
        if (!placement) {
          // skyd restarted. Asking the nodes takes a slot of its own: ten thousand runners asking
          // their nodes at once would time out together and take healthy tasks for lost, and
          // behind launches they would wait for minutes of other tasks' provisioning. Adoption
          // that only asks the cloud (its answer shared by every runner) is not queued: a task
          // whose machines went while skyd was down recovers at once, not behind the others.
          struct GiveBackSlot {
            Admission* admission;
            bool held = false;
            ~GiveBackSlot() {
              if (held) admission->release("reattachments");
            }
          } slot{shard_.admission};
          const auto stored = stored_placement(index, task);
          const bool adoption_queued = !stored || !adopts_from_the_cloud_alone(stored->candidate);
          if (adoption_queued) {
            const bool admitted = co_await take_reattachment_slot(slot.held);
            if (!admitted) break;
          }
          // Spot machines provisioned to go back to spot, before the decision was written, are
          // not this attempt's: the decision is asked again later.
          if (deadline_spec(index))
            co_await release_provisioned(index, task.attempt + 1,
                                         "skyd restarted before moving the task to them");
          // Adopt the machines if they are all still there, or recover.
          LaunchOutcome adopted;
          if (stored) {
            adopted = co_await adopt(index, task, *stored);
          } else {
            adopted = co_await launch(index, task, RecoveryPreference{}, std::nullopt);
          }
          if (adopted.kind != LaunchOutcome::Kind::kLaunched) {
            if (adopted.kind == LaunchOutcome::Kind::kCancelled) break;
            co_await move(task, JobStatus::kRecovering, "machines lost while skyd was down");
            break;
          }
          placement = std::move(adopted.placement);
          record_adoption();
          logs_.record("task " + std::to_string(index) + ": adopted cluster " +
                       placement->cluster.name + ", its machines running (attempt " +
                       std::to_string(task.attempt) + ")");
          co_await meet_group(index, *placement, false);
          if (!adoption_queued) {
            const bool admitted = co_await take_reattachment_slot(slot.held);
            if (!admitted) break;
          }
          const AttemptMark mark = stored ? AttemptMark::kWrittenAtFirstStart : AttemptMark::kWrite;
          auto started = co_await reattach(index, *placement, task, mark);
          if (!started) {
            co_await move(task, JobStatus::kRecovering, "the task was lost while skyd was down");
            break;
          }
          record_reattachment();
          logs_.record("task " + std::to_string(index) + ": re-attached to cluster " +
                       placement->cluster.name + " (attempt " + std::to_string(task.attempt) + ")");
        }
        auto outcome = co_await monitor(index, *placement, task);
        using Kind = MonitorOutcome::Kind;
        if (outcome.kind == Kind::kCancelled) break;
        if (outcome.kind == Kind::kBackToSpot) {
          co_await go_back_to_spot(index, task);
          break;
        }
        if (outcome.kind == Kind::kSucceeded) {
          co_await move(task, JobStatus::kSucceeded, "every node exited 0");
          co_await teardown(placement->candidate.cloud, placement->cluster.name);
          placement.reset();
          break;
        }
        if (outcome.kind == Kind::kMountFailed) {
          co_await fail_prechecks(task, outcome.reason);
          co_await teardown(placement->candidate.cloud, placement->cluster.name);
          placement.reset();
          break;
        }
        if (outcome.kind == Kind::kUserFailure) {
          if (auto lost = co_await machines_gone(*placement)) {
            logs_.record("the task failed, but its machines are gone: " + *lost);
            outcome.kind = Kind::kPreempted;
            outcome.reason = *lost;
          }
        }
        if (outcome.kind == Kind::kUserFailure) {
          bool uses_budget = true;
          store::TransitionRequest details;
          details.exit_codes = outcome.exit_codes;
          if (restart_allowed(index, outcome, uses_budget)) {
            details.restart_on_error = uses_budget;
            // Built before the co_await: g++ 12 mishandles string temporaries of a ?: inside one.
            std::string reason = "restarting after exit codes " + join_codes(outcome.exit_codes);
            if (uses_budget) reason += " (restart " + std::to_string(task.restart_count + 1) + ")";
            co_await move(task, JobStatus::kRecovering, std::move(reason), details);
            break;
          }
          details.failure_reason = std::string(outcome.setup_failed ? "setup" : "run") +
                                   " failed with exit codes " + join_codes(outcome.exit_codes) +
                                   ". To see the details, run: sky jobs logs --controller " +
                                   std::to_string(id_.value);
          co_await move(task, outcome.setup_failed ? JobStatus::kFailedSetup : JobStatus::kFailed,
                        *details.failure_reason, details);
          co_await teardown(placement->candidate.cloud, placement->cluster.name);
          placement.reset();
          break;
        }
        // Preempted or lost: the machines are gone (or going); relaunch, the lost region blocked
        // for one pass under EAGER_NEXT_REGION.
        const auto& candidates = spec.resources.candidates;
        const auto strategy = candidates.empty() || !candidates.front().job_recovery
                                  ? spec::RecoveryStrategy::kEagerNextRegion
                                  : candidates.front().job_recovery->strategy;
        const std::string lost_region =
            placement->candidate.cloud + "/" + placement->cluster.region;
        if (strategy == spec::RecoveryStrategy::kEagerNextRegion) {
          preference.avoid_regions = {lost_region};
        } else {
          preference.prefer_region = lost_region;
          preferred_rounds_left = 3;
        }
        const int lost_attempt = task.attempt;
        co_await move(task, JobStatus::kRecovering, outcome.reason);
        // A notice leaves the machines some time: they keep running (and their output keeps
        // coming) while the replacement is provisioned. Lost machines are cut off at once.
        const auto window_end =
            Clock::now() + (outcome.machines_alive ? outcome.notice_window : Duration::zero());
        co_await drop_predecessor();
        keep_predecessor(index, std::move(*placement), lost_attempt, window_end);
        placement.reset();
        break;
      }
      case JobStatus::kCancelling: {
        std::string cloud;
        if (placement) {
          co_await stop_attempts(*placement, index, task.attempt);
          cloud = placement->candidate.cloud;
        }
        co_await teardown(cloud, cluster_name(index, task.attempt));
        co_await retire_older_clusters(index, task.attempt);
        placement.reset();
        provisioned_.reset();  // its cluster is this attempt's, terminated above
        co_await move(task, JobStatus::kCancelled, cancel_reason_);
        break;
      }
      default:
        co_return task.status;
    }
  }
}

Task<JobRunner::LaunchOutcome> JobRunner::adopt(int index, const store::TaskRecord& task,
                                                StoredPlacement stored) {
  // skyd restarted: the machines that run the task, adopted through the token that made them.
  LaunchOutcome outcome;
  auto adopted = co_await try_candidate(index, task, stored.candidate, stored.launch_token,
                                        Earlier::kRunningTask, {});
  if (!adopted) {
    outcome.kind = LaunchOutcome::Kind::kCancelled;
  } else if (*adopted) {
    outcome.kind = LaunchOutcome::Kind::kLaunched;
    outcome.placement = Placement{std::move(**adopted), std::move(stored.candidate),
                                  std::move(stored.launch_token), std::chrono::system_clock::now()};
  } else {
    outcome.reason = adopted->error().message();
  }
  co_return outcome;
}

Task<JobRunner::LaunchOutcome> JobRunner::launch(int index, const store::TaskRecord& task,
                                                 RecoveryPreference preference,
                                                 std::optional<bool> spot) {
  LaunchOutcome outcome;
  const spec::Task& spec = pipeline_->tasks[index];
  catalog::PlanRequest request = spec::to_plan_request(spec);
  if (spot) {
    for (auto& option : request.options) option.use_spot = *spot;
  }
  request.kubernetes_by_default = shard_.provider_for("kubernetes") != nullptr;
  auto planned = plan_candidates(*catalog::current(), request, preference);
  if (!planned) {
    outcome.kind = LaunchOutcome::Kind::kPrecheckFailed;
    outcome.reason = planned.error().message();
    co_return outcome;
  }
  // The calls this attempt made before (a restart, or an earlier round). One whose answer never
  // came may have made machines: it is resolved first, with its own token and parameters.
  std::vector<store::LaunchRecord> made;
  auto loaded = co_await until_stored(
      [&] { return shard_.launches->of_attempt(id_, index, task.attempt); }, "launch records");
  if (loaded) made = std::move(*loaded);
  std::vector<std::string> lost;  // tokens whose answers never came: their machines are strays
  std::vector<catalog::Candidate> order;
  std::vector<std::optional<store::LaunchRecord>> earlier;
  for (const auto& record : made) {
    if (record.outcome != store::LaunchOutcome::kSent &&
        record.outcome != store::LaunchOutcome::kLost)
      continue;
    auto candidate = parse_json(record.candidate_json);
    if (!candidate) continue;
    order.push_back(candidate_from_json(*candidate));
    earlier.push_back(record);
  }
  for (auto& candidate : *planned) {
    order.push_back(std::move(candidate));
    earlier.emplace_back();
  }

  std::vector<Exclusion> failed;
  std::vector<std::string> failures;
  bool capacity_problem = false;
  int next_seq = static_cast<int>(made.size()) + 1;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const catalog::Candidate& candidate = order[i];
    const bool resolving = earlier[i].has_value();
    if (!resolving && is_excluded(failed, candidate)) continue;
    if (!shard_.provider_for(candidate.cloud)) {
      failed.push_back({{candidate.cloud, std::nullopt, std::nullopt}, std::nullopt});
      failures.push_back(no_provider_reason(candidate.cloud, spec));
      continue;
    }
    // Every call has its own token, written before the call: a token is never sent with other
    // parameters, so a lost answer can always be resolved by sending the same call again.
    store::LaunchRecord record;
    if (resolving) {
      record = *earlier[i];
    } else {
      record.job_id = id_;
      record.task_index = index;
      record.attempt = task.attempt;
      record.seq = next_seq++;
      record.token = launch_token(index, task.attempt, record.seq);
      record.cluster_name = cluster_name(index, task.attempt);
      // The call's place, so a call sent again after a restart goes where the first one went.
      providers::Cluster planned_place;
      planned_place.region = candidate.region;
      planned_place.zone = candidate.zone;
      record.candidate_json = placement_json(candidate, planned_place).dump();
      auto written =
          co_await until_stored([&] { return shard_.launches->record(record); }, "launch record");
      if (!written) {
        outcome.reason = "the launch could not be recorded: " + written.error().message();
        co_return outcome;  // no resources for now: the next round tries again
      }
    }
    // Billing starts when the machines are asked for, not when they answer.
    const auto called_at = std::chrono::system_clock::now();
    const Earlier earlier_call = resolving ? Earlier::kMachines : Earlier::kNothing;
    auto tried = co_await try_candidate(index, task, candidate, record.token, earlier_call, lost);
    if (!tried) {
      outcome.kind = LaunchOutcome::Kind::kCancelled;
      co_return outcome;
    }
    if (*tried) {
      co_await until_stored(
          [&] {
            return shard_.launches->resolve(id_, index, task.attempt, record.seq,
                                            store::LaunchOutcome::kLaunched, std::string());
          },
          "launch outcome");
      outcome.kind = LaunchOutcome::Kind::kLaunched;
      outcome.placement = Placement{std::move(**tried), candidate, record.token, called_at};
      // A name released earlier (back to spot abandoned) stands again: retire it when due.
      terminated_clusters_.erase(outcome.placement->cluster.name);
      co_return outcome;
    }
    const Error error = tried->error();
    // A passing fault may have hidden an answer: what that call made is not this cluster's.
    const bool answer_lost = error.code == providers::ProviderErrc::kTransient ||
                             error.code == providers::ProviderErrc::kThrottled;
    if (answer_lost) lost.push_back(record.token);
    co_await until_stored(
        [&] {
          return shard_.launches->resolve(
              id_, index, task.attempt, record.seq,
              answer_lost ? store::LaunchOutcome::kLost : store::LaunchOutcome::kFailed,
              error.message());
        },
        "launch outcome");
    record_launch_failure(candidate.cloud, candidate.region, error);
    failures.push_back(candidate.cloud + "/" + candidate.zone + ": " + error.message());
    logs_.record("launch failed on " + candidate.cloud + "/" + candidate.zone + ": " +
                 error.message());
    auto excluded = exclusion_for(error, candidate);
    if (!excluded) {
      outcome.kind = LaunchOutcome::Kind::kPrecheckFailed;
      outcome.reason = error.message();
      co_return outcome;
    }
    if (classify_launch_error(error) == LaunchErrorClass::kTryNext) capacity_problem = true;
    failed.push_back(*excluded);
  }
  // Nothing stands: whatever a lost answer made for this attempt goes now, not at the next sweep.
  if (!lost.empty()) co_await teardown("", cluster_name(index, task.attempt));
  std::string reason;
  for (const auto& failure : failures) reason += (reason.empty() ? "" : "; ") + failure;
  outcome.kind =
      capacity_problem ? LaunchOutcome::Kind::kNoResources : LaunchOutcome::Kind::kPrecheckFailed;
  outcome.reason = capacity_problem ? reason : "no allowed cloud can be used: " + reason;
  co_return outcome;
}

const spec::DeadlineSpec* JobRunner::deadline_spec(int index) const {
  // Like the other recovery settings, the first candidate's job_recovery is the task's.
  const auto& candidates = pipeline_->tasks[index].resources.candidates;
  if (candidates.empty() || !candidates.front().job_recovery) return nullptr;
  const auto& deadline = candidates.front().job_recovery->deadline;
  return deadline ? &*deadline : nullptr;
}

Duration JobRunner::deadline_tick() const {
  return options_.launch_backoff.initial;
}

Task<bool> JobRunner::wait_tick() {
  asio::steady_timer timer(shard_.executor, deadline_tick());
  auto outcome = co_await (timer.async_wait(asio::as_tuple(asio::use_awaitable)) || cancel_.wait());
  co_return outcome.index() == 0;
}

policy::Holding JobRunner::holding_of(const store::TaskRecord& task) {
  std::optional<bool> last_market_spot;
  if (task.placement_json) {
    if (auto placement = parse_json(*task.placement_json)) {
      if (const Json* spot = placement->find("use_spot")) last_market_spot = spot->as_bool();
    }
  }
  return holding_when_placing(last_market_spot);
}

policy::DeadlineDecision JobRunner::decide_from_events(int index,
                                                       const std::vector<store::JobEvent>& events,
                                                       policy::Holding holding,
                                                       bool spot_available) const {
  const spec::DeadlineSpec& spec = *deadline_spec(index);
  using std::chrono::floor;
  using std::chrono::seconds;
  DeadlineSituation situation;
  situation.submitted_at = floor<seconds>(job_.submitted_at);
  situation.now = floor<seconds>(std::chrono::system_clock::now());
  std::optional<seconds> reported;
  if (auto found = reported_work_.find(index); found != reported_work_.end() && found->second)
    reported = seconds(*found->second);
  situation.progress =
      task_progress(run_stretches(events, index), reported, spec.restart_overhead, situation.now);
  situation.holding = holding;
  situation.spot_available = spot_available;
  situation.tick = std::chrono::ceil<seconds>(deadline_tick());
  return policy::decide_deadline(deadline_inputs(spec, situation));
}

Task<policy::DeadlineDecision> JobRunner::ask_deadline_policy(int index, policy::Holding holding,
                                                              bool spot_available) {
  // Progress is read from the transition log and the stored reports, so a restarted skyd
  // resumes the same plan.
  std::vector<store::JobEvent> events;
  auto loaded = co_await until_stored([&] { return shard_.jobs->events(id_); }, "job events");
  if (loaded) events = std::move(*loaded);
  co_await load_reported_work(index);
  co_return decide_from_events(index, events, holding, spot_available);
}

Task<void> JobRunner::load_reported_work(int index) {
  if (reported_work_.contains(index)) co_return;
  auto reports =
      co_await until_stored([&] { return shard_.jobs->progress_reports(id_); }, "progress reports");
  if (!reports) co_return;  // not retryable: asked again next time
  std::optional<std::int64_t> last;
  if (auto work = reported_work(*reports, index)) last = work->count();
  reported_work_[index] = last;
}

Task<void> JobRunner::note_progress(int index, int attempt, std::int64_t work_seconds) {
  co_await load_reported_work(index);
  auto known = reported_work_.find(index);
  if (known == reported_work_.end() || known->second == work_seconds) co_return;
  auto stored = co_await until_stored(
      [&] { return shard_.jobs->record_progress(id_, index, attempt, work_seconds); },
      "progress report");
  if (!stored) co_return;  // not kept, so not used: the next report tries again
  reported_work_[index] = work_seconds;
  logger("controller")
      ->info("progress reported job={} task={} attempt={} work_seconds={}", id_.value, index,
             attempt, work_seconds);
  logs_.record("task " + std::to_string(index) +
               ": progress reported: " + std::to_string(work_seconds) + "s (" +
               policy::duration_text(std::chrono::seconds(work_seconds)) +
               ") of work checkpointed, attempt " + std::to_string(attempt));
}

void JobRunner::record_deadline_decision(int index, const policy::DeadlineDecision& decision) {
  const std::string reason = policy::describe(decision);
  logger("controller")
      ->info("deadline decision job={} task={} placement={} rule={} reason=\"{}\"", id_.value,
             index, policy::to_string(decision.placement), policy::to_string(decision.rule),
             reason);
  logs_.record("task " + std::to_string(index) + ": deadline policy: " + reason);
}

Task<JobRunner::LaunchOutcome> JobRunner::launch_for_deadline(int index,
                                                              const store::TaskRecord& task,
                                                              RecoveryPreference preference) {
  const policy::Holding holding = holding_of(task);
  auto decision = co_await ask_deadline_policy(index, holding, true);
  std::string spot_refused;
  if (decision.placement == policy::Placement::kSpot) {
    // A task whose shape no zone sells as spot learns it from the optimizer, not from a launch.
    catalog::PlanRequest spot_request = spec::to_plan_request(pipeline_->tasks[index]);
    for (auto& option : spot_request.options) option.use_spot = true;
    auto sold = plan_candidates(*catalog::current(), spot_request, preference);
    if (sold) {
      logs_.record("task " + std::to_string(index) +
                   ": deadline policy: would take spot if there is any; asking for it");
      auto outcome = co_await launch(index, task, preference, true);
      if (outcome.kind != LaunchOutcome::Kind::kNoResources) {
        if (outcome.kind == LaunchOutcome::Kind::kLaunched)
          record_deadline_decision(index, decision);
        outcome.deadline_reason = policy::describe(decision);
        co_return outcome;
      }
      spot_refused = "no spot capacity: " + outcome.reason;
    } else {
      spot_refused = "no spot offering: " + sold.error().message();
    }
    decision = co_await ask_deadline_policy(index, holding, false);
  }
  record_deadline_decision(index, decision);
  const std::string reason = policy::describe(decision);
  if (decision.placement == policy::Placement::kWait) {
    LaunchOutcome waiting;
    waiting.kind = LaunchOutcome::Kind::kWait;
    waiting.reason = reason + (spot_refused.empty() ? "" : " (" + spot_refused + ")");
    co_return waiting;
  }
  auto outcome = co_await launch(index, task, preference, false);
  outcome.deadline_reason = reason;
  co_return outcome;
}

Task<void> JobRunner::watch_for_spot_return(int index, std::vector<store::JobEvent> events,
                                            Watch* watch) {
  asio::steady_timer tick(shard_.executor);
  for (;;) {
    tick.expires_after(deadline_tick());
    co_await tick.async_wait(asio::use_awaitable);
    // Only this runner writes the task's transitions, so the events loaded when the run began
    // still hold; its own stretch is measured to now. Whether spot is there is learnt by asking.
    const auto decision = decide_from_events(index, events, policy::Holding::kOnDemand, true);
    if (decision.rule == policy::DeadlineRule::kBackToSpot) {
      watch->back_to_spot = true;
      watch->changed.set();
      co_return;
    }
  }
}

Task<std::optional<JobRunner::LaunchOutcome>> JobRunner::provision_back_to_spot(
    int index, const store::TaskRecord& task) {
  const auto decision = co_await ask_deadline_policy(index, policy::Holding::kOnDemand, true);
  if (decision.rule != policy::DeadlineRule::kBackToSpot) co_return std::nullopt;
  catalog::PlanRequest spot_request = spec::to_plan_request(pipeline_->tasks[index]);
  for (auto& option : spot_request.options) option.use_spot = true;
  if (!plan_candidates(*catalog::current(), spot_request, RecoveryPreference{}))
    co_return std::nullopt;  // no zone sells the shape as spot
  const std::string task_label = "task " + std::to_string(index);
  logs_.record(task_label + ": deadline policy: would go back to spot if there is any; asking " +
               "for it beside attempt " + std::to_string(task.attempt));
  // The next attempt's round: its records, tokens, cluster name and tags, each call written
  // before it is made, as in any launch. Not RUNNING: there is nothing to adopt.
  store::TaskRecord next = task;
  next.attempt = task.attempt + 1;
  next.status = JobStatus::kRecovering;
  auto outcome = co_await launch(index, next, RecoveryPreference{}, true);
  if (outcome.kind == LaunchOutcome::Kind::kLaunched) {
    record_deadline_decision(index, decision);
    outcome.deadline_reason = policy::describe(decision);
    co_return outcome;
  }
  if (outcome.kind == LaunchOutcome::Kind::kCancelled) {
    co_await release_provisioned(index, next.attempt, "the job was cancelled");
    co_return std::nullopt;
  }
  logs_.record(task_label + ": deadline policy: staying on on-demand: no spot capacity (" +
               outcome.reason + ")");
  co_return std::nullopt;
}

Task<void> JobRunner::go_back_to_spot(int index, store::TaskRecord& task) {
  auto& placement = placements_[index];
  auto spot = co_await provision_back_to_spot(index, task);
  if (!spot) co_return;  // stays on on-demand, monitored again
  const int on_demand_attempt = task.attempt;
  const int spot_attempt = on_demand_attempt + 1;
  if (cancel_.is_set() || co_await attempt_ended(index, *placement, on_demand_attempt)) {
    // The task ended (or was cancelled) while spot came up: there is nothing to move.
    co_await release_provisioned(index, spot_attempt, "the on-demand attempt ended first");
    co_return;
  }
  // Written before anything is acted on: a restart from here adopts the spot machines through
  // their token (adopt_provisioned); a restart before it releases them.
  const Placement& machines = *spot->placement;
  Json where = placement_json(machines.candidate, machines.cluster);
  where.set("launch_token", machines.launch_token);
  where.set("launched_at",
            std::chrono::duration<double>(machines.launched_at.time_since_epoch()).count());
  where.set("deadline", spot->deadline_reason);
  where.set("provisioned_for_attempt", spot_attempt);
  // The on-demand machines too: a restart stops their task through skylet before the spot run,
  // as this runner does (terminating them alone leaves it running while they shut down).
  Json replaced = placement_json(placement->candidate, placement->cluster);
  replaced.set("launch_token", placement->launch_token);
  where.set("replaces", std::move(replaced));
  store::TransitionRequest details;
  details.placement_json = where.dump();
  std::string reason = spot->deadline_reason;
  auto moved = co_await move(task, JobStatus::kRecovering, std::move(reason), details);
  if (!moved) {
    co_await release_provisioned(index, spot_attempt, "the recovery could not be written");
    co_return;
  }
  // The on-demand attempt is stopped through skylet at once (SIGTERM: it may checkpoint), then
  // its machines are terminated; the spot run is released only after both (the fence).
  co_await drop_predecessor();
  keep_predecessor(index, std::move(*placement), on_demand_attempt, Clock::now());
  predecessor_->noticed = true;
  predecessor_->stopping =
      "attempt " + std::to_string(on_demand_attempt) + " is replaced by spot: stopping its task";
  placement.reset();
  provisioned_ = std::move(spot);
}

Task<std::optional<JobRunner::LaunchOutcome>> JobRunner::adopt_provisioned(
    int index, const store::TaskRecord& task) {
  if (!task.placement_json) co_return std::nullopt;
  auto stored = parse_json(*task.placement_json);
  if (!stored) co_return std::nullopt;
  const Json* provisioned_for = stored->find("provisioned_for_attempt");
  if (!provisioned_for || provisioned_for->as_int().value_or(0) != task.attempt)
    co_return std::nullopt;
  const catalog::Candidate candidate = candidate_from_json(*stored);
  const Json* token = stored->find("launch_token");
  const std::string made_by =
      token && token->as_string() ? std::string(*token->as_string()) : std::string();
  auto adopted = co_await try_candidate(index, task, candidate, made_by, Earlier::kMachines, {});
  LaunchOutcome outcome;
  if (!adopted) {
    outcome.kind = LaunchOutcome::Kind::kCancelled;
    co_return outcome;
  }
  if (!*adopted) {
    co_await release_provisioned(index, task.attempt,
                                 "they no longer stand (" + adopted->error().message() + ")");
    co_return std::nullopt;
  }
  auto launched_at = std::chrono::system_clock::now();
  if (const Json* at = stored->find("launched_at"); at && at->as_double()) {
    launched_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(*at->as_double())));
  }
  logs_.record("task " + std::to_string(index) + ": adopted the spot machines provisioned for " +
               "attempt " + std::to_string(task.attempt) + " (cluster " + (*adopted)->name + ")");
  outcome.kind = LaunchOutcome::Kind::kLaunched;
  outcome.placement = Placement{std::move(**adopted), candidate, made_by, launched_at};
  terminated_clusters_.erase(outcome.placement->cluster.name);
  if (const Json* why = stored->find("deadline"); why && why->as_string())
    outcome.deadline_reason = std::string(*why->as_string());
  if (const Json* replaces = stored->find("replaces"); replaces && replaces->is_object())
    co_await keep_replaced_on_demand(index, task, *replaces);
  co_return outcome;
}

Task<void> JobRunner::keep_replaced_on_demand(int index, const store::TaskRecord& task,
                                              Json replaced) {
  const catalog::Candidate candidate = candidate_from_json(replaced);
  const Json* token = replaced.find("launch_token");
  const std::string made_by =
      token && token->as_string() ? std::string(*token->as_string()) : std::string();
  store::TaskRecord previous = task;
  previous.attempt = task.attempt - 1;
  auto standing =
      co_await try_candidate(index, previous, candidate, made_by, Earlier::kMachines, {});
  // Gone, or cancelled: the fence cuts off whatever is left of them.
  if (!standing || !*standing) co_return;
  co_await drop_predecessor();
  keep_predecessor(index, Placement{std::move(**standing), candidate, made_by, {}},
                   previous.attempt, Clock::now());
  predecessor_->noticed = true;
  predecessor_->stopping =
      "attempt " + std::to_string(previous.attempt) + " is replaced by spot: stopping its task";
}

Task<void> JobRunner::release_provisioned(int index, int attempt, std::string why) {
  std::vector<store::LaunchRecord> made;
  auto loaded = co_await until_stored(
      [&] { return shard_.launches->of_attempt(id_, index, attempt); }, "launch records");
  if (loaded) made = std::move(*loaded);
  if (made.empty()) co_return;
  logs_.record("task " + std::to_string(index) + ": releasing the machines provisioned for " +
               "attempt " + std::to_string(attempt) + ": " + why);
  co_await teardown("", cluster_name(index, attempt));
  const std::string detail = "released: " + why;
  for (const auto& record : made) {
    if (record.outcome == store::LaunchOutcome::kFailed) continue;
    co_await until_stored(
        [&] {
          return shard_.launches->resolve(id_, index, attempt, record.seq,
                                          store::LaunchOutcome::kFailed, detail);
        },
        "launch outcome");
  }
}

Task<bool> JobRunner::attempt_ended(int index, const Placement& placement, int attempt_number) {
  SkyletClient skylet(*shard_.http, skylet_token(index, attempt_number));
  for (const auto& node : placement.cluster.nodes) {
    auto status = co_await skylet.status(node, attempt_id(index, attempt_number));
    if (status && status->finished()) co_return true;
  }
  co_return false;
}

Task<std::optional<Result<providers::Cluster>>> JobRunner::try_candidate(
    int index, const store::TaskRecord& task, catalog::Candidate candidate, std::string token,
    Earlier earlier, std::vector<std::string> stray_tokens) {
  const spec::Task& spec = pipeline_->tasks[index];
  providers::Provider* provider = shard_.provider_for(candidate.cloud);
  if (!provider) {
    co_return Result<providers::Cluster>(providers::make_error(
        providers::ProviderErrc::kAuth, no_provider_reason(candidate.cloud, spec)));
  }
  const std::string name = cluster_name(index, task.attempt);
  providers::LaunchRequest request;
  request.cluster_name = name;
  request.nodes = spec.num_nodes;
  request.instance_type = candidate.instance_type;
  request.accelerator_name = candidate.accelerator_name;
  request.accelerator_count = static_cast<int>(candidate.accelerator_count);
  request.region = candidate.region;
  request.zone = candidate.zone;
  request.use_spot = candidate.use_spot;
  request.idempotency_token = std::move(token);
  request.token_may_exist = earlier != Earlier::kNothing;
  request.task_running = earlier == Earlier::kRunningTask;
  request.stray_tokens = std::move(stray_tokens);
  request.skylet_token = skylet_token(index, task.attempt);
  request.tags = {{"skyd-job", std::to_string(id_.value)},
                  {"skyd-task", std::to_string(index)},
                  {"skyd-attempt", std::to_string(task.attempt)},
                  {"skyd-controller", options_.controller_id}};
  const std::string snapshot = options_.snapshots_root() + "/" + std::to_string(id_.value);
  if (spec.workdir) request.workdir_snapshot = snapshot_workdir(snapshot, index);
  request.mounts = mounts_of(spec, snapshot, index, shard_.bucket_keeper != nullptr);
  request.settings = node_settings(spec, candidate);
  request.owner = owner();
  logs_.record("launching cluster " + name + " on " + candidate.cloud + "/" + candidate.region +
               "/" + candidate.zone + " (" + candidate.instance_type +
               (candidate.use_spot ? ", spot" : "") + ", attempt " + std::to_string(task.attempt) +
               ")");
  // A slot among the launches in flight in this region (cloud APIs throttle bursts).
  const std::string slot = "launch:" + candidate.cloud + "/" + candidate.region;
  const int limit = shard_.admission->limits().max_launches_per_region;
  if (limit > 0) {
    const std::string reason = "waiting for a launch slot in " + candidate.cloud + "/" +
                               candidate.region + ": " + std::to_string(limit) +
                               " launches at once";
    const bool admitted = co_await take_slot(slot, limit, reason, true);
    if (!admitted) co_return std::nullopt;
  }
  record_launch_attempt(candidate.cloud, candidate.region);
  auto launching = provider->launch(request);
  auto launched = co_await (std::move(launching) || cancel_.wait());
  if (limit > 0) shard_.admission->release(slot);
  if (launched.index() == 1) co_return std::nullopt;
  co_return std::move(std::get<0>(launched));
}

Task<std::string> JobRunner::ready_buckets(int index) {
  BucketKeeper* keeper = shard_.bucket_keeper.get();
  const spec::Task& spec = pipeline_->tasks[index];
  const bool has_buckets = std::any_of(
      spec.file_mounts.begin(), spec.file_mounts.end(),
      [](const spec::FileMount& mount) { return mount.kind != spec::FileMount::Kind::kLocalPath; });
  if (!keeper || !has_buckets) co_return std::string();
  const std::string snapshot = options_.snapshots_root() + "/" + std::to_string(id_.value);
  std::vector<std::string> sources;
  for (std::size_t n = 0; n < spec.file_mounts.size(); ++n)
    sources.push_back(snapshot_mount(snapshot, index, n));
  const BucketUser user{id_, job_.user_uid, job_.user_name};
  Backoff backoff(options_.launch_backoff);
  for (;;) {
    auto ready = co_await keeper->prepare(user, spec, sources);
    if (ready) {
      bucket_mounts_[index] = std::move(*ready);
      co_return std::string();
    }
    const auto& code = ready.error().code;
    if (code == providers::ProviderErrc::kInvalid || code == providers::ProviderErrc::kAuth)
      co_return "buckets: " + ready.error().detail;
    const std::string why = "buckets not ready (" + ready.error().message() + "); next try";
    if (!co_await wait_backoff(backoff, why)) co_return std::string();  // cancelled
  }
}

Task<Result<void>> JobRunner::start_attempts(int index, const Placement& placement,
                                             const store::TaskRecord& task, RunHold hold,
                                             AttemptMark mark) {
  const spec::Task& spec = pipeline_->tasks[index];
  TaskEnvironment environment;
  environment.job_id = id_.value;
  environment.job_rank = job_.job_rank;
  environment.num_jobs = job_.num_jobs;
  environment.task_id = task_ids_[index];
  environment.task_ids = task_ids_;
  environment.gpus_per_node = static_cast<int>(placement.candidate.accelerator_count);
  environment.envs = spec.envs;
  environment.secrets = spec.secrets;
  environment.user_name = job_.user_name;
  environment.user_id = user_id_of(job_.user_uid);
  if (directory_) {
    environment.job_group = directory_->name;
    environment.job_group_hosts = directory_->hosts();
  }
  // On the local provider the task runs on this very host: as its submitter, never as skyd.
  const bool local = placement.candidate.cloud == "local";
  environment.runs_as_submitter = local && owner().has_value();
  const std::string id = attempt_id(index, task.attempt);
  // Reading ten thousand attempts' markers back to find each written already was a twentieth
  // of a restart's CPU.
  if (mark == AttemptMark::kWrite) {
    logs_.add_attempt(index, task.attempt, static_cast<int>(placement.cluster.nodes.size()),
                      "== attempt " + std::to_string(task.attempt) + " of task " +
                          std::to_string(index) + " on " + placement.cluster.cloud + "/" +
                          placement.cluster.zone + " (cluster " + placement.cluster.name + ", " +
                          std::to_string(placement.cluster.nodes.size()) + " node" +
                          (placement.cluster.nodes.size() == 1 ? "" : "s") +
                          (placement.candidate.use_spot ? ", spot" : "") + ") ==");
  }
  SkyletClient skylet(*shard_.http, skylet_token(index, task.attempt));
  for (const auto& node : placement.cluster.nodes) {
    AttemptRequest request;
    request.attempt_id = id;
    // A git workdir is checked out first, in the setup: as the task's user, on every node.
    request.setup = (spec.git_workdir ? git_checkout_script(*spec.git_workdir) : std::string()) +
                    spec.setup.value_or("");
    request.run = spec.run.value_or("");
    request.env = node_environment(environment, placement.cluster, node.rank);
    request.setup_env = setup_only_environment(environment, placement.cluster, node.rank);
    request.workdir = node.workdir;
    request.hold_run = hold == RunHold::kUntilReleased;
    request.mounts = bucket_mounts_[index];
    request.container_image = container_image(spec, placement.candidate);
    if (local) request.user = owner();
    if (placement.cluster.nodes.size() > 1) {
      // SkyPilot's names: the head, then worker<rank>; Ray adds the address of the others.
      request.log_label =
          (node.rank == 0 ? std::string("head") : "worker" + std::to_string(node.rank)) +
          ", rank=" + std::to_string(node.rank) + ",";
      if (node.rank > 0) request.log_ip = node.ip;
    }
    auto started = co_await skylet.start(node, request);
    if (!started) co_return started.error();
    if (hold == RunHold::kNone && started->phase == "READY") {
      // Still held: a skylet from before a start without a hold released a held run.
      auto released = co_await skylet.release(node, id);
      if (!released) co_return released.error();
    }
  }
  co_return Result<void>{};
}

Task<void> JobRunner::follow_node(int index, std::string cloud, std::string cluster,
                                  providers::Node node, std::string attempt, int attempt_number,
                                  std::shared_ptr<NodeResult> result, Event* changed,
                                  std::optional<NoticeWatch> notices) {
  SkyletClient skylet(*shard_.http, skylet_token(index, attempt_number));
  const std::string path = logs_.attempt_log(index, attempt_number, node.rank);
  std::uint64_t offset = JobLogs::size_of(path);  // after a restart, go on where the log ends
  // Kept by the runner: a monitor that is left and entered again does not forget a silence.
  NodeSilence& silence =
      silence_.try_emplace(node.instance_id, NodeSilence{Clock::now(), 0}).first->second;
  asio::steady_timer pause(shard_.executor);
  std::size_t events_seen = 0;  // the node's events read so far (watching for its notice)
  const PollWindow::Watching watching(*shard_.poll_window);
  for (;;) {
    // A hung agent costs no more than node_lost_after beyond the long poll.
    std::optional<std::size_t> events_since;
    if (notices) events_since = events_seen;
    auto chunk = co_await skylet.logs(node, attempt, offset, shard_.poll_window->next(),
                                      options_.node_lost_after, events_since);
    if (chunk) {
      silence.last_answer = Clock::now();
      silence.silent_windows = 0;
      if (!chunk->bytes.empty()) JobLogs::append(path, chunk->bytes);
      offset = chunk->next_offset;
      if (notices && !chunk->node_events) {
        // A skylet from before events rode on the output: it gets a watcher of its own.
        notices->watchers->spawn(
            watch_events(index, attempt_number, node, notices->notice, notices->window));
        notices.reset();
      } else if (notices && *chunk->node_events > events_seen) {
        auto events = co_await skylet.events(node, events_seen, Duration::zero());
        if (events) {
          events_seen = *chunk->node_events;
          if (take_spot_notice(*events, node, *notices)) notices.reset();
        }
      }
      // The head node's report counts (a multi-node task checkpoints once).
      if (node.rank == 0 && chunk->progress_seconds)
        co_await note_progress(index, attempt_number, *chunk->progress_seconds);
      if (!chunk->complete) continue;
      auto status = co_await skylet.status(node, attempt);
      if (!status) continue;
      result->status = *status;
      result->done = true;
      changed->set();
      co_return;
    }
    if (Clock::now() - silence.last_answer >= options_.node_lost_after) {
      // Unreachable for a while: ask the provider whether the machine is still there.
      // The machine's own cloud answers; named arguments: g++ 12 and co_await.
      std::vector<std::string> clusters{cluster};
      providers::Provider* provider = shard_.provider_for(cloud);
      Result<std::vector<providers::InstanceStatus>> described =
          std::vector<providers::InstanceStatus>{};
      if (provider) described = co_await provider->describe(clusters);
      bool running = false;
      bool preempted = false;
      if (described) {
        for (const auto& instance : *described) {
          if (instance.instance_id != node.instance_id) continue;
          running = instance.state == providers::InstanceState::kRunning;
          preempted = instance.preempted;
        }
      }
      // A machine the cloud still calls running but whose agent stays silent for three such
      // windows is as good as gone (a hung or crashed node).
      const bool silent_too_long = running && ++silence.silent_windows >= 3;
      if (!running || silent_too_long) {
        result->lost = true;
        result->preempted = preempted;
        result->reason =
            preempted ? "spot preemption of node " + std::to_string(node.rank)
            : running
                ? "node " + std::to_string(node.rank) + " runs but its agent stopped answering"
                : "node " + std::to_string(node.rank) + " stopped answering and is gone";
        changed->set();
        co_return;
      }
      silence.last_answer = Clock::now();
    }
    pause.expires_after(std::chrono::milliseconds(500));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

bool JobRunner::take_spot_notice(const std::vector<Json>& events, const providers::Node& node,
                                 const NoticeWatch& notices) {
  for (const auto& event : events) {
    const Json* kind = event.find("kind");
    if (kind && kind->as_string() == std::string_view("spot_notice")) {
      logs_.record("spot notice from node " + std::to_string(node.rank) + ": " + event.dump());
      *notices.window = notice_window(event, std::chrono::system_clock::now());
      notices.notice->set();
      return true;
    }
  }
  return false;
}

Task<void> JobRunner::watch_events(int index, int attempt_number, providers::Node node,
                                   Event* notice, Duration* window) {
  SkyletClient skylet(*shard_.http, skylet_token(index, attempt_number));
  asio::steady_timer pause(shard_.executor);
  const NoticeWatch notices{notice, window, nullptr};
  for (;;) {
    auto events = co_await skylet.events(node, 0, shard_.poll_window->next());
    if (events) {
      if (take_spot_notice(*events, node, notices)) co_return;
      continue;
    }
    pause.expires_after(
        std::chrono::seconds(1));  // unreachable: follow_node decides whether it is lost
    co_await pause.async_wait(asio::use_awaitable);
  }
}

Task<JobRunner::MonitorOutcome> JobRunner::monitor(int index, const Placement& placement,
                                                   const store::TaskRecord& task) {
  // What the watchers report into lives here, outside the scoped group that joins them.
  Watch watch(shard_.executor);
  watch.window = kDefaultNoticeWindow;
  // Uniform Progress leaves on-demand for spot when far enough ahead of its line.
  const spec::DeadlineSpec* deadline = deadline_spec(index);
  const bool may_go_back_to_spot = deadline && !placement.candidate.use_spot &&
                                   deadline->policy == spec::DeadlinePolicy::kUniformProgress;
  std::vector<store::JobEvent> events;
  if (may_go_back_to_spot) {
    auto loaded = co_await until_stored([&] { return shard_.jobs->events(id_); }, "job events");
    if (loaded) events = std::move(*loaded);
    co_await load_reported_work(index);
  }
  std::function<Task<MonitorOutcome>(TaskGroup&)> decide = [&](TaskGroup& watchers) {
    if (may_go_back_to_spot)
      watchers.spawn(watch_for_spot_return(index, std::move(events), &watch));
    const std::string attempt = attempt_id(index, task.attempt);
    for (const auto& node : placement.cluster.nodes) {
      watch.results.push_back(std::make_shared<NodeResult>());
      // A spot node's notice rides on its output's long poll: one connection per node.
      std::optional<NoticeWatch> notices;
      if (placement.candidate.use_spot)
        notices = NoticeWatch{&watch.notice, &watch.window, &watchers};
      watchers.spawn(follow_node(index, placement.candidate.cloud, placement.cluster.name, node,
                                 attempt, task.attempt, watch.results.back(), &watch.changed,
                                 notices));
    }
    return decide_outcome(watch);
  };
  MonitorOutcome outcome = co_await TaskGroup::scoped<MonitorOutcome>("monitor", std::move(decide));
  if (outcome.kind == MonitorOutcome::Kind::kUserFailure && placement.candidate.use_spot) {
    // A task that dies of its notice (SIGTERM) may be seen before the notice itself is.
    if (auto window = co_await pending_notice(index, task.attempt, placement)) {
      outcome.kind = MonitorOutcome::Kind::kPreempted;
      outcome.reason = "spot preemption notice";
      outcome.machines_alive = true;
      outcome.notice_window = *window;
    }
  }
  if (outcome.kind == MonitorOutcome::Kind::kUserFailure) {
    co_await stop_attempts(placement, index,
                           task.attempt);  // the other nodes stop with the failed one
  }
  co_return outcome;
}

Task<JobRunner::MonitorOutcome> JobRunner::decide_outcome(Watch& watch) {
  const auto& results = watch.results;
  Event& changed = watch.changed;
  Event& notice = watch.notice;
  MonitorOutcome outcome;
  for (;;) {
    bool all_done = true;
    bool any_failed = false;
    const NodeResult* lost = nullptr;
    for (const auto& result : results) {
      all_done = all_done && result->done;
      any_failed = any_failed || (result->done && result->status.phase != "SUCCEEDED");
      if (result->lost && !lost) lost = result.get();
    }
    if (lost) {
      outcome.kind =
          lost->preempted ? MonitorOutcome::Kind::kPreempted : MonitorOutcome::Kind::kNodeLost;
      outcome.reason = lost->reason;
      break;
    }
    if (notice.is_set()) {
      outcome.kind = MonitorOutcome::Kind::kPreempted;
      outcome.reason = "spot preemption notice";
      outcome.machines_alive = true;
      outcome.notice_window = watch.window;
      break;
    }
    if (cancel_.is_set()) {
      outcome.kind = MonitorOutcome::Kind::kCancelled;
      break;
    }
    const auto unmounted = std::find_if(results.begin(), results.end(), [](const auto& result) {
      return result->done &&
             (result->status.phase == "FAILED_MOUNT" || result->status.phase == "FAILED_CONTAINER");
    });
    if (unmounted != results.end()) {
      // Neither is the task's failure, and another attempt would meet the same node setup.
      const std::string node = "node " + std::to_string(unmounted - results.begin()) + ": ";
      outcome.kind = MonitorOutcome::Kind::kMountFailed;
      outcome.reason = (*unmounted)->status.phase == "FAILED_CONTAINER"
                           ? node + (*unmounted)->status.container_error
                           : "buckets: " + node + (*unmounted)->status.mount_error;
      break;
    }
    if (all_done || any_failed) {
      outcome.kind =
          any_failed ? MonitorOutcome::Kind::kUserFailure : MonitorOutcome::Kind::kSucceeded;
      for (const auto& result : results) {
        if (!result->done) continue;
        outcome.setup_failed = outcome.setup_failed || result->status.phase == "FAILED_SETUP";
        const auto code = result->status.phase == "FAILED_SETUP" ? result->status.setup_exit_code
                                                                 : result->status.exit_code;
        if (code && (*code != 0 || !any_failed)) outcome.exit_codes.push_back(*code);
      }
      break;
    }
    if (watch.back_to_spot) {
      outcome.kind = MonitorOutcome::Kind::kBackToSpot;
      break;
    }
    changed.reset();
    co_await (changed.wait() || notice.wait() || cancel_.wait());
  }
  co_return outcome;  // the watchers still running are cancelled and joined by monitor()
}

Task<std::optional<Duration>> JobRunner::pending_notice(int index, int attempt_number,
                                                        const Placement& placement) {
  SkyletClient skylet(*shard_.http, skylet_token(index, attempt_number));
  for (const auto& node : placement.cluster.nodes) {
    auto events = co_await skylet.events(node, 0, Duration::zero());
    if (!events) continue;
    for (const auto& event : *events) {
      const Json* kind = event.find("kind");
      if (kind && kind->as_string() == std::string_view("spot_notice")) {
        logs_.record("spot notice from node " + std::to_string(node.rank) + ": " + event.dump());
        co_return notice_window(event, std::chrono::system_clock::now());
      }
    }
  }
  co_return std::nullopt;
}

Task<std::optional<std::string>> JobRunner::machines_gone(Placement placement) {
  asio::steady_timer grace(shard_.executor, options_.failure_check_grace);
  co_await grace.async_wait(asio::use_awaitable);
  providers::Provider* provider = shard_.provider_for(placement.candidate.cloud);
  if (!provider) co_return std::nullopt;
  std::vector<std::string> clusters{placement.cluster.name};  // named: g++ 12 and co_await
  auto described = co_await provider->describe(clusters);
  if (!described) co_return std::nullopt;  // cannot tell: the failure stands as the task's
  std::size_t running = 0;
  for (const auto& instance : *described) {
    if (instance.state == providers::InstanceState::kRunning) {
      ++running;
    } else {
      std::string why = "spot preemption";
      if (!instance.preempted)
        why = "machine " + instance.instance_id + " " +
              std::string(providers::to_string(instance.state));
      co_return why;
    }
  }
  if (running < placement.cluster.nodes.size()) co_return std::string("machines missing");
  co_return std::nullopt;
}

Task<void> JobRunner::stop_attempts(const Placement& placement, int index, int attempt_number) {
  SkyletClient skylet(*shard_.http, skylet_token(index, attempt_number));
  const std::string id = attempt_id(index, attempt_number);
  for (const auto& node : placement.cluster.nodes) {
    auto stopped = co_await skylet.cancel(node, id);
    bool told = stopped.has_value();
    // An attempt ends only once its cached bucket mounts have drained (docs/storage.md), which
    // may outlast the cancel call: while the node answers that it has not ended, wait (bounded),
    // so the teardown never cuts an upload short. A node that does not answer is gone anyway.
    if (!stopped) {
      logs_.record("cancelling attempt " + std::to_string(attempt_number) + " on node " +
                   std::to_string(node.rank) + " failed: " + stopped.error().message());
      stopped = co_await skylet.status(node, id);
    }
    const auto deadline = Clock::now() + kBucketDrainLimit;
    asio::steady_timer poll(shard_.executor);
    while (stopped && !stopped->finished() && Clock::now() < deadline) {
      poll.expires_after(std::chrono::seconds(1));
      co_await poll.async_wait(asio::use_awaitable);
      // A node that answers but never heard the cancel would run on until the drain limit.
      if (!told) {
        stopped = co_await skylet.cancel(node, id);
        told = stopped.has_value();
        if (told) continue;
      }
      stopped = co_await skylet.status(node, id);
    }
  }
}

namespace {

// Terminates a cluster, trying until the provider confirms. Runs in the shard's cleanup group,
// which a shutdown awaits instead of cancelling: machines must not outlive their job because
// skyd stopped in the middle of a teardown.
Task<void> terminate_cluster(ShardContext* shard, JobLogs logs, std::string cloud,
                             std::string cluster, std::shared_ptr<Event> done) {
  Backoff backoff(BackoffPolicy{.initial = std::chrono::milliseconds(200),
                                .multiplier = 2,
                                .cap = std::chrono::seconds(10),
                                .jitter = 0.3,
                                .max_attempts = std::nullopt});
  asio::steady_timer timer(shard->executor);
  for (;;) {
    // Where the cluster is not known (a cancel right after a restart), every cloud is asked.
    Result<void> terminated;
    for (const auto& [name, provider] : shard->clouds) {
      if (!cloud.empty() && name != cloud) continue;
      auto outcome = co_await provider->terminate(cluster);
      // Nothing can have been launched where our credentials are refused (or nothing is there).
      if (!outcome && outcome.error().code != providers::ProviderErrc::kNotFound &&
          outcome.error().code != providers::ProviderErrc::kAuth) {
        terminated = outcome;
      }
    }
    if (terminated) {
      logs.record("cluster " + cluster + " terminated");
      done->set();
      co_return;
    }
    logs.record("terminating " + cluster + " failed: " + terminated.error().message());
    timer.expires_after(backoff.next_delay());
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

Task<void> JobRunner::teardown(std::string cloud, std::string cluster) {
  auto done = std::make_shared<Event>(shard_.executor);
  shard_.cleanups->spawn(terminate_cluster(&shard_, logs_, std::move(cloud), cluster, done));
  co_await done->wait();
  terminated_clusters_.insert(std::move(cluster));
}

}  // namespace skyd::daemon
