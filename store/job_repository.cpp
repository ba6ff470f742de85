#include "store/job_repository.hpp"

#include "reactor/log.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"
#include "store/transaction.hpp"
#include "store/transition_json.hpp"

#include <algorithm>
#include <stdexcept>

namespace skyd::store {
namespace {

using boost::system::in_place_error;

// Column lists shared by the statements below (timestamps as microseconds since the epoch).
#define SKYD_JOB_COLUMNS                                                                   \
  "j.id AS job_id, j.name AS job_name, j.user_uid, j.user_gid, "                           \
  "j.user_groups::text AS user_groups, j.user_name, j.priority, "                          \
  "(extract(epoch FROM j.submitted_at) * 1000000)::bigint AS job_submitted_us, "           \
  "j.task_count, j.status AS job_status, "                                                 \
  "(extract(epoch FROM j.ended_at) * 1000000)::bigint AS job_ended_us, "                   \
  "j.failure_reason AS job_failure_reason, j.lease_owner, j.lease_epoch, "                 \
  "(extract(epoch FROM j.cancel_requested_at) * 1000000)::bigint AS cancel_requested_us, " \
  "j.job_rank, j.num_jobs"
#define SKYD_TASK_COLUMNS                                                                    \
  "t.job_id, t.task_index, t.name, t.status, t.resources, t.placement::text AS placement, "  \
  "t.cluster_name, (extract(epoch FROM t.submitted_at) * 1000000)::bigint AS submitted_us, " \
  "(extract(epoch FROM t.started_at) * 1000000)::bigint AS started_us, "                     \
  "(extract(epoch FROM t.ended_at) * 1000000)::bigint AS ended_us, "                         \
  "(extract(epoch FROM t.last_recovered_at) * 1000000)::bigint AS last_recovered_us, "       \
  "t.job_duration_seconds, t.recovery_count, t.restart_count, t.failure_reason, "            \
  "t.exit_codes::text AS exit_codes, t.attempt"

// $11 copies of one job: ranks 0..$11-1, their tasks and submission events, in one statement.
constexpr const char* kCreateJobs = R"(
WITH created AS (
  INSERT INTO jobs (name, user_uid, user_name, priority, spec, task_count, user_gid, user_groups,
                    job_rank, num_jobs, submission_key)
  SELECT $1, $2::bigint, $3, $4::integer, $5::jsonb, $6::integer, $9::bigint, $10::bigint[],
         rank, $11::integer, $12::text
  FROM generate_series(0, $11::integer - 1) AS rank
  ORDER BY rank
  ON CONFLICT (user_uid, submission_key, job_rank) WHERE submission_key IS NOT NULL DO NOTHING
  RETURNING id, job_rank
), new_tasks AS (
  INSERT INTO tasks (job_id, task_index, name, resources)
  SELECT created.id, x.position - 1, x.name, x.resources
  FROM created, unnest($7::text[], $8::text[]) WITH ORDINALITY AS x(name, resources, position)
  RETURNING job_id, task_index
), submitted AS (
  INSERT INTO job_events (job_id, task_index, from_status, to_status, reason)
  SELECT job_id, task_index, NULL, 'PENDING', 'submitted' FROM new_tasks
)
SELECT id, job_rank FROM created ORDER BY job_rank)";

constexpr const char* kJobsOfSubmission =
    "SELECT id FROM jobs WHERE user_uid = $1::bigint AND submission_key = $2::text "
    "ORDER BY job_rank";

// Each task with what its runs cost (view attempt_costs); a task never started (attempt 0) has
// no run to price, and skipping the view for it keeps a queue of 10,000 PENDING jobs cheap. The
// tasks are read per job (the ORDER BY keeps the subquery from being flattened into a join):
// by primary key for a page of 50, where a join hashed every task of every job.
#define SKYD_TASKS_WITH_COSTS                                                             \
  "JOIN LATERAL (SELECT * FROM tasks WHERE job_id = j.id ORDER BY task_index) t ON true " \
  "LEFT JOIN LATERAL ("                                                                   \
  "  SELECT sum(cost_usd) AS cost_usd, sum(on_demand_cost_usd) AS on_demand_cost_usd"     \
  "  FROM attempt_costs a"                                                                \
  "  WHERE t.attempt > 0 AND a.job_id = t.job_id AND a.task_index = t.task_index"         \
  ") c ON true "
// With the checkpoint the task last reported (progress_reports), if it ran and reported one.
#define SKYD_COST_COLUMNS                                                               \
  "coalesce(c.cost_usd, 0) AS cost_usd, "                                               \
  "coalesce(c.on_demand_cost_usd, 0) AS on_demand_cost_usd, "                           \
  "(SELECT p.work_seconds FROM progress_reports p WHERE t.attempt > 0 AND "             \
  "p.job_id = t.job_id AND p.task_index = t.task_index ORDER BY p.id DESC LIMIT 1) AS " \
  "reported_work_seconds"

// One job by its id, with its spec (what its runner reads).
constexpr const char* kSelectJob =
    "SELECT " SKYD_JOB_COLUMNS ", j.spec::text AS spec, " SKYD_TASK_COLUMNS ", " SKYD_COST_COLUMNS
    " FROM jobs j " SKYD_TASKS_WITH_COSTS "WHERE j.id = $1::bigint ORDER BY t.task_index";

// The same for the jobs the runners read at once (a restart re-reads every open job).
constexpr const char* kSelectJobsById =
    "SELECT " SKYD_JOB_COLUMNS ", j.spec::text AS spec, " SKYD_TASK_COLUMNS ", " SKYD_COST_COLUMNS
    " FROM jobs j " SKYD_TASKS_WITH_COSTS
    "WHERE j.id = ANY($1::bigint[]) ORDER BY j.id, t.task_index";

// The queue, newest first, without specs (scripts can be megabytes). One statement per shape of
// the filter rather than one with `$1 IS NULL OR ...`: a prepared statement's generic plan cannot
// choose an index from a parameter. A user's page reads jobs_user_idx (jobs_user_open_idx with
// skip_finished), everyone's the primary key (jobs_open_idx); each stops after the page.
#define SKYD_QUEUE_FILTER_REST                            \
  "AND ($2::text IS NULL OR name = $2::text) "            \
  "AND ($3::text[] IS NULL OR status = ANY($3::text[])) " \
  "AND ($4::bigint IS NULL OR id < $4::bigint) "
#define SKYD_QUEUE_OF_EVERYONE "$1::bigint IS NULL " SKYD_QUEUE_FILTER_REST
#define SKYD_QUEUE_OF_USER "user_uid = $1::bigint " SKYD_QUEUE_FILTER_REST
#define SKYD_QUEUE_OPEN "ended_at IS NULL AND "
#define SKYD_PAGE_OF(filter)                                               \
  "SELECT " SKYD_JOB_COLUMNS ", " SKYD_TASK_COLUMNS ", " SKYD_COST_COLUMNS \
  " FROM (SELECT * FROM jobs WHERE " filter                                \
  "ORDER BY id DESC LIMIT $5::integer) j " SKYD_TASKS_WITH_COSTS           \
  "ORDER BY j.id DESC, t.task_index"
#define SKYD_IDS_OF(filter) "SELECT id FROM jobs WHERE " filter "ORDER BY id DESC LIMIT $5::integer"
// Indexed by [a user's][open only].
constexpr const char* kSelectJobs[2][2] = {
    {SKYD_PAGE_OF(SKYD_QUEUE_OF_EVERYONE), SKYD_PAGE_OF(SKYD_QUEUE_OPEN SKYD_QUEUE_OF_EVERYONE)},
    {SKYD_PAGE_OF(SKYD_QUEUE_OF_USER), SKYD_PAGE_OF(SKYD_QUEUE_OPEN SKYD_QUEUE_OF_USER)}};
constexpr const char* kSelectJobIds[2][2] = {
    {SKYD_IDS_OF(SKYD_QUEUE_OF_EVERYONE), SKYD_IDS_OF(SKYD_QUEUE_OPEN SKYD_QUEUE_OF_EVERYONE)},
    {SKYD_IDS_OF(SKYD_QUEUE_OF_USER), SKYD_IDS_OF(SKYD_QUEUE_OPEN SKYD_QUEUE_OF_USER)}};
#undef SKYD_PAGE_OF
#undef SKYD_IDS_OF
#undef SKYD_QUEUE_OPEN
#undef SKYD_QUEUE_OF_USER
#undef SKYD_QUEUE_OF_EVERYONE
#undef SKYD_QUEUE_FILTER_REST

// The queue's totals: how many jobs (open ones with open_only), and the unfinished tasks by
// status (the table's "In progress tasks" line counts every job, not only the page shown). They
// are kept in queue_counts by the tables' triggers (migration 0013): a handful of rows to add up
// per user, not every job to count.
constexpr const char* kQueueCountsOfEveryone = R"(
SELECT counter, sum(n)::bigint AS n FROM queue_counts GROUP BY counter HAVING sum(n) <> 0)";
constexpr const char* kQueueCountsOfUser = R"(
SELECT counter, sum(n)::bigint AS n FROM queue_counts WHERE user_uid = $1::bigint
GROUP BY counter HAVING sum(n) <> 0)";
// Folds the counters' rows into one per user and counter once there are more than $1 of them.
// Only the rows it deletes are summed, so a transition committing meanwhile is never lost; when
// there is nothing to fold it writes nothing.
constexpr const char* kFoldQueueCounts = R"(
WITH folded AS (
  DELETE FROM queue_counts WHERE (SELECT count(*) FROM queue_counts) > $1::bigint
  RETURNING user_uid, counter, n)
