#include "store/job_repository.hpp"
#include "reactor/task_group.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"
#include "store/transaction.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <map>

namespace skyd::store {
namespace {

using skyd::testing::run_co;
using testing::TestDatabase;
using S = JobStatus;

using testing::statements_sent;
using testing::step;

Task<std::int64_t> count(PgPool& pool, std::string_view sql, JobId job) {
  auto params = make_params(job.value);
  auto rows = co_await pool.query(sql, std::move(params));
  if (!rows) {
    ADD_FAILURE() << rows.error().message();
    co_return -1;
  }
  co_return rows->int64(0, "n");
}

constexpr std::string_view kCountEvents =
    "SELECT count(*) AS n FROM job_events WHERE job_id = $1::bigint";

Task<void> create_and_read(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("train", 2, 1001));
  CO_ASSERT_OK(id);
  auto job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->name, "train");
  EXPECT_EQ(job->user_uid, 1001);
  EXPECT_EQ(job->user_name, "user1001");
  EXPECT_EQ(job->task_count, 2);
  EXPECT_EQ(job->status, S::kPending);
  EXPECT_NE(job->spec_json.find("echo hi"), std::string::npos);
  CO_ASSERT(job->tasks.size() == 2);
  EXPECT_EQ(job->tasks[1].task_index, 1);
  EXPECT_EQ(job->tasks[1].name, "task1");
  EXPECT_EQ(job->tasks[1].resources, "1x[V100:1][Spot]");
  EXPECT_EQ(job->tasks[0].status, S::kPending);
  EXPECT_EQ(co_await count(pool, kCountEvents, *id), 2) << "one submission event per task";

  auto missing = co_await jobs.get_job(JobId{id->value + 1000});
  CO_ASSERT(!missing);
  EXPECT_EQ(missing.error().code, StoreErrc::kNotFound);
}

TEST(JobRepository, CreatesAJobWithItsTasksAndSubmissionEvents) {
  TestDatabase db;
  run_co<void>([&] { return create_and_read(db.conninfo()); });
}

Task<void> create_a_batch(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  NewJob batch = testing::sample_job("sweep", 2, 1001);
  batch.num_jobs = 50;
  auto ids = co_await jobs.create_jobs(batch);
  CO_ASSERT_OK(ids);
  CO_ASSERT(ids->size() == 50u);
  for (int rank = 0; rank < 50; ++rank) {
    auto job = co_await jobs.get_job((*ids)[rank]);
    CO_ASSERT_OK(job);
    EXPECT_EQ(job->job_rank, rank);
    EXPECT_EQ(job->num_jobs, 50);
    EXPECT_EQ(job->name, "sweep");
    EXPECT_EQ(job->tasks.size(), 2u);
    EXPECT_EQ(co_await count(pool, kCountEvents, (*ids)[rank]), 2);
  }
  // The planner learns of the batch at once, not at the next autovacuum.
  CO_ASSERT_OK(co_await jobs.refresh_statistics());
  auto estimated = co_await pool.query(
      "SELECT reltuples::bigint AS n FROM pg_class WHERE relname = 'tasks'", Params{});
  CO_ASSERT_OK(estimated);
  EXPECT_EQ(estimated->int64(0, "n"), 100);

  auto single = co_await jobs.create_job(testing::sample_job("alone"));
  CO_ASSERT_OK(single);
  auto alone = co_await jobs.get_job(*single);
  CO_ASSERT_OK(alone);
  EXPECT_EQ(alone->job_rank, 0);
  EXPECT_EQ(alone->num_jobs, 1);

  for (int refused : {0, -1, kMaxJobsPerSubmit + 1}) {
    NewJob bad = testing::sample_job("bad");
    bad.num_jobs = refused;
    auto none = co_await jobs.create_jobs(bad);
    CO_ASSERT(!none);
    EXPECT_EQ(none.error().code, StoreErrc::kQuery) << refused;
  }
}

Task<void> record_progress_reports(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("ckpt", 2, 1001));
  CO_ASSERT_OK(id);
  CO_ASSERT_OK(co_await jobs.transition(step(*id, 0, S::kPending, S::kStarting)));
  CO_ASSERT_OK(co_await jobs.record_progress(*id, 0, 1, 600));
  CO_ASSERT_OK(co_await jobs.record_progress(*id, 1, 1, 30));
  CO_ASSERT_OK(co_await jobs.record_progress(*id, 0, 2, 900));
  auto reports = co_await jobs.progress_reports(*id);
  CO_ASSERT_OK(reports);
  CO_ASSERT(reports->size() == 3u);
  EXPECT_EQ((*reports)[0].work_seconds, 600);
  EXPECT_EQ((*reports)[1].task_index, 1);
  EXPECT_EQ((*reports)[2].attempt, 2);
  EXPECT_LT((*reports)[0].id, (*reports)[2].id);
  // The job list shows each started task's latest checkpoint.
  auto job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->tasks[0].reported_work_seconds, std::optional<std::int64_t>(900));
  EXPECT_EQ(job->tasks[1].reported_work_seconds, std::nullopt) << "task 1 never started";
  QueueFilter filter;
  auto listed = co_await jobs.list_jobs(filter);
  CO_ASSERT_OK(listed);
  CO_ASSERT(listed->size() == 1u);
  EXPECT_EQ(listed->front().tasks[0].reported_work_seconds, std::optional<std::int64_t>(900));
  auto negative = co_await jobs.record_progress(*id, 0, 2, -1);
  EXPECT_FALSE(negative) << "work is never negative";
  auto changed = co_await pool.query("UPDATE progress_reports SET work_seconds = 1", Params{});
  EXPECT_FALSE(changed) << "append-only";
}

