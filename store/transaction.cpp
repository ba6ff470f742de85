#include "store/transaction.hpp"

#include "reactor/log.hpp"
#include "store/store_errc.hpp"

namespace skyd::store {

Transaction::Transaction(PooledConnection connection, Duration deadline)
    : connection_(std::move(connection)), deadline_(deadline) {}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::move(other.connection_)), deadline_(other.deadline_) {
  other.connection_.reset();
}

Transaction::~Transaction() {
  if (connection_) {
    // The pool sees the open transaction when the connection comes back and closes it.
    logger("store")->error("transaction dropped without commit or rollback backend_pid={}",
                           (*connection_)->backend_pid());
  }
}

Task<Result<QueryResult>> Transaction::query(std::string_view sql, Params params,
                                             std::optional<Duration> deadline) {
  if (!connection_) co_return make_error(StoreErrc::kQuery, "transaction already ended");
  co_return co_await (*connection_)->query(sql, std::move(params), deadline.value_or(deadline_));
}

Task<Result<void>> Transaction::finish(std::string_view statement) {
  if (!connection_) co_return make_error(StoreErrc::kQuery, "transaction already ended");
  auto done = co_await (*connection_)->query(statement, Params{}, deadline_);
  connection_.reset();  // back to the pool, which closes it if it is not clean
  if (!done) co_return done.error();
  co_return Result<void>{};
}

Task<Result<void>> Transaction::commit() {
  // COMMIT of an aborted transaction "succeeds" as a ROLLBACK: report it as the failure it is.
  if (connection_ && (*connection_)->transaction_failed()) {
    auto rolled_back = co_await finish("ROLLBACK");
    if (!rolled_back) co_return rolled_back.error();
    co_return make_error(StoreErrc::kQuery,
                         "commit of a transaction aborted by an earlier error; rolled back");
  }
  co_return co_await finish("COMMIT");
}

Task<Result<void>> Transaction::rollback() {
  co_return co_await finish("ROLLBACK");
}

}  // namespace skyd::store
