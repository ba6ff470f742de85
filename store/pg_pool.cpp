#include "store/pg_pool.hpp"

#include "reactor/log.hpp"
#include "store/database_health.hpp"
#include "store/store_errc.hpp"
#include "store/transaction.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <cstdlib>

namespace skyd::store {
namespace {

long long millis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// Pools belong to one shard; a use from another thread is a bug that would corrupt the pool.
void check_shard(const asio::any_io_executor& executor) {
#ifndef NDEBUG
  const auto* context = executor.target<asio::io_context::executor_type>();
  if (context && !context->running_in_this_thread()) {
    logger("store")->critical("pool used outside its shard");
    std::abort();
  }
#else
  (void)executor;
#endif
}

// Undoes the reservation of a pool slot if a connect attempt does not finish (cancellation).
class SlotReservation {
 public:
  explicit SlotReservation(std::size_t& open) : open_(open) { ++open_; }
  ~SlotReservation() {
    if (!kept_) --open_;
  }
  void keep() { kept_ = true; }
  SlotReservation(const SlotReservation&) = delete;
  SlotReservation& operator=(const SlotReservation&) = delete;

 private:
  std::size_t& open_;
  bool kept_ = false;
};

}  // namespace

std::string_view to_string(PgPool::Isolation isolation) {
  switch (isolation) {
    case PgPool::Isolation::kReadCommitted:
      return "READ COMMITTED";
    case PgPool::Isolation::kRepeatableRead:
      return "REPEATABLE READ";
    case PgPool::Isolation::kSerializable:
      return "SERIALIZABLE";
  }
  return "READ COMMITTED";
}

PooledConnection::PooledConnection(PgPool* pool, std::unique_ptr<PgConnection> connection)
    : pool_(pool), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

PooledConnection::~PooledConnection() {
  give_back();
}

void PooledConnection::give_back() {
  if (pool_ && connection_) pool_->give_back(std::move(connection_));
  pool_ = nullptr;
}

Task<Result<QueryResult>> PooledConnection::query(std::string_view sql, Params params) {
  co_return co_await connection_->query(sql, std::move(params), pool_->options().statement_timeout);
}

PgPool::PgPool(asio::any_io_executor executor, PoolOptions options)
    : executor_(executor), options_(std::move(options)), backoff_(options_.reconnect) {}

PgPool::~PgPool() {
  if (open_ != idle_.size()) {
    logger("store")->error("pool destroyed with connections still lent lent={}",
                           open_ - idle_.size());
  }
}

// A place in the line for a connection, left when the waiter leaves (its deadline, its own
// cancellation); a connection handed to a waiter that left anyway goes back to the pool.
class PgPool::WaitInLine {
 public:
  WaitInLine(PgPool& pool, Waiter& waiter)
      : pool_(pool),
        waiter_(waiter),
        place_(pool.line_of(waiter.priority).insert(pool.line_of(waiter.priority).end(), &waiter)) {
  }
  ~WaitInLine() {
    if (waiter_.queued) pool_.line_of(waiter_.priority).erase(place_);
    if (waiter_.handed) pool_.give_back(std::move(waiter_.handed));
  }
  WaitInLine(const WaitInLine&) = delete;
  WaitInLine& operator=(const WaitInLine&) = delete;

