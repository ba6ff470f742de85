#include "store/migrations.hpp"

#include "reactor/log.hpp"
#include "store/hash.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"

#include <cstdint>
#include <map>

namespace skyd::store {
namespace {

// pg_advisory_lock key: "skyd-mig" as a 64-bit number; advisory locks are per database.
constexpr std::int64_t kMigrationLockKey = 0x736b79642d6d6967;

constexpr const char* kCreateMigrationsTable = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))";
constexpr const char* kLock = "SELECT pg_advisory_lock($1::bigint)";
constexpr const char* kUnlock = "SELECT pg_advisory_unlock($1::bigint)";
constexpr const char* kSelectApplied = "SELECT version, name, checksum FROM schema_migrations";
constexpr const char* kRecord =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::integer, $2, $3)";

Task<Result<MigrationReport>> apply_locked(PooledConnection& connection,
                                           std::vector<Migration> migrations,
                                           Duration statement_timeout) {
  using boost::system::in_place_error;
  auto fail = [](Error error) { return Result<MigrationReport>(in_place_error, std::move(error)); };
  if (auto created =
          co_await connection->query(kCreateMigrationsTable, Params{}, statement_timeout);
      !created) {
    co_return fail(created.error());
  }
  auto applied_rows = co_await connection->query(kSelectApplied, Params{}, statement_timeout);
  if (!applied_rows) co_return fail(applied_rows.error());
  std::map<std::int64_t, std::string> applied;
  for (std::size_t row = 0; row < applied_rows->size(); ++row) {
    applied[applied_rows->int64(row, "version")] = applied_rows->text(row, "checksum");
  }

  MigrationReport report;
  for (const Migration& migration : migrations) {
    const std::string checksum = migration_checksum(migration.sql);
    if (auto found = applied.find(migration.version); found != applied.end()) {
      if (found->second != checksum) {
        co_return fail(
            make_error(StoreErrc::kQuery, "migration " + std::string(migration.name) +
                                              " was edited after it was applied (checksum " +
                                              found->second + " recorded, " + checksum + " now)"));
      }
      report.current_version = migration.version;
      continue;
    }
    auto step = co_await connection->query("BEGIN", Params{}, statement_timeout);
    if (step) {
      auto script = co_await connection->execute_script(migration.sql, statement_timeout);
      if (!script) step = script.error();
    }
    if (step) {
      auto record_params = make_params(migration.version, migration.name, checksum);
      step = co_await connection->query(kRecord, std::move(record_params), statement_timeout);
    }
    if (step) step = co_await connection->query("COMMIT", Params{}, statement_timeout);
    if (!step) {
      if (!connection->broken()) {
        (void)co_await connection->query("ROLLBACK", Params{}, statement_timeout);
      }
      Error error = step.error();
      error.detail = "migration " + std::string(migration.name) + " failed: " + error.detail;
      co_return fail(std::move(error));
    }
    logger("store")->info("migration applied version={} name={}", migration.version,
                          migration.name);
    report.applied.push_back(migration.version);
    report.current_version = migration.version;
  }
  co_return report;
}

}  // namespace

std::string migration_checksum(std::string_view sql) {
  return fnv1a_hex(sql);
}

Task<Result<MigrationReport>> apply_migrations(PgPool& pool, std::vector<Migration> migrations,
                                               Duration lock_timeout) {
  using boost::system::in_place_error;
  auto connection = co_await pool.acquire();
  if (!connection) co_return Result<MigrationReport>(in_place_error, connection.error());
  const Duration statement_timeout = pool.options().statement_timeout;
  auto lock_params = make_params(kMigrationLockKey);
  auto locked = co_await (*connection)->query(kLock, std::move(lock_params), lock_timeout);
  if (!locked) co_return Result<MigrationReport>(in_place_error, locked.error());

  auto report = co_await apply_locked(*connection, std::move(migrations), statement_timeout);
  if (!(*connection)->broken()) {
    auto unlock_params = make_params(kMigrationLockKey);
    auto unlocked =
        co_await (*connection)->query(kUnlock, std::move(unlock_params), statement_timeout);
    if (!unlocked) logger("store")->warn("advisory unlock failed: {}", unlocked.error().message());
  }
  co_return report;
}

}  // namespace skyd::store