TEST(JobRepository, RecordsReportedProgressAndShowsTheLatestPerTask) {
  TestDatabase db;
  run_co<void>([&] { return record_progress_reports(db.conninfo()); });
}

TEST(JobRepository, CreatesABatchOfJobsWithTheirRanksInOneStatement) {
  TestDatabase db;
  run_co<void>([&] { return create_a_batch(db.conninfo()); });
}

// A submission asked again with its key makes nothing and answers with the first one's jobs.
Task<void> submit_twice_with_one_key(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  NewJob batch = testing::sample_job("sweep", 2, 1001);
  batch.num_jobs = 3;
  batch.submission_key = "0123456789abcdef0123456789abcdef";
  auto first = co_await jobs.submit_jobs(batch);
  CO_ASSERT_OK(first);
  EXPECT_FALSE(first->earlier);
  CO_ASSERT(first->ids.size() == 3u);

  auto again = co_await jobs.submit_jobs(batch);
  CO_ASSERT_OK(again);
  EXPECT_TRUE(again->earlier);
  EXPECT_EQ(again->ids, first->ids);
  auto looked_up = co_await jobs.jobs_of_submission(1001, *batch.submission_key);
  CO_ASSERT_OK(looked_up);
  EXPECT_EQ(*looked_up, first->ids);
  auto made = co_await pool.query("SELECT count(*) AS n FROM jobs", Params{});
  CO_ASSERT_OK(made);
  EXPECT_EQ(made->int64(0, "n"), 3) << "no second batch";

  // The key is the user's own: another user's submission with it is a submission of its own.
  NewJob other = batch;
  other.user_uid = 1002;
  auto theirs = co_await jobs.submit_jobs(other);
  CO_ASSERT_OK(theirs);
  EXPECT_FALSE(theirs->earlier);
  EXPECT_NE(theirs->ids, first->ids);
  // And without a key every submission is new.
  NewJob unkeyed = testing::sample_job("plain", 1, 1001);
  auto one = co_await jobs.submit_jobs(unkeyed);
  auto two = co_await jobs.submit_jobs(unkeyed);
  CO_ASSERT_OK(one);
  CO_ASSERT_OK(two);
  EXPECT_NE(one->ids, two->ids);
}

TEST(JobRepository, ASubmissionAskedAgainWithItsKeyMakesNoSecondJob) {
  TestDatabase db;
  run_co<void>([&] { return submit_twice_with_one_key(db.conninfo()); });
}

Task<void> atomic_transition(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("atomic"));
  CO_ASSERT_OK(id);
  const auto events_before = co_await count(pool, kCountEvents, *id);

  // Transition and a failing statement in one transaction: neither lands.
  {
    auto tx = co_await pool.begin();
    CO_ASSERT_OK(tx);
    auto moved = co_await jobs.transition(*tx, step(*id, 0, S::kPending, S::kStarting));
    CO_ASSERT_OK(moved);
    EXPECT_EQ(moved->status, S::kStarting);
    EXPECT_FALSE(co_await tx->query("SELECT 1/0", Params{}));
    EXPECT_FALSE(co_await tx->commit());
  }
  auto job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->tasks[0].status, S::kPending);
  EXPECT_EQ(job->status, S::kPending);
  EXPECT_EQ(co_await count(pool, kCountEvents, *id), events_before);

  // Committed: the status, the job's status and the event row all land.
  auto moved = co_await jobs.transition(step(*id, 0, S::kPending, S::kStarting, "claimed"));
  CO_ASSERT_OK(moved);
  EXPECT_EQ(moved->attempt, 1);
  job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->tasks[0].status, S::kStarting);
  EXPECT_EQ(job->status, S::kStarting);
  auto events = co_await jobs.events(*id);
  CO_ASSERT_OK(events);
  CO_ASSERT(events->size() == static_cast<std::size_t>(events_before + 1));
  EXPECT_EQ(events->back().from, S::kPending);
  EXPECT_EQ(events->back().to, S::kStarting);
  EXPECT_EQ(events->back().reason, "claimed");
}

TEST(JobRepository, ATransitionAndItsEventCommitTogetherOrNotAtAll) {
  TestDatabase db;
  run_co<void>([&] { return atomic_transition(db.conninfo()); });
}

