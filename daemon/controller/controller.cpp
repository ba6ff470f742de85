#include "daemon/controller/controller.hpp"

#include "daemon/controller/job_files.hpp"
#include "daemon/controller/job_runner.hpp"
#include "daemon/controller/tls_session_file.hpp"
#include "daemon/spec/task_json.hpp"
#include "providers/storage/gcs_store.hpp"
#include "providers/storage/s3_store.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/numbers.hpp"
#include "reactor/small_files.hpp"
#include "store/database_probe.hpp"
#include "store/migrations.hpp"
#include "store/store_errc.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <set>

namespace skyd::daemon {
namespace fs = std::filesystem;

namespace {

// The job a cluster belongs to: clusters are named <task>-<job id>.
std::optional<std::int64_t> job_of_cluster(const std::string& name) {
  const auto dash = name.rfind('-');
  if (dash == std::string::npos) return std::nullopt;
  return parse_id(std::string_view(name).substr(dash + 1));
}

Task<void> make_shard(ShardContext* shard, const ControllerOptions* options) {
  store::PoolOptions pool;
  pool.conninfo = options->conninfo;
  pool.size = options->db_connections_per_shard;
  pool.health = options->database_health;
  shard->db = std::make_unique<store::PgPool>(shard->executor, pool);
  shard->jobs = std::make_unique<store::JobRepository>(*shard->db);
  shard->launches = std::make_unique<store::LaunchRepository>(*shard->db);
  shard->buckets = std::make_unique<store::BucketRepository>(*shard->db);
  shard->http = std::make_unique<http::Client>(shard->executor);
  shard->group =
      std::make_unique<TaskGroup>(shard->executor, "jobs-" + std::to_string(shard->index));
  shard->cleanups =
      std::make_unique<TaskGroup>(shard->executor, "cleanups-" + std::to_string(shard->index));
  co_return;
}

// The providers need the installation's identity (their tags), read from the database first.
Task<void> make_providers(ShardContext* shard, const ControllerOptions* options,
                          const ShardContext* home) {
  shard->local = std::make_unique<providers::LocalProvider>(shard->executor, options->local);
  shard->clouds["local"] = shard->local.get();
  if (options->aws) {
    providers::aws::AwsProviderOptions aws = *options->aws;
    aws.node_client = shard->http.get();
    // One listing of the controller's instances per region serves every shard's adoptions.
    aws.census_home = home ? home->aws.get() : nullptr;
    if (home) aws.census_home_executor = home->executor;
    shard->aws = std::make_unique<providers::aws::AwsProvider>(shard->executor, std::move(aws));
    shard->clouds["aws"] = shard->aws.get();
  }
  if (options->gcp) {
    providers::gcp::GcpProviderOptions gcp = *options->gcp;
    if (options->gcp_tokens) gcp.tokens = options->gcp_tokens(*shard->http);
    gcp.node_client = shard->http.get();
    shard->gcp = std::make_unique<providers::gcp::GcpProvider>(shard->executor, std::move(gcp));
    shard->clouds["gcp"] = shard->gcp.get();
  }
  if (options->kubernetes) {
    shard->kubernetes = std::make_unique<providers::kubernetes::KubeProvider>(shard->executor,
                                                                              *options->kubernetes);
    shard->clouds["kubernetes"] = shard->kubernetes.get();
  }
  if (options->bucket_store == "local") co_return;
  std::vector<KeptStore> kept;
  for (const auto& name : options->bucket_stores) {
    if (name == "s3") {
      providers::storage::S3StoreOptions s3;
      s3.region = options->s3_region;
      s3.endpoint = options->s3_endpoint;
      auto& store = shard->object_stores["s3"];
      store = std::make_unique<providers::storage::S3Store>(shard->executor, s3);
      // The nodes reach the store where skyd does; empty: AWS's own endpoint for the region.
      std::string endpoint = options->s3_endpoint;
      for (const char* variable : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
        const char* value = std::getenv(variable);
        if (endpoint.empty() && value) endpoint = value;
      }
      kept.push_back({store.get(), StoreAddress{"s3", endpoint, options->s3_region}});
    } else if (name == "gcs") {
      providers::storage::GcsStoreOptions gcs;
      gcs.endpoint = options->gcs_endpoint;
      gcs.project = options->gcs_project;
      if (options->gcp_tokens) gcs.tokens = options->gcp_tokens(*shard->http);
      auto& store = shard->object_stores["gcs"];
      store = std::make_unique<providers::storage::GcsStore>(shard->executor, std::move(gcs));
      // Nodes are told a custom endpoint only; empty: Google's own.
      const bool google = options->gcs_endpoint == providers::storage::kGcsDefaultEndpoint;
      kept.push_back(
          {store.get(), StoreAddress{"gcs", google ? std::string() : options->gcs_endpoint, ""}});
    }
  }
  if (!kept.empty()) {
    shard->bucket_keeper =
        std::make_unique<BucketKeeper>(std::move(kept), options->bucket_store, *shard->buckets);
  }
  co_return;
}

Task<void> load_tls_sessions(ShardContext* shard, std::string saved) {
  const std::size_t loaded = shard->http->pinned_sessions().load(saved);
  if (loaded > 0)
    logger("controller")->info("tls sessions loaded shard={} sessions={}", shard->index, loaded);
  co_return;
}

Task<Result<std::string>> read_installation_id(ShardContext* shard) {
  co_return co_await store::installation_id(*shard->db);
}

Task<Result<store::MigrationReport>> migrate(ShardContext* shard) {
  co_return co_await store::apply_migrations(*shard->db, store::embedded_migrations());
}

Task<Result<std::vector<store::JobId>>> open_jobs(ShardContext* shard) {
  co_return co_await shard->jobs->open_jobs();
}

// Terminates every cluster of this installation whose job is no longer open (a crash between a
// job's end and its teardown, or a launch nobody recorded): at start, then now and then. It runs
// beside the jobs and the API, which never wait for it, and asks the database about the clusters'
// jobs after listing them and before it acts, so a job submitted meanwhile is never swept (a job
// read open keeps its clusters; one read ended never opens again).
Task<void> sweep_leaks(ShardContext* shard, Duration every) {
  asio::steady_timer timer(shard->executor);
  for (;;) {
    int terminated = 0;
    for (const auto& [cloud, provider] : shard->clouds) {
      auto clusters = co_await provider->list_clusters();
      if (!clusters) {
        logger("controller")
            ->warn("leak sweep skipped cloud={} error=\"{}\"", cloud, clusters.error().message());
        continue;
      }
      // What became of each cluster's job, asked once for them all after the listing: a job
      // read open keeps its clusters, whatever happens after.
      std::vector<store::JobId> jobs;
      for (const auto& name : *clusters) {
        if (const auto job = job_of_cluster(name)) jobs.push_back(store::JobId{*job});
      }
      auto ends = co_await shard->jobs->ends_of(std::move(jobs));
      if (!ends) {  // unsure of every one: none is swept this round
        logger("controller")
            ->warn("leak sweep skipped cloud={} error=\"{}\"", cloud, ends.error().message());
        continue;
      }
      for (const auto& name : *clusters) {
        if (const auto job = job_of_cluster(name)) {
          const auto found = ends->find(store::JobId{*job});
          if (found != ends->end() && !found->second) continue;  // open: its clusters are its own
        }
        logger("controller")->warn("leaked cluster terminated cloud={} cluster={}", cloud, name);
        if (co_await provider->terminate(name)) ++terminated;
      }
    }
    logger("controller")->info("leak sweep done terminated={}", terminated);
    if (shard->bucket_keeper) co_await shard->bucket_keeper->delete_due();
    timer.expires_after(every);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// Removes the logs of jobs that ended longer ago than the retention, now and then every hour.
Task<void> prune_logs(ShardContext* shard, const ControllerOptions* options) {
  asio::steady_timer timer(shard->executor);
  for (;;) {
    // Listed off the shard: a controller that ran many jobs has many log directories.
    const std::string root = options->logs_root();
    std::function<std::vector<std::string>()> list = [root] {
      std::vector<std::string> found;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(root, ec))
        found.push_back(entry.path().string());
      return found;
    };
    const std::vector<std::string> dirs =
        co_await run_blocking<std::vector<std::string>>(std::move(list));
    const auto horizon = std::chrono::system_clock::now() - options->log_retention;
    // A job's log directory is named by its id; anything else there is not ours to remove.
    std::vector<std::pair<store::JobId, std::string>> logged;
    std::vector<store::JobId> jobs;
    for (const auto& dir : dirs) {
      if (const auto id = parse_id(fs::path(dir).filename().string())) {
        logged.emplace_back(store::JobId{*id}, dir);
        jobs.push_back(store::JobId{*id});
      }
    }
    auto ends = co_await shard->jobs->ends_of(std::move(jobs));
    if (!ends) {
      logger("controller")->warn("job logs not pruned error=\"{}\"", ends.error().message());
    } else {
      for (const auto& [job, dir] : logged) {
        const auto found = ends->find(job);
        const bool expired =
            found == ends->end() || (found->second && *found->second < horizon);  // gone, or old
        if (!expired) continue;
        std::function<bool()> remove = [dir] {
          std::error_code ignored;
          fs::remove_all(dir, ignored);
          return true;
        };
        co_await run_blocking<bool>(std::move(remove));
        logger("controller")->info("job logs removed after retention job={}", job.value);
      }
    }
    timer.expires_after(std::chrono::hours(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// The queue's counters gain a row or two per transition; every second, once there are more than a
// few hundred, they are folded into one row per user and counter, so that the queue's totals add
// up a handful of rows. With nothing to fold the statement writes nothing.
Task<void> fold_queue_counts(ShardContext* shard) {
  constexpr std::int64_t kFoldAbove = 256;
  asio::steady_timer timer(shard->executor);
  for (;;) {
    if (auto folded = co_await shard->jobs->fold_queue_counts(kFoldAbove); !folded) {
      logger("controller")
          ->debug("queue counters not folded error=\"{}\"", folded.error().message());
    }
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// Uploads no job has used for a while go (a resubmit of the same files finds them until then).
Task<void> prune_uploads(UploadStore* uploads, Duration retention) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    co_await uploads->prune(retention);
    timer.expires_after(std::chrono::hours(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// The unpacked files become the first job's snapshot; the other jobs of a `--num-jobs` batch
// read the same files through a link (nothing writes a snapshot after the submit). Off the shard:
// a batch makes thousands of links.
Task<void> share_snapshot(std::string staging, std::vector<store::JobId> jobs,
                          std::string snapshots_root) {
  std::function<bool()> share = [staging, jobs, snapshots_root] {
    const std::string first = std::to_string(jobs.front().value);
    std::error_code ec;
    fs::rename(staging, snapshots_root + "/" + first, ec);
    for (std::size_t rank = 1; rank < jobs.size(); ++rank) {
      fs::create_directory_symlink(first, snapshots_root + "/" + std::to_string(jobs[rank].value),
                                   ec);
    }
    return true;
  };
  co_await run_blocking<bool>(std::move(share));
}

// A batch this large changes the tables' sizes enough that the planner's statistics (and so the
// queue's plans) are stale until the next autovacuum: they are refreshed beside the answer.
constexpr std::size_t kBatchThatRefreshesStatistics = 1000;

Task<void> refresh_statistics(store::JobRepository* jobs) {
  if (auto refreshed = co_await jobs->refresh_statistics(); !refreshed) {
    logger("controller")
        ->warn("statistics refresh failed error=\"{}\"", refreshed.error().message());
  }
}

Task<void> remove_tree(std::string path) {
  std::function<bool()> remove = [path] {
    std::error_code ignored;
    fs::remove_all(path, ignored);
    return true;
  };
  co_await run_blocking<bool>(std::move(remove));
}

Task<void> shutdown_shard(ShardContext* shard) {
  using namespace asio::experimental::awaitable_operators;
  shard->stopping = true;  // a job whose start is already posted here does not start any more
  shard->group->cancel_all();
  co_await shard->group->wait();
  // Teardowns already under way finish (bounded): a job that ended keeps no machine.
  asio::steady_timer deadline(shard->executor, std::chrono::seconds(60));
  co_await (shard->cleanups->wait() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_await shard->local->shutdown();
  shard->runners.clear();
  if (!shard->tls_session_path.empty())
    co_await save_tls_sessions(*shard->http, shard->tls_session_path);
}

}  // namespace

Controller::Controller(ShardPool& pool, ControllerOptions options)
    : pool_(pool),
      options_(std::move(options)),
      uploads_(options_.uploads_root(), options_.max_upload_bytes) {
  if (!options_.database_health) {
    own_database_health_ = std::make_unique<store::DatabaseHealth>();
    options_.database_health = own_database_health_.get();
  }
}

Controller::~Controller() = default;

ShardContext& Controller::here() {
  return *shards_.at(ShardPool::current_shard().value_or(0));
}

providers::kubernetes::KubeProvider* Controller::kubernetes() {
  return here().kubernetes.get();
}

std::size_t Controller::owner_of(store::JobId id) const {
  return static_cast<std::size_t>(id.value) % shards_.size();
}

Result<void> Controller::start() {
  admission_ = std::make_unique<Admission>(pool_.executor(0), options_.limits);
  poll_window_ =
      std::make_unique<PollWindow>(options_.log_poll_wait, options_.log_polls_per_second);
  if (options_.aws) {
    // EC2 limits calls per account and region; each shard's provider paces its share of that.
    const double shards = static_cast<double>(pool_.size());
    options_.aws->requests_per_second /= shards;
    options_.aws->request_burst = std::max(1.0, options_.aws->request_burst / shards);
  }
  if (options_.gcp) {
    // Compute Engine limits calls per project; each shard's provider paces its share.
    const double shards = static_cast<double>(pool_.size());
    options_.gcp->requests_per_second /= shards;
    options_.gcp->request_burst = std::max(1.0, options_.gcp->request_burst / shards);
  }
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    auto shard = std::make_unique<ShardContext>();
    shard->index = i;
    shard->executor = pool_.executor(i);
    shard->admission = admission_.get();
    shard->poll_window = poll_window_.get();
    ShardContext* raw = shard.get();
    const ControllerOptions* options = &options_;
    pool_.submit<void>(i, [raw, options] { return make_shard(raw, options); }).get();
    if (!options_.state_dir.empty()) {
      // Read here, off the shards: they resume with their nodes once the jobs re-attach.
      raw->tls_session_path = tls_session_path(options_.state_dir, i);
      std::string saved = read_small_file(raw->tls_session_path);
      pool_.submit<void>(i, [raw, &saved] { return load_tls_sessions(raw, std::move(saved)); })
          .get();
    }
    shards_.push_back(std::move(shard));
  }
  ShardContext* first = shards_.front().get();
  auto migrated =
      pool_.submit<Result<store::MigrationReport>>(0, [first] { return migrate(first); }).get();
  if (!migrated) return migrated.error();
  auto installation =
      pool_.submit<Result<std::string>>(0, [first] { return read_installation_id(first); }).get();
  if (!installation) return installation.error();
  options_.controller_id = *installation;
  if (options_.aws) options_.aws->controller_id = *installation;
  if (options_.gcp) options_.gcp->controller_id = *installation;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    ShardContext* shard = shards_[i].get();
    const ControllerOptions* options = &options_;
    const ShardContext* home = i == 0 ? nullptr : shards_[0].get();
    pool_.submit<void>(i, [shard, options, home] { return make_providers(shard, options, home); })
        .get();
  }
  logger("controller")
      ->info("database ready schema_version={} applied={} installation={}",
             migrated->current_version, migrated->applied.size(), *installation);
  auto open =
      pool_.submit<Result<std::vector<store::JobId>>>(0, [first] { return open_jobs(first); })
          .get();
  if (!open) return open.error();
  for (const auto& id : *open) supervise(id);
  const ControllerOptions* options = &options_;
  UploadStore* uploads = &uploads_;
  asio::post(first->executor, [first, options, uploads] {
    first->group->spawn(prune_logs(first, options));
    first->group->spawn(sweep_leaks(first, options->leak_sweep_interval));
    first->group->spawn(prune_uploads(uploads, options->upload_retention));
    first->group->spawn(fold_queue_counts(first));
    first->group->spawn(store::probe_database(store::ProbeOptions{.conninfo = options->conninfo},
                                              options->database_health));
  });
  for (auto& shard : shards_) {
    if (shard->tls_session_path.empty()) continue;
    ShardContext* raw = shard.get();
    asio::post(raw->executor,
               [raw] { raw->group->spawn(keep_tls_sessions(*raw->http, raw->tls_session_path)); });
  }
  if (options_.local.preemption_mean_interval) {
    asio::post(first->executor,
               [first] { first->group->spawn(first->local->run_random_preemptions()); });
  }
  logger("controller")->info("controller started resumed_jobs={}", open->size());
  return {};
}

std::optional<std::string> Controller::waiting_reason(store::JobId id) const {
  return admission_ ? admission_->waiting_reason(id.value) : std::nullopt;
}

void Controller::stop() {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    ShardContext* shard = shards_[i].get();
    pool_.submit<void>(i, [shard] { return shutdown_shard(shard); }).get();
  }
}

void Controller::supervise(store::JobId id) {
  ShardContext* shard = shards_.at(owner_of(id)).get();
  asio::post(shard->executor, [this, shard, id] {
    if (shard->stopping || shard->runners.contains(id.value)) return;
    shard->group->spawn(supervise_on(shard, id));
  });
}

Task<void> Controller::supervise_on(ShardContext* shard, store::JobId id) {
  auto runner = std::make_unique<JobRunner>(*shard, options_, id);
  JobRunner* raw = runner.get();
  shard->runners[id.value] = std::move(runner);
  struct Forget {
    ShardContext* shard;
    std::int64_t id;
    ~Forget() { shard->runners.erase(id); }
  } forget{shard, id.value};
  co_await raw->run();
}

namespace {

void log_submitted_again(store::JobId first, const SubmitRequest& request) {
  logger("controller")
      ->info("submission asked again: answered with its jobs job={} name={} user={}", first.value,
             request.name, request.owner.uid);
}

}  // namespace

Task<Result<std::vector<store::JobId>>> Controller::submit(SubmitRequest request) {
  const spec::Pipeline* pipeline = &request.pipeline;
  if (pipeline->tasks.empty()) co_return invalid_argument("a job needs at least one task");
  const BucketStores stores{options_.bucket_store, options_.bucket_stores};
  if (const std::string problem = storage_problem(*pipeline, stores); !problem.empty()) {
    co_return invalid_argument(problem);
  }

  // A submission asked again (its answer was lost) is answered with the jobs it made.
  if (request.submission_key) {
    auto earlier =
        co_await here().jobs->jobs_of_submission(request.owner.uid, *request.submission_key);
    if (!earlier) co_return earlier.error();
    if (!earlier->empty()) {
      log_submitted_again(earlier->front(), request);
      co_return earlier;
    }
  }

  // The job's files are unpacked from its uploads now, so later edits do not change the job;
  // done before the job exists, so a failure leaves nothing half-created.
  const std::string staging = options_.snapshots_root() + "/incoming-" + random_hex(8);
  if (!request.uploads.empty()) {
    auto unpacked = co_await materialize_uploads(uploads_, request.owner, request.uploads,
                                                 request.pipeline, staging);
    if (!unpacked) {
      co_await remove_tree(staging);
      co_return unpacked.error();
    }
  }

  store::NewJob job;
  job.name = request.name;
  job.user_uid = request.owner.uid;
  job.user_gid = request.owner.gid;
  for (gid_t group : request.owner.groups) job.user_groups.push_back(group);
  job.user_name = request.user_name;
  job.priority = request.priority;
  job.spec_json = request.pipeline_json;
  job.num_jobs = request.num_jobs;
  job.submission_key = request.submission_key;
  for (const auto& task : pipeline->tasks) {
    const auto& first =
        task.resources.candidates.empty() ? spec::Resources{} : task.resources.candidates.front();
    job.tasks.push_back(
        store::NewTask{task.name.value_or(request.name), spec::summarize(first, task.num_nodes)});
  }
  auto submitted = co_await here().jobs->submit_jobs(job);
  if (!submitted || submitted->earlier) co_await remove_tree(staging);
  if (!submitted) co_return submitted.error();
  if (submitted->earlier) {  // the same key, asked again while the first request was at work
    log_submitted_again(submitted->ids.front(), request);
    co_return std::move(submitted->ids);
  }
  std::vector<store::JobId>& created = submitted->ids;
  if (!request.uploads.empty())
    co_await share_snapshot(staging, created, options_.snapshots_root());
  const store::JobId first = created.front();
  if (created.size() == 1) {
    logger("controller")
        ->info("job submitted job={} name={} user={} tasks={}", first.value, request.name,
               request.owner.uid, pipeline->tasks.size());
  } else {
    logger("controller")
        ->info("jobs submitted first={} last={} count={} name={} user={} tasks={}", first.value,
               created.back().value, created.size(), request.name, request.owner.uid,
               pipeline->tasks.size());
  }
  for (const store::JobId id : created) supervise(id);
  if (created.size() >= kBatchThatRefreshesStatistics)
    here().group->spawn(refresh_statistics(here().jobs.get()));
  co_return std::move(created);
}

Task<Result<std::vector<store::BucketRecord>>> Controller::buckets() {
  ShardContext& shard = here();
  auto buckets = co_await shard.buckets->list();
  if (!buckets || !shard.bucket_keeper) co_return buckets;
  // Sizes as the store says now (a mounted bucket grows while its job runs).
  for (auto& bucket : *buckets) {
    if (!shard.bucket_keeper->keeps(bucket.store)) continue;
    if (auto bytes = co_await shard.bucket_keeper->measure(bucket.store, bucket.name))
      bucket.size_bytes = static_cast<std::int64_t>(*bytes);
  }
  co_return buckets;
}

Task<Result<std::string>> Controller::delete_bucket(std::string name, Caller caller) {
  ShardContext& shard = here();
  // A name is looked up in every store this skyd keeps buckets in (the default store first).
  std::vector<std::string> stores{options_.bucket_store};
  if (shard.bucket_keeper)
    for (const auto& other : shard.bucket_keeper->stores())
      if (other != options_.bucket_store) stores.push_back(other);
  Result<std::optional<store::BucketRecord>> found = std::optional<store::BucketRecord>();
  for (const auto& store : stores) {
    found = co_await shard.buckets->find(store, name);
    if (!found) co_return found.error();
    if (*found && (*found)->state != store::BucketState::kDeleted) break;
  }
  if (!*found || (*found)->state == store::BucketState::kDeleted)
    co_return store::make_error(store::StoreErrc::kNotFound, "no bucket named " + name);
  const store::BucketRecord& bucket = **found;
  if (!caller.privileged && bucket.owner_uid != static_cast<std::int64_t>(caller.uid)) {
    co_return make_error(
        boost::system::errc::make_error_code(boost::system::errc::permission_denied),
        "bucket " + name + " belongs to " + bucket.owner_name);
  }
  auto users = co_await shard.buckets->open_jobs_using(name);
  if (!users) co_return users.error();
  if (!users->empty()) {
    co_return make_error(
        boost::system::errc::make_error_code(boost::system::errc::device_or_resource_busy),
        "bucket " + name + " is in use by open job " + std::to_string(users->front().value) +
            "; cancel it or wait for it to end");
  }
  if (!shard.bucket_keeper) co_return store::make_error(store::StoreErrc::kNotFound, name);
  co_return co_await shard.bucket_keeper->delete_bucket(bucket);
}

Task<Result<std::vector<store::JobRecord>>> Controller::list(store::QueueFilter filter) {
  co_return co_await here().jobs->list_jobs(filter);
}

Task<Result<store::QueueSummary>> Controller::queue_summary(std::optional<std::int64_t> user_uid,
                                                            bool open_only) {
  co_return co_await here().jobs->queue_summary(user_uid, open_only);
}

Task<Result<store::JobRecord>> Controller::get(store::JobId id) {
  co_return co_await here().jobs->get_job(id, store::Priority::kApi);
}

Task<Result<std::vector<store::JobEvent>>> Controller::events(store::JobId id) {
  co_return co_await here().jobs->events(id);
}

Task<Result<std::map<store::JobStatus, std::int64_t>>> Controller::count_by_status() {
  co_return co_await here().jobs->count_by_status();
}

Task<Result<std::vector<store::MarketCost>>> Controller::cost_by_market() {
  co_return co_await here().jobs->cost_by_market();
}

namespace {
Task<bool> request_cancels_on(ShardContext* shard, std::vector<std::int64_t> ids) {
  for (const std::int64_t id : ids)
    if (auto found = shard->runners.find(id); found != shard->runners.end())
      found->second->request_cancel();
  co_return true;
}

void append(std::vector<std::int64_t>& to, const std::vector<std::int64_t>& more) {
  to.insert(to.end(), more.begin(), more.end());
}
}  // namespace

Task<Result<CancelOutcome>> Controller::cancel(std::vector<store::JobId> ids, Caller caller) {
  // Stamped in batches, each one statement, before any runner hears of it: a skyd that dies
  // before a job acts on its cancel carries it out after its restart (the runner reads it when it
  // loads the job). A cancel of every job thus costs a statement per thousand jobs, not two round
  // trips per job.
  constexpr std::size_t kBatch = 1000;
  const std::optional<std::int64_t> only_user =
      caller.privileged ? std::nullopt : std::optional<std::int64_t>(caller.uid);
  CancelOutcome outcome;
  for (std::size_t first = 0; first < ids.size(); first += kBatch) {
    std::vector<store::JobId> batch(ids.begin() + first,
                                    ids.begin() + std::min(ids.size(), first + kBatch));
    auto verdicts = co_await here().jobs->request_cancels(std::move(batch), only_user);
    if (!verdicts) co_return verdicts.error();
    std::map<std::size_t, std::vector<std::int64_t>> by_shard;
    for (const std::int64_t id : verdicts->recorded)
      by_shard[owner_of(store::JobId{id})].push_back(id);
    // Named, not built in the co_await expression: g++ 12 mishandles such temporaries.
    for (auto& entry : by_shard) {
      ShardContext* owner = shards_.at(entry.first).get();
      std::function<Task<bool>()> tell = [owner, owned = std::move(entry.second)] {
        return request_cancels_on(owner, owned);
      };
      co_await ShardPool::call_on<bool>(owner->executor, std::move(tell));
    }
    append(outcome.scheduled, verdicts->recorded);
    append(outcome.already_finished, verdicts->already_finished);
    append(outcome.not_found, verdicts->not_found);
    append(outcome.not_permitted, verdicts->not_permitted);
  }
  co_return outcome;
}

Task<Result<std::vector<store::JobId>>> Controller::open_jobs_named(std::optional<std::string> name,
                                                                    Caller caller,
                                                                    bool every_user) {
  store::QueueFilter filter;
  filter.open_only = true;
  const bool others_too = every_user || (name && caller.privileged);
  filter.name = std::move(name);
  filter.limit = 100000;
  if (!others_too) filter.user_uid = caller.uid;
  co_return co_await here().jobs->job_ids(filter);
}

Task<Result<std::string>> Controller::preempt(store::JobId id) {
  auto job = co_await here().jobs->get_job(id);
  if (!job) co_return job.error();
  for (const auto& task : job->tasks) {
    if (task.status != store::JobStatus::kRunning || !task.cluster_name) continue;
    if (auto started = here().local->start_preemption(*task.cluster_name); !started)
      co_return started.error();
    co_return *task.cluster_name;
  }
  co_return invalid_argument("job " + std::to_string(id.value) + " has no running task to preempt");
}

}  // namespace skyd::daemon
