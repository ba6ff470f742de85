#include "daemon/daemon.hpp"

#include "daemon/api.hpp"
#include "daemon/version.hpp"
#include "reactor/log.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/signals.hpp"
#include "reactor/systemd.hpp"

#include <grp.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace skyd::daemon {
namespace {

Result<void> prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return make_error(boost::system::error_code(ec.value(), boost::system::system_category()),
                            "cannot create the state directory " + dir);
  return {};
}

Result<http::UnixSocketOptions> socket_options(const DaemonConfig& config) {
  http::UnixSocketOptions options;
  options.mode = 0660;
  if (!config.socket_group.empty()) {
    const group* found = ::getgrnam(config.socket_group.c_str());
    if (!found) return make_error(NetErrc::kBadUrl, "socket group '" + config.socket_group + "' does not exist");
    options.group = found->gr_gid;
  }
  return options;
}

Task<int> wait_for_stop() { co_return co_await wait_for_stop_signal(); }

}  // namespace

int run_daemon(const DaemonConfig& config) {
  if (auto prepared = prepare_state_dir(config.state_dir); !prepared) {
    std::cerr << "skyd: " << prepared.error().message() << "\n";
    return 1;
  }
  init_logging(LogOptions{.level = config.log_level,
                          .file = config.state_dir + "/logs/skyd.log",
                          .timestamps = std::getenv("JOURNAL_STREAM") == nullptr});
  auto log = logger("skyd");

  ShardPool pool(config.shards);
  DaemonInfo info{kVersion, config.state_dir, pool.size(), Clock::now()};
  http::Server api(pool.executors(), make_api_router(info));

  auto options = socket_options(config);
  if (!options) {
    log->error("cannot start: {}", options.error().message());
    return 1;
  }
  Result<void> listening;
  const auto inherited = systemd::listen_fds();
  if (!inherited.empty()) {
    listening = api.adopt_unix_listener(inherited.front());
  } else {
    listening = api.listen_unix(config.socket, *options);
  }
  if (!listening) {
    log->error("cannot start: {}", listening.error().message());
    return 1;
  }
  api.start();
  pool.start();
  if (auto interval = systemd::watchdog_interval()) {
    auto shards = pool.executors();
    pool.spawn(0, [shards, every = *interval] { return systemd::feed_watchdog(shards, every); });
  }
  log->info("skyd ready version={} shards={} socket={} state_dir={}", kVersion, pool.size(), config.socket,
            config.state_dir);
  systemd::notify("READY=1\nSTATUS=accepting jobs");

  const int signal = pool.submit<int>(0, [] { return wait_for_stop(); }).get();
  log->info("skyd stopping signal={}", signal);
  systemd::notify("STOPPING=1");
  pool.submit<void>(0, [&api] { return api.drain(std::chrono::seconds(10)); }).get();
  pool.stop();
  if (inherited.empty()) std::filesystem::remove(config.socket);  // systemd owns an inherited one
  log->info("skyd stopped");
  return 0;
}

}  // namespace skyd::daemon
