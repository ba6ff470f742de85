#pragma once
// Supervises one managed job, start to end: one coroutine on the job's shard (job id % shards).
// For each task of the pipeline: STARTING -> launch with failover -> start setup+run on every node
// through skylet -> RUNNING -> wait for the first of: every node done, a node failing, a spot
// notice, a lost node, or cancel -> act. Each transition is written (guarded, with its event row)
// before the action it announces, so a restarted skyd resumes from the database: a task still
// running on its machines is re-attached, a launch in flight is adopted through its idempotency
// token, a cancel in progress completes.

#include "daemon/controller/bucket_keeper.hpp"
#include "daemon/controller/controller_options.hpp"
#include "daemon/controller/failover.hpp"
#include "daemon/controller/group_directory.hpp"
#include "daemon/controller/job_logs.hpp"
#include "daemon/controller/shard_context.hpp"
#include "daemon/spec/task.hpp"
#include "policy/deadline_policy.hpp"
#include "providers/catalog/optimizer.hpp"
#include "reactor/event.hpp"
#include "reactor/identity.hpp"
#include "reactor/task_group.hpp"
#include "store/job_repository.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::daemon {

// How long a stop waits for a node's cached bucket mounts to drain: skylet's own drain limit
// (10 minutes) and a minute for the unmount.
inline constexpr Duration kBucketDrainLimit = std::chrono::minutes(11);

class JobRunner {
 public:
  JobRunner(ShardContext& shard, const ControllerOptions& options, store::JobId id);
  // A runner of one task of a job group (`execution: parallel`), run beside its siblings by the
  // job's own runner (run_group).
  JobRunner(ShardContext& shard, const ControllerOptions& options, store::JobId id, int group_task,
            GroupDirectory* directory);

  // Runs the job to its end (or until cancelled by a shutdown, leaving the machines running for
  // the next skyd to re-attach).
  Task<void> run();
  // A user's cancel: the job moves to CANCELLING, stops its task, terminates its machines.
  void request_cancel() { cancel_.set(); }
  // The same for one task of a group, with the reason its transitions give.
  void request_cancel(std::string reason) {
    if (!cancel_.is_set()) cancel_reason_ = std::move(reason);
    cancel_.set();
  }
  store::JobId id() const { return id_; }
  // How a group task's runner ended its task.
  store::JobStatus ended() const { return ended_; }

 private:
  struct Placement {
    providers::Cluster cluster;
    catalog::Candidate candidate;
    std::string launch_token;  // the call that made the cluster (adoption sends it again)
    // When its launch call was made (the cost ledger bills the run from there).
    std::chrono::system_clock::time_point launched_at;
  };
  struct LaunchOutcome {
    // kWait: the deadline policy chose to wait for spot rather than pay for on-demand.
    enum class Kind { kLaunched, kNoResources, kPrecheckFailed, kCancelled, kWait };
    Kind kind = Kind::kNoResources;
    std::optional<Placement> placement;
    std::string reason;
    std::string deadline_reason;  // a DEADLINE task: why the policy chose this market
  };
  struct MonitorOutcome {
    // kMountFailed: a bucket could not be mounted or copied on a node, or the node has no container
    // runtime for the task's image (the reason says which).
    // kBackToSpot: a DEADLINE task on on-demand is far enough ahead of its uniform line to try
    // spot again (its task still runs).
    enum class Kind {
      kSucceeded,
      kUserFailure,
      kNodeLost,
      kPreempted,
      kCancelled,
      kMountFailed,
      kBackToSpot
    };
    Kind kind = Kind::kSucceeded;
    std::vector<int> exit_codes;
    bool setup_failed = false;
    bool machines_alive = false;  // a spot notice: the machines still run for a while
    Duration notice_window{};     // how long they have, by the notice
    std::string reason;
  };
  struct NodeResult;
  // Where one attempt's watchers report: node results, "something changed", a spot notice and
  // the window it leaves.
  struct Watch {
    explicit Watch(const asio::any_io_executor& executor) : changed(executor), notice(executor) {}
    Event changed;
    Event notice;
    Duration window{};
    bool back_to_spot = false;  // the deadline policy would leave on-demand for spot now
    std::vector<std::shared_ptr<NodeResult>> results;
  };
  // How long a node's agent has not answered, kept across the monitor's rounds (a DEADLINE task
  // on on-demand leaves and re-enters it at each policy tick that finds no spot).
  struct NodeSilence {
    Clock::time_point last_answer;
    int silent_windows =
        0;  // node_lost_after windows without an answer while the cloud said running
  };
  // The machines of the attempt a recovery replaces, while its task may still run: noticed ones
  // keep running (and streaming their output) until their task ends or their window does; lost
  // ones are cut off at once. The replacement's run waits until they are known to be stopped.
  // Followed by one coroutine per node in the task's predecessor group (run_task).
  struct Predecessor {
    Predecessor(asio::any_io_executor executor, Placement machines, int attempt_number,
                Clock::time_point window_end)
        : placement(std::move(machines)),
          attempt(attempt_number),
          window_ends(window_end),
          changed(executor),
          stopped(executor) {}
    Placement placement;
    int attempt;
    Clock::time_point window_ends;
    bool noticed = false;  // it has a window; otherwise it is cut off at once
    // Said when its task is stopped at the window's end ("" : the notice window ended).
    std::string stopping;
    Event changed;
    std::size_t nodes_running = 0;
    Event stopped;  // every node's task ended by itself (or its machine is gone)
  };