Task<void> one_statement_transition(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("train", 1, 1001));
  CO_ASSERT_OK(id);
  CO_ASSERT_OK(co_await jobs.transition(step(*id, 0, S::kPending, S::kStarting)));

  const std::uint64_t before = statements_sent();
  auto running = co_await jobs.transition(step(*id, 0, S::kStarting, S::kRunning));
  CO_ASSERT_OK(running);
  // BEGIN, lock, update with its event, refresh of the job, COMMIT were five round trips.
  EXPECT_EQ(statements_sent() - before, 1u);
  EXPECT_EQ(running->status, S::kRunning);
  auto job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->status, S::kRunning) << "the job follows its task in the same statement";
  EXPECT_EQ(co_await count(pool, kCountEvents, *id), 3) << "submission, STARTING, RUNNING";

  // A guard that does not hold changes nothing, and says what is there instead.
  auto stale = co_await jobs.transition(step(*id, 0, S::kStarting, S::kRunning));
  CO_ASSERT(!stale);
  EXPECT_EQ(stale.error().code, StoreErrc::kConflict);
  EXPECT_NE(stale.error().detail.find("status is RUNNING"), std::string::npos)
      << stale.error().detail;
  EXPECT_EQ(co_await count(pool, kCountEvents, *id), 3);
}

TEST(JobRepository, ATransitionIsOneStatement) {
  TestDatabase db;
  run_co<void>([&] { return one_statement_transition(db.conninfo()); });
}

Task<void> cancel_many(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto open = co_await jobs.create_job(testing::sample_job("open", 1, 1001));
  auto ended = co_await jobs.create_job(testing::sample_job("ended", 1, 1001));
  auto others = co_await jobs.create_job(testing::sample_job("others", 1, 1002));
  CO_ASSERT_OK(open);
  CO_ASSERT_OK(ended);
  CO_ASSERT_OK(others);
  CO_ASSERT_OK(co_await jobs.transition(step(*ended, 0, S::kPending, S::kCancelled)));
  const JobId missing{others->value + 1000};

  // Named, not braced in the co_await expressions: g++ 12 mishandles such temporaries.
  const std::vector<JobId> asked{*others, missing, *ended, *open, *open};
  const std::optional<std::int64_t> as_user = 1001;
  auto verdicts = co_await jobs.request_cancels(asked, as_user);
  CO_ASSERT_OK(verdicts);
  using Ids = std::vector<std::int64_t>;
  const Ids open_only(1, open->value), ended_only(1, ended->value), others_only(1, others->value),
      missing_only(1, missing.value);
  EXPECT_EQ(verdicts->recorded, open_only);
  EXPECT_EQ(verdicts->already_finished, ended_only);
  EXPECT_EQ(verdicts->not_permitted, others_only);
  EXPECT_EQ(verdicts->not_found, missing_only);
  auto stamped = co_await jobs.get_job(*open);
  auto untouched = co_await jobs.get_job(*others);
  CO_ASSERT_OK(stamped);
  CO_ASSERT_OK(untouched);
  EXPECT_TRUE(stamped->cancel_requested_at.has_value());
  EXPECT_FALSE(untouched->cancel_requested_at.has_value()) << "another user's job is not stamped";

  // A privileged caller may cancel anyone's; a second cancel keeps the first stamp.
  const std::vector<JobId> both{*others, *open};
  auto privileged = co_await jobs.request_cancels(both, std::nullopt);
  CO_ASSERT_OK(privileged);
  const Ids both_ids{others->value, open->value};  // in the order asked
  EXPECT_EQ(privileged->recorded, both_ids);
  auto again = co_await jobs.get_job(*open);
  CO_ASSERT_OK(again);
  EXPECT_EQ(again->cancel_requested_at, stamped->cancel_requested_at);
}

TEST(JobRepository, CancelsManyJobsInOneStatementSayingWhatBecameOfEach) {
  TestDatabase db;
  run_co<void>([&] { return cancel_many(db.conninfo()); });
}

Task<void> illegal_transition(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("illegal"));
  CO_ASSERT_OK(id);
  auto refused = co_await jobs.transition(step(*id, 0, S::kPending, S::kSucceeded));
  CO_ASSERT(!refused);
  EXPECT_EQ(refused.error().code, StoreErrc::kIllegalTransition);
  EXPECT_EQ(co_await count(pool, kCountEvents, *id), 1);
  auto job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->tasks[0].status, S::kPending);
}

TEST(JobRepository, RefusesAnIllegalTransition) {
  TestDatabase db;
  run_co<void>([&] { return illegal_transition(db.conninfo()); });
}

Task<void> racing_transitions(std::string conninfo) {
  using namespace asio::experimental::awaitable_operators;
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo, 4));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  for (int round = 0; round < 10; ++round) {
    auto id = co_await jobs.create_job(testing::sample_job("race"));
    CO_ASSERT_OK(id);
    auto [a, b] = co_await (jobs.transition(step(*id, 0, S::kPending, S::kStarting, "a")) &&
                            jobs.transition(step(*id, 0, S::kPending, S::kStarting, "b")));
    EXPECT_NE(bool(a), bool(b)) << "exactly one of the two wins";
    const auto& loser = a ? b : a;
    CO_ASSERT(!loser);
    EXPECT_EQ(loser.error().code, StoreErrc::kConflict) << loser.error().message();
    EXPECT_NE(loser.error().detail.find("status is STARTING"), std::string::npos)
        << loser.error().detail;
    EXPECT_EQ(co_await count(pool, kCountEvents, *id), 2) << "submission + one transition";
  }
}

