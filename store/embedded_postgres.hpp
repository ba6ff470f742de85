#pragma once
// The embedded default database: when no DSN is configured, skyd runs a private PostgreSQL
// server of its own. initdb on first start, Unix socket only (no TCP listener), reused with its
// data on every later start, stopped cleanly (fast shutdown) when skyd stops.
//
// start() and stop() block (initdb takes ~0.5 s, a start ~0.2 s): call them from main at daemon
// start-up and shutdown, never from a shard. Not thread-safe; one object per state directory.
// supervise() watches the server from a thread of its own and restarts it when it dies.
//
// Where the data lives (docs/embedded-postgres.md):
// - skyd not root: <state_dir>/postgres/{data,server.log,.s.PGSQL.<port>}, owned by skyd's user.
// - skyd root: PostgreSQL refuses to run as root, so the server runs as `server_user` (default
//   "postgres"). The same <state_dir>/postgres is used, owned by that user, when every directory
//   above it is traversable by that user; otherwise (a 0700 state dir such as under /root) the
//   data lives in <fallback_root>/pg-<hash of the state dir> (default /var/lib/skyd/pg-…).
// - If the socket path would exceed the 107-byte limit, the socket goes to /tmp/skyd-pg-<hash>.

#include "reactor/backoff.hpp"
#include "reactor/error.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

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
  // When the server died (supervise()): the wait before each restart attempt, growing while
  // attempts fail; reset once a restarted server stayed up for a minute.
  BackoffPolicy restart_backoff{.initial = std::chrono::milliseconds(500),
                                .multiplier = 2.0,
                                .cap = std::chrono::seconds(30),
                                .jitter = 0.2,
                                .max_attempts = std::nullopt};
};

// The user the server runs as when skyd is root (PostgreSQL refuses to run as root).
struct ServerAccount {
  uid_t uid;
  gid_t gid;
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

class DatabaseHealth;

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
  // Fast shutdown, waiting for the server to exit (after ending the supervision). Idempotent.
  Result<void> stop();

  // After start(): watches the postmaster from a thread of its own (a pidfd). When it exits
  // without stop() -- killed, crashed, stopped by someone else -- the database is reported down
  // to `health`, what the dead server left is cleared (processes still running on its data,
  // which hold its shared memory, and a stale postmaster.pid) and the server is started again,
  // with restart_backoff between attempts, until it runs; then it is reported up. `health` must
  // outlive the supervision (stop() or the destructor end it).
  void supervise(DatabaseHealth& health);
  // The running postmaster's process id (-1 when none is known).
  int postmaster_pid() const { return postmaster_pid_; }

  bool running() const { return running_; }
  const std::string& conninfo() const { return conninfo_; }
  const EmbeddedLayout& layout() const { return layout_; }

  // The newest /usr/lib/postgresql/<major>/bin holding pg_ctl, if any.
  static std::optional<std::string> find_bin_dir();

 private:
  // pg_ctl start (waiting until the server accepts connections), then reads the postmaster's pid.
  Result<void> start_server();
  // What a dead server left on the data directory: processes (killed) and a postmaster.pid.
  void clear_leftovers();
  void watch(DatabaseHealth* health);  // the supervisor thread
  void end_supervision();

  EmbeddedPostgresOptions options_;
  EmbeddedLayout layout_;
  std::string bin_dir_;
  std::string conninfo_;
  std::optional<ServerAccount> user_;  // the server's user when skyd runs as root
  bool running_ = false;
  std::atomic<int> postmaster_pid_{-1};
  int stop_fd_ = -1;  // an eventfd: written to end the supervision
  std::thread supervisor_;
};

}  // namespace skyd::store
