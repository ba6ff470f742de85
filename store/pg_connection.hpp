#pragma once
// One PostgreSQL connection driven by the reactor: libpq in non-blocking mode, its socket watched
// by the shard's io_context (never read or written through Asio, only waited on), one statement
// in flight at a time. Belongs to one shard and is used from that shard only; usually owned by a
// PgPool, which hands it out for one statement or one transaction at a time.
//
// Every statement has a deadline. When it passes, the statement is cancelled on the server
// (PQcancel, which blocks, runs on a helper thread while the shard keeps working) and the call
// reports StoreErrc::kTimedOut; if the server does not confirm the cancel within `cancel_grace`
// the connection is marked broken. When the calling coroutine itself is cancelled, the
// connection is marked broken (the statement's fate is unknown) and the cancellation is rethrown
// as operation_aborted.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "store/pg_result.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace skyd::store {

struct ConnectionOptions {
  // A libpq conninfo string ("host=/run/skyd/pg port=5432 user=postgres dbname=skyd"). Use a
  // Unix socket directory or a numeric hostaddr: libpq resolves host names synchronously.
  std::string conninfo;
  Duration connect_timeout = std::chrono::seconds(10);
  // After a deadline: how long the server may take to confirm the cancel before the
  // connection is given up.
  Duration cancel_grace = std::chrono::seconds(2);
};

class PgConnection {
 public:
  // Connects without blocking the reactor (PQconnectStart/PQconnectPoll). Errors: kUnavailable
  // (refused, authentication, timeout). Cancellation: throws operation_aborted.
  static Task<Result<std::unique_ptr<PgConnection>>> connect(ConnectionOptions options);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with $n parameters in text format (extended protocol; prepared on first
  // use on this connection and reused). `sql` must stay valid until the call completes.
  // Errors: mapped from SQLSTATE (see store_errc.hpp), kTimedOut after the deadline.
  Task<Result<QueryResult>> query(std::string_view sql, Params params, Duration deadline);

  // Runs several statements separated by ';' (simple protocol, no parameters): migrations.
  Task<Result<void>> execute_script(std::string_view sql, Duration deadline);

  // The connection is lost or in an unknown state; it must not be used again.
  bool broken() const;
  // For an idle connection: reads whatever the server sent meanwhile without waiting, so a
  // connection the server closed (restart, idle timeout) is found broken before it is lent.
  // Returns !broken().
  bool check_idle();
  // Inside a transaction block (after BEGIN, before COMMIT/ROLLBACK), or in an aborted one.
  bool in_transaction() const;
  // Inside a transaction that an error has aborted (only ROLLBACK is accepted now).
  bool transaction_failed() const;
  int backend_pid() const;

 private:
  struct State;
  explicit PgConnection(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace skyd::store