INSERT INTO queue_counts (user_uid, counter, n)
SELECT user_uid, counter, sum(n) FROM folded GROUP BY user_uid, counter HAVING sum(n) <> 0)";

#undef SKYD_COST_COLUMNS
#undef SKYD_TASKS_WITH_COSTS

constexpr const char* kAnalyze = "ANALYZE jobs, tasks, job_events";
constexpr const char* kOpenJobs = "SELECT id FROM jobs WHERE ended_at IS NULL ORDER BY id";
constexpr const char* kEndsOf =
    "SELECT id, (extract(epoch FROM ended_at) * 1000000)::bigint AS ended_us FROM jobs "
    "WHERE id = ANY($1::bigint[])";
// The first accepted cancel stamps the job; later ones keep that time.
// Stamps the cancel on every open job of $1 the caller may cancel ($2: the caller's uid, NULL for a
// privileged caller) and says, for each asked id, what became of it. The SELECT reads the jobs as
// they were before the UPDATE, which is all it needs of them (whether and whose they are).
constexpr const char* kRequestCancels = R"(
WITH asked AS (
  SELECT id, min(position) AS position
  FROM unnest($1::bigint[]) WITH ORDINALITY AS a(id, position) GROUP BY id),
marked AS (
  UPDATE jobs j SET cancel_requested_at = coalesce(j.cancel_requested_at, now())
  FROM asked
  WHERE j.id = asked.id AND j.ended_at IS NULL AND ($2::bigint IS NULL OR j.user_uid = $2::bigint)
  RETURNING j.id)
