// store_bench: guarded transitions per second (task status update + job_events row + job status,
// one transaction, fsync on) on one shard and on all shards, with and without batching several
// transitions per commit. Starts its own embedded PostgreSQL (fsync on) unless --db CONNINFO.
//
//   store_bench [--db CONNINFO] [--seconds N] [--pool N] [--workers N]

#include "reactor/shard_pool.hpp"
#include "reactor/task_group.hpp"
#include "store/embedded_postgres.hpp"
#include "store/job_repository.hpp"
#include "store/migrations.hpp"
#include "store/pg_pool.hpp"
#include "store/transaction.hpp"

#include <boost/asio/steady_timer.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace skyd::store {
namespace {

using S = JobStatus;

struct Config {
  std::size_t shards = 1;
  std::size_t pool_size = 4;
  int workers = 16;  // concurrent coroutines per shard
  int batch = 1;     // transitions per commit
  Duration duration = std::chrono::seconds(3);
};

struct ShardOutcome {
  std::int64_t transitions = 0;
  std::int64_t commits = 0;
  std::int64_t failures = 0;
};

S next_status(S status) {
  switch (status) {
    case S::kPending:
      return S::kStarting;
    case S::kStarting:
      return S::kRunning;
    case S::kRunning:
      return S::kRecovering;
    case S::kRecovering:
      return S::kRunning;
    case S::kCancelling:
    case S::kSucceeded:
    case S::kCancelled:
    case S::kFailed:
    case S::kFailedSetup:
    case S::kFailedPrechecks:
    case S::kFailedNoResource:
    case S::kFailedController:
      break;
  }
  throw std::logic_error("bench jobs never reach this status");
}

// One worker: owns `batch` jobs and moves each one step per commit until the deadline.
Task<void> worker(PgPool* pool, Config config, Clock::time_point start_at,
                  Clock::time_point stop_at, ShardOutcome* outcome) {
  JobRepository jobs(*pool);
  std::vector<std::pair<JobId, S>> mine;
  for (int i = 0; i < config.batch; ++i) {
    NewJob job;
    job.name = "bench";
    job.user_uid = 1000;
    job.user_name = "bench";
    job.tasks.push_back(NewTask{"task", "1x[CPU:1]"});
    auto id = co_await jobs.create_job(std::move(job));
    if (!id) throw std::runtime_error(id.error().message());
    mine.emplace_back(*id, S::kPending);
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, start_at);
  co_await timer.async_wait(asio::use_awaitable);
  while (Clock::now() < stop_at) {
    auto tx = co_await pool->begin();
    if (!tx) {
      ++outcome->failures;
      continue;
    }
    bool ok = true;
    for (auto& [id, status] : mine) {
      TransitionRequest request;
      request.job_id = id;
      request.from = status;
      request.to = next_status(status);
      request.reason = "bench";
      auto moved = co_await jobs.transition(*tx, std::move(request));
      if (!moved) {
        ok = false;
        break;
      }
    }
    auto ended = ok ? co_await tx->commit() : co_await tx->rollback();
    if (!ok || !ended) {
      ++outcome->failures;
      continue;
    }
    for (auto& entry : mine) entry.second = next_status(entry.second);
    outcome->transitions += config.batch;
    ++outcome->commits;
  }
}

Task<ShardOutcome> run_shard(std::string conninfo, Config config, Clock::time_point start_at) {
  auto executor = co_await asio::this_coro::executor;
  PoolOptions options;
  options.conninfo = conninfo;
  options.size = config.pool_size;
  options.acquire_timeout = std::chrono::seconds(30);
  PgPool pool(executor, options);
  ShardOutcome outcome;
  TaskGroup group(executor, "bench");
  const Clock::time_point stop_at = start_at + config.duration;
  for (int i = 0; i < config.workers; ++i) {
    group.spawn(worker(&pool, config, start_at, stop_at, &outcome));
  }
  co_await group.wait();
  co_return outcome;
}

Task<bool> migrate(std::string conninfo) {
  PoolOptions options;
  options.conninfo = conninfo;
  options.size = 1;
  PgPool pool(co_await asio::this_coro::executor, options);
  auto report = co_await apply_migrations(pool, embedded_migrations());
  if (!report) std::fprintf(stderr, "migrations: %s\n", report.error().message().c_str());
  co_return bool(report);
}

void run(const std::string& conninfo, Config config) {
  ShardPool shards(config.shards);
  shards.start();
  // Job creation happens before start_at and is not timed.
  const Clock::time_point start_at = Clock::now() + std::chrono::seconds(2);
  std::vector<std::future<ShardOutcome>> futures;
  for (std::size_t shard = 0; shard < config.shards; ++shard) {
    futures.push_back(shards.submit<ShardOutcome>(
        shard, [conninfo, config, start_at] { return run_shard(conninfo, config, start_at); }));
  }
  ShardOutcome total;
  for (auto& future : futures) {
    ShardOutcome outcome = future.get();
    total.transitions += outcome.transitions;
    total.commits += outcome.commits;
    total.failures += outcome.failures;
  }
  const double seconds = std::chrono::duration<double>(config.duration).count();
  std::printf("| %6zu | %10zu | %14d | %5d | %11lld | %8lld | %13.0f | %9.0f |\n", config.shards,
              config.pool_size, config.workers, config.batch,
              static_cast<long long>(total.transitions), static_cast<long long>(total.failures),
              total.transitions / seconds, total.commits / seconds);
  std::fflush(stdout);
}

int bench_main(int argc, char** argv) {
  std::string conninfo;
  int seconds = 3;
  std::size_t pool_size = 4;
  int workers = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--db") conninfo = argv[i + 1];
    if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (flag == "--pool") pool_size = std::strtoul(argv[i + 1], nullptr, 10);
    if (flag == "--workers") workers = std::atoi(argv[i + 1]);
  }