  Task<store::JobStatus> run_task(int index);
  // A job group: one runner per task, all at once; the primary tasks' end stops the auxiliary
  // ones, a task that cannot launch cancels the others, a cancel reaches every task
  // (job_group_run.cpp).
  Task<void> run_group();
  Task<store::JobStatus> drive_task(int index);
  // A coroutine must not take a defaulted argument whose type has a destructor (g++ 12 destroys
  // the default twice), hence the two forms.
  Task<Result<store::TaskRecord>> move(store::TaskRecord& task, store::JobStatus to,
                                       std::string reason) {
    return move(task, to, std::move(reason), store::TransitionRequest{});
  }
  Task<Result<store::TaskRecord>> move(store::TaskRecord& task, store::JobStatus to,
                                       std::string reason, store::TransitionRequest extras);
  // Calls the store until the call gets through: errors that say the database is away (or too
  // slow) are retried with backoff, others returned. `what` names the call in the log.
  template <typename Call>
  auto until_stored(Call call, std::string_view what) -> decltype(call());
  // One launch round over the optimizer's candidates; `spot` restricts them to one market
  // (nothing: as the task asks).
  Task<LaunchOutcome> launch(int index, const store::TaskRecord& task,
                             RecoveryPreference preference, std::optional<bool> spot);
  // A RUNNING task's placement as stored (nothing when none is) and the adoption of its machines
  // after a restart, through the token that made them.
  struct StoredPlacement {
    catalog::Candidate candidate;
    std::string launch_token;
  };
  std::optional<StoredPlacement> stored_placement(int index, const store::TaskRecord& task) const;
  Task<LaunchOutcome> adopt(int index, const store::TaskRecord& task, StoredPlacement stored);
  // A DEADLINE task's launch: the policy chooses spot, on-demand or waiting. Whether spot can be
  // had is learnt only by asking for it: the policy is asked as if it could, and when it would
  // take spot a spot round finds out; when that round finds none it is asked again knowing so.
  Task<LaunchOutcome> launch_for_deadline(int index, const store::TaskRecord& task,
                                          RecoveryPreference preference);
  Task<policy::DeadlineDecision> ask_deadline_policy(int index, policy::Holding holding,
                                                     bool spot_available);
  // What the task holds when it asks for machines (its last placement's market).
  static policy::Holding holding_of(const store::TaskRecord& task);
  // The policy's answer from the job's events as loaded (pure: no database, no cloud).
  // With the task's reported checkpoint (reported_work_), when it has one.
  policy::DeadlineDecision decide_from_events(int index, const std::vector<store::JobEvent>& events,
                                              policy::Holding holding, bool spot_available) const;
  // Loads the task's reported checkpoint into reported_work_ (once; the runner keeps it after).
  Task<void> load_reported_work(int index);
  // The head node reported a checkpoint: stored (before anything uses it) when it changed.
  Task<void> note_progress(int index, int attempt, std::int64_t work_seconds);
  // While a DEADLINE task runs on on-demand: at every tick, whether the policy would go back to
  // spot (`events`: the job's events when the run began; the run's own stretch grows with time).
  Task<void> watch_for_spot_return(int index, std::vector<store::JobEvent> events, Watch* watch);
  // Going back to spot mid-run: a launch round over the spot candidates that only provisions, as
  // the task's next attempt, while the on-demand attempt keeps running. The machines when it
  // finds some (with the policy's sentence as their deadline_reason), nothing otherwise.
  Task<std::optional<LaunchOutcome>> provision_back_to_spot(int index,
                                                            const store::TaskRecord& task);
  // Machines provisioned for `attempt` that will not run it (back to spot abandoned, or cut short
  // by a restart): terminated, and their launch records closed so no later round resolves them.
  Task<void> release_provisioned(int index, int attempt, std::string why);
  // After a restart in RECOVERING: the spot machines a back-to-spot decision provisioned for this
  // attempt (kept in the task's placement), adopted through their token if they still stand.
  Task<std::optional<LaunchOutcome>> adopt_provisioned(int index, const store::TaskRecord& task);
  // Uniform Progress on on-demand, far enough ahead of its line: provisions spot machines for the
  // next attempt, and when it has them, writes the recovery ("back to spot: ...") and leaves the
  // on-demand attempt to the fence (its task stopped through skylet, then its machines
  // terminated) before the task runs on spot. Without spot the task stays where it is.
  Task<void> go_back_to_spot(int index, store::TaskRecord& task);
  // After a restart: the on-demand machines a back-to-spot recovery replaces (`replaced`, as kept
  // in the placement), followed as the predecessor whose task the fence stops through skylet.
  Task<void> keep_replaced_on_demand(int index, const store::TaskRecord& task, Json replaced);
  // Whether the attempt's task has ended on any node (it is then not replaced).
  Task<bool> attempt_ended(int index, const Placement& placement, int attempt_number);
  void record_deadline_decision(int index, const policy::DeadlineDecision& decision);
  // The task's `job_recovery` deadline, or null when it has none.
  const spec::DeadlineSpec* deadline_spec(int index) const;
  // How often a DEADLINE task waiting for spot asks again (the launch backoff's first delay).
  Duration deadline_tick() const;
  Task<bool> wait_tick();
  // What an earlier call with a launch's token may have left: nothing (a new token), machines
  // (a call whose answer was lost, machines provisioned before a restart), or machines that run
  // the task (a restart re-attaching a RUNNING task: nothing to wait for, check or ship).
  enum class Earlier { kNothing, kMachines, kRunningTask };
  // One create call on one candidate (after its launch slot); nothing when cancelled.
  Task<std::optional<Result<providers::Cluster>>> try_candidate(
      int index, const store::TaskRecord& task, catalog::Candidate candidate, std::string token,
      Earlier earlier, std::vector<std::string> stray_tokens);
  // Finds or makes the task's buckets before a launch (bucket_keeper.hpp); passing faults are
  // retried with backoff. The reason when the task cannot run as written; "" when ready or
  // cancelled.
  Task<std::string> ready_buckets(int index);
  // kUntilReleased: a new attempt's run waits for release_attempts (after the fence); kNone: it
  // runs at once (re-attaching after a restart, when the fence was passed long ago).
  enum class RunHold { kUntilReleased, kNone };
  // Whether the attempt's marker in the job's log is still to write (kWrite) or was written when
  // it first started, before it was RUNNING (re-attaching to the machines stored for it).
  enum class AttemptMark { kWrite, kWrittenAtFirstStart };
  Task<Result<void>> start_attempts(int index, const Placement& placement,
                                    const store::TaskRecord& task, RunHold hold,
                                    AttemptMark mark = AttemptMark::kWrite);
  // A group task's machines are known: its siblings are told, and (`wait`) its run waits until
  // every sibling has machines or has ended; false when cancelled meanwhile.
  Task<bool> meet_group(int index, const Placement& placement, bool wait);
  Task<MonitorOutcome> monitor(int index, const Placement& placement,
                               const store::TaskRecord& task);
  // Waits until the watchers' reports (or a cancel) decide how the attempt went.
  Task<MonitorOutcome> decide_outcome(Watch& watch);
  // Where a spot node's notice goes: the output's long poll carries the node's events, so one
  // connection per node watches both; a skylet that does not carry them gets its own events
  // watcher, spawned in `watchers`.
  struct NoticeWatch {
    Event* notice = nullptr;
    Duration* window = nullptr;
    TaskGroup* watchers = nullptr;
  };
  // Pulls one node's output of an attempt into the log store until the attempt ends or the node
  // is gone (asked of `cloud` once it stops answering); with `notices`, also its spot notice.
  Task<void> follow_node(int index, std::string cloud, std::string cluster, providers::Node node,
                         std::string attempt_id, int attempt, std::shared_ptr<NodeResult> result,
                         Event* changed, std::optional<NoticeWatch> notices = std::nullopt);
  // True when the events held a spot notice (recorded, its window set, `notice` raised).
  bool take_spot_notice(const std::vector<Json>& events, const providers::Node& node,
                        const NoticeWatch& notices);
  Task<void> watch_events(int index, int attempt_number, providers::Node node, Event* notice,
                          Duration* window);
  // The window a spot notice on one of the placement's nodes leaves, if one came.
  Task<std::optional<Duration>> pending_notice(int index, int attempt_number,
                                               const Placement& placement);
  // After a short grace: why the placement's machines no longer stand, if they do not.
  Task<std::optional<std::string>> machines_gone(Placement placement);
  Task<void> stop_attempts(const Placement& placement, int index, int attempt_number);
  Task<void> teardown(std::string cloud, std::string cluster_name);  // cloud "": every one
  Task<void> cancel_later_tasks(int after_index, std::string reason);
  // The task cannot run as written: FAILED_PRECHECKS, the reason also its failure reason.
  Task<void> fail_prechecks(store::TaskRecord& task, std::string reason);
  // Waits the backoff's next delay, saying why (`what`) and when it tries again; false when
  // cancelled.
  Task<bool> wait_backoff(Backoff& backoff,
                          std::string what = "no resources anywhere; next launch round");

