#include "store/pg_connection.hpp"

#include "reactor/log.hpp"
#include "reactor/metrics.hpp"
#include "store/store_errc.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <libpq-fe.h>

#include <cstdlib>
#include <thread>
#include <unordered_map>

namespace skyd::store {
namespace {

using WaitType = asio::posix::descriptor_base::wait_type;

// Prepared statements kept per connection; statements beyond this run unnamed.
constexpr std::size_t kMaxPrepared = 256;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
using Results = std::vector<ResultPtr>;

// A libpq message on one line: its lines (a FATAL and libpq's own comment, say) joined by "; ".
std::string trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (auto at = text.find('\n'); at != std::string::npos; at = text.find('\n', at))
    text.replace(at, 1, "; ");
  return text;
}

long long millis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

enum class Wake { kReady, kDeadline };

}  // namespace

struct PgConnection::State {
  State(asio::any_io_executor executor, ConnectionOptions connection_options)
      : socket(std::move(executor)), options(std::move(connection_options)) {}
  ~State() {
    // The descriptor belongs to libpq: detach it from the reactor, never close it here.
    if (socket.is_open()) socket.release();
    if (conn) PQfinish(conn);
  }

  // The socket can change while connecting (and a new one can reuse the old number), so the
  // reactor's registration is renewed from PQsocket each time.
  bool attach() {
    if (socket.is_open()) socket.release();
    boost::system::error_code ec;
    socket.assign(PQsocket(conn), ec);
    return !ec;
  }

  Error lost(std::string_view what) {
    broken = true;
    return make_error(StoreErrc::kUnavailable,
                      std::string(what) + ": " + trimmed(PQerrorMessage(conn)));
  }

  // Waits until the socket is readable (or writable, with `for_write`) or `deadline` passes. A
  // socket error counts as ready: libpq reports it on the next call. Throws operation_aborted when
  // the caller is cancelled.
  Task<Wake> wait(bool for_write, Clock::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(socket.get_executor(), deadline);
    auto timer_wait = timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto readable = socket.async_wait(WaitType::wait_read, asio::as_tuple(asio::use_awaitable));
    bool deadline_passed = false;
    if (for_write) {
      auto writable = socket.async_wait(WaitType::wait_write, asio::as_tuple(asio::use_awaitable));
      auto first = co_await ((std::move(writable) || std::move(readable)) || std::move(timer_wait));
      deadline_passed = first.index() == 1;
    } else {
      auto first = co_await (std::move(readable) || std::move(timer_wait));
      deadline_passed = first.index() == 1;
    }
    auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (cancelled != asio::cancellation_type::none) {
      throw boost::system::system_error(asio::error::operation_aborted);
    }
    co_return deadline_passed ? Wake::kDeadline : Wake::kReady;
  }

