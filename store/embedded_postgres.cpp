#include "store/embedded_postgres.hpp"

#include "reactor/log.hpp"
#include "reactor/metrics.hpp"
#include "reactor/small_files.hpp"
#include "store/database_health.hpp"
#include "store/hash.hpp"
#include "store/store_errc.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace skyd::store {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxSocketPath = 107;

std::string short_hash(const std::string& text) {
  return fnv1a_hex(text).substr(0, 10);
}

// True when `user` may enter every directory from / down to `path`.
bool traversable_by(const fs::path& path, const ServerAccount& user) {
  fs::path current = fs::absolute(path).lexically_normal();
  while (true) {
    struct stat info {};
    if (::stat(current.c_str(), &info) != 0) return false;
    const bool can_enter = (info.st_mode & S_IXOTH) ||
                           (info.st_uid == user.uid && (info.st_mode & S_IXUSR)) ||
                           (info.st_gid == user.gid && (info.st_mode & S_IXGRP));
    if (!can_enter) return false;
    if (current == current.root_path()) return true;
    current = current.parent_path();
  }
}

// Runs a program (no shell) and waits for it: as `user` when given, output appended to `log`.
// Blocking: start-up and shutdown only.
int run_program(const std::vector<std::string>& argv, const std::optional<ServerAccount>& user,
                const std::string& log, const std::string& cwd) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) {
    if (out >= 0) ::close(out);
    if (in >= 0) ::close(in);
    return -1;
  }
  if (user) (void)::fchown(out, user->uid, user->gid);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close_range(3, ~0U, 0);
    if (user) {
      if (::setgroups(1, &user->gid) != 0 || ::setgid(user->gid) != 0 || ::setuid(user->uid) != 0) {
        ::_exit(126);
      }
    }
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(in);
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const fs::path& path) {
  return read_small_file(path.string());
}

std::string last_lines(const std::string& path, std::size_t lines) {
  std::string text = read_file(path);
  std::size_t pos = text.size();
  for (std::size_t seen = 0; pos > 0 && seen <= lines; --pos) {
    if (text[pos - 1] == '\n') ++seen;
  }
  return text.substr(pos);
}

// A value for postgresql.conf: single-quoted, quotes doubled.
std::string conf_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// A conninfo value: single-quoted, backslash-escaped.
std::string conninfo_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// The postmaster's pid from the first line of postmaster.pid (-1 when there is none).
int read_postmaster_pid(const std::string& data_dir) {
  const int pid = std::atoi(read_small_file(data_dir + "/postmaster.pid").c_str());
  return pid > 0 ? pid : -1;
}

// The live processes running `executable` with `data_dir` as their working directory: a
// postmaster and its backends (every PostgreSQL process works in its data directory).
std::vector<pid_t> server_processes(const std::string& executable, const std::string& data_dir) {
  std::error_code ec;
  const fs::path exe = fs::canonical(executable, ec);
  const fs::path data = fs::canonical(data_dir, ec);
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::error_code gone;  // the process may end while it is looked at; a zombie has no cwd
    if (fs::read_symlink(entry.path() / "exe", gone) != exe || gone) continue;
    if (fs::read_symlink(entry.path() / "cwd", gone) != data || gone) continue;
    found.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return found;
}

