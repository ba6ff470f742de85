// A job group (`execution: parallel`, SkyPilot's job groups): every task is run at once by its own
// runner, each on its own cluster with its own recovery, as a pipeline's task would be. What ties
// them together is decided here, from the tasks' stored statuses alone (a restarted skyd comes to
// the same decisions):
//   - once every primary task has ended, the auxiliary ones still running are stopped: after
//     their termination_delay when every primary task succeeded, at once otherwise;
//   - a task that cannot launch (FAILED_PRECHECKS, FAILED_NO_RESOURCE) cancels the others, as a
//     failed launch ends a SkyPilot group;
//   - a user's cancel reaches every task.
// Otherwise a task's failure leaves its siblings running, as in SkyPilot.

#include "daemon/controller/job_runner.hpp"
#include "reactor/log.hpp"

#include <algorithm>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skyd::daemon {

using namespace asio::experimental::awaitable_operators;
using store::JobStatus;

namespace {

bool launch_failed(JobStatus status) {
  return status == JobStatus::kFailedPrechecks || status == JobStatus::kFailedNoResource;
}

}  // namespace

Task<void> JobRunner::run_group() {
  const spec::JobGroup& group = *pipeline_->group;
  const std::size_t count = job_.tasks.size();
  std::vector<std::string> names;
  for (const auto& task : pipeline_->tasks) names.push_back(task.name.value_or(""));
  GroupDirectory directory(shard_.executor, pipeline_->name.value_or(job_.name), std::move(names));
  std::vector<std::unique_ptr<JobRunner>> members;
  for (std::size_t i = 0; i < count; ++i) {
    members.push_back(
        std::make_unique<JobRunner>(shard_, options_, id_, static_cast<int>(i), &directory));
  }
  // A task the group was stopping when skyd went down finishes stopping under the group's name.
  for (std::size_t i = 0; i < count; ++i) {
    if (job_.tasks[i].status == JobStatus::kCancelling && !job_.cancel_requested_at) {
      members[i]->request_cancel("stopped by its job group (before skyd restarted)");
    }
  }
  Event changed(shard_.executor);
  std::vector<bool> done(count, false);
  logs_.record("job group: " + std::to_string(count) + " tasks run at once");

  std::function<Task<void>(TaskGroup&)> body = [&](TaskGroup& tasks) -> Task<void> {
    for (std::size_t i = 0; i < count; ++i) {
      JobRunner* member = members[i].get();
      std::vector<bool>* ended = &done;
      Event* wake = &changed;
      tasks.spawn([](JobRunner* runner, std::vector<bool>* ended, Event* wake,
                     GroupDirectory* found, std::size_t index) -> Task<void> {
        co_await runner->run();
        (*ended)[index] = true;
        found->end(static_cast<int>(index));
        wake->set();
      }(member, ended, wake, &directory, i));
    }
    bool cancel_forwarded = false;
    bool auxiliaries_stopping = false;
    bool launch_failure_seen = false;
    for (;;) {
      changed.reset();
      if (cancel_.is_set() && !cancel_forwarded) {
        cancel_forwarded = true;
        for (auto& member : members) member->request_cancel(cancel_reason_);
      }
      if (!launch_failure_seen) {
        for (std::size_t i = 0; i < count; ++i) {
          if (!done[i] || !launch_failed(members[i]->ended())) continue;
          launch_failure_seen = true;
          const std::string why =
              "task " + std::to_string(i) + " of the job group could not launch";
          logs_.record(why + ": the other tasks are cancelled");
          for (auto& member : members) member->request_cancel(why);
          break;
        }
      }
      bool primaries_running = false;
      bool primaries_succeeded = true;
      for (std::size_t i = 0; i < count; ++i) {
        if (!spec::is_primary(group, pipeline_->tasks[i])) continue;
        if (!done[i]) primaries_running = true;
        if (done[i] && members[i]->ended() != JobStatus::kSucceeded) primaries_succeeded = false;
      }
      if (!primaries_running && !auxiliaries_stopping) {
        auxiliaries_stopping = true;
        for (std::size_t i = 0; i < count; ++i) {
          if (done[i] || spec::is_primary(group, pipeline_->tasks[i])) continue;
          Duration delay = Duration::zero();
          if (primaries_succeeded) delay = spec::termination_delay(group, pipeline_->tasks[i]);
          std::string why = primaries_succeeded
                                ? "auxiliary task stopped: the primary tasks succeeded"
                                : "auxiliary task stopped: a primary task did not succeed";
          logs_.record(
              "task " + std::to_string(i) + ": " + why + "; stopped in " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) +
              " s");
          tasks.spawn([](JobRunner* runner, Duration wait, std::string reason) -> Task<void> {
            asio::steady_timer timer(co_await asio::this_coro::executor, wait);
            co_await timer.async_wait(asio::use_awaitable);
            runner->request_cancel(std::move(reason));
          }(members[i].get(), delay, std::move(why)));
        }
      }
      if (std::all_of(done.begin(), done.end(), [](bool ended) { return ended; })) break;
      if (cancel_forwarded) {
        co_await changed.wait();
      } else {
        co_await (changed.wait() || cancel_.wait());
      }
    }
    co_return;
  };
  co_await TaskGroup::scoped("job group", std::move(body));
}

Task<bool> JobRunner::meet_group(int index, const Placement& placement, bool wait) {
  if (!directory_) co_return true;
  std::vector<std::string> ips;
  for (const auto& node : placement.cluster.nodes) ips.push_back(node.ip);
  directory_->publish(index, std::move(ips));
  if (!wait) co_return true;
  if (!directory_->settled())
    logs_.record("task " + std::to_string(index) +
                 ": waiting for the other tasks of the job group");
  while (!directory_->settled()) {
    auto woken = co_await (directory_->changed.wait() || cancel_.wait());
    if (woken.index() == 1) co_return false;
  }
  co_return true;
}

}  // namespace skyd::daemon
