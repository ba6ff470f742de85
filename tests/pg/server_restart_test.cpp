// The server restarts while a transition is in flight. The test runs its own private server
// (EmbeddedPostgres in a temp dir) so the parallel tests on the shared server are not disturbed.

#include "reactor/backoff.hpp"
#include "store/embedded_postgres.hpp"
#include "store/job_repository.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"
#include "store/transaction.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/stat.h>

#include <future>
#include <thread>

namespace skyd::store {
namespace {

using S = JobStatus;

// The objects of the scenario, all used from the io_context's one thread.
struct Scenario {
  explicit Scenario(asio::any_io_executor executor, std::string conninfo)
      : pool(executor, testing::test_pool_options(std::move(conninfo), 3)), jobs(pool) {}
  PgPool pool;
  JobRepository jobs;
  std::optional<Transaction> lock_holder;
  JobId job;
};

TransitionRequest claim(JobId job) {
  TransitionRequest request;
  request.job_id = job;
  request.from = S::kPending;
  request.to = S::kStarting;
  request.reason = "claimed";
  request.idempotency_key = "claim-" + std::to_string(job.value);
  return request;
}

Task<bool> prepare(Scenario* s) {
  if (!co_await testing::migrate(s->pool)) co_return false;
  auto id = co_await s->jobs.create_job(testing::sample_job("restart"));
  if (!id) co_return false;
  s->job = *id;
  // Another session holds the task's row, so the transition blocks on the server (in flight).
  auto tx = co_await s->pool.begin();
  if (!tx) co_return false;
  auto params = make_params(id->value);
  auto locked =
      co_await tx->query("SELECT 1 FROM tasks WHERE job_id = $1::bigint FOR UPDATE", params);
  if (!locked) co_return false;
  s->lock_holder.emplace(std::move(*tx));
  co_return true;
}

Task<Result<TaskRecord>> transition(Scenario* s) {
  co_return co_await s->jobs.transition(claim(s->job));
}

Task<bool> wait_for_lock_wait(Scenario* s) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 400; ++i) {
    auto rows = co_await s->pool.query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'", Params{});
    if (rows && rows->int64(0, "n") > 0) co_return true;
    timer.expires_after(25ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

Task<void> end_lock_holder(Scenario* s) {
  (void)co_await s->lock_holder->rollback();  // its connection died with the server
  s->lock_holder.reset();
}

Task<Result<TaskRecord>> retried_transition(Scenario* s) {
  BackoffPolicy policy{
      .initial = 20ms, .multiplier = 2.0, .cap = 500ms, .jitter = 0.2, .max_attempts = 40};
  co_return co_await retry<TaskRecord>(
      policy, [s] { return transition(s); }, [](const Error& e) { return is_retryable(e); });
}

Task<Result<std::vector<JobEvent>>> events(Scenario* s) {
  co_return co_await s->jobs.events(s->job);
}

// An io_context running on its own thread while the test's thread stops and starts the server.
// Declared after the objects it serves, so it joins before they are destroyed.
struct ContextThread {
  explicit ContextThread(asio::io_context& io)
      : work(asio::make_work_guard(io)), thread([&io] { io.run(); }) {}
  ~ContextThread() {
    work.reset();
    thread.join();
  }
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
};

template <typename T>
T wait(std::future<T> future) {
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    throw std::runtime_error("scenario step did not finish in time");
  }
  return future.get();
}

TEST(ServerRestart, PoolReconnectsInFlightCallFailsAndTheRetryLandsOnce) {
  skyd::testing::TempDir state;
  ::chmod(state.path().c_str(), 0755);  // the server's user (postgres, when root) must enter it
  EmbeddedPostgres server(testing::embedded_options(state.path()));
  auto conninfo = server.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();

  asio::io_context context(1);
  Scenario scenario(context.get_executor(), *conninfo);
  ContextThread runner(context);
  Scenario* s = &scenario;
  ASSERT_TRUE(wait(asio::co_spawn(context, prepare(s), asio::use_future)));
  auto in_flight = asio::co_spawn(context, transition(s), asio::use_future);
  ASSERT_TRUE(wait(asio::co_spawn(context, wait_for_lock_wait(s), asio::use_future)))
      << "the transition never blocked on the server";

  ASSERT_TRUE(server.stop());
  auto restarted = server.start();
  ASSERT_TRUE(restarted) << restarted.error().message();

  auto failed = wait(std::move(in_flight));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, StoreErrc::kUnavailable) << failed.error().message();
  wait(asio::co_spawn(context, end_lock_holder(s), asio::use_future));

  auto landed = wait(asio::co_spawn(context, retried_transition(s), asio::use_future));
  ASSERT_TRUE(landed) << landed.error().message();
  EXPECT_EQ(landed->status, S::kStarting);
  EXPECT_EQ(landed->attempt, 1);

  auto history = wait(asio::co_spawn(context, events(s), asio::use_future));
  ASSERT_TRUE(history);
  int claims = 0;
  for (const JobEvent& event : *history) claims += event.to == S::kStarting ? 1 : 0;
  EXPECT_EQ(claims, 1);
  const auto stats = scenario.pool.stats();
  EXPECT_GE(stats.dropped, 1u);
  EXPECT_GE(stats.connects, 2u) << "the pool opened new connections after the restart";
}

}  // namespace
}  // namespace skyd::store