SELECT asked.id,
       CASE WHEN marked.id IS NOT NULL THEN 'recorded'
            WHEN j.id IS NULL THEN 'not_found'
            WHEN $2::bigint IS NOT NULL AND j.user_uid <> $2::bigint THEN 'not_permitted'
            ELSE 'finished' END AS verdict
FROM asked LEFT JOIN marked ON marked.id = asked.id LEFT JOIN jobs j ON j.id = asked.id
ORDER BY asked.position)";
constexpr const char* kCountByStatus = "SELECT status, count(*) AS n FROM jobs GROUP BY status";
constexpr const char* kCostByMarket = R"(
SELECT market, sum(cost_usd) AS cost_usd, sum(on_demand_cost_usd) AS on_demand_cost_usd
FROM attempt_costs GROUP BY market ORDER BY market)";
constexpr const char* kEvents = R"(
SELECT id, job_id, task_index, (extract(epoch FROM at) * 1000000)::bigint AS at_us,
       from_status, to_status, reason, details::text AS details
FROM job_events WHERE job_id = $1::bigint ORDER BY id)";

constexpr const char* kRecordProgress = R"(
INSERT INTO progress_reports (job_id, task_index, attempt, work_seconds)
VALUES ($1::bigint, $2::integer, $3::integer, $4::bigint))";

constexpr const char* kProgressReports = R"(
SELECT id, task_index, attempt, (extract(epoch FROM at) * 1000000)::bigint AS at_us, work_seconds
FROM progress_reports WHERE job_id = $1::bigint ORDER BY id)";

// Lock the job, update the task, log the event and refresh the job: one round trip (see
// store/migrations/0015_one_statement_transition.sql). $3 is the guard (expected status), $6 the
// optional lease-epoch fence. No row: the guard did not hold.
constexpr const char* kTransition =
    "SELECT " SKYD_TASK_COLUMNS
    " FROM skyd_transition($1::bigint, $2::integer, $3, $4, $5::boolean, $6::bigint, $7::boolean,"
    " $8, $9::integer[], $10, $11::jsonb, $12, $13::jsonb, $14) t";

// Many tasks' transitions (migration 0016): the tasks moved; one not returned was not moved.
constexpr const char* kTransitions =
    "SELECT " SKYD_TASK_COLUMNS " FROM skyd_transitions($1::jsonb) t";

// After a guard miss: what is there instead, and whether this very request already landed.
constexpr const char* kGuardMiss = R"(
SELECT t.status, j.lease_epoch,
       EXISTS (SELECT 1 FROM job_events e
               WHERE e.idempotency_key = $3 AND e.job_id = t.job_id
                 AND e.task_index = t.task_index) AS already_applied
FROM tasks t JOIN jobs j ON j.id = t.job_id
WHERE t.job_id = $1::bigint AND t.task_index = $2::integer)";
constexpr const char* kSelectTask =
    "SELECT " SKYD_TASK_COLUMNS
    " FROM tasks t WHERE t.job_id = $1::bigint AND t.task_index = $2::integer";

