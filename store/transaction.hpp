#pragma once
// A transaction on one pooled connection. It must end with an explicit commit() or rollback();
// one that is destroyed while still open is logged as a bug and its connection is closed by the
// pool (never reused inside a transaction). Used from the shard of the pool that made it.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_result.hpp"

#include <optional>
#include <string_view>

namespace skyd::store {

class Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept = delete;
  ~Transaction();

  // A statement inside the transaction, with the pool's statement deadline unless given. After
  // an error the server has aborted the transaction: the only useful call left is rollback().
  Task<Result<QueryResult>> query(std::string_view sql, Params params,
                                  std::optional<Duration> deadline = std::nullopt);

  // Errors: kRetryable (serialization failure at commit: run the transaction again),
  // kUnavailable (connection lost: the outcome is unknown; guarded updates make a retry safe).
  // The connection goes back to the pool either way.
  Task<Result<void>> commit();
  Task<Result<void>> rollback();

  bool open() const { return connection_.has_value(); }
  int backend_pid() const { return (*connection_)->backend_pid(); }

 private:
  friend class PgPool;
  Transaction(PooledConnection connection, Duration deadline);
  Task<Result<void>> finish(std::string_view statement);

  std::optional<PooledConnection> connection_;
  Duration deadline_;
};

}  // namespace skyd::store
