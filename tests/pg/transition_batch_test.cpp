// Transitions of many tasks that come at once are written together (migration 0016), and each
// lands exactly as it would alone: the guard, the event, the job's status, end and failure, the
// queue's totals. What a batch cannot move is written alone by its caller.
#include "reactor/event.hpp"
#include "reactor/task_group.hpp"
#include "store/job_repository.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"
#include "store/transaction.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <map>
#include <memory>

namespace skyd::store {
namespace {

using skyd::testing::run_co;
using testing::TestDatabase;
using S = JobStatus;

using testing::statements_sent;

// A transition whose retry finds it already applied (as a job runner's are).
TransitionRequest step(JobId job, int task, S from, S to, std::string reason = "test") {
  TransitionRequest request = testing::step(job, task, from, to, std::move(reason));
  request.idempotency_key = std::to_string(job.value) + "-" + std::to_string(task) + "-" +
                            std::string(to_string(from)) + "-" + std::string(to_string(to));
  return request;
}

using Outcomes = std::map<std::size_t, Result<TaskRecord>>;

// The outcomes of requests made at once, each by its own coroutine, by position; `landed` is
// notified as each comes in.
struct Collected {
  explicit Collected(asio::any_io_executor executor) : landed(std::move(executor)) {}
  Outcomes outcomes;
  Notifier landed;
};

std::shared_ptr<Collected> start_all(TaskGroup& group, JobRepository& jobs,
                                     const std::vector<TransitionRequest>& requests) {
  auto collected = std::make_shared<Collected>(group.executor());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    group.spawn([](JobRepository& repo, TransitionRequest request, std::size_t at,
                   std::shared_ptr<Collected> into) -> Task<void> {
      auto moved = co_await repo.transition(std::move(request));
      into->outcomes.emplace(at, std::move(moved));
      into->landed.notify_all();
    }(jobs, requests[i], i, collected));
  }
  return collected;
}

Task<Outcomes> all_at_once(JobRepository& jobs, std::vector<TransitionRequest> requests) {
  TaskGroup group(co_await asio::this_coro::executor, "transitions");
  auto collected = start_all(group, jobs, requests);
  co_await group.wait();
  co_return std::move(collected->outcomes);
}

Task<std::int64_t> count_of(PgPool& pool, std::string_view sql) {
  auto rows = co_await pool.query(sql, Params{});
  if (!rows) {
    ADD_FAILURE() << rows.error().message();
    co_return -1;
  }
  co_return rows->int64(0, "n");
}

// `count` copies of a one-task job, made in one statement.
Task<Result<std::vector<JobId>>> copies(JobRepository& jobs, std::string name, int count) {
  NewJob job = testing::sample_job(std::move(name), 1, 1001);
  job.num_jobs = count;
  co_return co_await jobs.create_jobs(job);
}

Task<void> many_at_once(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo, 4));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto ids = co_await copies(jobs, "many", 60);
  CO_ASSERT_OK(ids);
  auto pipeline = co_await jobs.create_job(testing::sample_job("pipeline", 2, 1001));
  CO_ASSERT_OK(pipeline);

  // Every copy starts, and both tasks of the pipeline end at once (one failing).
  std::vector<TransitionRequest> starts;
  for (JobId id : *ids) starts.push_back(step(id, 0, S::kPending, S::kStarting));
  auto failed = step(*pipeline, 1, S::kPending, S::kFailedPrechecks);
  failed.failure_reason = "no bucket";
  starts.push_back(failed);
  starts.push_back(step(*pipeline, 0, S::kPending, S::kCancelled));

  const std::uint64_t statements_before = statements_sent();
  const auto stats_before = jobs.transition_batch_stats();
  auto started = co_await all_at_once(jobs, starts);
  const std::uint64_t statements = statements_sent() - statements_before;
  const auto& stats = jobs.transition_batch_stats();
  CO_ASSERT(started.size() == starts.size());
  for (const auto& [at, moved] : started) {
    CO_ASSERT_OK(moved);
    EXPECT_EQ(moved->status, starts[at].to) << "request " << at;
    EXPECT_EQ(moved->job_id, starts[at].job_id);
  }
  // The first went as a batch of one; the rest gathered while it was out, and went together.
  EXPECT_LE(statements, 4u) << "62 transitions";
  EXPECT_GE(stats.batches - stats_before.batches, 2u);
  EXPECT_EQ(stats.batched - stats_before.batched, 62u);
  EXPECT_EQ(stats.alone, stats_before.alone) << "none left to go alone";
  EXPECT_EQ(started.at(0)->attempt, 1) << "STARTING counts an attempt";

  auto job = co_await jobs.get_job(*pipeline);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->status, S::kCancelled) << "the job shows its first unfinished task";
  EXPECT_TRUE(job->ended_at.has_value()) << "both tasks ended in one batch";
  EXPECT_EQ(job->failure_reason, "no bucket");
  auto copy = co_await jobs.get_job(ids->back());
  CO_ASSERT_OK(copy);
  EXPECT_EQ(copy->status, S::kStarting);
  EXPECT_FALSE(copy->ended_at.has_value());

  // Then every copy runs and fails, with exit codes: two rounds of 60 at once.
  std::vector<TransitionRequest> runs, ends;
  for (JobId id : *ids) {
    auto running = step(id, 0, S::kStarting, S::kRunning);
    running.cluster_name = "c-" + std::to_string(id.value);
    running.placement_json = R"({"cloud":"aws","region":"us-east-1"})";
    runs.push_back(running);
    auto failed_run = step(id, 0, S::kRunning, S::kFailed, "exit \"1\" on rank 0");
    failed_run.exit_codes = std::vector<int>{1, 0};
    failed_run.failure_reason = "rank 0 exited 1";
    failed_run.details_json = R"({"rank":0})";
    ends.push_back(failed_run);
  }
  for (const auto& round : {runs, ends}) {
    const std::uint64_t batched_before = jobs.transition_batch_stats().batched;
    const std::uint64_t alone_before = jobs.transition_batch_stats().alone;
    auto moved = co_await all_at_once(jobs, round);
    for (const auto& [at, task] : moved) CO_ASSERT_OK(task);
    // Placement, details, exit codes and failures went in the batch, not left to go alone.
    EXPECT_EQ(jobs.transition_batch_stats().batched - batched_before, 60u);
    EXPECT_EQ(jobs.transition_batch_stats().alone, alone_before);
  }
  auto ended = co_await jobs.get_job(ids->front());
  CO_ASSERT_OK(ended);
  CO_ASSERT(ended->tasks.size() == 1);
  EXPECT_EQ(ended->status, S::kFailed);
  EXPECT_EQ(ended->failure_reason, "rank 0 exited 1");
  EXPECT_TRUE(ended->ended_at.has_value());
  EXPECT_EQ(ended->tasks[0].cluster_name, "c-" + std::to_string(ids->front().value));
  EXPECT_EQ(ended->tasks[0].exit_codes, (std::vector<int>{1, 0}));
  EXPECT_TRUE(ended->tasks[0].started_at.has_value());

  // One event per transition, with its reason and details; the queue's totals follow.
  EXPECT_EQ(co_await count_of(pool,
                              "SELECT count(*) AS n FROM job_events "
                              "WHERE reason = 'exit \"1\" on rank 0' "
                              "AND details = '{\"rank\":0}' AND to_status = 'FAILED'"),
            60);
  EXPECT_EQ(co_await count_of(pool,
                              "SELECT count(*) AS n FROM job_events WHERE from_status IS "
                              "NOT NULL"),
            60 * 3 + 2);
  auto summary = co_await jobs.queue_summary(std::nullopt, false);
  CO_ASSERT_OK(summary);
  EXPECT_EQ(summary->jobs, 61);
  EXPECT_TRUE(summary->unfinished_tasks.empty()) << "every task has ended";
}