// Blocks until the process ends (true) or `stop_fd` becomes readable (false). A process that
// cannot be watched (already gone) has ended.
bool wait_for_exit(int pid, int stop_fd) {
  const int pidfd = pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1;
  if (pidfd < 0) return true;
  pollfd watched[2] = {{pidfd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  while (::poll(watched, 2, -1) < 0 && errno == EINTR) {
  }
  ::close(pidfd);
  return (watched[1].revents & POLLIN) == 0;
}

// Sleeps `delay` unless `stop_fd` becomes readable first (then true).
bool wait_for_stop(int stop_fd, std::chrono::steady_clock::duration delay) {
  pollfd stop{stop_fd, POLLIN, 0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  return ::poll(&stop, 1, static_cast<int>(ms)) > 0;
}

Error failure(std::string detail) {
  return make_error(StoreErrc::kUnavailable, "embedded postgres: " + std::move(detail));
}

Result<void> make_owned_dir(const fs::path& dir, const std::optional<ServerAccount>& user) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return failure("cannot create " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return failure("cannot chmod " + dir.string());
  if (user && ::chown(dir.c_str(), user->uid, user->gid) != 0) {
    return failure("cannot chown " + dir.string());
  }
  return {};
}

}  // namespace

EmbeddedLayout plan_embedded_layout(const EmbeddedPostgresOptions& options, bool as_root,
                                    bool state_dir_traversable) {
  const fs::path state = fs::absolute(options.state_dir).lexically_normal();
  EmbeddedLayout layout;
  if (as_root && !state_dir_traversable) {
    layout.root = (fs::path(options.fallback_root) / ("pg-" + short_hash(state.string()))).string();
  } else {
    layout.root = (state / "postgres").string();
  }
  layout.data_dir = layout.root + "/data";
  layout.log_file = layout.root + "/server.log";
  layout.socket_dir = layout.root;
  const std::string socket_file = "/.s.PGSQL." + std::to_string(options.port);
  if (layout.socket_dir.size() + socket_file.size() > kMaxSocketPath) {
    layout.socket_dir = "/tmp/skyd-pg-" + short_hash(layout.root);
  }
  return layout;
}

std::optional<std::string> EmbeddedPostgres::find_bin_dir() {
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "pg_ctl")) continue;
    try {
      found.emplace_back(std::stoi(entry.path().filename().string()), bin.string());
    } catch (const std::exception&) {
    }
  }
  if (found.empty()) return std::nullopt;
  return std::max_element(found.begin(), found.end())->second;
}

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options)
    : options_(std::move(options)) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  end_supervision();
  if (running_) {
    auto stopped = stop();
    if (!stopped) logger("store")->error("{}", stopped.error().message());
  }
}

