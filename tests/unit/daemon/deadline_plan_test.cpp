// What skyd tells the deadline policy about a task: progress from its transition log, the
// deadline from its submission, what it holds, and the remaining work's floor.
#include "daemon/controller/deadline_plan.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

using namespace std::chrono_literals;
using store::JobStatus;

const policy::TimePoint kSubmitted = std::chrono::sys_days(std::chrono::year(2026) / 12 / 1);

store::JobEvent event(std::optional<int> task, std::chrono::seconds after, JobStatus to) {
  store::JobEvent out;
  out.task_index = task;
  out.at = kSubmitted + after;
  out.to = to;
  return out;
}

spec::DeadlineSpec spec_of(std::chrono::seconds work, std::chrono::seconds after,
                           std::chrono::seconds overhead) {
  spec::DeadlineSpec spec;
  spec.work = work;
  spec.after_submission = after;
  spec.restart_overhead = overhead;
  return spec;
}

TEST(DeadlinePlan, RunStretchesComeFromTheTasksOwnEventsAndEndAtTheNextOne) {
  const std::vector<store::JobEvent> events = {
      event(0, 0s, JobStatus::kPending),     event(0, 1s, JobStatus::kStarting),
      event(0, 5s, JobStatus::kRunning),     event(1, 6s, JobStatus::kRunning),
      event(0, 65s, JobStatus::kRecovering), event(std::nullopt, 70s, JobStatus::kCancelling),
      event(0, 80s, JobStatus::kRunning)};
  const auto stretches = run_stretches(events, 0);
  ASSERT_EQ(stretches.size(), 2u);
  EXPECT_EQ(stretches[0].started, kSubmitted + 5s);
  EXPECT_EQ(stretches[0].ended, kSubmitted + 65s);
  EXPECT_TRUE(stretches[0].lost);
  EXPECT_EQ(stretches[1].started, kSubmitted + 80s);
  EXPECT_FALSE(stretches[1].ended) << "the task runs now";
}

TEST(DeadlinePlan, ALostRunGivesUpToOneRestartOverheadOfItsWork) {
  const std::vector<RunStretch> stretches = {
      {kSubmitted + 0s, kSubmitted + 60s, true},   // 60 s run, 10 s of it not saved
      {kSubmitted + 70s, kSubmitted + 75s, true},  // shorter than the overhead: nothing saved
      {kSubmitted + 80s, kSubmitted + 100s, false},
      {kSubmitted + 110s, std::nullopt, false}};  // running: counted up to now
  EXPECT_EQ(progress_of(stretches, 10s, kSubmitted + 130s), 50s + 0s + 20s + 20s);
  EXPECT_EQ(progress_of({}, 10s, kSubmitted + 130s), 0s);
}

store::ProgressReport report(int task, std::int64_t work_seconds) {
  store::ProgressReport out;
  out.task_index = task;
  out.work_seconds = work_seconds;
  return out;
}

TEST(DeadlinePlan, TheReportedWorkIsTheTasksLatestReport) {
  const std::vector<store::ProgressReport> reports = {report(0, 60), report(1, 500), report(0, 120),
                                                      report(0, 90)};
  EXPECT_EQ(reported_work(reports, 0), 90s) << "the latest, even when it went down";
  EXPECT_EQ(reported_work(reports, 1), 500s);
  EXPECT_EQ(reported_work(reports, 2), std::nullopt) << "a task that never reported";
  EXPECT_EQ(reported_work({}, 0), std::nullopt);
}

TEST(DeadlinePlan, AReportedCheckpointIsTheProgressWhateverTheTimeRun) {
  const std::vector<RunStretch> stretches = {
      {kSubmitted + 0s, kSubmitted + 600s, true},  // 600 s run, lost
      {kSubmitted + 700s, std::nullopt, false}};   // running since
  const auto now = kSubmitted + 1000s;
  EXPECT_EQ(task_progress(stretches, std::nullopt, 10s, now), 590s + 300s)
      << "without a report: the time run, less one overhead per lost run";
  EXPECT_EQ(task_progress(stretches, 120s, 10s, now), 120s)
      << "after a loss only the checkpoint survives; work since it counts as left";
  EXPECT_EQ(task_progress(stretches, 2000s, 10s, now), 2000s)
      << "the task knows its work better than the clock";
  EXPECT_EQ(task_progress({}, 0s, 10s, now), 0s);
}

