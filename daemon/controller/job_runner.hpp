#pragma once
// Supervises one managed job, start to end: one coroutine on the job's shard (job id % shards).
// For each task of the pipeline: STARTING -> launch with failover -> start setup+run on every node
// through skylet -> RUNNING -> wait for the first of: every node done, a node failing, a spot
// notice, a lost node, or cancel -> act. Each transition is written (guarded, with its event row)
// before the action it announces, so a restarted skyd resumes from the database: a task still
// running on its machines is re-attached, a launch in flight is adopted through its idempotency
// token, a cancel in progress completes.

#include "daemon/controller/controller_options.hpp"
#include "daemon/controller/failover.hpp"
#include "daemon/controller/job_logs.hpp"
#include "daemon/controller/shard_context.hpp"
#include "daemon/spec/task.hpp"
#include "providers/catalog/optimizer.hpp"
#include "reactor/event.hpp"
#include "reactor/task_group.hpp"
#include "store/job_repository.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::daemon {

class JobRunner {
 public:
  JobRunner(ShardContext& shard, const ControllerOptions& options, store::JobId id);

  // Runs the job to its end (or until cancelled by a shutdown, leaving the machines running for
  // the next skyd to re-attach).
  Task<void> run();
  // A user's cancel: the job moves to CANCELLING, stops its task, terminates its machines.
  void request_cancel() { cancel_.set(); }
  store::JobId id() const { return id_; }

 private:
  struct Placement {
    providers::Cluster cluster;
    catalog::Candidate candidate;
  };
  struct LaunchOutcome {
    enum class Kind { kLaunched, kNoResources, kPrecheckFailed, kCancelled };
    Kind kind = Kind::kNoResources;
    std::optional<Placement> placement;
    std::string reason;
  };
  struct MonitorOutcome {
    enum class Kind { kSucceeded, kUserFailure, kNodeLost, kPreempted, kCancelled };
    Kind kind = Kind::kSucceeded;
    std::vector<int> exit_codes;
    bool setup_failed = false;
    bool machines_alive = false;  // a spot notice: the machines still run for a while
    std::string reason;
  };
  struct NodeResult;
  // Where one attempt's watchers report: node results, "something changed", a spot notice.
  struct Watch {
    explicit Watch(const asio::any_io_executor& executor) : changed(executor), notice(executor) {}
    Event changed;
    Event notice;
    std::vector<std::shared_ptr<NodeResult>> results;
  };

  Task<store::JobStatus> run_task(int index);
  Task<store::JobStatus> drive_task(int index, TaskGroup& old_machines);
  // A coroutine must not take a defaulted argument whose type has a destructor (g++ 12 destroys
  // the default twice), hence the two forms.
  Task<Result<store::TaskRecord>> move(store::TaskRecord& task, store::JobStatus to,
                                       std::string reason) {
    return move(task, to, std::move(reason), store::TransitionRequest{});
  }
  Task<Result<store::TaskRecord>> move(store::TaskRecord& task, store::JobStatus to,
                                       std::string reason, store::TransitionRequest extras);
  // Calls the store until the call gets through: errors that say the database is away (or too
  // slow) are retried with backoff, others returned.
  template <typename T>
  Task<Result<T>> until_stored(std::function<Task<Result<T>>()> call, std::string_view what);
  Task<LaunchOutcome> launch(int index, const store::TaskRecord& task,
                             RecoveryPreference preference);
  Task<Result<void>> start_attempts(int index, const Placement& placement,
                                    const store::TaskRecord& task);
  Task<MonitorOutcome> monitor(int index, const Placement& placement,
                               const store::TaskRecord& task);
  // Waits until the watchers' reports (or a cancel) decide how the attempt went.
  Task<MonitorOutcome> decide_outcome(Watch& watch);
  // Pulls one node's output of an attempt into the log store until the attempt ends or the node
  // is gone (asked of `cloud` once it stops answering).
  Task<void> follow_node(int index, std::string cloud, std::string cluster, providers::Node node,
                         std::string attempt_id, int attempt, std::shared_ptr<NodeResult> result,
                         Event* changed);
  Task<void> watch_events(int index, int attempt_number, providers::Node node, Event* notice);
  // After a short grace: why the placement's machines no longer stand, if they do not.
  Task<std::optional<std::string>> machines_gone(Placement placement);
  Task<void> stop_attempts(const Placement& placement, int index, int attempt_number);
  Task<void> teardown(std::string cloud, std::string cluster_name);  // cloud "": every one
  Task<void> cancel_later_tasks(int after_index, std::string reason);
  Task<bool> wait_backoff(Backoff& backoff);

  std::string cluster_name(int index, int attempt) const;
  // Terminates the clusters of the task's earlier attempts (replaced machines).
  Task<void> retire_older_clusters(int index, int attempt);
  Task<void> follow_old_machines(int index, Placement old, int attempt);
  std::string attempt_id(int index, int attempt) const;
  std::string launch_token(int index, int attempt) const;  // the provider's idempotency token
  std::string skylet_token(int index, int attempt) const;
  bool restart_allowed(int index, const MonitorOutcome& outcome, bool& uses_budget) const;

  ShardContext& shard_;
  const ControllerOptions& options_;
  store::JobId id_;
  Event cancel_;
  JobLogs logs_;
  store::JobRecord job_;
  spec::Pipeline pipeline_;
  std::vector<std::string> task_ids_;
  std::vector<std::optional<Placement>> placements_;  // the task's current machines
};

}  // namespace skyd::daemon
