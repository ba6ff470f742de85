#include "store/database_probe.hpp"

#include "store/pg_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace skyd::store {
namespace {
constexpr const char* kProbe = "SELECT 1";
}  // namespace

Task<void> probe_database(ProbeOptions options, DatabaseHealth* health) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::unique_ptr<PgConnection> connection;
  for (;;) {
    std::optional<Error> failed;
    if (!connection) {
      ConnectionOptions connect{.conninfo = options.conninfo,
                                .connect_timeout = options.deadline,
                                .cancel_grace = options.deadline};
      auto made = co_await PgConnection::connect(std::move(connect));
      if (made) {
        connection = std::move(*made);
      } else {
        failed = made.error();
      }
    }
    if (connection) {
      auto answered = co_await connection->query(kProbe, Params{}, options.deadline);
      if (!answered) failed = answered.error();
      if (connection->broken()) connection.reset();
    }
    if (failed) {
      health->set_down(DatabaseHealth::Source::kConnection,
                       "the database does not answer: " + failed->message());
    } else {
      health->set_up(DatabaseHealth::Source::kConnection);
    }
    pause.expires_after(failed ? options.interval_while_down : options.interval);
    co_await pause.async_wait(asio::use_awaitable);
  }
}

}  // namespace skyd::store