  std::string cluster_name(int index, int attempt) const;
  // Terminates the clusters of the task's earlier attempts (replaced machines) and returns once
  // the clouds confirm they are going.
  Task<void> retire_older_clusters(int index, int attempt);
  // Keeps the replaced machines in view (their output, their end) until they stop.
  void keep_predecessor(int index, Placement old, int attempt, Clock::time_point window_end);
  Task<void> follow_predecessor(int index, Predecessor* old, providers::Node node);
  // Returns once no earlier attempt of the task can still be running: the predecessor's task
  // ended (or its window did, and it was stopped), and every older cluster is terminated.
  Task<void> fence(int index, int attempt);
  Task<void> drop_predecessor();  // stops following it (its machines are retired separately)
  // The replacement's run starts only now, on every node.
  Task<Result<void>> release_attempts(int index, const Placement& placement, int attempt_number);
  // After a restart: the running attempt's nodes are followed again (start and release, both
  // idempotent), asking a node that does not answer again for up to node_lost_after.
  Task<Result<void>> reattach(int index, const Placement& placement, const store::TaskRecord& task,
                              AttemptMark mark);
  std::string attempt_id(int index, int attempt) const;
  // Whom the job's processes run as where skyd runs them itself (the submitter's identity).
  std::optional<UserIdentity> owner() const;
  // The provider's idempotency token of the attempt's seq-th create call.
  std::string launch_token(int index, int attempt, int seq) const;
  // What tokens were before every call had its own (clusters launched by an older skyd).
  std::string legacy_launch_token(int index, int attempt) const;
  std::string skylet_token(int index, int attempt) const;
  bool restart_allowed(int index, const MonitorOutcome& outcome, bool& uses_budget) const;
  // A slot of an Admission line (false: the job was cancelled while it waited).
  Task<bool> take_slot(std::string key, int limit, std::string reason, bool wait_in_line);
  // A slot of max_reattachments_in_flight after a restart (at once when there is no limit);
  // `held` says whether one was taken. False: the job was cancelled while it waited.
  Task<bool> take_reattachment_slot(bool& held);
  // Whether the provider of a stored placement adopts its machines from the cloud's answer alone
  // (no node asked, nothing made), so that adoption need not wait for a slot.
  bool adopts_from_the_cloud_alone(const catalog::Candidate& candidate) const;
  // One of the max_launches_in_flight slots, held from STARTING or RECOVERING until the task
  // leaves them (move() gives it back); at once, over the limit, unless `wait_in_line`.
  Task<bool> take_launch_slot(bool wait_in_line);
  void give_back_launch_slot();

