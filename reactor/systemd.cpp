#include "reactor/systemd.hpp"

#include "reactor/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace skyd::systemd {

bool notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(path);
  if (length >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path, length);
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                             reinterpret_cast<const sockaddr*>(&address),
                             static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length));
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

namespace {
bool meant_for_this_process(const char* pid_variable) {
  const char* pid = std::getenv(pid_variable);
  return !pid || std::strtol(pid, nullptr, 10) == ::getpid();
}
}  // namespace

std::optional<Duration> watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (!usec || !meant_for_this_process("WATCHDOG_PID")) return std::nullopt;
  const long long micros = std::strtoll(usec, nullptr, 10);
  if (micros <= 0) return std::nullopt;
  return std::chrono::microseconds(micros / 2);
}

std::vector<int> listen_fds() {
  std::vector<int> fds;
  const char* count = std::getenv("LISTEN_FDS");
  if (!count || !std::getenv("LISTEN_PID") || !meant_for_this_process("LISTEN_PID")) return fds;
  const long n = std::strtol(count, nullptr, 10);
  for (long i = 0; i < n; ++i) fds.push_back(3 + static_cast<int>(i));
  return fds;
}

Task<void> feed_watchdog(std::vector<asio::any_io_executor> shards, Duration interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto answered = std::make_shared<std::atomic<std::size_t>>(shards.size());
  for (;;) {
    if (answered->load() == shards.size()) {
      notify("WATCHDOG=1");
    } else {
      logger("reactor")->warn("watchdog withheld: a shard did not answer shards_answered={}/{}",
                              answered->load(), shards.size());
    }
    answered->store(0);
    for (auto& shard : shards) asio::post(shard, [answered] { ++*answered; });
    timer.expires_after(interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace skyd::systemd
