#pragma once
// The managed-job controller: owns, per shard, the database pool, the HTTP client, the local
// provider and the coroutines of the jobs that shard supervises (job id % shards). API handlers
// call it from whichever shard serves their connection; it hops to the job's shard where needed.

#include "daemon/api_validation.hpp"
#include "daemon/controller/admission.hpp"
#include "daemon/controller/controller_options.hpp"
#include "daemon/controller/poll_window.hpp"
#include "daemon/controller/shard_context.hpp"
#include "daemon/spec/task.hpp"
#include "daemon/upload_store.hpp"
#include "reactor/identity.hpp"
#include "reactor/shard_pool.hpp"
#include "store/bucket_repository.hpp"
#include "store/job_repository.hpp"

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

// A job to create, already checked (daemon/api_validation.hpp: parse_submit_body).
struct SubmitRequest {
  std::string name;
  spec::Pipeline pipeline;
  std::string pipeline_json;  // `pipeline` in its normalized JSON form (task_json.hpp), as stored
  UserIdentity owner;         // who submitted it, as the socket says: the job runs as them
  std::string user_name;
  int priority = 0;
  std::vector<UploadRef> uploads;             // the local files its tasks use
  int num_jobs = 1;                           // `--num-jobs N`: N copies, ranks 0..N-1
  std::optional<std::string> submission_key;  // asked again with it: the jobs made the first time
};

struct Caller {
  uid_t uid = 0;
  bool privileged = false;  // root, skyd's own user, or a member of the admin group
};

struct CancelOutcome {
  std::vector<std::int64_t> scheduled;         // now cancelling
  std::vector<std::int64_t> already_finished;  // terminal already: untouched
  std::vector<std::int64_t> not_found;
  std::vector<std::int64_t> not_permitted;  // another user's job
};

class Controller {
 public:
  Controller(ShardPool& pool, ControllerOptions options);
  ~Controller();

  // From main, before the API listens: per-shard resources, migrations, then every open job is
  // resumed and clusters that belong to no open job are terminated. Blocks until that is done.
  Result<void> start();
  // Ends the job coroutines (machines keep running: the next skyd re-attaches) and the providers'
  // background work. From main, before the shards stop.
  void stop();

  // API operations, callable from any shard.
  // Creates the request's num_jobs jobs (one transaction) and starts supervising them; their ids
  // by rank.
  Task<Result<std::vector<store::JobId>>> submit(SubmitRequest request);
  Task<Result<std::vector<store::JobRecord>>> list(store::QueueFilter filter);
  Task<Result<store::QueueSummary>> queue_summary(std::optional<std::int64_t> user_uid,
                                                  bool open_only);
  Task<Result<store::JobRecord>> get(store::JobId id);
  // The job's transition log, oldest first (the dashboard's timeline).
  Task<Result<std::vector<store::JobEvent>>> events(store::JobId id);
  // Jobs per status (for /metrics).
  Task<Result<std::map<store::JobStatus, std::int64_t>>> count_by_status();
  // Spend per market so far, from the cost ledger (for /metrics).
  Task<Result<std::vector<store::MarketCost>>> cost_by_market();
  Task<Result<CancelOutcome>> cancel(std::vector<store::JobId> ids, Caller caller);
  // Every open job with this name (the caller's own unless privileged); without a name, the
  // caller's own open jobs, or with `every_user` everyone's (cancel then refuses the ones the
  // caller may not touch, by id).
  Task<Result<std::vector<store::JobId>>> open_jobs_named(std::optional<std::string> name,
                                                          Caller caller, bool every_user = false);
  // `sky storage ls`: every bucket skyd has used and not deleted, with the size its store reports.
  Task<Result<std::vector<store::BucketRecord>>> buckets();
  // `sky storage delete`: a bucket skyd made is emptied and deleted, one it did not make is only
  // forgotten; returns which. Errors: kNotFound; permission_denied (another user's bucket);
  // device_or_resource_busy (an open job uses it).
  Task<Result<std::string>> delete_bucket(std::string name, Caller caller);
  // The local provider's preemption of the job's current spot cluster.
  Task<Result<std::string>> preempt(store::JobId id);

  const ControllerOptions& options() const { return options_; }
  UploadStore& uploads() { return uploads_; }
  // Whether the database can be used now (a probe on shard 0 and, with the embedded server, its
  // supervisor keep it current). Thread-safe.
  const store::DatabaseHealth& database_health() const { return *options_.database_health; }
  // Why a PENDING job waits for a slot, if it does.
  std::optional<std::string> waiting_reason(store::JobId id) const;
  // The kubernetes provider of the calling thread's shard, whose claims are `sky volumes`; null
  // when kubernetes is not enabled.
  providers::kubernetes::KubeProvider* kubernetes();

 private:
  ShardContext& here();
  std::size_t owner_of(store::JobId id) const;
  void supervise(store::JobId id);  // on the owner shard
  Task<void> supervise_on(ShardContext* shard, store::JobId id);

  ShardPool& pool_;
  ControllerOptions options_;
  // Before the shards: their runners' node followers count themselves in it until they end.
  std::unique_ptr<PollWindow> poll_window_;
  std::vector<std::unique_ptr<ShardContext>> shards_;
  std::unique_ptr<Admission> admission_;
  UploadStore uploads_;
  std::unique_ptr<store::DatabaseHealth> own_database_health_;  // when none was given
};

}  // namespace skyd::daemon
