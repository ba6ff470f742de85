#pragma once
// Jobs, their pipeline tasks and the transition log, in the project's own types. One repository
// per shard, over that shard's pool; every call runs on that shard. Status changes go through
// transition(): the legality check of job_status.hpp, then an update guarded on the expected
// status (and lease epoch) written in one transaction with its job_events row.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/pipelined_batches.hpp"
#include "store/job_status.hpp"
#include "store/pg_pool.hpp"

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace skyd::store {

class Transaction;

struct JobId {
  std::int64_t value = 0;
  auto operator<=>(const JobId&) const = default;
};

using TimePoint = std::chrono::system_clock::time_point;

struct NewTask {
  std::string name;
  std::string resources;  // as requested, e.g. "1x[V100:1][Spot]"
};

struct NewJob {
  std::string name;
  std::int64_t user_uid = 0;
  std::optional<std::int64_t> user_gid;   // the submitter's primary group on the socket
  std::vector<std::int64_t> user_groups;  // and supplementary groups: the job runs with them
  std::string user_name;
  int priority = 500;
  std::string spec_json = "{}";  // the normalized task spec (stored as jsonb)
  std::vector<NewTask> tasks;    // one per pipeline task, in order; at least one
  int num_jobs = 1;              // `--num-jobs N`: N copies, ranks 0..N-1 (kMaxJobsPerSubmit)
  // The key `sky` made for this launch: the same key from the same user makes no second job.
  std::optional<std::string> submission_key;
};

// What a submission made: its jobs by rank, or, for a key seen before, the jobs made then.
struct SubmittedJobs {
  std::vector<JobId> ids;
  bool earlier = false;  // the key was used before: `ids` are that submission's jobs
};

// The most jobs one submission makes (`sky jobs launch --num-jobs`): a 10,000-job batch is one
// INSERT of a few megabytes; more belongs in several calls.
inline constexpr int kMaxJobsPerSubmit = 10000;

struct TaskRecord {
  JobId job_id;
  int task_index = 0;
  std::string name;
  JobStatus status = JobStatus::kPending;
  std::string resources;
  std::optional<std::string> placement_json;
  std::optional<std::string> cluster_name;
  TimePoint submitted_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  std::optional<TimePoint> last_recovered_at;
  double job_duration_seconds = 0;  // RUNNING time before the current RUNNING stretch
  int recovery_count = 0;
  int restart_count = 0;
  std::optional<std::string> failure_reason;
  std::vector<int> exit_codes;
  int attempt = 0;
  // The cost ledger (view attempt_costs; filled by get_job and list_jobs only): what the task's
  // runs cost, and what they would have cost on demand.
  double cost_usd = 0;
  double on_demand_cost_usd = 0;
  // The work the task's last reported checkpoint holds (progress_reports; get_job and list_jobs).
  std::optional<std::int64_t> reported_work_seconds;
};

// Spend per market ("spot", "on-demand") over every run so far (view attempt_costs).
struct MarketCost {
  std::string market;
  double cost_usd = 0;
  double on_demand_cost_usd = 0;
};

struct JobRecord {
  JobId id;
  std::string name;
  std::int64_t user_uid = 0;
  std::optional<std::int64_t> user_gid;
  std::vector<std::int64_t> user_groups;
  std::string user_name;
  int priority = 0;
  TimePoint submitted_at;
  std::string spec_json;
  int task_count = 0;
  JobStatus status = JobStatus::kPending;  // the first task that has not SUCCEEDED
  std::optional<TimePoint> ended_at;
  std::optional<std::string> failure_reason;
  std::optional<std::string> lease_owner;
  std::int64_t lease_epoch = 0;
  std::optional<TimePoint> cancel_requested_at;  // a cancel was accepted (and may not be done yet)
  int job_rank = 0;                              // its rank among the jobs of one submission
  int num_jobs = 1;                              // how many jobs that submission made
  std::vector<TaskRecord> tasks;                 // by task index
};

struct JobEvent {
  std::int64_t id = 0;
  JobId job_id;
  std::optional<int> task_index;
  TimePoint at;
  std::optional<JobStatus> from;  // empty for the submission row
  JobStatus to = JobStatus::kPending;
  std::string reason;
  std::string details_json;
};

// A checkpoint a task reported through skylet: the seconds of work it holds (one row per change,
// table progress_reports).
struct ProgressReport {
  std::int64_t id = 0;
  int task_index = 0;
  int attempt = 0;
  TimePoint at;
  std::int64_t work_seconds = 0;
};

// The queue: newest first. Empty fields do not filter.
struct QueueFilter {
  std::optional<std::int64_t> user_uid;
  std::optional<std::string> name;
  std::vector<JobStatus> statuses;  // job status any of these
  bool open_only = false;           // skip jobs whose tasks have all ended
  std::optional<JobId> before;      // paging: only ids lower than this
  int limit = 100;
};

// The queue's totals, over every page.
// What a cancel of many jobs found, by job id.
struct CancelVerdicts {
  std::vector<std::int64_t> recorded;          // open and the caller's to cancel: now stamped
  std::vector<std::int64_t> already_finished;  // ended already: untouched
  std::vector<std::int64_t> not_found;
  std::vector<std::int64_t> not_permitted;  // another user's job
};

struct QueueSummary {
  std::int64_t jobs = 0;                               // jobs that match
  std::map<JobStatus, std::int64_t> unfinished_tasks;  // their tasks not yet ended, by status
};

struct TransitionRequest {
  JobId job_id;
  int task_index = 0;
  JobStatus from = JobStatus::kPending;  // the guard: the status the caller believes is current
  JobStatus to = JobStatus::kPending;
  std::string reason;
  std::string details_json = "{}";  // e.g. {"cloud":"aws","region":"us-east-1","zone":"us-east-1a"}
  std::optional<std::int64_t> lease_epoch;  // fence: only while the job's lease has this epoch
  // A retried request carries the same key: if its first try committed, the retry succeeds
  // without a second change (and without a second event row).
  std::optional<std::string> idempotency_key;
  bool restart_on_error = false;  // this recovery restarts after a user-code error (+1 restart)
  std::optional<std::string> failure_reason;
  std::optional<std::vector<int>> exit_codes;
  std::optional<std::string> cluster_name;
  std::optional<std::string> placement_json;
};

class JobRepository {
 public:
  explicit JobRepository(PgPool& pool);
  JobRepository(const JobRepository&) = delete;  // its batches call back into this one
  JobRepository& operator=(const JobRepository&) = delete;

  // Inserts the job, its tasks (PENDING) and one submission event per task, atomically.
  // Errors: kQuery for an invalid job (no tasks), store errors otherwise.
  Task<Result<JobId>> create_job(NewJob job);
  // The same for `job.num_jobs` copies in one statement: their ids, by rank. Errors: kQuery for
  // an invalid job (no tasks, num_jobs outside 1..kMaxJobsPerSubmit), store errors otherwise.
  Task<Result<std::vector<JobId>>> create_jobs(NewJob job);
  // create_jobs, once per submission key: a key the user used before makes nothing and answers
  // with the jobs it made then (also when two requests with one key race).
  Task<Result<SubmittedJobs>> submit_jobs(NewJob job);
  // The jobs a user's earlier submission with this key made, by rank (none: a new key).
  Task<Result<std::vector<JobId>>> jobs_of_submission(std::int64_t user_uid, std::string key);

  // Errors: kNotFound. `priority`: kApi when a caller waits on the answer. The jobs' own reads
  // that come while one is out are read together when it is back (a restart re-reads every
  // open job at once), as transitions are.
  Task<Result<JobRecord>> get_job(JobId id, Priority priority = Priority::kJobs);
  // The queue's page, newest first; its records carry no spec_json (get_job's do). The API's
  // reads (this, job_ids, queue_summary) go ahead of the jobs' own statements in the line for a
  // connection.
  Task<Result<std::vector<JobRecord>>> list_jobs(QueueFilter filter);
  // The ids the filter matches (its limit too), newest first: what a cancel by name or of all
  // needs, without reading the jobs.
  Task<Result<std::vector<JobId>>> job_ids(QueueFilter filter);
  // The totals of everyone's jobs or one user's (only the open ones with `open_only`), from the
  // counters the database keeps as jobs and tasks change (queue_counts).
  Task<Result<QueueSummary>> queue_summary(std::optional<std::int64_t> user_uid, bool open_only);
  // Folds the counters' rows into one per user and counter once there are more than `above`.
  Task<Result<void>> fold_queue_counts(std::int64_t above);
  // Refreshes the planner's statistics of jobs, tasks and job_events (ANALYZE): after a batch
  // that grew them by thousands of rows, so the queue's plans fit the new sizes at once instead
  // of after the next autovacuum.
  Task<Result<void>> refresh_statistics();
  // Every job with a task not yet ended, oldest first (reconciliation at start).
  Task<Result<std::vector<JobId>>> open_jobs();
  // When each of these jobs ended (std::nullopt: still open), in one statement; a job that does
  // not exist has no entry. What the sweeps of leaked clusters and old logs ask about thousands
  // of jobs at once.
  Task<Result<std::map<JobId, std::optional<TimePoint>>>> ends_of(std::vector<JobId> ids);
  Task<Result<std::map<JobStatus, std::int64_t>>> count_by_status();
  Task<Result<std::vector<MarketCost>>> cost_by_market();
  // Records users' cancels on open jobs in one statement, before anyone is told they are
  // scheduled; `only_user_uid` limits it to that user's jobs (the others are not_permitted). Every
  // asked id lands in one list, in the order asked.
  Task<Result<CancelVerdicts>> request_cancels(std::vector<JobId> ids,
                                               std::optional<std::int64_t> only_user_uid);
  Task<Result<std::vector<JobEvent>>> events(JobId id);

  // Records a change of a task's reported checkpoint; the job's reports come back in order.
  Task<Result<void>> record_progress(JobId id, int task_index, int attempt,
                                     std::int64_t work_seconds);
  Task<Result<std::vector<ProgressReport>>> progress_reports(JobId id);

  // Changes one task's status in one statement (its own transaction), with its event row, and keeps
  // the job's status and end time in step. Returns the task as it is now. Errors:
  // kIllegalTransition (refused before any SQL), kConflict (the task is not in `from`, or the lease
  // epoch moved on; the detail says which), kNotFound, kUnavailable/kRetryable/kTimedOut from the
  // database. Transitions of other tasks that come while one is being written are written
  // together, in one statement, when it is back (reactor/pipelined_batches.hpp).
  Task<Result<TaskRecord>> transition(TransitionRequest request);

  // The same inside the caller's transaction, so several transitions commit together (a job's
  // cancellation, or batching). On an error the caller must roll back.
  Task<Result<TaskRecord>> transition(Transaction& transaction, TransitionRequest request);

  // How the transitions were written: alone, or in batches (and how many those carried).
  using TransitionBatches =
      PipelinedBatches<TransitionRequest, Result<TaskRecord>, std::pair<std::int64_t, int>>;
  const TransitionBatches::Stats& transition_batch_stats() const { return transitions_.stats(); }

 private:
  // The transitions gathered while the last statement was out, in one statement: each answer
  // is the task moved, or nothing when it was not (its caller then writes it alone).
  Task<std::vector<std::optional<Result<TaskRecord>>>> transitions_together(
      std::vector<TransitionRequest> requests);

  Task<Result<JobRecord>> read_job(JobId id, Priority priority);
  // The jobs gathered while the last read was out, in one statement (nothing: not found).
  Task<std::vector<std::optional<Result<JobRecord>>>> read_jobs_together(std::vector<JobId> ids);

  template <typename Session>  // PgPool (a statement of its own) or Transaction
  Task<Result<TaskRecord>> transition_on(Session& session, TransitionRequest request);

  PgPool& pool_;
  TransitionBatches transitions_;
  PipelinedBatches<JobId, Result<JobRecord>, std::int64_t> job_reads_;
};

}  // namespace skyd::store