#undef SKYD_JOB_COLUMNS
#undef SKYD_TASK_COLUMNS

// A PostgreSQL array literal of text values: {"a","b\"c"}.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

template <typename Integer>
std::string int_array(const std::vector<Integer>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

template <typename Integer = int>
std::vector<Integer> parse_int_array(const std::optional<std::string>& text) {
  std::vector<Integer> values;
  if (!text || text->size() < 2) return values;
  std::string inner = text->substr(1, text->size() - 2);
  std::size_t start = 0;
  while (start < inner.size()) {
    std::size_t comma = inner.find(',', start);
    if (comma == std::string::npos) comma = inner.size();
    values.push_back(static_cast<Integer>(std::stoll(inner.substr(start, comma - start))));
    start = comma + 1;
  }
  return values;
}

TimePoint from_micros(std::int64_t micros) {
  return TimePoint(std::chrono::microseconds(micros));
}

std::optional<TimePoint> optional_time(const QueryResult& rows, std::size_t row,
                                       std::string_view column) {
  auto micros = rows.optional_int64(row, column);
  if (!micros) return std::nullopt;
  return from_micros(*micros);
}

JobStatus status_of(const std::string& text) {
  auto status = parse_job_status(text);
  if (!status) throw std::invalid_argument("unknown status in the database: " + text);
  return *status;
}

TaskRecord task_from(const QueryResult& rows, std::size_t row) {
  TaskRecord task;
  task.job_id = JobId{rows.int64(row, "job_id")};
  task.task_index = static_cast<int>(rows.int64(row, "task_index"));
  task.name = rows.text(row, "name");
  task.status = status_of(rows.text(row, "status"));
  task.resources = rows.text(row, "resources");
  task.placement_json = rows.optional_text(row, "placement");
  task.cluster_name = rows.optional_text(row, "cluster_name");
  task.submitted_at = from_micros(rows.int64(row, "submitted_us"));
  task.started_at = optional_time(rows, row, "started_us");
  task.ended_at = optional_time(rows, row, "ended_us");
  task.last_recovered_at = optional_time(rows, row, "last_recovered_us");
  task.job_duration_seconds = rows.float64(row, "job_duration_seconds");
  task.recovery_count = static_cast<int>(rows.int64(row, "recovery_count"));
  task.restart_count = static_cast<int>(rows.int64(row, "restart_count"));
  task.failure_reason = rows.optional_text(row, "failure_reason");
  task.exit_codes = parse_int_array(rows.optional_text(row, "exit_codes"));
  task.attempt = static_cast<int>(rows.int64(row, "attempt"));
  return task;
}

// Rows of kSelectJobs (one per task, jobs newest first) grouped into jobs.
std::vector<JobRecord> jobs_from(const QueryResult& rows) {
  std::vector<JobRecord> jobs;
  const auto& columns = rows.columns();
  const bool with_spec = std::find(columns.begin(), columns.end(), "spec") != columns.end();
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const JobId id{rows.int64(row, "job_id")};
    if (jobs.empty() || jobs.back().id != id) {
      JobRecord job;
      job.id = id;
      job.name = rows.text(row, "job_name");
      job.user_uid = rows.int64(row, "user_uid");
      job.user_gid = rows.optional_int64(row, "user_gid");
      job.user_groups = parse_int_array<std::int64_t>(rows.optional_text(row, "user_groups"));
      job.user_name = rows.text(row, "user_name");
      job.priority = static_cast<int>(rows.int64(row, "priority"));
      job.submitted_at = from_micros(rows.int64(row, "job_submitted_us"));
      if (with_spec) job.spec_json = rows.text(row, "spec");
      job.task_count = static_cast<int>(rows.int64(row, "task_count"));
      job.status = status_of(rows.text(row, "job_status"));
      job.ended_at = optional_time(rows, row, "job_ended_us");
      job.failure_reason = rows.optional_text(row, "job_failure_reason");
      job.lease_owner = rows.optional_text(row, "lease_owner");
      job.lease_epoch = rows.int64(row, "lease_epoch");
      job.cancel_requested_at = optional_time(rows, row, "cancel_requested_us");
      job.job_rank = static_cast<int>(rows.int64(row, "job_rank"));
      job.num_jobs = static_cast<int>(rows.int64(row, "num_jobs"));
      jobs.push_back(std::move(job));
    }
    jobs.back().tasks.push_back(task_from(rows, row));
    jobs.back().tasks.back().cost_usd = rows.float64(row, "cost_usd");
    jobs.back().tasks.back().on_demand_cost_usd = rows.float64(row, "on_demand_cost_usd");
    jobs.back().tasks.back().reported_work_seconds =
        rows.optional_int64(row, "reported_work_seconds");
  }
  return jobs;
}