TEST(JobRepository, TwoRacingTransitionsOneWinsOneConflicts) {
  TestDatabase db;
  run_co<void>([&] { return racing_transitions(db.conninfo()); });
}

// A job group's tasks move at once: whichever transition commits last, the job shows both.
Task<void> sibling_transitions(std::string conninfo) {
  using namespace asio::experimental::awaitable_operators;
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo, 4));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  for (int round = 0; round < 10; ++round) {
    auto id = co_await jobs.create_job(testing::sample_job("group", 2));
    CO_ASSERT_OK(id);
    auto started = co_await (jobs.transition(step(*id, 0, S::kPending, S::kCancelled, "a")) &&
                             jobs.transition(step(*id, 1, S::kPending, S::kCancelled, "b")));
    CO_ASSERT_OK(std::get<0>(started));
    CO_ASSERT_OK(std::get<1>(started));
    auto job = co_await jobs.get_job(*id);
    CO_ASSERT_OK(job);
    EXPECT_EQ(job->status, S::kCancelled) << "round " << round;
    EXPECT_TRUE(job->ended_at.has_value()) << "round " << round;
  }
}

TEST(JobRepository, SiblingTasksMovingAtOnceLeaveTheJobShowingBoth) {
  TestDatabase db;
  run_co<void>([&] { return sibling_transitions(db.conninfo()); });
}

Task<void> recovery_counters(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("pipeline", 2));
  CO_ASSERT_OK(id);
  CO_ASSERT_OK(co_await jobs.transition(step(*id, 0, S::kPending, S::kStarting)));
  auto running = step(*id, 0, S::kStarting, S::kRunning);
  running.cluster_name = "task0-" + std::to_string(id->value);
  running.placement_json = R"({"cloud":"aws","region":"us-east-1","zone":"us-east-1a"})";
  auto started = co_await jobs.transition(running);
  CO_ASSERT_OK(started);
  EXPECT_TRUE(started->started_at.has_value());
  EXPECT_EQ(started->cluster_name, running.cluster_name);

  auto preempted = step(*id, 0, S::kRunning, S::kRecovering, "spot notice");
  preempted.details_json = R"({"region":"us-east-1","zone":"us-east-1a"})";
  auto recovering = co_await jobs.transition(preempted);
  CO_ASSERT_OK(recovering);
  EXPECT_EQ(recovering->attempt, 2);
  EXPECT_EQ(recovering->recovery_count, 0);
  EXPECT_GE(recovering->job_duration_seconds, 0.0);
  auto user_error = step(*id, 0, S::kRecovering, S::kRunning);
  auto back = co_await jobs.transition(user_error);
  CO_ASSERT_OK(back);
  EXPECT_EQ(back->recovery_count, 1);
  EXPECT_EQ(back->restart_count, 0);
  auto restart = step(*id, 0, S::kRunning, S::kRecovering, "exit 3");
  restart.restart_on_error = true;
  restart.exit_codes = std::vector<int>{3, 0};
  auto restarted = co_await jobs.transition(restart);
  CO_ASSERT_OK(restarted);
  EXPECT_EQ(restarted->restart_count, 1);
  EXPECT_EQ(restarted->exit_codes, (std::vector<int>{3, 0}));
  CO_ASSERT_OK(co_await jobs.transition(step(*id, 0, S::kRecovering, S::kRunning)));
  auto done = co_await jobs.transition(step(*id, 0, S::kRunning, S::kSucceeded));
  CO_ASSERT_OK(done);
  EXPECT_TRUE(done->ended_at.has_value());
  EXPECT_EQ(done->recovery_count, 2);

  // The job now shows its second task; it has not ended.
  auto job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->status, S::kPending);
  EXPECT_FALSE(job->ended_at.has_value());

  // The second task is cancelled before it starts: every task has ended, so the job has.
  CO_ASSERT_OK(co_await jobs.transition(step(*id, 1, S::kPending, S::kCancelled)));
  job = co_await jobs.get_job(*id);
  CO_ASSERT_OK(job);
  EXPECT_EQ(job->status, S::kCancelled);
  EXPECT_TRUE(job->ended_at.has_value());

  // The ops views see the same history.
  auto params = make_params(id->value);
  auto view = co_await pool.query(
      "SELECT recovery_count, restart_count, job_duration >= interval '0' AS ok, region "
      "FROM managed_jobs WHERE job_id = $1::bigint AND task_index = 0",
      std::move(params));
  CO_ASSERT_OK(view);
  EXPECT_EQ(view->int64(0, "recovery_count"), 2);
  EXPECT_EQ(view->int64(0, "restart_count"), 1);
  EXPECT_EQ(view->text(0, "region"), "us-east-1");
  auto zones = co_await pool.query(
      "SELECT zone, recoveries, recovered FROM recoveries_by_zone WHERE zone = 'us-east-1a'",
      Params{});
  CO_ASSERT_OK(zones);
  CO_ASSERT(zones->size() == 1);
  EXPECT_EQ(zones->int64(0, "recoveries"), 2);
  EXPECT_EQ(zones->int64(0, "recovered"), 2);
  auto transitions_params = make_params(id->value);
  auto transitions =
      co_await pool.query("SELECT count(*) AS n FROM job_transitions WHERE job_id = $1::bigint",
                          std::move(transitions_params));
  CO_ASSERT_OK(transitions);
  EXPECT_EQ(transitions->int64(0, "n"), 10);
}