 private:
  PgPool& pool_;
  Waiter& waiter_;
  std::list<Waiter*>::iterator place_;
};

Task<Result<PooledConnection>> PgPool::acquire(Priority priority) {
  check_shard(executor_);
  const Clock::time_point deadline = Clock::now() + options_.acquire_timeout;
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (connection->check_idle()) co_return PooledConnection(this, std::move(connection));
      --open_;
      ++stats_.dropped;
    }
    if (const DatabaseHealth* health = options_.health) {
      if (!health->up())
        co_return make_error(StoreErrc::kUnavailable,
                             "the database is unavailable: " + health->status().reason);
      if (health->recoveries() != recoveries_seen_) {  // it is back: connect now
        recoveries_seen_ = health->recoveries();
        backoff_.reset();
        next_connect_ = {};
      }
    }
    const Clock::time_point now = Clock::now();
    if (open_ < options_.size && unreachable_ && now < next_connect_) {
      co_return make_error(StoreErrc::kUnavailable,
                           "the database is unreachable (next connection attempt in " +
                               std::to_string(millis(next_connect_ - now)) +
                               " ms): " + *unreachable_);
    }
    if (open_ < options_.size) {
      SlotReservation slot(open_);
      ConnectionOptions connect_options{
          .conninfo = options_.conninfo,
          .connect_timeout = std::min(options_.connect_timeout, deadline - now),
          .cancel_grace = options_.cancel_grace};
      auto connected = co_await PgConnection::connect(std::move(connect_options));
      if (connected) {
        slot.keep();
        ++stats_.connects;
        backoff_.reset();
        unreachable_.reset();
        co_return PooledConnection(this, std::move(*connected));
      }
      ++stats_.connect_failures;
      unreachable_ = connected.error().message();
      const Duration delay = backoff_.next_delay();
      next_connect_ = Clock::now() + delay;
      logger("store")->warn("database connect failed retry_in_ms={} error=\"{}\"", millis(delay),
                            *unreachable_);
      wake_all();  // those waiting for a connection learn that none is coming
      co_return connected.error();
    }
    if (now >= deadline) {
      co_return make_error(StoreErrc::kUnavailable,
                           "no database connection within " +
                               std::to_string(millis(options_.acquire_timeout)) +
                               " ms: all connections busy");
    }
    // In line for a connection to come back.
    Waiter waiter{asio::steady_timer(executor_, deadline), nullptr, true, priority};
    WaitInLine in_line(*this, waiter);
    co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
      throw boost::system::system_error(asio::error::operation_aborted);
    if (waiter.handed) {
      std::unique_ptr<PgConnection> connection = std::move(waiter.handed);
      if (connection->check_idle()) co_return PooledConnection(this, std::move(connection));
      --open_;
      ++stats_.dropped;
    }
  }
}

PgPool::Waiter* PgPool::next_waiter() {
  std::list<Waiter*>& line = api_waiters_.empty() ? waiters_ : api_waiters_;
  if (line.empty()) return nullptr;
  Waiter* first = line.front();
  line.pop_front();
  first->queued = false;
  return first;
}

void PgPool::wake_first() {
  if (Waiter* first = next_waiter()) first->timer.cancel();
}

void PgPool::wake_all() {
  while (Waiter* waiter = next_waiter()) waiter->timer.cancel();
}

void PgPool::give_back(std::unique_ptr<PgConnection> connection) {
  if (connection->broken() || connection->in_transaction()) {
    if (!connection->broken()) {
      logger("store")->warn("connection returned inside a transaction; closing it backend_pid={}",
                            connection->backend_pid());
    }
    connection.reset();
    --open_;
    ++stats_.dropped;
    wake_first();  // there is room to connect again
  } else if (Waiter* first = next_waiter()) {
    first->handed = std::move(connection);
    first->timer.cancel();
  } else {
    idle_.push_back(std::move(connection));
  }
}

void PgPool::close_idle() {
  open_ -= idle_.size();
  idle_.clear();
}

PgPool::Stats PgPool::stats() const {
  Stats stats = stats_;
  stats.open = open_;
  stats.idle = idle_.size();
  return stats;
}

Task<Result<QueryResult>> PgPool::query(std::string_view sql, Params params,
                                        std::optional<Duration> deadline, Priority priority) {
  auto connection = co_await acquire(priority);
  if (!connection) co_return connection.error();
  co_return co_await (*connection)
      ->query(sql, std::move(params), deadline.value_or(options_.statement_timeout));
}

Task<Result<Transaction>> PgPool::begin(Isolation isolation) {
  using boost::system::in_place_error;
  auto connection = co_await acquire();
  if (!connection) co_return Result<Transaction>(in_place_error, connection.error());
  std::string_view statement = "BEGIN";
  switch (isolation) {
    case Isolation::kReadCommitted:
      break;
    case Isolation::kRepeatableRead:
      statement = "BEGIN ISOLATION LEVEL REPEATABLE READ";
      break;
    case Isolation::kSerializable:
      statement = "BEGIN ISOLATION LEVEL SERIALIZABLE";
      break;
  }
  auto began = co_await (*connection)->query(statement, Params{}, options_.statement_timeout);
  if (!began) co_return Result<Transaction>(in_place_error, began.error());
  co_return Transaction(std::move(*connection), options_.statement_timeout);
}

}  // namespace skyd::store