// Decodes rows into values; a decoding failure (a schema/code mismatch) becomes kQuery.
template <typename T, typename Decode>
Result<T> decode(const QueryResult& rows, Decode decode_rows) {
  try {
    return decode_rows(rows);
  } catch (const std::exception& e) {
    return Result<T>(in_place_error, make_error(StoreErrc::kQuery, e.what()));
  }
}

// $1..$4 of the queue's filter.
Params queue_filter_params(const QueueFilter& filter) {
  std::optional<std::string> statuses;
  if (!filter.statuses.empty()) {
    std::vector<std::string> names;
    for (JobStatus status : filter.statuses) names.emplace_back(to_string(status));
    statuses = text_array(names);
  }
  std::optional<std::int64_t> before;
  if (filter.before) before = filter.before->value;
  return make_params(filter.user_uid, filter.name, statuses, before);
}

std::vector<JobId> ids_from(const QueryResult& r) {
  std::vector<JobId> ids;
  for (std::size_t row = 0; row < r.size(); ++row) ids.push_back(JobId{r.int64(row, "id")});
  return ids;
}

}  // namespace

Task<Result<JobId>> JobRepository::create_job(NewJob job) {
  job.num_jobs = 1;
  auto ids = co_await create_jobs(std::move(job));
  if (!ids) co_return ids.error();
  co_return ids->front();
}

Task<Result<std::vector<JobId>>> JobRepository::create_jobs(NewJob job) {
  auto submitted = co_await submit_jobs(std::move(job));
  if (!submitted) co_return submitted.error();
  co_return std::move(submitted->ids);
}

Task<Result<std::vector<JobId>>> JobRepository::jobs_of_submission(std::int64_t user_uid,
                                                                   std::string key) {
  auto params = make_params(user_uid, std::move(key));
  auto rows = co_await pool_.query(kJobsOfSubmission, std::move(params));
  if (!rows) co_return rows.error();
  co_return decode<std::vector<JobId>>(*rows, ids_from);
}

Task<Result<SubmittedJobs>> JobRepository::submit_jobs(NewJob job) {
  if (job.tasks.empty()) co_return make_error(StoreErrc::kQuery, "a job needs at least one task");
  if (job.num_jobs < 1 || job.num_jobs > kMaxJobsPerSubmit) {
    co_return make_error(StoreErrc::kQuery, "num_jobs " + std::to_string(job.num_jobs) +
                                                " is outside 1.." +
                                                std::to_string(kMaxJobsPerSubmit));
  }
  std::vector<std::string> names;
  std::vector<std::string> resources;
  for (const NewTask& task : job.tasks) {
    names.push_back(task.name);
    resources.push_back(task.resources);
  }
  auto params =
      make_params(job.name, job.user_uid, job.user_name, job.priority, job.spec_json,
                  static_cast<int>(job.tasks.size()), text_array(names), text_array(resources),
                  job.user_gid, int_array(job.user_groups), job.num_jobs, job.submission_key);
  auto rows = co_await pool_.query(kCreateJobs, std::move(params));
  if (!rows) co_return rows.error();
  auto ids = decode<std::vector<JobId>>(*rows, ids_from);
  if (ids && ids->empty() && job.submission_key) {
    // Every rank's key was taken: this submission was made before (all ranks go in at once).
    auto earlier = co_await jobs_of_submission(job.user_uid, *job.submission_key);
    if (!earlier) co_return earlier.error();
    co_return SubmittedJobs{std::move(*earlier), true};
  }
  if (ids && static_cast<int>(ids->size()) != job.num_jobs) {
    co_return make_error(StoreErrc::kQuery, "created " + std::to_string(ids->size()) + " of " +
                                                std::to_string(job.num_jobs) + " jobs");
  }
  if (!ids) co_return ids.error();
  logger("store")->debug("jobs created first={} count={} name={} tasks={}", ids->front().value,
                         ids->size(), job.name, job.tasks.size());
  co_return SubmittedJobs{std::move(*ids), false};
}

Task<Result<JobRecord>> JobRepository::get_job(JobId id, Priority priority) {
  if (priority == Priority::kApi) co_return co_await read_job(id, priority);
  co_return co_await job_reads_.call(id);
}

Task<Result<JobRecord>> JobRepository::read_job(JobId id, Priority priority) {
  auto rows = co_await pool_.query(kSelectJob, make_params(id.value), std::nullopt, priority);
  if (!rows) co_return Result<JobRecord>(in_place_error, rows.error());
  auto jobs = decode<std::vector<JobRecord>>(*rows, jobs_from);
  if (!jobs) co_return Result<JobRecord>(in_place_error, jobs.error());
  if (jobs->empty()) {
    co_return make_error(StoreErrc::kNotFound, "no job " + std::to_string(id.value));
  }
  co_return std::move(jobs->front());
}