TEST(JobRepository, TracksRecoveriesRestartsAndTheJobStatusAcrossAPipeline) {
  TestDatabase db;
  run_co<void>([&] { return recovery_counters(db.conninfo()); });
}

Task<void> lease_fence(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("leased"));
  CO_ASSERT_OK(id);
  auto params = make_params(id->value);
  CO_ASSERT_OK(co_await pool.query(
      "UPDATE jobs SET lease_owner = 'b', lease_epoch = 2 WHERE id = $1::bigint",
      std::move(params)));
  auto stale = step(*id, 0, S::kPending, S::kStarting);
  stale.lease_epoch = 1;
  auto fenced = co_await jobs.transition(stale);
  CO_ASSERT(!fenced);
  EXPECT_EQ(fenced.error().code, StoreErrc::kConflict);
  EXPECT_NE(fenced.error().detail.find("lease epoch is 2"), std::string::npos)
      << fenced.error().detail;
  auto current = stale;
  current.lease_epoch = 2;
  EXPECT_TRUE(co_await jobs.transition(current));
}

TEST(JobRepository, ALeaseEpochThatMovedOnFencesTheWrite) {
  TestDatabase db;
  run_co<void>([&] { return lease_fence(db.conninfo()); });
}

Task<void> idempotent_retry(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("retry"));
  CO_ASSERT_OK(id);
  auto request = step(*id, 0, S::kPending, S::kStarting);
  request.idempotency_key = "claim-" + std::to_string(id->value);
  CO_ASSERT_OK(co_await jobs.transition(request));
  auto replay = co_await jobs.transition(request);
  CO_ASSERT_OK(replay);
  EXPECT_EQ(replay->status, S::kStarting);
  EXPECT_EQ(co_await count(pool, kCountEvents, *id), 2) << "the replay adds no event";
  auto other = step(*id, 0, S::kPending, S::kStarting);
  auto conflict = co_await jobs.transition(other);
  CO_ASSERT(!conflict);
  EXPECT_EQ(conflict.error().code, StoreErrc::kConflict);
}

TEST(JobRepository, ARetryWhoseFirstTryCommittedLandsOnce) {
  TestDatabase db;
  run_co<void>([&] { return idempotent_retry(db.conninfo()); });
}

Task<void> queue(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  std::vector<JobId> ids;
  for (int i = 0; i < 5; ++i) {
    auto id =
        co_await jobs.create_job(testing::sample_job(i % 2 ? "odd" : "even", 1, 1000 + i % 2));
    CO_ASSERT_OK(id);
    ids.push_back(*id);
  }
  CO_ASSERT_OK(co_await jobs.transition(step(ids[4], 0, S::kPending, S::kStarting)));
  CO_ASSERT_OK(co_await jobs.transition(step(ids[0], 0, S::kPending, S::kCancelled)));

  auto all = co_await jobs.list_jobs(QueueFilter{});
  CO_ASSERT_OK(all);
  CO_ASSERT(all->size() == 5);
  EXPECT_EQ(all->front().id, ids[4]) << "newest first";
  EXPECT_EQ(all->back().id, ids[0]);

  QueueFilter by_user;
  by_user.user_uid = 1001;
  auto mine = co_await jobs.list_jobs(by_user);
  CO_ASSERT_OK(mine);
  EXPECT_EQ(mine->size(), 2u);

  QueueFilter by_status;
  by_status.statuses = {S::kStarting};
  auto starting = co_await jobs.list_jobs(by_status);
  CO_ASSERT_OK(starting);
  CO_ASSERT(starting->size() == 1);
  EXPECT_EQ(starting->front().id, ids[4]);

  QueueFilter page;
  page.limit = 2;
  page.before = ids[3];
  page.name = "even";
  auto paged = co_await jobs.list_jobs(page);
  CO_ASSERT_OK(paged);
  CO_ASSERT(paged->size() == 2);
  EXPECT_EQ(paged->at(0).id, ids[2]);
  EXPECT_EQ(paged->at(1).id, ids[0]);

  auto open = co_await jobs.open_jobs();
  CO_ASSERT_OK(open);
  EXPECT_EQ(open->size(), 4u);
  auto counts = co_await jobs.count_by_status();
  CO_ASSERT_OK(counts);
  EXPECT_EQ((*counts)[S::kPending], 3);
  EXPECT_EQ((*counts)[S::kCancelled], 1);
}

