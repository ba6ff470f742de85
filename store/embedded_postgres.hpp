#pragma once
// The embedded default database: when no DSN is configured, skyd runs a private PostgreSQL
// server of its own. initdb on first start, Unix socket only (no TCP listener), reused with its
// data on every later start, stopped cleanly (fast shutdown) when skyd stops.
//
// start() and stop() block (initdb takes ~0.5 s, a start ~0.2 s): call them from main at daemon
// start-up and shutdown, never from a shard. Not thread-safe; one object per state directory.
//
// Where the data lives (docs/embedded-postgres.md):
// - skyd not root: <state_dir>/postgres/{data,server.log,.s.PGSQL.<port>}, owned by skyd's user.
// - skyd root: PostgreSQL refuses to run as root, so the server runs as `server_user` (default
//   "postgres"). The same <state_dir>/postgres is used, owned by that user, when every directory
//   above it is traversable by that user; otherwise (a 0700 state dir such as under /root) the
//   data lives in <fallback_root>/pg-<hash of the state dir> (default /var/lib/skyd/pg-…).
// - If the socket path would exceed the 107-byte limit, the socket goes to /tmp/skyd-pg-<hash>.

#include "reactor/error.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace skyd::store {

struct EmbeddedPostgresOptions {
  std::string state_dir;
  std::string fallback_root = "/var/lib/skyd";
  std::string server_user = "postgres";  // only when skyd runs as root
  std::string bin_dir;                   // empty: the newest /usr/lib/postgresql/*/bin
  int port = 5432;                       // names the socket file; there is no TCP listener
  std::string database = "skyd";         // created on first start
  bool fsync = true;                     // off only for tests: a crash may lose data
  std::chrono::seconds start_timeout{60};
};

// Where a cluster lives; decided once per start by plan_embedded_layout.
struct EmbeddedLayout {
  std::string root;        // owned by the server's user, 0700
  std::string data_dir;    // root/data
  std::string socket_dir;  // root, or /tmp/skyd-pg-<hash> when root's path is too long
  std::string log_file;    // root/server.log
};

// The layout for `options` when skyd runs as root (`as_root`) or not; `state_dir_traversable`
// says whether the server's user can reach <state_dir> (only consulted as root).
EmbeddedLayout plan_embedded_layout(const EmbeddedPostgresOptions& options, bool as_root,
                                    bool state_dir_traversable);

class EmbeddedPostgres {
 public:
  explicit EmbeddedPostgres(EmbeddedPostgresOptions options);
  ~EmbeddedPostgres();  // stops the server if this object started (or adopted) it
  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

  // Creates the cluster if needed, starts the server (or adopts one already running on the same
  // data, left by a skyd that died) and creates the database. Idempotent. Returns the libpq
  // conninfo. Errors carry the failing step and point at the server log.
  Result<std::string> start();
  // Fast shutdown, waiting for the server to exit. Idempotent.
  Result<void> stop();

  bool running() const { return running_; }
  const std::string& conninfo() const { return conninfo_; }
  const EmbeddedLayout& layout() const { return layout_; }

  // The newest /usr/lib/postgresql/<major>/bin holding pg_ctl, if any.
  static std::optional<std::string> find_bin_dir();

 private:
  EmbeddedPostgresOptions options_;
  EmbeddedLayout layout_;
  std::string bin_dir_;
  std::string conninfo_;
  bool running_ = false;
};

}  // namespace skyd::store
