#pragma once
// The status of a managed-job task (and of the job, which shows its first task that has not
// SUCCEEDED), and the transitions between statuses that docs/job-states.md allows. Pure values
// and functions: the daemon's state machine and the store's guarded updates share them.

#include <array>
#include <optional>
#include <string_view>

namespace skyd::store {

enum class JobStatus {
  kPending,
  kStarting,
  kRunning,
  kRecovering,
  kCancelling,
  kSucceeded,
  kCancelled,
  kFailed,
  kFailedSetup,
  kFailedPrechecks,
  kFailedNoResource,
  kFailedController,
};

inline constexpr std::array kAllJobStatuses = {
    JobStatus::kPending,         JobStatus::kStarting,         JobStatus::kRunning,
    JobStatus::kRecovering,      JobStatus::kCancelling,       JobStatus::kSucceeded,
    JobStatus::kCancelled,       JobStatus::kFailed,           JobStatus::kFailedSetup,
    JobStatus::kFailedPrechecks, JobStatus::kFailedNoResource, JobStatus::kFailedController,
};

// The name SkyPilot users know ("FAILED_NO_RESOURCE"); also the value stored in the database.
std::string_view to_string(JobStatus status);
std::optional<JobStatus> parse_job_status(std::string_view text);

bool is_terminal(JobStatus status);
bool is_failure(JobStatus status);  // FAILED and every FAILED_*

// True when `from -> to` is one of the transitions of docs/job-states.md. Never true for
// from == to, and never true out of a terminal status.
bool is_transition_allowed(JobStatus from, JobStatus to);

}  // namespace skyd::store