Result<std::string> EmbeddedPostgres::start() {
  if (running_) return conninfo_;
  auto log = logger("store");

  bin_dir_ = options_.bin_dir;
  if (bin_dir_.empty()) {
    auto found = find_bin_dir();
    if (!found) return failure("no PostgreSQL server under /usr/lib/postgresql/*/bin");
    bin_dir_ = *found;
  }

  const bool as_root = ::geteuid() == 0;
  if (as_root) {
    const passwd* entry = ::getpwnam(options_.server_user.c_str());
    if (!entry) return failure("skyd runs as root and there is no user " + options_.server_user);
    user_ = ServerAccount{entry->pw_uid, entry->pw_gid};
  }
  const std::optional<ServerAccount>& user = user_;
  const bool traversable = user && traversable_by(options_.state_dir, *user);
  layout_ = plan_embedded_layout(options_, as_root, traversable);

  if (as_root && !traversable) {
    std::error_code ec;
    fs::create_directories(options_.fallback_root, ec);
    ::chmod(options_.fallback_root.c_str(), 0755);
  }
  if (auto made = make_owned_dir(layout_.root, user); !made) return made.error();
  if (layout_.socket_dir != layout_.root) {
    if (auto made = make_owned_dir(layout_.socket_dir, user); !made) return made.error();
  }
  const std::string bin_major = fs::path(bin_dir_).parent_path().filename().string();

  const fs::path version_file = fs::path(layout_.data_dir) / "PG_VERSION";
  if (!fs::exists(version_file)) {
    if (fs::exists(layout_.data_dir) && !fs::is_empty(layout_.data_dir)) {
      return failure(layout_.data_dir + " exists but holds no PostgreSQL cluster");
    }
    log->info("embedded postgres initdb data={}", layout_.data_dir);
    std::vector<std::string> initdb = {
        bin_dir_ + "/initdb", "-D", layout_.data_dir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
        "--locale=C"};
    if (!options_.fsync) initdb.push_back("--no-sync");
    if (run_program(initdb, user, layout_.root + "/initdb.log", layout_.root) != 0) {
      return failure("initdb failed: " + last_lines(layout_.root + "/initdb.log", 5));
    }
    std::ofstream conf(fs::path(layout_.data_dir) / "postgresql.conf", std::ios::app);
    conf << "\n# skyd: its own settings, rewritten at every start\ninclude_if_exists = "
            "'skyd.conf'\n";
  }
  std::string data_major = read_file(version_file);
  data_major.erase(std::remove(data_major.begin(), data_major.end(), '\n'), data_major.end());
  if (data_major != bin_major) {
    return failure("the cluster in " + layout_.data_dir + " is PostgreSQL " + data_major +
                   " but the server found is " + bin_major + " (" + bin_dir_ + ")");
  }

  {
    // Unix socket only, in a directory only the server's user (and root) can enter.
    const fs::path conf_path = fs::path(layout_.data_dir) / "skyd.conf";
    std::ofstream conf(conf_path, std::ios::trunc);
    conf << "listen_addresses = ''\n"
         << "unix_socket_directories = " << conf_quote(layout_.socket_dir) << "\n"
         << "unix_socket_permissions = 0700\n"
         << "port = " << options_.port << "\n";
    if (!options_.fsync) {
      conf << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
    }
    conf.close();
    if (user) ::chown(conf_path.c_str(), user->uid, user->gid);
  }

  const std::string ctl_log = layout_.root + "/pg_ctl.log";
  const int status = run_program({bin_dir_ + "/pg_ctl", "-D", layout_.data_dir, "status"}, user,
                                 ctl_log, layout_.root);
  if (status == 0) {
    log->info("embedded postgres already running; adopting it data={}", layout_.data_dir);
    postmaster_pid_ = read_postmaster_pid(layout_.data_dir);
  } else {
    log->info("embedded postgres starting data={} socket_dir={}", layout_.data_dir,
              layout_.socket_dir);
    clear_leftovers();  // of a server that died with the skyd before this one
    if (auto started = start_server(); !started) return started.error();
  }
  running_ = true;

  // Blocking libpq here is fine: this is start-up, before any shard runs job work.
  const std::string admin = "host=" + conninfo_quote(layout_.socket_dir) +
                            " port=" + std::to_string(options_.port) +
                            " user=postgres dbname=postgres connect_timeout=10";
  PGconn* conn = PQconnectdb(admin.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    const char* values[] = {options_.database.c_str()};
    PGresult* exists = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1,
                                    nullptr, values, nullptr, nullptr, 0);
    const bool found = PQresultStatus(exists) == PGRES_TUPLES_OK && PQntuples(exists) == 1;
    if (PQresultStatus(exists) != PGRES_TUPLES_OK) error = PQresultErrorMessage(exists);
    PQclear(exists);
    if (error.empty() && !found) {
      char* quoted = PQescapeIdentifier(conn, options_.database.c_str(), options_.database.size());
      const std::string create = std::string("CREATE DATABASE ") + quoted;
      PQfreemem(quoted);
      PGresult* created = PQexec(conn, create.c_str());
      if (PQresultStatus(created) != PGRES_COMMAND_OK) error = PQresultErrorMessage(created);
      PQclear(created);
    }
  }
  PQfinish(conn);
  if (!error.empty()) return failure("preparing database " + options_.database + ": " + error);

  conninfo_ = "host=" + conninfo_quote(layout_.socket_dir) +
              " port=" + std::to_string(options_.port) +
              " user=postgres dbname=" + conninfo_quote(options_.database);
  log->info("embedded postgres ready socket_dir={} database={}", layout_.socket_dir,
            options_.database);
  return conninfo_;
}

Result<void> EmbeddedPostgres::start_server() {
  const std::vector<std::string> start = {bin_dir_ + "/pg_ctl",
                                          "-D",
                                          layout_.data_dir,
                                          "-l",
                                          layout_.log_file,
                                          "-w",
                                          "-t",
                                          std::to_string(options_.start_timeout.count()),
                                          "start"};
  if (run_program(start, user_, layout_.root + "/pg_ctl.log", layout_.root) != 0) {
    return failure("server did not start: " + last_lines(layout_.log_file, 5));
  }
  postmaster_pid_ = read_postmaster_pid(layout_.data_dir);
  return {};
}