TEST(TransitionBatches, ManyTasksMovingAtOnceAreWrittenTogetherEachAsItWouldBeAlone) {
  TestDatabase db;
  run_co<void>([&] { return many_at_once(db.conninfo()); });
}

Task<void> left_alone(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo, 4));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto ids = co_await copies(jobs, "left", 12);
  CO_ASSERT_OK(ids);

  // Another writer holds the first job's row (the first transition goes out by itself, and must
  // not hold up the rest); job 2's guard names a status it is not in.
  auto holder = co_await pool.begin();
  CO_ASSERT_OK(holder);
  auto lock_params = make_params((*ids)[0].value);
  CO_ASSERT_OK(co_await holder->query("SELECT 1 FROM jobs WHERE id = $1::bigint FOR UPDATE",
                                      std::move(lock_params)));

  std::vector<TransitionRequest> requests;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    requests.push_back(i == 2 ? step((*ids)[i], 0, S::kRunning, S::kCancelling)
                              : step((*ids)[i], 0, S::kPending, S::kCancelled));
  }
  TaskGroup group(co_await asio::this_coro::executor, "transitions");
  auto collected = start_all(group, jobs, requests);
  const Outcomes& outcomes = collected->outcomes;
  // The batch does not wait for the lock: everything but the locked job lands meanwhile (or
  // the test's deadline ends it).
  while (outcomes.size() < requests.size() - 1) co_await collected->landed.wait();
  EXPECT_FALSE(outcomes.contains(0)) << "the locked job waits, alone";
  const auto& wrong_guard = outcomes.at(2);
  CO_ASSERT(!wrong_guard);
  EXPECT_EQ(wrong_guard.error().code, StoreErrc::kConflict);
  EXPECT_NE(wrong_guard.error().detail.find("status is PENDING"), std::string::npos)
      << wrong_guard.error().detail;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i == 0 || i == 2) continue;
    EXPECT_TRUE(outcomes.at(i).has_value()) << "request " << i;
  }

  CO_ASSERT_OK(co_await holder->commit());
  co_await group.wait();
  CO_ASSERT_OK(outcomes.at(0));
  EXPECT_EQ(outcomes.at(0)->status, S::kCancelled) << "written alone once the lock was let go";
  EXPECT_EQ(co_await count_of(pool,
                              "SELECT count(*) AS n FROM jobs WHERE status = 'CANCELLED' "
                              "AND ended_at IS NOT NULL"),
            11);

  // Asked again with the same keys, the ones that landed find themselves already applied.
  auto again = co_await all_at_once(jobs, requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i == 2) continue;
    CO_ASSERT_OK(again.at(i));
    EXPECT_EQ(again.at(i)->status, S::kCancelled);
  }
  EXPECT_EQ(co_await count_of(pool,
                              "SELECT count(*) AS n FROM job_events WHERE to_status = "
                              "'CANCELLED'"),
            11)
      << "no second event";
}

TEST(TransitionBatches, WhatABatchCannotMoveIsWrittenAloneWaitingForNoOtherJob) {
  TestDatabase db;
  run_co<void>([&] { return left_alone(db.conninfo()); });
}

}  // namespace
}  // namespace skyd::store
