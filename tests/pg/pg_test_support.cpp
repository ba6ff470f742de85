#include "tests/pg/pg_test_support.hpp"

#include "reactor/metrics.hpp"
#include "store/migrations.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace skyd::store::testing {

std::string server_conninfo() {
  const char* conninfo = std::getenv("SKYD_TEST_PG");
  if (!conninfo || !*conninfo) {
    throw std::runtime_error("SKYD_TEST_PG is not set: run the pg tests through ctest");
  }
  return conninfo;
}

std::string query_value(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect failed: " + error);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  std::string value;
  std::string error;
  if (status == PGRES_TUPLES_OK && PQntuples(result) > 0 && PQnfields(result) > 0) {
    value = PQgetvalue(result, 0, 0);
  } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    error = PQresultErrorMessage(result);
  }
  PQclear(result);
  PQfinish(conn);
  if (!error.empty()) throw std::runtime_error(sql + ": " + error);
  return value;
}

TestDatabase::TestDatabase(std::string server) : server_(std::move(server)) {
  std::random_device random;
  name_ = "t_" + std::to_string(random()) + "_" + std::to_string(random());
  query_value(server_, "CREATE DATABASE " + name_);
  conninfo_ = server_ + " dbname=" + name_;  // the last dbname wins
}

TestDatabase::~TestDatabase() {
  try {
    query_value(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "dropping " << name_ << ": " << e.what();
  }
}

PoolOptions test_pool_options(std::string conninfo, std::size_t size) {
  PoolOptions options;
  options.conninfo = std::move(conninfo);
  options.size = size;
  options.connect_timeout = std::chrono::seconds(5);
  options.acquire_timeout = std::chrono::seconds(10);
  options.statement_timeout = std::chrono::seconds(10);
  options.reconnect.initial = std::chrono::milliseconds(20);
  options.reconnect.cap = std::chrono::milliseconds(500);
  return options;
}

Task<bool> migrate(PgPool& pool) {
  auto report = co_await apply_migrations(pool, embedded_migrations());
  if (!report) ADD_FAILURE() << "migrations failed: " << report.error().message();
  co_return bool(report);
}

EmbeddedPostgresOptions embedded_options(std::string state_dir, std::string fallback_root) {
  EmbeddedPostgresOptions options;
  options.state_dir = std::move(state_dir);
  if (!fallback_root.empty()) options.fallback_root = std::move(fallback_root);
  options.fsync = false;
  return options;
}

ConnectionOptions connection_options(std::string conninfo) {
  ConnectionOptions options;
  options.conninfo = std::move(conninfo);
  return options;
}

NewJob sample_job(std::string name, int tasks, std::int64_t user_uid) {
  NewJob job;
  job.name = std::move(name);
  job.user_uid = user_uid;
  job.user_name = "user" + std::to_string(user_uid);
  job.spec_json = R"({"run": "echo hi"})";
  for (int i = 0; i < tasks; ++i) {
    job.tasks.push_back(NewTask{"task" + std::to_string(i), "1x[V100:1][Spot]"});
  }
  return job;
}

TransitionRequest step(JobId job, int task, JobStatus from, JobStatus to, std::string reason) {
  TransitionRequest request;
  request.job_id = job;
  request.task_index = task;
  request.from = from;
  request.to = to;
  request.reason = std::move(reason);
  return request;
}

std::uint64_t statements_sent() {
  return metrics::registry()
      .histogram("skyd_pg_query_duration_seconds", "", {})
      .with()
      .snapshot()
      .count;
}

}  // namespace skyd::store::testing
