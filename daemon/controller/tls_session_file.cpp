#include "daemon/controller/tls_session_file.hpp"

#include "reactor/blocking.hpp"
#include "reactor/log.hpp"
#include "reactor/small_files.hpp"

#include <boost/asio/steady_timer.hpp>

#include <sys/stat.h>

#include <cerrno>

namespace skyd::daemon {
namespace {

// Saved this often while they change; loaded ones no connection took by then are dropped.
constexpr auto kSaveEvery = std::chrono::seconds(5);
constexpr auto kLoadedUnusedFor = std::chrono::minutes(10);

}  // namespace

std::string tls_session_path(const std::string& state_dir, std::size_t shard) {
  return state_dir + "/tls-sessions/shard-" + std::to_string(shard);
}

Task<void> save_tls_sessions(http::Client& client, std::string path) {
  std::function<Result<void>()> write = [path, bytes = client.pinned_sessions().save()] {
    const std::string directory = path.substr(0, path.rfind('/'));
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
      return Result<void>(make_error(
          boost::system::error_code(errno, boost::system::system_category()), directory));
    return write_small_file(path, bytes);
  };
  auto written = co_await run_blocking<Result<void>>(std::move(write));
  if (!written)
    logger("controller")->warn("cannot save TLS sessions error=\"{}\"", written.error().message());
}

Task<void> keep_tls_sessions(http::Client& client, std::string path) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto drop_unused_at = Clock::now() + kLoadedUnusedFor;
  bool dropped = false;
  std::uint64_t saved = client.pinned_sessions().changes();
  for (;;) {
    pause.expires_after(kSaveEvery);
    co_await pause.async_wait(asio::use_awaitable);
    if (!dropped && Clock::now() >= drop_unused_at) {
      client.pinned_sessions().drop_unused_loaded();
      dropped = true;
    }
    const std::uint64_t changes = client.pinned_sessions().changes();
    if (changes == saved) continue;
    saved = changes;
    co_await save_tls_sessions(client, path);
  }
}

}  // namespace skyd::daemon
