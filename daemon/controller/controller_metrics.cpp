#include "daemon/controller/controller_metrics.hpp"

#include "providers/provider.hpp"
#include "reactor/metrics.hpp"

#include <algorithm>

namespace skyd::daemon {

void record_transition(store::JobStatus from, store::JobStatus to, std::string_view reason) {
  static auto& transitions = metrics::registry().counter(
      "skyd_job_transitions_total", "Task status transitions, by the status entered", {"to"});
  static auto& recoveries = metrics::registry().counter(
      "skyd_job_recoveries_total", "Recoveries (RUNNING to RECOVERING), by reason", {"reason"});
  transitions.with({std::string(store::to_string(to))}).inc();
  if (from == store::JobStatus::kRunning && to == store::JobStatus::kRecovering)
    recoveries.with({std::string(recovery_reason_class(reason))}).inc();
}

void record_launch_attempt(const std::string& provider, const std::string& region) {
  static auto& attempts = metrics::registry().counter(
      "skyd_launch_attempts_total", "Cluster launch attempts", {"provider", "region"});
  attempts.with({provider, region}).inc();
}

void record_launch_failure(const std::string& provider, const std::string& region,
                           const Error& error) {
  static auto& failures = metrics::registry().counter(
      "skyd_launch_failures_total", "Cluster launches that failed, by error class",
      {"provider", "region", "error"});
  std::string error_class = "other";
  if (error.code.category() == providers::provider_category()) {
    error_class = providers::to_string(static_cast<providers::ProviderErrc>(error.code.value()));
    std::replace(error_class.begin(), error_class.end(), ' ', '_');  // "no capacity" -> no_capacity
  }
  failures.with({provider, region, error_class}).inc();
}

void record_adoption() {
  static auto& adopted =
      metrics::registry()
          .counter("skyd_tasks_adopted_total",
                   "Running tasks whose machines skyd found running after it restarted (adopted)",
                   {})
          .with();
  adopted.inc();
}

void record_reattachment() {
  static auto& reattached =
      metrics::registry()
          .counter("skyd_tasks_reattached_total",
                   "Running tasks supervised again after skyd restarted (re-attached)", {})
          .with();
  reattached.inc();
}

std::string_view recovery_reason_class(std::string_view reason) {
  if (reason.find("preempt") != std::string_view::npos) return "preemption";
  if (reason.find("lost") != std::string_view::npos ||
      reason.find("unreachable") != std::string_view::npos)
    return "node_lost";
  if (reason.find("restarting after") != std::string_view::npos) return "user_error";
  return "other";
}

}  // namespace skyd::daemon
