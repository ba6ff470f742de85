#pragma once
// The controller's metrics, recorded into the process-wide registry (reactor/metrics.hpp): one
// call per event from the job runner, so the runner's code stays about jobs.

#include "reactor/error.hpp"
#include "store/job_status.hpp"

#include <string>
#include <string_view>

namespace skyd::daemon {

// skyd_job_transitions_total{to} and, for RUNNING -> RECOVERING,
// skyd_job_recoveries_total{reason} (the reason reduced to a small class).
void record_transition(store::JobStatus from, store::JobStatus to, std::string_view reason);

// skyd_launch_attempts_total{provider,region}.
void record_launch_attempt(const std::string& provider, const std::string& region);

// skyd_launch_failures_total{provider,region,error}: the error's class (no_capacity, quota, ...).
void record_launch_failure(const std::string& provider, const std::string& region,
                           const Error& error);

// skyd_tasks_adopted_total: a running task whose machines skyd found running after it restarted.
void record_adoption();

// skyd_tasks_reattached_total: a running task supervised again after skyd restarted: its nodes
// answered that they run its attempt.
void record_reattachment();

// "preemption", "node_lost", "user_error" or "other": a bounded label for a recovery's reason.
std::string_view recovery_reason_class(std::string_view reason);

}  // namespace skyd::daemon
