// skyd under a stand-in for systemd: a notify socket (READY, WATCHDOG, STOPPING) and socket
// activation (a pre-bound listening socket passed as fd 3 with LISTEN_FDS/LISTEN_PID), checked
// with the real skyd and the real `sky`.
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {

// A listening Unix socket that child processes inherit (no CLOEXEC), as systemd passes it.
class InheritableListener {
 public:
  explicit InheritableListener(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 64) != 0) {
      throw std::runtime_error("cannot listen on " + path);
    }
  }
  ~InheritableListener() { close(); }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

class SocketActivation : public ::testing::Test {
 protected:
  SocketActivation() {
    ::chmod(dir_.path().c_str(), 0755);  // the embedded PostgreSQL may run as `postgres`
    state_dir_ = dir_.file("state");
    std::filesystem::create_directories(state_dir_);
    ::chmod(state_dir_.c_str(), 0755);
    std::ofstream(dir_.file("skyd.yaml"))
        << "shards: 2\nlaunch_backoff: 200ms\nskylet_binary: \"" << binary_path("skylet") << "\"\n";
  }

  // Starts skyd through `sh`, which moves the listener to fd 3 and execs skyd with LISTEN_PID
  // set to its own pid -- the pid skyd will have, known only after the fork.
  void start(const InheritableListener& listener, const std::string& watchdog_usec) {
    const std::string script = "exec 3<&" + std::to_string(listener.fd()) + " " +
                               std::to_string(listener.fd()) +
                               "<&-; exec env LISTEN_PID=$$ LISTEN_FDS=1 \"$0\" \"$@\"";
    skyd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/bin/sh", "-c", script, binary_path("skyd"), "--state-dir",
                                 state_dir_, "--config", dir_.file("skyd.yaml"), "--socket",
                                 own_socket()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify_.path()},
                                           {"WATCHDOG_USEC", watchdog_usec}},
        dir_.file("skyd.log"));
  }

  std::string inherited_socket() const { return dir_.file("inherited.sock"); }
  std::string own_socket() const { return dir_.file("own.sock"); }

  CommandResult sky(const std::vector<std::string>& args) {
    std::vector<std::string> argv{binary_path("sky"), "--socket", inherited_socket()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, {}, std::chrono::seconds(120));
  }

  TempDir dir_;
  std::string state_dir_;
  NotifyListener notify_{dir_.file("notify")};
  std::unique_ptr<ChildProcess> skyd_;
};

TEST_F(SocketActivation, SkydAdoptsTheInheritedSocketAndFeedsTheWatchdog) {
  InheritableListener listener(inherited_socket());
  start(listener, "400000");  // WATCHDOG=1 every 200 ms
  listener.close();           // only skyd holds it now
  ASSERT_TRUE(notify_.wait_for("READY=1", std::chrono::seconds(60)))
      << "skyd did not become ready; see " << dir_.file("skyd.log");
  EXPECT_TRUE(notify_.wait_for("WATCHDOG=1", std::chrono::seconds(5)));
  EXPECT_TRUE(notify_.wait_for("WATCHDOG=1", std::chrono::seconds(5)));

  auto status = sky({"daemon", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("skyd is running"), std::string::npos) << status.out;
  EXPECT_FALSE(std::filesystem::exists(own_socket()))
      << "with LISTEN_FDS skyd must not bind its own socket";

  const std::string yaml = dir_.file("job.yaml");
  std::ofstream(yaml) << "name: activated\nresources:\n  infra: local\nrun: echo via fd 3\n";
  auto launched = sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_NE(launched.out.find("via fd 3"), std::string::npos) << launched.out;

  skyd_->signal(SIGTERM);
  EXPECT_TRUE(notify_.wait_for("STOPPING=1", std::chrono::seconds(30)));
  EXPECT_EQ(skyd_->wait(std::chrono::seconds(60)), 0);
  EXPECT_TRUE(std::filesystem::exists(inherited_socket()))
      << "the socket belongs to systemd: skyd must leave it in place";
}

TEST_F(SocketActivation, NoWatchdogPingsWithoutWatchdogUsec) {
  InheritableListener listener(inherited_socket());
  start(listener, "");
  listener.close();
  ASSERT_TRUE(notify_.wait_for("READY=1", std::chrono::seconds(60)));
  EXPECT_FALSE(notify_.wait_for("WATCHDOG=1", std::chrono::seconds(2)));
  skyd_->signal(SIGTERM);
  EXPECT_EQ(skyd_->wait(std::chrono::seconds(60)), 0);
}

}  // namespace
}  // namespace skyd::testing
