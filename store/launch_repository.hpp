#pragma once
// Create calls (a cluster's launch on one candidate) as rows written before the call: the call's
// idempotency token and parameters, then what came of it. A row still `kSent` after a crash, or
// `kLost` after an answer that never came, names a call that may have made machines: it is
// resolved (sent again, same token, same parameters) before the job does anything else, and its
// token is never reused for other parameters. One repository per shard, over that shard's pool.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "store/job_repository.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::store {

enum class LaunchOutcome { kSent, kLaunched, kFailed, kLost };
std::string_view to_string(LaunchOutcome outcome);

struct LaunchRecord {
  JobId job_id;
  int task_index = 0;
  int attempt = 0;
  int seq = 0;  // 1, 2, ... within the attempt
  std::string token;
  std::string cluster_name;
  std::string candidate_json;  // where the call went: cloud, region, zone, type, market
  LaunchOutcome outcome = LaunchOutcome::kSent;
  std::optional<std::string> detail;
};

class LaunchRepository {
 public:
  explicit LaunchRepository(PgPool& pool) : pool_(pool) {}

  // Writes the call before it is made. Errors: kConflict when the token or (job, task, attempt,
  // seq) is taken; store errors otherwise.
  Task<Result<void>> record(LaunchRecord launch);
  // What the call came to (kLaunched, kFailed, kLost) and why.
  Task<Result<void>> resolve(JobId job, int task_index, int attempt, int seq, LaunchOutcome outcome,
                             std::string detail);
  // The calls of one attempt, in the order they were made.
  Task<Result<std::vector<LaunchRecord>>> of_attempt(JobId job, int task_index, int attempt);

 private:
  PgPool& pool_;
};

// The installation's identity (schema version 3 makes it once). Errors: store errors.
Task<Result<std::string>> installation_id(PgPool& pool);

}  // namespace skyd::store
