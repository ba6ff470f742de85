#pragma once
// A pool of PostgreSQL connections for one shard. Create one per shard, on that shard's executor,
// and use it only from coroutines running there (no locks: the shard's thread is the only user).
// Connections open lazily up to `size`; a broken connection is dropped when it comes back and
// replaced on a later acquire, with backoff between failed connects. The pool waits for a
// connection that is lent, never for a server that is away: when a connect fails, or before the
// next connect attempt is due, or while the shared DatabaseHealth says the database is down,
// acquire() fails at once with kUnavailable (callers retry with their own backoff, the API
// answers 503). The pool must outlive every connection and transaction it lends.

#include "reactor/backoff.hpp"
#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/event.hpp"
#include "store/pg_connection.hpp"
#include "store/pg_result.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::store {

class DatabaseHealth;
class PgPool;
class Transaction;

// Whose turn comes first when every connection is lent: someone waiting on an API answer (a
// queue, a cancel) goes ahead of the jobs' own work, so that a `sky jobs queue` does not wait
// behind thousands of job transitions. Within one priority, first come, first served.
enum class Priority { kJobs, kApi };

struct PoolOptions {
  std::string conninfo;  // libpq conninfo; see ConnectionOptions
  std::size_t size = 4;  // connections at most
  Duration connect_timeout = std::chrono::seconds(10);
  // How long acquire() waits for a free connection (or for the server to come back).
  Duration acquire_timeout = std::chrono::seconds(10);
  Duration statement_timeout = std::chrono::seconds(30);  // deadline of each statement
  Duration cancel_grace = std::chrono::seconds(2);
  BackoffPolicy reconnect{.initial = std::chrono::milliseconds(50),
                          .multiplier = 2.0,
                          .cap = std::chrono::seconds(5),
                          .jitter = 0.3,
                          .max_attempts = std::nullopt};
  // The daemon's view of the database (not owned; may be null): while it is down the pool fails
  // at once, and when it comes back the pool connects at once instead of waiting out its backoff.
  const DatabaseHealth* health = nullptr;
};

// A connection lent by the pool for one statement or one transaction. Giving it back (by
// destruction) returns it to the pool; a broken connection, or one still inside a transaction,
// is closed instead, so the next user never gets it dirty.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  ~PooledConnection();

  PgConnection& operator*() const { return *connection_; }
  PgConnection* operator->() const { return connection_.get(); }
  // A statement with the pool's statement deadline.
  Task<Result<QueryResult>> query(std::string_view sql, Params params);

 private:
  friend class PgPool;
  PooledConnection(PgPool* pool, std::unique_ptr<PgConnection> connection);
  void give_back();

  PgPool* pool_ = nullptr;
  std::unique_ptr<PgConnection> connection_;
};

class PgPool {
 public:
  struct Stats {
    std::size_t open = 0;  // idle + lent + connecting
    std::size_t idle = 0;
    std::uint64_t connects = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t dropped = 0;  // broken or dirty connections closed on return
  };

  PgPool(asio::any_io_executor executor, PoolOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A free connection, opening one if the pool has room. Errors: kUnavailable at once when the
  // database is known to be away or a connect fails (the detail says why), or when every
  // connection stayed lent for acquire_timeout. Cancellation: throws operation_aborted.
  Task<Result<PooledConnection>> acquire(Priority priority = Priority::kJobs);

  // One statement on a pooled connection, outside any transaction (autocommit).
  Task<Result<QueryResult>> query(std::string_view sql, Params params,
                                  std::optional<Duration> deadline = std::nullopt,
                                  Priority priority = Priority::kJobs);

  // A transaction (BEGIN with the given isolation level). It must end with commit() or rollback().
  enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };
  Task<Result<Transaction>> begin(Isolation isolation = Isolation::kReadCommitted);

  // Closes the idle connections (at shutdown, or in tests after a server restart).
  void close_idle();

  const PoolOptions& options() const { return options_; }
  const asio::any_io_executor& executor() const { return executor_; }
  Stats stats() const;

 private:
  friend class PooledConnection;
  // A coroutine waiting for a connection: woken (its timer cancelled) with a connection handed
  // over, or without one to look again (a slot freed, a connect failed), or at its deadline.
  struct Waiter {
    asio::steady_timer timer;
    std::unique_ptr<PgConnection> handed;
    bool queued = true;
    Priority priority = Priority::kJobs;
  };
  class WaitInLine;
  void give_back(std::unique_ptr<PgConnection> connection);
  // Wakes the first waiter (all of them) without a connection.
  void wake_first();
  void wake_all();
  // The line a waiter of this priority stands in; the API's is served first.
  std::list<Waiter*>& line_of(Priority priority) {
    return priority == Priority::kApi ? api_waiters_ : waiters_;
  }
  // The next waiter to serve (taken out of its line), or null.
  Waiter* next_waiter();

  asio::any_io_executor executor_;
  PoolOptions options_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t open_ = 0;
  // First come, first served: a returned connection goes to the longest waiter, and only that
  // waiter wakes (10,000 jobs loading at once must not each wake on every return).
  std::list<Waiter*> waiters_;
  std::list<Waiter*> api_waiters_;
  Backoff backoff_;
  Clock::time_point next_connect_{};
  std::optional<std::string> unreachable_;  // the last connect error, until a connect succeeds
  std::uint64_t recoveries_seen_ = 0;       // DatabaseHealth::recoveries() when last looked at
  Stats stats_;
};

std::string_view to_string(PgPool::Isolation isolation);

}  // namespace skyd::store
