#include "store/job_status.hpp"

namespace skyd::store {

std::string_view to_string(JobStatus status) {
  switch (status) {
    case JobStatus::kPending:
      return "PENDING";
    case JobStatus::kStarting:
      return "STARTING";
    case JobStatus::kRunning:
      return "RUNNING";
    case JobStatus::kRecovering:
      return "RECOVERING";
    case JobStatus::kCancelling:
      return "CANCELLING";
    case JobStatus::kSucceeded:
      return "SUCCEEDED";
    case JobStatus::kCancelled:
      return "CANCELLED";
    case JobStatus::kFailed:
      return "FAILED";
    case JobStatus::kFailedSetup:
      return "FAILED_SETUP";
    case JobStatus::kFailedPrechecks:
      return "FAILED_PRECHECKS";
    case JobStatus::kFailedNoResource:
      return "FAILED_NO_RESOURCE";
    case JobStatus::kFailedController:
      return "FAILED_CONTROLLER";
  }
  return "UNKNOWN";
}

std::optional<JobStatus> parse_job_status(std::string_view text) {
  for (JobStatus status : kAllJobStatuses) {
    if (to_string(status) == text) return status;
  }
  return std::nullopt;
}

bool is_terminal(JobStatus status) {
  switch (status) {
    case JobStatus::kPending:
    case JobStatus::kStarting:
    case JobStatus::kRunning:
    case JobStatus::kRecovering:
    case JobStatus::kCancelling:
      return false;
    case JobStatus::kSucceeded:
    case JobStatus::kCancelled:
    case JobStatus::kFailed:
    case JobStatus::kFailedSetup:
    case JobStatus::kFailedPrechecks:
    case JobStatus::kFailedNoResource:
    case JobStatus::kFailedController:
      return true;
  }
  return true;
}

bool is_failure(JobStatus status) {
  switch (status) {
    case JobStatus::kFailed:
    case JobStatus::kFailedSetup:
    case JobStatus::kFailedPrechecks:
    case JobStatus::kFailedNoResource:
    case JobStatus::kFailedController:
      return true;
    case JobStatus::kPending:
    case JobStatus::kStarting:
    case JobStatus::kRunning:
    case JobStatus::kRecovering:
    case JobStatus::kCancelling:
    case JobStatus::kSucceeded:
    case JobStatus::kCancelled:
      return false;
  }
  return false;
}

bool is_transition_allowed(JobStatus from, JobStatus to) {
  using S = JobStatus;
  if (is_terminal(from) || from == to) return false;
  // Open statuses may always fail on an internal error, and a user may cancel them (CANCELLING
  // itself excepted: it only ends in CANCELLED).
  if (to == S::kFailedController) return true;
  if (to == S::kCancelling) return from != S::kCancelling;
  switch (from) {
    case S::kPending:
      // Claimed for a launch (or a recovery's next launch round); cancelled before any cluster
      // exists (unclaimed job, or a later pipeline task after an earlier one ended); the launch
      // gave up before it began.
      return to == S::kStarting || to == S::kRecovering || to == S::kCancelled ||
             to == S::kFailedPrechecks || to == S::kFailedNoResource;
    case S::kStarting:
      return to == S::kRunning || to == S::kPending || to == S::kFailedPrechecks ||
             to == S::kFailedNoResource;
    case S::kRunning:
      // FAILED_PRECHECKS: a node could not mount a bucket the task names (before setup).
      return to == S::kRecovering || to == S::kSucceeded || to == S::kFailed ||
             to == S::kFailedSetup || to == S::kFailedPrechecks;
    case S::kRecovering:
      return to == S::kRunning || to == S::kPending || to == S::kFailed || to == S::kFailedSetup ||
             to == S::kFailedPrechecks || to == S::kFailedNoResource;
    case S::kCancelling:
      return to == S::kCancelled;
    case S::kSucceeded:
    case S::kCancelled:
    case S::kFailed:
    case S::kFailedSetup:
    case S::kFailedPrechecks:
    case S::kFailedNoResource:
    case S::kFailedController:
      return false;
  }
  return false;
}

}  // namespace skyd::store