void EmbeddedPostgres::clear_leftovers() {
  const auto left = server_processes(bin_dir_ + "/postgres", layout_.data_dir);
  for (const pid_t pid : left) ::kill(pid, SIGKILL);
  // Killed processes detach from the shared memory as they exit (a zombie holds none).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_processes(bin_dir_ + "/postgres", layout_.data_dir).empty() &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the supervisor's own thread
  }
  if (!left.empty()) {
    logger("store")->warn("embedded postgres leftovers killed processes={} data={}", left.size(),
                          layout_.data_dir);
  }
  // No process works on the data any more, so a postmaster.pid (and the socket's lock file) is
  // stale even when its pid is still taken -- by the dead postmaster's zombie, or another process.
  std::error_code ignored;
  fs::remove(fs::path(layout_.data_dir) / "postmaster.pid", ignored);
  fs::remove(fs::path(layout_.socket_dir) / (".s.PGSQL." + std::to_string(options_.port) + ".lock"),
             ignored);
}

void EmbeddedPostgres::supervise(DatabaseHealth& health) {
  if (supervisor_.joinable() || !running_) return;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  supervisor_ = std::thread([this, &health] { watch(&health); });
}

void EmbeddedPostgres::end_supervision() {
  if (!supervisor_.joinable()) return;
  const std::uint64_t one = 1;
  (void)::write(stop_fd_, &one, sizeof one);
  supervisor_.join();
  ::close(stop_fd_);
  stop_fd_ = -1;
}

void EmbeddedPostgres::watch(DatabaseHealth* health) {
  auto log = logger("store");
  static auto& restarts = metrics::registry()
                              .counter("skyd_database_restarts_total",
                                       "Restarts of the embedded PostgreSQL after it died", {})
                              .with();
  Backoff backoff(options_.restart_backoff);
  auto up_since = std::chrono::steady_clock::now();
  for (;;) {
    const int pid = postmaster_pid_;
    if (!wait_for_exit(pid, stop_fd_)) return;
    const auto died = std::chrono::steady_clock::now();
    if (died - up_since >= std::chrono::minutes(1)) backoff.reset();
    postmaster_pid_ = -1;
    log->error("embedded postgres exited unexpectedly pid={} data={}; restarting it", pid,
               layout_.data_dir);
    health->set_down(DatabaseHealth::Source::kServer, "the embedded PostgreSQL server (pid " +
                                                          std::to_string(pid) +
                                                          ") exited; skyd is restarting it");
    for (int attempt = 1;; ++attempt) {
      if (wait_for_stop(stop_fd_, backoff.next_delay())) return;
      clear_leftovers();
      auto started = start_server();
      if (started) break;
      log->warn("embedded postgres restart failed attempt={} error=\"{}\"", attempt,
                started.error().message());
      health->set_down(DatabaseHealth::Source::kServer,
                       "the embedded PostgreSQL server exited and restarting it failed " +
                           std::to_string(attempt) + " times: " + started.error().message());
    }
    up_since = std::chrono::steady_clock::now();
    restarts.inc();
    log->warn("embedded postgres restarted pid={} down_ms={}", postmaster_pid_.load(),
              std::chrono::duration_cast<std::chrono::milliseconds>(up_since - died).count());
    health->set_up(DatabaseHealth::Source::kServer);
  }
}

Result<void> EmbeddedPostgres::stop() {
  end_supervision();
  if (!running_) return {};
  const std::optional<ServerAccount>& user = user_;
  const std::string ctl_log = layout_.root + "/pg_ctl.log";
  // pg_ctl status exits 3 when no server runs on the data directory (someone stopped it).
  int status = run_program({bin_dir_ + "/pg_ctl", "-D", layout_.data_dir, "status"}, user, ctl_log,
                           layout_.root);
  if (status == 3) {
    running_ = false;
    postmaster_pid_ = -1;
    return {};
  }
  status = run_program(
      {bin_dir_ + "/pg_ctl", "-D", layout_.data_dir, "-m", "fast", "-w", "-t", "60", "stop"}, user,
      ctl_log, layout_.root);
  if (status != 0) {
    logger("store")->warn("embedded postgres fast stop failed; stopping immediately");
    status = run_program(
        {bin_dir_ + "/pg_ctl", "-D", layout_.data_dir, "-m", "immediate", "-w", "-t", "30", "stop"},
        user, ctl_log, layout_.root);
  }
  if (status != 0) return failure("server did not stop: " + last_lines(ctl_log, 5));
  running_ = false;
  postmaster_pid_ = -1;
  logger("store")->info("embedded postgres stopped data={}", layout_.data_dir);
  return {};
}

}  // namespace skyd::store