  ShardContext& shard_;
  const ControllerOptions& options_;
  store::JobId id_;
  Event cancel_;
  std::string cancel_reason_ = "cancelled by the user";
  std::optional<int> group_task_;        // set: this runner drives only that task of a job group
  GroupDirectory* directory_ = nullptr;  // its group's, owned by the job's runner
  store::JobStatus ended_ = store::JobStatus::kPending;
  JobLogs logs_;
  store::JobRecord job_;
  std::shared_ptr<const spec::Pipeline> pipeline_;  // shared with runners of the same spec
  std::vector<std::string> task_ids_;
  std::vector<std::optional<Placement>> placements_;  // the task's current machines
  // What skylet mounts for each task's attempts (its buckets), once they are ready.
  std::vector<std::vector<skylet::BucketMount>> bucket_mounts_;
  std::unique_ptr<Predecessor> predecessor_;    // of the task being run
  TaskGroup* predecessor_followers_ = nullptr;  // run_task's group, while it runs
  std::set<std::string> terminated_clusters_;   // confirmed gone: not asked again
  // Spot machines a back-to-spot decision provisioned, for the recovery that runs on them.
  std::optional<LaunchOutcome> provisioned_;
  std::map<std::string, NodeSilence> silence_;  // by instance id
  // The checkpoint each task last reported (seconds of work), as stored; a task's entry exists
  // once its reports were loaded (empty value: none yet).
  std::map<int, std::optional<std::int64_t>> reported_work_;
  bool holding_launch_slot_ = false;
};

}  // namespace skyd::daemon
