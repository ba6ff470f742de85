#include "reactor/systemd.hpp"
#include "tests/support/test_support.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace skyd {
namespace {

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  std::string receive() {
    char buffer[256];
    const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
    return got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(Systemd, NotifySendsTheStateToNotifySocket) {
  testing::TempDir dir;
  NotifySocket systemd(dir.file("notify"));
  EXPECT_TRUE(systemd::notify("READY=1"));
  EXPECT_EQ(systemd.receive(), "READY=1");
}

TEST(Systemd, NotifyWithoutNotifySocketIsANoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(systemd::notify("READY=1"));
}

TEST(Systemd, WatchdogIntervalIsHalfOfWatchdogUsec) {
  ::setenv("WATCHDOG_USEC", "2000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  auto interval = systemd::watchdog_interval();
  ASSERT_TRUE(interval);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*interval).count(), 1000);
  ::setenv("WATCHDOG_PID", "1", 1);
  EXPECT_FALSE(systemd::watchdog_interval()) << "another process's watchdog is not ours";
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

TEST(Systemd, ListenFdsStartAtThreeForThisProcess) {
  ::setenv("LISTEN_FDS", "2", 1);
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(systemd::listen_fds(), (std::vector<int>{3, 4}));
  ::setenv("LISTEN_PID", "1", 1);
  EXPECT_TRUE(systemd::listen_fds().empty());
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
}

}  // namespace
}  // namespace skyd