Task<std::vector<std::optional<Result<JobRecord>>>> JobRepository::read_jobs_together(
    std::vector<JobId> ids) {
  std::vector<std::optional<Result<JobRecord>>> answers(ids.size());
  std::vector<std::int64_t> values;
  for (const auto& id : ids) values.push_back(id.value);
  auto params = make_params(int_array(values));
  auto rows = co_await pool_.query(kSelectJobsById, std::move(params));
  if (!rows) co_return answers;  // each is read alone, and says why
  auto jobs = decode<std::vector<JobRecord>>(*rows, jobs_from);
  if (!jobs) co_return answers;
  std::map<JobId, JobRecord*> by_id;
  for (auto& job : *jobs) by_id[job.id] = &job;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto found = by_id.find(ids[i]); found != by_id.end()) answers[i] = *found->second;
  }
  co_return answers;  // a job not found is read alone, and answers kNotFound
}

Task<Result<std::vector<JobRecord>>> JobRepository::list_jobs(QueueFilter filter) {
  Params params = queue_filter_params(filter);
  params.push_back(to_param(filter.limit));
  const char* statement = kSelectJobs[filter.user_uid.has_value()][filter.open_only];
  auto rows = co_await pool_.query(statement, std::move(params), std::nullopt, Priority::kApi);
  if (!rows) co_return rows.error();
  co_return decode<std::vector<JobRecord>>(*rows, jobs_from);
}

Task<Result<std::vector<JobId>>> JobRepository::job_ids(QueueFilter filter) {
  Params params = queue_filter_params(filter);
  params.push_back(to_param(filter.limit));
  const char* statement = kSelectJobIds[filter.user_uid.has_value()][filter.open_only];
  auto rows = co_await pool_.query(statement, std::move(params), std::nullopt, Priority::kApi);
  if (!rows) co_return rows.error();
  co_return decode<std::vector<JobId>>(*rows, ids_from);
}

Task<Result<QueueSummary>> JobRepository::queue_summary(std::optional<std::int64_t> user_uid,
                                                        bool open_only) {
  // The statement and its parameters are chosen before the co_await (g++ 12: no co_await inside
  // a conditional expression).
  const char* statement = user_uid ? kQueueCountsOfUser : kQueueCountsOfEveryone;
  Params params;
  if (user_uid) params.push_back(to_param(*user_uid));
  auto rows = co_await pool_.query(statement, std::move(params), std::nullopt, Priority::kApi);
  if (!rows) co_return rows.error();
  co_return decode<QueueSummary>(*rows, [open_only](const QueryResult& r) {
    QueueSummary summary;
    for (std::size_t row = 0; row < r.size(); ++row) {
      const std::string counter = r.text(row, "counter");
      if (counter == (open_only ? "open_jobs" : "jobs")) {
        summary.jobs = r.int64(row, "n");
      } else if (counter != "jobs" && counter != "open_jobs") {
        summary.unfinished_tasks[status_of(counter)] = r.int64(row, "n");
      }
    }
    return summary;
  });
}

Task<Result<void>> JobRepository::fold_queue_counts(std::int64_t above) {
  auto folded = co_await pool_.query(kFoldQueueCounts, make_params(above));
  if (!folded) co_return folded.error();
  co_return Result<void>{};
}

Task<Result<void>> JobRepository::refresh_statistics() {
  auto done = co_await pool_.query(kAnalyze, Params{});
  if (!done) co_return done.error();
  co_return Result<void>{};
}

Task<Result<std::vector<JobId>>> JobRepository::open_jobs() {
  auto rows = co_await pool_.query(kOpenJobs, Params{});
  if (!rows) co_return rows.error();
  co_return decode<std::vector<JobId>>(*rows, ids_from);
}

Task<Result<std::map<JobId, std::optional<TimePoint>>>> JobRepository::ends_of(
    std::vector<JobId> ids) {
  std::vector<std::int64_t> values;
  for (const auto& id : ids) values.push_back(id.value);
  auto params = make_params(int_array(values));
  auto rows = co_await pool_.query(kEndsOf, std::move(params));
  if (!rows) co_return rows.error();
  co_return decode<std::map<JobId, std::optional<TimePoint>>>(*rows, [](const QueryResult& r) {
    std::map<JobId, std::optional<TimePoint>> ends;
    for (std::size_t row = 0; row < r.size(); ++row) {
      ends[JobId{r.int64(row, "id")}] = optional_time(r, row, "ended_us");
    }
    return ends;
  });
}

