#include "daemon/controller/tls_session_file.hpp"

#include "reactor/blocking.hpp"
#include "reactor/log.hpp"

#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace skyd::daemon {
namespace {

// 65,536 sessions (TlsSessions' bound) of a few KiB each: a larger file is not one of ours.
constexpr std::size_t kLargestFile = 512u << 20;

bool write_all(int fd, const std::string& bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

// Blocking: on the pool only. Empty, or why the file could not be replaced.
std::string replace_file(const std::string& path, const std::string& bytes) {
  const std::string directory = path.substr(0, path.rfind('/'));
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) return std::strerror(errno);
  const std::string partial = path + ".partial";
  ::unlink(partial.c_str());
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  std::string failed = write_all(fd, bytes) ? "" : std::strerror(errno);
  ::close(fd);
  if (failed.empty() && ::rename(partial.c_str(), path.c_str()) != 0) failed = std::strerror(errno);
  if (!failed.empty()) ::unlink(partial.c_str());
  return failed;
}

}  // namespace

std::string tls_session_path(const std::string& state_dir, std::size_t shard) {
  return state_dir + "/tls-sessions/shard-" + std::to_string(shard);
}

std::string read_tls_sessions(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat info {};
  std::string bytes;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::size_t>(info.st_size) <= kLargestFile) {
    bytes.resize(static_cast<std::size_t>(info.st_size));
    std::size_t got = 0;
    while (got < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
  }
  ::close(fd);
  return bytes;
}

Task<void> save_tls_sessions(http::Client& client, std::string path) {
  std::function<std::string()> write = [path, bytes = client.pinned_sessions().save()] {
    return replace_file(path, bytes);
  };
  const std::string failed = co_await run_blocking<std::string>(std::move(write));
  if (!failed.empty())
    logger("controller")->warn("cannot save TLS sessions path={} error=\"{}\"", path, failed);
}

Task<void> keep_tls_sessions(http::Client& client, std::string path, Duration every,
                             Duration unused_after) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto drop_unused_at = Clock::now() + unused_after;
  bool dropped = false;
  std::uint64_t saved = client.pinned_sessions().changes();
  for (;;) {
    pause.expires_after(every);
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