  // Asks the server to cancel the running statement. PQcancel blocks (it opens a connection of
  // its own), so it runs on a helper thread; the shard keeps running meanwhile.
  Task<bool> cancel_on_server() {
    PGcancel* cancel = PQgetCancel(conn);
    if (!cancel) co_return false;
    std::jthread worker;
    bool sent = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
        [&worker, cancel](auto handler) {
          auto work = asio::prefer(asio::get_associated_executor(handler),
                                   asio::execution::outstanding_work.tracked);
          worker = std::jthread([cancel, work, handler = std::move(handler)]() mutable {
            char error[256] = {};
            const bool ok = PQcancel(cancel, error, sizeof error) == 1;
            if (!ok) logger("store")->warn("cancel request failed error=\"{}\"", error);
            PQfreeCancel(cancel);
            asio::post(work,
                       [handler = std::move(handler), ok]() mutable { std::move(handler)(ok); });
          });
        },
        asio::use_awaitable);
    co_return sent;
  }

  // After a successful PQsend*: flushes, reads until the command's results are complete, and
  // enforces the deadline.
  Task<Result<Results>> finish(Clock::time_point deadline, Duration limit) {
    while (true) {
      const int flushed = PQflush(conn);
      if (flushed == 0) break;
      if (flushed < 0) co_return lost("sending the statement");
      if (co_await wait(true, deadline) == Wake::kDeadline) {
        // The server does not even take the statement: a cancel would not get through either.
        broken = true;
        co_return make_error(StoreErrc::kTimedOut, "statement could not be sent within " +
                                                       std::to_string(millis(limit)) + " ms");
      }
      if (!PQconsumeInput(conn)) co_return lost("reading");
    }
    Results results;
    bool cancel_sent = false;
    while (true) {
      while (!PQisBusy(conn)) {
        PGresult* result = PQgetResult(conn);
        if (!result) {
          if (PQstatus(conn) == CONNECTION_BAD) broken = true;
          if (cancel_sent) timed_out_after = limit;
          co_return results;
        }
        results.emplace_back(result);
      }
      if (co_await wait(false, deadline) == Wake::kDeadline) {
        if (cancel_sent) {
          broken = true;
          co_return make_error(StoreErrc::kTimedOut,
                               "statement passed its deadline of " + std::to_string(millis(limit)) +
                                   " ms and the server did not confirm the cancel");
        }
        cancel_sent = true;
        deadline = Clock::now() + options.cancel_grace;
        if (!co_await cancel_on_server()) {
          broken = true;
          co_return make_error(StoreErrc::kTimedOut, "statement passed its deadline of " +
                                                         std::to_string(millis(limit)) +
                                                         " ms and could not be cancelled");
        }
        continue;
      }
      if (!PQconsumeInput(conn)) co_return lost("reading");
    }
  }

  // The first error among the results, mapped to the store's codes.
  std::optional<Error> first_error(const Results& results) {
    for (const auto& result : results) {
      const ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
        continue;
      }
      const char* field = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      const std::string sqlstate = field ? field : "";
      StoreErrc code = classify_sqlstate(sqlstate);
      std::string detail = trimmed(PQresultErrorMessage(result.get()));
      if (code == StoreErrc::kTimedOut && timed_out_after) {
        detail = "statement passed its deadline of " + std::to_string(millis(*timed_out_after)) +
                 " ms and was cancelled on the server: " + detail;
      } else if (code == StoreErrc::kTimedOut) {
        code = StoreErrc::kQuery;  // cancelled by someone else (an operator, statement_timeout)
      }
      if (code == StoreErrc::kUnavailable) broken = true;
      if (!sqlstate.empty()) detail += " (sqlstate " + sqlstate + ")";
      return make_error(code, std::move(detail));
    }
    if (broken) return lost("connection lost");
    return std::nullopt;
  }

  PGconn* conn = nullptr;
  asio::posix::stream_descriptor socket;
  ConnectionOptions options;
  bool broken = false;
  bool busy = false;
  std::optional<Duration> timed_out_after;
  std::unordered_map<std::string, std::string> prepared;
};

namespace {

QueryResult copy_result(PGresult* result) {
  const int fields = PQnfields(result);
  const int tuples = PQntuples(result);
  std::vector<std::string> columns;
  columns.reserve(fields);
  for (int c = 0; c < fields; ++c) columns.emplace_back(PQfname(result, c));
  std::vector<std::vector<Param>> rows(tuples);
  for (int r = 0; r < tuples; ++r) {
    rows[r].reserve(fields);
    for (int c = 0; c < fields; ++c) {
      if (PQgetisnull(result, r, c)) {
        rows[r].emplace_back(std::nullopt);
      } else {
        rows[r].emplace_back(std::string(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
      }
    }
  }
  const char* affected = PQcmdTuples(result);
  return QueryResult(std::move(columns), std::move(rows),
                     affected && *affected ? std::atoll(affected) : 0);
}

// Marks the connection busy for one command; a second command at once is a bug in the caller.
// Records one statement's time, however the query coroutine ends.
class QueryTimer {
 public:
  QueryTimer() = default;
  QueryTimer(const QueryTimer&) = delete;
  QueryTimer& operator=(const QueryTimer&) = delete;
  ~QueryTimer() {
    static auto& seconds = metrics::registry()
                               .histogram("skyd_pg_query_duration_seconds",
                                          "PostgreSQL statement latency, prepare included", {})
                               .with();
    seconds.observe(Clock::now() - started_);
  }

 private:
  Clock::time_point started_ = Clock::now();
};

class BusyScope {
 public:
  explicit BusyScope(bool& busy) : busy_(busy) {
    if (busy_) {
      logger("store")->critical("two statements in flight on one connection");
      std::abort();
    }
    busy_ = true;
  }
  ~BusyScope() { busy_ = false; }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  bool& busy_;
};

// The connection's fate is unknown after its caller was cancelled mid-statement.
class BreakOnUnwind {
 public:
  explicit BreakOnUnwind(bool& broken) : broken_(broken), exceptions_(std::uncaught_exceptions()) {}
  ~BreakOnUnwind() {
    if (std::uncaught_exceptions() > exceptions_ || !done_) broken_ = true;
  }
  void done() { done_ = true; }
  BreakOnUnwind(const BreakOnUnwind&) = delete;
  BreakOnUnwind& operator=(const BreakOnUnwind&) = delete;

 private:
  bool& broken_;
  int exceptions_;
  bool done_ = false;
};

}  // namespace

PgConnection::PgConnection(std::unique_ptr<State> state) : state_(std::move(state)) {}

PgConnection::~PgConnection() = default;

Task<Result<std::unique_ptr<PgConnection>>> PgConnection::connect(ConnectionOptions options) {
  const Duration limit = options.connect_timeout;
  const Clock::time_point deadline = Clock::now() + limit;
  auto state = std::make_unique<State>(co_await asio::this_coro::executor, std::move(options));
  state->conn = PQconnectStart(state->options.conninfo.c_str());
  if (!state->conn) co_return make_error(StoreErrc::kUnavailable, "out of memory for libpq");
  if (PQstatus(state->conn) == CONNECTION_BAD) co_return state->lost("connecting");
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) co_return state->lost("connecting");
    if (!state->attach()) co_return state->lost("connecting (bad socket)");
    const bool for_write = polling == PGRES_POLLING_WRITING;
    if (co_await state->wait(for_write, deadline) == Wake::kDeadline) {
      co_return make_error(StoreErrc::kUnavailable,
                           "connecting timed out after " + std::to_string(millis(limit)) + " ms");
    }
    polling = PQconnectPoll(state->conn);
  }
  if (PQsetnonblocking(state->conn, 1) != 0) co_return state->lost("setting non-blocking mode");
  if (!state->attach()) co_return state->lost("connected (bad socket)");
  logger("store")->debug("connection opened backend_pid={}", PQbackendPID(state->conn));
  co_return std::unique_ptr<PgConnection>(new PgConnection(std::move(state)));
}