Task<Result<CancelVerdicts>> JobRepository::request_cancels(
    std::vector<JobId> ids, std::optional<std::int64_t> only_user_uid) {
  std::vector<std::int64_t> values;
  for (const auto& id : ids) values.push_back(id.value);
  // In the jobs' line, not the API's: the runners told of one batch's cancels queue their
  // transitions there, and stamping every batch ahead of them would put 10,000 transitions in
  // line at once, past the pool's acquire timeout. Each batch waits for the previous one's.
  auto rows = co_await pool_.query(kRequestCancels, make_params(int_array(values), only_user_uid));
  if (!rows) co_return rows.error();
  co_return decode<CancelVerdicts>(*rows, [](const QueryResult& r) {
    CancelVerdicts verdicts;
    for (std::size_t row = 0; row < r.size(); ++row) {
      const std::int64_t id = r.int64(row, "id");
      const std::string verdict = r.text(row, "verdict");
      auto& list = verdict == "recorded"        ? verdicts.recorded
                   : verdict == "not_found"     ? verdicts.not_found
                   : verdict == "not_permitted" ? verdicts.not_permitted
                                                : verdicts.already_finished;
      list.push_back(id);
    }
    return verdicts;
  });
}

Task<Result<std::map<JobStatus, std::int64_t>>> JobRepository::count_by_status() {
  auto rows = co_await pool_.query(kCountByStatus, Params{});
  if (!rows) co_return rows.error();
  co_return decode<std::map<JobStatus, std::int64_t>>(*rows, [](const QueryResult& r) {
    std::map<JobStatus, std::int64_t> counts;
    for (std::size_t row = 0; row < r.size(); ++row) {
      counts[status_of(r.text(row, "status"))] = r.int64(row, "n");
    }
    return counts;
  });
}

Task<Result<std::vector<MarketCost>>> JobRepository::cost_by_market() {
  auto rows = co_await pool_.query(kCostByMarket, Params{});
  if (!rows) co_return rows.error();
  co_return decode<std::vector<MarketCost>>(*rows, [](const QueryResult& r) {
    std::vector<MarketCost> costs;
    for (std::size_t row = 0; row < r.size(); ++row) {
      costs.push_back({r.text(row, "market"), r.float64(row, "cost_usd"),
                       r.float64(row, "on_demand_cost_usd")});
    }
    return costs;
  });
}

Task<Result<std::vector<JobEvent>>> JobRepository::events(JobId id) {
  auto params = make_params(id.value);
  auto rows = co_await pool_.query(kEvents, std::move(params));
  if (!rows) co_return rows.error();
  co_return decode<std::vector<JobEvent>>(*rows, [](const QueryResult& r) {
    std::vector<JobEvent> events;
    for (std::size_t row = 0; row < r.size(); ++row) {
      JobEvent event;
      event.id = r.int64(row, "id");
      event.job_id = JobId{r.int64(row, "job_id")};
      if (auto index = r.optional_int64(row, "task_index")) event.task_index = int(*index);
      event.at = from_micros(r.int64(row, "at_us"));
      if (auto from = r.optional_text(row, "from_status")) event.from = status_of(*from);
      event.to = status_of(r.text(row, "to_status"));
      event.reason = r.text(row, "reason");
      event.details_json = r.text(row, "details");
      events.push_back(std::move(event));
    }
    return events;
  });
}

Task<Result<void>> JobRepository::record_progress(JobId id, int task_index, int attempt,
                                                  std::int64_t work_seconds) {
  auto params = make_params(id.value, task_index, attempt, work_seconds);
  auto done = co_await pool_.query(kRecordProgress, std::move(params));
  if (!done) co_return done.error();
  co_return Result<void>{};
}

Task<Result<std::vector<ProgressReport>>> JobRepository::progress_reports(JobId id) {
  auto params = make_params(id.value);
  auto rows = co_await pool_.query(kProgressReports, std::move(params));
  if (!rows) co_return rows.error();
  co_return decode<std::vector<ProgressReport>>(*rows, [](const QueryResult& r) {
    std::vector<ProgressReport> reports;
    for (std::size_t row = 0; row < r.size(); ++row) {
      ProgressReport report;
      report.id = r.int64(row, "id");
      report.task_index = int(r.int64(row, "task_index"));
      report.attempt = int(r.int64(row, "attempt"));
      report.at = from_micros(r.int64(row, "at_us"));
      report.work_seconds = r.int64(row, "work_seconds");
      reports.push_back(report);
    }
    return reports;
  });
}

// A batch holds at most this many: a statement of ~1,000 tasks takes tens of milliseconds, and
// the job rows it locks wait that long.
constexpr std::size_t kMaxTransitionBatch = 1000;
constexpr std::size_t kMaxJobReadBatch = 1000;