Task<void> ends(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto open = co_await jobs.create_job(testing::sample_job("open"));
  auto ended = co_await jobs.create_job(testing::sample_job("ended"));
  CO_ASSERT_OK(open);
  CO_ASSERT_OK(ended);
  CO_ASSERT_OK(co_await jobs.transition(step(*ended, 0, S::kPending, S::kCancelled)));
  const JobId missing{ended->value + 1000};
  const std::vector<JobId> asked{*open, *ended, missing};
  const std::uint64_t before = statements_sent();
  auto found = co_await jobs.ends_of(asked);
  CO_ASSERT_OK(found);
  EXPECT_EQ(statements_sent() - before, 1u);
  EXPECT_EQ(found->size(), 2u) << "a job that does not exist has no entry";
  CO_ASSERT(found->contains(*open) && found->contains(*ended));
  EXPECT_FALSE(found->at(*open).has_value()) << "open";
  auto record = co_await jobs.get_job(*ended);
  CO_ASSERT_OK(record);
  EXPECT_EQ(found->at(*ended), record->ended_at);
}

TEST(JobRepository, SaysWhenEachOfManyJobsEndedInOneStatement) {
  TestDatabase db;
  run_co<void>([&] { return ends(db.conninfo()); });
}

// A restart's runners read every open job at once: one statement, each record as read alone.
Task<void> reads_at_once(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  NewJob copies = testing::sample_job("copy");
  copies.num_jobs = 30;
  auto ids = co_await jobs.create_jobs(copies);
  auto pipeline = co_await jobs.create_job(testing::sample_job("pipeline", 2));
  CO_ASSERT_OK(ids);
  CO_ASSERT_OK(pipeline);
  std::vector<JobId> asked = *ids;
  asked.push_back(*pipeline);
  asked.push_back(JobId{pipeline->value + 1000});  // no such job

  using Reads = std::map<std::size_t, Result<JobRecord>>;
  auto reads = std::make_shared<Reads>();
  const std::uint64_t before = statements_sent();
  {
    TaskGroup group(co_await asio::this_coro::executor, "reads");
    for (std::size_t i = 0; i < asked.size(); ++i) {
      group.spawn([](JobRepository& repo, JobId id, std::size_t at,
                     std::shared_ptr<Reads> into) -> Task<void> {
        into->emplace(at, co_await repo.get_job(id));
      }(jobs, asked[i], i, reads));
    }
    co_await group.wait();
  }
  EXPECT_LE(statements_sent() - before, 4u) << asked.size() << " reads";
  CO_ASSERT(reads->size() == asked.size());
  const auto& missing = reads->at(asked.size() - 1);
  CO_ASSERT(!missing);
  EXPECT_EQ(missing.error().code, StoreErrc::kNotFound);
  for (std::size_t i = 0; i + 1 < asked.size(); ++i) {
    const auto& read = reads->at(i);
    CO_ASSERT_OK(read);
    auto alone = co_await jobs.get_job(asked[i], Priority::kApi);  // read by itself
    CO_ASSERT_OK(alone);
    EXPECT_EQ(read->id, asked[i]);
    EXPECT_EQ(read->name, alone->name);
    EXPECT_EQ(read->spec_json, alone->spec_json);
    EXPECT_EQ(read->job_rank, alone->job_rank);
    CO_ASSERT(read->tasks.size() == alone->tasks.size());
    EXPECT_EQ(read->tasks.back().name, alone->tasks.back().name);
  }
  EXPECT_EQ(reads->at(asked.size() - 2)->tasks.size(), 2u);
}

TEST(JobRepository, ManyJobsReadAtOnceAreReadInOneStatement) {
  TestDatabase db;
  run_co<void>([&] { return reads_at_once(db.conninfo()); });
}

TEST(JobRepository, ListsTheQueueNewestFirstWithFilters) {
  TestDatabase db;
  run_co<void>([&] { return queue(db.conninfo()); });
}

Task<void> queue_summary(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  NewJob sweep = testing::sample_job("sweep", 1, 1001);
  sweep.num_jobs = 120;
  auto ids = co_await jobs.create_jobs(sweep);
  CO_ASSERT_OK(ids);
  auto pipeline = co_await jobs.create_job(testing::sample_job("pipe", 2, 1002));
  CO_ASSERT_OK(pipeline);
  CO_ASSERT_OK(co_await jobs.transition(step((*ids)[0], 0, S::kPending, S::kStarting)));
  for (int i = 1; i <= 10; ++i)
    CO_ASSERT_OK(co_await jobs.transition(step((*ids)[i], 0, S::kPending, S::kCancelled)));

  // The page is small, the totals are over every job the filter matches.
  QueueFilter page;
  page.limit = 5;
  auto listed = co_await jobs.list_jobs(page);
  CO_ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), 5u);
  EXPECT_TRUE(listed->front().spec_json.empty()) << "the queue does not carry specs";
  auto everything = co_await jobs.queue_summary(std::nullopt, false);
  CO_ASSERT_OK(everything);
  EXPECT_EQ(everything->jobs, 121);
  EXPECT_EQ(everything->unfinished_tasks[S::kPending], 109 + 2);
  EXPECT_EQ(everything->unfinished_tasks[S::kStarting], 1);
  EXPECT_FALSE(everything->unfinished_tasks.contains(S::kCancelled));

  QueueFilter open_sweeps;
  open_sweeps.open_only = true;
  open_sweeps.user_uid = 1001;
  open_sweeps.before = (*ids)[50];
  auto open = co_await jobs.queue_summary(1001, true);
  CO_ASSERT_OK(open);
  EXPECT_EQ(open->jobs, 110);
  EXPECT_EQ(open->unfinished_tasks[S::kPending], 109);
  auto open_page = co_await jobs.list_jobs(open_sweeps);
  CO_ASSERT_OK(open_page);
  CO_ASSERT(!open_page->empty());
  EXPECT_EQ(open_page->front().id, (*ids)[49]);
  EXPECT_EQ(open_page->size(), 40u) << "cancelled jobs are skipped";
  EXPECT_EQ(open_page->back().id, (*ids)[0]);

  auto one = co_await jobs.get_job((*ids)[7]);
  CO_ASSERT_OK(one);
  EXPECT_NE(one->spec_json.find("echo hi"), std::string::npos);
}

