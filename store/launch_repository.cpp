#include "store/launch_repository.hpp"

#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"

namespace skyd::store {
namespace {

constexpr const char* kRecord = R"(
INSERT INTO launch_requests (job_id, task_index, attempt, seq, token, cluster_name, candidate,
                             outcome, detail)
VALUES ($1::bigint, $2::integer, $3::integer, $4::integer, $5, $6, $7::jsonb, $8, $9))";
constexpr const char* kResolve = R"(
UPDATE launch_requests SET outcome = $5, detail = $6, resolved_at = now()
WHERE job_id = $1::bigint AND task_index = $2::integer AND attempt = $3::integer
  AND seq = $4::integer)";
constexpr const char* kOfAttempt = R"(
SELECT seq, token, cluster_name, candidate::text AS candidate, outcome, detail
FROM launch_requests
WHERE job_id = $1::bigint AND task_index = $2::integer AND attempt = $3::integer ORDER BY seq)";
constexpr const char* kInstallation = "SELECT id FROM installation";

LaunchOutcome outcome_of(std::string_view text) {
  if (text == "launched") return LaunchOutcome::kLaunched;
  if (text == "failed") return LaunchOutcome::kFailed;
  if (text == "lost") return LaunchOutcome::kLost;
  return LaunchOutcome::kSent;
}

}  // namespace

std::string_view to_string(LaunchOutcome outcome) {
  switch (outcome) {
    case LaunchOutcome::kSent:
      return "sent";
    case LaunchOutcome::kLaunched:
      return "launched";
    case LaunchOutcome::kFailed:
      return "failed";
    case LaunchOutcome::kLost:
      return "lost";
  }
  return "sent";
}

Task<Result<void>> LaunchRepository::record(LaunchRecord launch) {
  auto params = make_params(launch.job_id.value, launch.task_index, launch.attempt, launch.seq,
                            launch.token, launch.cluster_name, launch.candidate_json,
                            to_string(launch.outcome), launch.detail);
  auto rows = co_await pool_.query(kRecord, std::move(params));
  if (!rows) co_return rows.error();
  co_return Result<void>{};
}

Task<Result<void>> LaunchRepository::resolve(JobId job, int task_index, int attempt, int seq,
                                             LaunchOutcome outcome, std::string detail) {
  auto params =
      make_params(job.value, task_index, attempt, seq, to_string(outcome), std::move(detail));
  auto rows = co_await pool_.query(kResolve, std::move(params));
  if (!rows) co_return rows.error();
  co_return Result<void>{};
}

Task<Result<std::vector<LaunchRecord>>> LaunchRepository::of_attempt(JobId job, int task_index,
                                                                     int attempt) {
  auto params = make_params(job.value, task_index, attempt);
  auto rows = co_await pool_.query(kOfAttempt, std::move(params));
  if (!rows) co_return rows.error();
  try {
    std::vector<LaunchRecord> launches;
    for (std::size_t row = 0; row < rows->size(); ++row) {
      LaunchRecord launch;
      launch.job_id = job;
      launch.task_index = task_index;
      launch.attempt = attempt;
      launch.seq = static_cast<int>(rows->int64(row, "seq"));
      launch.token = rows->text(row, "token");
      launch.cluster_name = rows->text(row, "cluster_name");
      launch.candidate_json = rows->text(row, "candidate");
      launch.outcome = outcome_of(rows->text(row, "outcome"));
      launch.detail = rows->optional_text(row, "detail");
      launches.push_back(std::move(launch));
    }
    co_return launches;
  } catch (const std::exception& e) {
    co_return make_error(StoreErrc::kQuery, e.what());
  }
}

Task<Result<std::string>> installation_id(PgPool& pool) {
  auto rows = co_await pool.query(kInstallation, Params{});
  if (!rows) co_return rows.error();
  if (rows->empty()) co_return make_error(StoreErrc::kNotFound, "the installation has no id");
  co_return rows->text(0, "id");
}

}  // namespace skyd::store
