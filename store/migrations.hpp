#pragma once
// Versioned schema migrations: the numbered files in store/migrations/ (embedded in the binary at
// build time), applied at start-up in order, each in its own transaction, under an advisory lock
// so that concurrent starters apply each one exactly once. Applied versions are recorded in
// schema_migrations with a checksum of their text: a released migration is never edited, and
// a changed one is refused rather than silently skipped.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace skyd::store {

class PgPool;

struct Migration {
  int version;
  std::string_view name;  // file name without .sql, e.g. "0001_initial"
  std::string_view sql;
};

// The migrations compiled into this binary, by version.
const std::vector<Migration>& embedded_migrations();

// A stable checksum of a migration's text (FNV-1a, 16 hex digits).
std::string migration_checksum(std::string_view sql);

struct MigrationReport {
  std::vector<int> applied;  // versions this call applied (empty when already up to date)
  int current_version = 0;
};

// Applies the migrations not yet recorded. Errors: kQuery for a failing migration (rolled back)
// or a recorded migration whose checksum differs; kUnavailable/kTimedOut from the connection
// (waiting for the lock counts against `lock_timeout`). Run at start-up, before any job work.
Task<Result<MigrationReport>> apply_migrations(PgPool& pool, std::vector<Migration> migrations,
                                               Duration lock_timeout = std::chrono::seconds(60));

}  // namespace skyd::store