TEST(DeadlinePlan, AReportedCheckpointDecidesBetweenWaitingForSpotAndOnDemand) {
  // Uniform Progress: 30 min of work in the hour after submission; 10 s restart overhead. Spot
  // went 20 s in, after a 15 s run: by the clock the task is behind the line (5 s < 10 s); its
  // checkpoint of 15 min is far ahead, so it waits for spot.
  const spec::DeadlineSpec spec = spec_of(1800s, 3600s, 10s);
  const std::vector<RunStretch> stretches = {{kSubmitted + 5s, kSubmitted + 20s, true}};
  DeadlineSituation situation;
  situation.submitted_at = kSubmitted;
  situation.now = kSubmitted + 20s;
  situation.holding = policy::Holding::kPreempted;
  situation.spot_available = false;
  situation.tick = 1s;
  situation.progress = task_progress(stretches, std::nullopt, 10s, situation.now);
  const auto by_clock = policy::decide_deadline(deadline_inputs(spec, situation));
  EXPECT_EQ(by_clock.rule, policy::DeadlineRule::kBehindSchedule) << policy::describe(by_clock);
  situation.progress = task_progress(stretches, 900s, 10s, situation.now);
  const auto reported = policy::decide_deadline(deadline_inputs(spec, situation));
  EXPECT_EQ(reported.rule, policy::DeadlineRule::kWaitForSpot) << policy::describe(reported);
  EXPECT_NE(policy::describe(reported).find("progress 15m is not behind"), std::string::npos)
      << policy::describe(reported);
}

TEST(DeadlinePlan, TheDeadlineIsAnInstantOrATimeAfterSubmission) {
  spec::DeadlineSpec spec = spec_of(20s, 60s, 3s);
  EXPECT_EQ(deadline_of(spec, kSubmitted), kSubmitted + 60s);
  spec.after_submission.reset();
  spec.at = kSubmitted + 36h;
  EXPECT_EQ(deadline_of(spec, kSubmitted + 1h), kSubmitted + 36h);
}

TEST(DeadlinePlan, WhatTheTaskHoldsComesFromItsLastPlacementsMarket) {
  EXPECT_EQ(holding_when_placing(std::nullopt), policy::Holding::kNothing);
  EXPECT_EQ(holding_when_placing(true), policy::Holding::kPreempted);
  EXPECT_EQ(holding_when_placing(false), policy::Holding::kOnDemand);
}

TEST(DeadlinePlan, InputsCarryTheSpecAndTheSituation) {
  spec::DeadlineSpec spec = spec_of(20s, 60s, 3s);
  spec.policy = spec::DeadlinePolicy::kGreedy;
  DeadlineSituation situation;
  situation.submitted_at = kSubmitted;
  situation.now = kSubmitted + 30s;
  situation.progress = 8s;
  situation.holding = policy::Holding::kPreempted;
  situation.spot_available = true;
  situation.tick = 1s;
  const auto inputs = deadline_inputs(spec, situation);
  EXPECT_EQ(inputs.strategy, policy::DeadlineStrategy::kGreedy);
  EXPECT_EQ(inputs.start, kSubmitted);
  EXPECT_EQ(inputs.deadline, kSubmitted + 60s);
  EXPECT_EQ(inputs.total_work, 20s);
  EXPECT_EQ(inputs.remaining_work, 12s);
  EXPECT_EQ(inputs.restart_overhead, 3s);
  EXPECT_EQ(inputs.holding, policy::Holding::kPreempted);
  EXPECT_TRUE(inputs.spot_available);
  EXPECT_EQ(inputs.tick, 1s);
}

TEST(DeadlinePlan, ATaskPastItsDeclaredWorkStillHasOneRestartOverheadLeft) {
  DeadlineSituation situation;
  situation.submitted_at = kSubmitted;
  situation.now = kSubmitted + 30s;
  situation.progress = 25s;
  EXPECT_EQ(deadline_inputs(spec_of(20s, 60s, 3s), situation).remaining_work, 3s);
  EXPECT_EQ(deadline_inputs(spec_of(20s, 60s, 0s), situation).remaining_work, 1s);
  // ... so the policy never answers "work done" for a task that still needs machines.
  EXPECT_NE(policy::decide_deadline(deadline_inputs(spec_of(20s, 60s, 0s), situation)).rule,
            policy::DeadlineRule::kWorkDone);
}

TEST(DeadlinePlan, SlackAtTheSwitchPointTurnsASpotWaitIntoOnDemand) {
  // 60 s deadline, 20 s work, 3 s overhead, asked every second: the margin is 3 + 3 = 6 s.
  const spec::DeadlineSpec spec = spec_of(20s, 60s, 3s);
  DeadlineSituation situation;
  situation.submitted_at = kSubmitted;
  situation.holding = policy::Holding::kPreempted;
  situation.spot_available = false;
  situation.tick = 1s;
  situation.progress = 10s;
  situation.now = kSubmitted + 43s;  // slack 17 - 10 = 7 s: above the margin
  const auto before = policy::decide_deadline(deadline_inputs(spec, situation));
  situation.now = kSubmitted + 45s;  // slack 5 s: below it
  const auto after = policy::decide_deadline(deadline_inputs(spec, situation));
  EXPECT_EQ(after.placement, policy::Placement::kOnDemand);
  EXPECT_EQ(after.rule, policy::DeadlineRule::kSafetyNet);
  EXPECT_NE(before.rule, policy::DeadlineRule::kSafetyNet);
  situation.now = kSubmitted + 61s;  // missed: on-demand at once, and it says so
  const auto missed = policy::decide_deadline(deadline_inputs(spec, situation));
  EXPECT_EQ(missed.rule, policy::DeadlineRule::kDeadlineMissed);
  EXPECT_EQ(missed.placement, policy::Placement::kOnDemand);
}

}  // namespace
}  // namespace skyd::daemon