TEST(JobRepository, QueueTotalsCountEveryMatchingJobNotOnlyThePage) {
  TestDatabase db;
  run_co<void>([&] { return queue_summary(db.conninfo()); });
}

// What the totals must say, counted over every job and task.
constexpr std::string_view kCountedTotals = R"(
SELECT 'jobs' AS counter, count(*) AS n FROM jobs WHERE user_uid = $1::bigint
UNION ALL
SELECT 'open_jobs', count(*) FROM jobs WHERE user_uid = $1::bigint AND ended_at IS NULL
UNION ALL
SELECT t.status, count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id
WHERE j.user_uid = $1::bigint AND t.ended_at IS NULL GROUP BY t.status)";

Task<void> expect_totals_counted(PgPool& pool, JobRepository& jobs, std::int64_t user,
                                 std::string_view when) {
  auto rows = co_await pool.query(kCountedTotals, make_params(user));
  CO_ASSERT_OK(rows);
  std::map<JobStatus, std::int64_t> tasks;
  std::int64_t all = 0, open = 0;
  for (std::size_t row = 0; row < rows->size(); ++row) {
    const std::string counter = rows->text(row, "counter");
    const std::int64_t n = rows->int64(row, "n");
    if (counter == "jobs")
      all = n;
    else if (counter == "open_jobs")
      open = n;
    else
      tasks[*parse_job_status(counter)] = n;
  }
  auto every = co_await jobs.queue_summary(user, false);
  auto open_only = co_await jobs.queue_summary(user, true);
  CO_ASSERT_OK(every);
  CO_ASSERT_OK(open_only);
  EXPECT_EQ(every->jobs, all) << when;
  EXPECT_EQ(open_only->jobs, open) << when;
  EXPECT_EQ(every->unfinished_tasks, tasks) << when;
  EXPECT_EQ(open_only->unfinished_tasks, tasks) << when;
}