JobRepository::JobRepository(PgPool& pool)
    : pool_(pool),
      transitions_(
          pool.executor(), kMaxTransitionBatch,
          [](const TransitionRequest& request) {
            return std::pair(request.job_id.value, request.task_index);
          },
          [this](TransitionRequest request) { return transition_on(pool_, std::move(request)); },
          [this](std::vector<TransitionRequest> requests) {
            return transitions_together(std::move(requests));
          }),
      job_reads_(
          pool.executor(), kMaxJobReadBatch, [](const JobId& id) { return id.value; },
          [this](JobId id) { return read_job(id, Priority::kJobs); },
          [this](std::vector<JobId> ids) { return read_jobs_together(std::move(ids)); }) {}

Task<Result<TaskRecord>> JobRepository::transition(TransitionRequest request) {
  if (!is_transition_allowed(request.from, request.to)) {  // refused before it joins a batch
    co_return co_await transition_on(pool_, std::move(request));
  }
  co_return co_await transitions_.call(std::move(request));
}

Task<std::vector<std::optional<Result<TaskRecord>>>> JobRepository::transitions_together(
    std::vector<TransitionRequest> requests) {
  std::vector<std::optional<Result<TaskRecord>>> answers(requests.size());
  auto params = make_params(transitions_json(requests));
  auto moved = co_await pool_.query(kTransitions, std::move(params));
  if (!moved) {
    logger("store")->warn("transition batch of {} failed; writing each alone error=\"{}\"",
                          requests.size(), moved.error().message());
    co_return answers;
  }
  auto rows =
      decode<std::map<std::pair<std::int64_t, int>, TaskRecord>>(*moved, [](const QueryResult& r) {
        std::map<std::pair<std::int64_t, int>, TaskRecord> tasks;
        for (std::size_t row = 0; row < r.size(); ++row) {
          TaskRecord task = task_from(r, row);
          tasks.emplace(std::pair(task.job_id.value, task.task_index), std::move(task));
        }
        return tasks;
      });
  if (!rows) {  // moved, but unreadable: each is written alone, and finds itself already applied
    logger("store")->warn("transition batch unreadable error=\"{}\"", rows.error().message());
    co_return answers;
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto found = rows->find({requests[i].job_id.value, requests[i].task_index});
    if (found != rows->end()) answers[i] = std::move(found->second);
  }
  logger("store")->debug("transition batch size={} moved={}", requests.size(), moved->size());
  co_return answers;
}

Task<Result<TaskRecord>> JobRepository::transition(Transaction& transaction,
                                                   TransitionRequest request) {
  co_return co_await transition_on(transaction, std::move(request));
}

// One statement, on the pool (its own transaction) or in the caller's transaction.
template <typename Session>
Task<Result<TaskRecord>> JobRepository::transition_on(Session& session, TransitionRequest request) {
  const std::string from(to_string(request.from));
  const std::string to(to_string(request.to));
  const std::string where =
      "job=" + std::to_string(request.job_id.value) + " task=" + std::to_string(request.task_index);
  if (!is_transition_allowed(request.from, request.to)) {
    co_return make_error(StoreErrc::kIllegalTransition,
                         from + " -> " + to + " is not allowed (" + where + ")");
  }
  std::optional<std::string> exit_codes;
  if (request.exit_codes) exit_codes = int_array(*request.exit_codes);
  auto params =
      make_params(request.job_id.value, request.task_index, from, to, is_terminal(request.to),
                  request.lease_epoch, request.restart_on_error, request.failure_reason, exit_codes,
                  request.cluster_name, request.placement_json, request.reason,
                  request.details_json, request.idempotency_key);
  auto updated = co_await session.query(kTransition, std::move(params));
  if (!updated) co_return updated.error();

  if (updated->empty()) {
    auto miss_params =
        make_params(request.job_id.value, request.task_index, request.idempotency_key);
    auto found = co_await session.query(kGuardMiss, std::move(miss_params));
    if (!found) co_return found.error();
    if (found->empty()) co_return make_error(StoreErrc::kNotFound, "no task " + where);
    if (found->boolean(0, "already_applied")) {
      auto task_params = make_params(request.job_id.value, request.task_index);
      auto current = co_await session.query(kSelectTask, std::move(task_params));
      if (!current) co_return current.error();
      co_return decode<TaskRecord>(*current, [](const QueryResult& r) { return task_from(r, 0); });
    }
    const std::string status = found->text(0, "status");
    const std::string epoch = found->text(0, "lease_epoch");
    std::string detail = "transition " + from + " -> " + to + " refused for " + where + ": ";
    if (status != from) {
      detail += "status is " + status;
    } else {
      detail += "lease epoch is " + epoch + ", not " + std::to_string(*request.lease_epoch);
    }
    co_return make_error(StoreErrc::kConflict, std::move(detail));
  }

  logger("store")->debug("job transition {} from={} to={} reason=\"{}\"", where, from, to,
                         request.reason);
  co_return decode<TaskRecord>(*updated, [](const QueryResult& r) { return task_from(r, 0); });
}

}  // namespace skyd::store