  std::unique_ptr<EmbeddedPostgres> server;
  std::string state_dir;
  if (conninfo.empty()) {
    char pattern[] = "/tmp/skyd-bench.XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    state_dir = pattern;
    ::chmod(state_dir.c_str(), 0755);
    EmbeddedPostgresOptions options;
    options.state_dir = state_dir;
    options.fsync = true;
    server = std::make_unique<EmbeddedPostgres>(options);
    auto started = server->start();
    if (!started) throw std::runtime_error(started.error().message());
    conninfo = *started;
  }
  {
    asio::io_context context(1);
    auto migrated = asio::co_spawn(context, migrate(conninfo), asio::use_future);
    context.run();
    if (!migrated.get()) return 1;
  }

  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf(
      "store_bench: guarded transition + job_events row + job status per transition, "
      "fsync on, %d s per row, %zu cores\n\n",
      seconds, cores);
  std::printf(
      "| shards | pool/shard | workers/shard | batch | transitions | failures | "
      "transitions/s | commits/s |\n");
  std::printf(
      "|-------:|-----------:|--------------:|------:|------------:|---------:|"
      "--------------:|----------:|\n");
  for (std::size_t shards : {std::size_t{1}, cores}) {
    for (int batch : {1, 8}) {
      Config config;
      config.shards = shards;
      config.pool_size = pool_size;
      config.workers = workers;
      config.batch = batch;
      config.duration = std::chrono::seconds(seconds);
      run(conninfo, config);
    }
  }

  if (server) {
    auto stopped = server->stop();
    if (!stopped) std::fprintf(stderr, "%s\n", stopped.error().message().c_str());
    std::error_code ignored;
    std::filesystem::remove_all(state_dir, ignored);
  }
  return 0;
}

}  // namespace
}  // namespace skyd::store

int main(int argc, char** argv) {
  try {
    return skyd::store::bench_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: %s\n", e.what());
    return 1;
  }
}