Task<void> queue_counters(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  NewJob sweep = testing::sample_job("sweep", 1, 1001);
  sweep.num_jobs = 30;
  auto ids = co_await jobs.create_jobs(sweep);
  CO_ASSERT_OK(ids);
  auto pipeline = co_await jobs.create_job(testing::sample_job("pipe", 2, 1001));
  CO_ASSERT_OK(pipeline);
  auto other = co_await jobs.create_job(testing::sample_job("other", 1, 1002));
  CO_ASSERT_OK(other);
  co_await expect_totals_counted(pool, jobs, 1001, "after the submissions");

  // A job through its whole life, one cancelled, one failed, a pipeline half done, a refused move.
  const JobId a = (*ids)[0];
  CO_ASSERT_OK(co_await jobs.transition(step(a, 0, S::kPending, S::kStarting)));
  CO_ASSERT_OK(co_await jobs.transition(step(a, 0, S::kStarting, S::kRunning)));
  co_await expect_totals_counted(pool, jobs, 1001, "one RUNNING");
  CO_ASSERT_OK(co_await jobs.transition(step(a, 0, S::kRunning, S::kRecovering)));
  CO_ASSERT_OK(co_await jobs.transition(step(a, 0, S::kRecovering, S::kRunning)));
  CO_ASSERT_OK(co_await jobs.transition(step(a, 0, S::kRunning, S::kSucceeded)));
  CO_ASSERT_OK(co_await jobs.transition(step((*ids)[1], 0, S::kPending, S::kCancelled)));
  CO_ASSERT_OK(co_await jobs.transition(step((*ids)[2], 0, S::kPending, S::kStarting)));
  CO_ASSERT_OK(co_await jobs.transition(step((*ids)[2], 0, S::kStarting, S::kFailedNoResource)));
  CO_ASSERT_OK(co_await jobs.transition(step(*pipeline, 0, S::kPending, S::kStarting)));
  CO_ASSERT_OK(co_await jobs.transition(step(*pipeline, 0, S::kStarting, S::kRunning)));
  CO_ASSERT_OK(co_await jobs.transition(step(*pipeline, 0, S::kRunning, S::kSucceeded)));
  CO_ASSERT_OK(co_await jobs.transition(step(*pipeline, 1, S::kPending, S::kStarting)));
  auto refused = co_await jobs.transition(step((*ids)[3], 0, S::kRunning, S::kSucceeded));
  EXPECT_FALSE(refused) << "a guard miss changes nothing";
  co_await expect_totals_counted(pool, jobs, 1001, "after the transitions");

  // Several transitions in one transaction, one of them rolled back.
  {
    auto tx = co_await pool.begin();
    CO_ASSERT_OK(tx);
    CO_ASSERT_OK(co_await jobs.transition(*tx, step((*ids)[4], 0, S::kPending, S::kCancelled)));
    CO_ASSERT_OK(co_await jobs.transition(*tx, step((*ids)[5], 0, S::kPending, S::kCancelled)));
    CO_ASSERT_OK(co_await tx->commit());
    auto undone = co_await pool.begin();
    CO_ASSERT_OK(undone);
    CO_ASSERT_OK(co_await jobs.transition(*undone, step((*ids)[6], 0, S::kPending, S::kStarting)));
    CO_ASSERT_OK(co_await undone->rollback());
  }
  co_await expect_totals_counted(pool, jobs, 1001, "after a batch and a rollback");
  auto summary = co_await jobs.queue_summary(1001, true);
  CO_ASSERT_OK(summary);
  EXPECT_EQ(summary->jobs, 31 - 5) << "a, [1], [2], [4] and [5] ended";
  EXPECT_EQ(summary->unfinished_tasks[S::kPending], 30 - 5) << "[3] and [6] still PENDING";
  EXPECT_EQ(summary->unfinished_tasks[S::kStarting], 1);

  // Folding leaves one row per user and counter, and the same totals.
  auto rows_before = co_await pool.query("SELECT count(*) AS n FROM queue_counts", Params{});
  CO_ASSERT_OK(rows_before);
  CO_ASSERT_OK(co_await jobs.fold_queue_counts(1000000));
  auto unfolded = co_await pool.query("SELECT count(*) AS n FROM queue_counts", Params{});
  CO_ASSERT_OK(unfolded);
  EXPECT_EQ(unfolded->int64(0, "n"), rows_before->int64(0, "n")) << "below the threshold";
  CO_ASSERT_OK(co_await jobs.fold_queue_counts(0));
  auto folded = co_await pool.query(
      "SELECT count(*) AS n, count(DISTINCT (user_uid, counter)) AS distinct_n FROM queue_counts",
      Params{});
  CO_ASSERT_OK(folded);
  EXPECT_LT(folded->int64(0, "n"), rows_before->int64(0, "n"));
  EXPECT_EQ(folded->int64(0, "n"), folded->int64(0, "distinct_n"));
  co_await expect_totals_counted(pool, jobs, 1001, "after folding");
  co_await expect_totals_counted(pool, jobs, 1002, "the other user's, after folding");

  // A job deleted by hand takes its counts with it.
  CO_ASSERT_OK(
      co_await pool.query("DELETE FROM jobs WHERE id = $1::bigint", make_params((*ids)[7].value)));
  CO_ASSERT_OK(
      co_await pool.query("DELETE FROM jobs WHERE id = $1::bigint", make_params(pipeline->value)));
  co_await expect_totals_counted(pool, jobs, 1001, "after deleting jobs");

  auto everyone = co_await jobs.queue_summary(std::nullopt, false);
  CO_ASSERT_OK(everyone);
  EXPECT_EQ(everyone->jobs, 31 - 2 + 1) << "user 1001's less the two deleted, and 1002's";
}

TEST(JobRepository, QueueTotalsFollowEveryTransitionAndSurviveFolding) {
  TestDatabase db;
  run_co<void>([&] { return queue_counters(db.conninfo()); });
}

Task<void> job_ids_in_sql(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  NewJob sweep = testing::sample_job("sweep", 1, 1001);
  sweep.num_jobs = 20;
  auto ids = co_await jobs.create_jobs(sweep);
  CO_ASSERT_OK(ids);
  auto other = co_await jobs.create_job(testing::sample_job("other", 1, 1001));
  CO_ASSERT_OK(other);
  CO_ASSERT_OK(co_await jobs.transition(step((*ids)[19], 0, S::kPending, S::kCancelled)));
  QueueFilter filter;
  filter.open_only = true;
  filter.name = "sweep";
  filter.user_uid = 1001;
  filter.limit = 5;
  auto page = co_await jobs.job_ids(filter);
  CO_ASSERT_OK(page);
  CO_ASSERT(page->size() == 5u);
  EXPECT_EQ(page->front(), (*ids)[18]) << "newest open first, the cancelled one skipped";
  EXPECT_EQ(page->back(), (*ids)[14]);
  filter.limit = 100;
  auto all = co_await jobs.job_ids(filter);
  CO_ASSERT_OK(all);
  EXPECT_EQ(all->size(), 19u);
}

TEST(JobRepository, QueueJobIdsAreFilteredAndLimitedInSql) {
  TestDatabase db;
  run_co<void>([&] { return job_ids_in_sql(db.conninfo()); });
}

}  // namespace
}  // namespace skyd::store
