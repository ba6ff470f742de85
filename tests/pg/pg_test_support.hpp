#pragma once
// Helpers for the pg tests: the test server's conninfo (SKYD_TEST_PG, set by ctest), a private
// database per test, pools with small timeouts, and assertions usable inside coroutines.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "store/embedded_postgres.hpp"
#include "store/job_repository.hpp"
#include "store/pg_connection.hpp"
#include "store/pg_pool.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace skyd::store::testing {

// The conninfo of the server the ctest fixture started (throws when SKYD_TEST_PG is unset).
std::string server_conninfo();

// A fresh database on a server, dropped (with its connections) when the object goes.
class TestDatabase {
 public:
  explicit TestDatabase(std::string server = server_conninfo());
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

 private:
  std::string server_;
  std::string name_;
  std::string conninfo_;
};

PoolOptions test_pool_options(std::string conninfo, std::size_t size = 4);

// Applies the embedded migrations; returns false (after recording a failure) when they fail.
Task<bool> migrate(PgPool& pool);

// Options for a throwaway embedded server in `state_dir` (fsync off).
EmbeddedPostgresOptions embedded_options(std::string state_dir, std::string fallback_root = "");

ConnectionOptions connection_options(std::string conninfo);

NewJob sample_job(std::string name, int tasks = 1, std::int64_t user_uid = 1000);

// One task's transition, with nothing but its guard and target (and a reason).
TransitionRequest step(JobId job, int task, JobStatus from, JobStatus to,
                       std::string reason = "test");

// Statements sent to PostgreSQL so far by this process (each query() call, prepare included).
std::uint64_t statements_sent();

// Runs one statement on the blocking libpq API (test set-up and checks only).
std::string query_value(const std::string& conninfo, const std::string& sql);

}  // namespace skyd::store::testing
