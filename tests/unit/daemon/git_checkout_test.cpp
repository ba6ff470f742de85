// The checkout lines a git workdir puts before the task's setup, run by bash against a local
// repository: the ref is checked out, and nothing of the user's strings is run by the shell.
#include "daemon/controller/git_checkout.hpp"
#include "tests/support/git_repo.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace skyd::daemon {
namespace {

using testing::TempDir;

class GitCheckout : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/git")) GTEST_SKIP() << "needs git";
    testing::make_versioned_repo(dir_.file("source"));
    std::filesystem::create_directories(dir_.file("node"));
  }

  // Runs the checkout in the "node's" working directory.
  testing::CommandResult run_checkout(const spec::GitWorkdir& workdir, GitDeadlines deadlines) {
    const std::string script = dir_.file("setup.sh");
    std::ofstream(script) << git_checkout_script(workdir, deadlines) << "echo checked-out\n";
    return testing::run_command(
        {"/bin/bash", "-c", "cd " + dir_.file("node") + " && bash " + script});
  }
  int checkout(const spec::GitWorkdir& workdir) { return run_checkout(workdir, {}).exit_code; }

  std::string version() { return testing::read_text(dir_.file("node/version.txt")); }

  TempDir dir_;
};

TEST_F(GitCheckout, TheRefIsCheckedOutAndTheRemotesHeadWithoutOne) {
  ASSERT_EQ(checkout({dir_.file("source"), "v1"}), 0);
  EXPECT_EQ(version(), "v1\n");
  ASSERT_EQ(checkout({dir_.file("source"), std::nullopt}), 0) << "a second checkout in place";
  EXPECT_EQ(version(), "main-2\n");
}

TEST_F(GitCheckout, TheUsersStringsAreNeverRunByTheShell) {
  const std::string marker = dir_.file("ran");
  EXPECT_NE(checkout({dir_.file("source"), "$(touch${IFS}" + marker + ")"}), 0);
  EXPECT_NE(checkout({dir_.file("source") + "';touch${IFS}" + marker + ";'", "v1"}), 0);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

// A loopback port whose connections the kernel accepts and nobody ever answers: a git host that
// hangs after the TCP handshake.
class SilentPort {
 public:
  SilentPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    if (::bind(fd_, generic, length) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, generic, &length) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(address.sin_port);
  }
  ~SilentPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

TEST_F(GitCheckout, AHostThatNeverAnswersFailsTheCheckoutWithinItsDeadlines) {
  SilentPort silent;
  const GitDeadlines short_deadlines{.connect_seconds = 2, .stall_seconds = 2};
  const std::string port = std::to_string(silent.port());
  for (const std::string& url :
       {"ssh://git@127.0.0.1:" + port + "/repo.git", "http://127.0.0.1:" + port + "/repo.git"}) {
    const auto done = run_checkout({url, "v1"}, short_deadlines);
    EXPECT_NE(done.exit_code, 0) << url;
    // The script's own failure line: it gave up by itself, not killed by run_command's limit.
    EXPECT_NE(done.err.find("cannot check out the git workdir"), std::string::npos)
        << url << ": " << done.err;
  }
}

}  // namespace
}  // namespace skyd::daemon