Task<Result<QueryResult>> PgConnection::query(std::string_view sql, Params params,
                                              Duration deadline) {
  State& s = *state_;
  if (s.broken) co_return make_error(StoreErrc::kUnavailable, "connection is broken");
  BusyScope busy(s.busy);
  BreakOnUnwind guard(s.broken);
  const QueryTimer timer;
  s.timed_out_after.reset();
  const Clock::time_point until = Clock::now() + deadline;

  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& param : params) values.push_back(param ? param->c_str() : nullptr);
  const int count = static_cast<int>(params.size());

  const std::string key(sql);
  auto known = s.prepared.find(key);
  if (known == s.prepared.end() && s.prepared.size() < kMaxPrepared) {
    std::string name = "skyd_" + std::to_string(s.prepared.size() + 1);
    if (!PQsendPrepare(s.conn, name.c_str(), key.c_str(), count, nullptr)) {
      co_return s.lost("preparing");
    }
    auto prepared = co_await s.finish(until, deadline);
    if (!prepared) {
      guard.done();
      co_return prepared.error();
    }
    if (auto error = s.first_error(*prepared)) {
      guard.done();
      co_return *error;
    }
    known = s.prepared.emplace(key, std::move(name)).first;
  }
  const int sent = known != s.prepared.end()
                       ? PQsendQueryPrepared(s.conn, known->second.c_str(), count, values.data(),
                                             nullptr, nullptr, 0)
                       : PQsendQueryParams(s.conn, key.c_str(), count, nullptr, values.data(),
                                           nullptr, nullptr, 0);
  if (!sent) co_return s.lost("sending");
  auto results = co_await s.finish(until, deadline);
  guard.done();
  if (!results) co_return results.error();
  if (auto error = s.first_error(*results)) co_return *error;
  if (results->empty()) co_return QueryResult{};
  co_return copy_result(results->back().get());
}

Task<Result<void>> PgConnection::execute_script(std::string_view sql, Duration deadline) {
  State& s = *state_;
  if (s.broken) co_return make_error(StoreErrc::kUnavailable, "connection is broken");
  BusyScope busy(s.busy);
  BreakOnUnwind guard(s.broken);
  s.timed_out_after.reset();
  const std::string text(sql);
  if (!PQsendQuery(s.conn, text.c_str())) co_return s.lost("sending");
  auto results = co_await s.finish(Clock::now() + deadline, deadline);
  guard.done();
  if (!results) co_return results.error();
  if (auto error = s.first_error(*results)) co_return *error;
  co_return Result<void>{};
}

bool PgConnection::broken() const {
  return state_->broken || PQstatus(state_->conn) != CONNECTION_OK;
}

bool PgConnection::check_idle() {
  if (!state_->busy && !state_->broken && !PQconsumeInput(state_->conn)) state_->broken = true;
  return !broken();
}

bool PgConnection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(state_->conn);
  return status != PQTRANS_IDLE;
}

bool PgConnection::transaction_failed() const {
  return PQtransactionStatus(state_->conn) == PQTRANS_INERROR;
}

int PgConnection::backend_pid() const {
  return PQbackendPID(state_->conn);
}

}  // namespace skyd::store
