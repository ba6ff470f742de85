// The checkout lines a git workdir puts before the task's setup, run by bash against a local
// repository: the ref is checked out, and nothing of the user's strings is run by the shell.
#include "daemon/controller/git_checkout.hpp"
#include "tests/support/git_repo.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

  // Runs the checkout in the "node's" working directory; its exit code.
  int checkout(const spec::GitWorkdir& workdir) {
    const std::string script = dir_.file("setup.sh");
    std::ofstream(script) << git_checkout_script(workdir) << "echo checked-out\n";
    return testing::run_command(
               {"/bin/bash", "-c", "cd " + dir_.file("node") + " && bash " + script})
        .exit_code;
  }

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

}  // namespace
}  // namespace skyd::daemon
