// `workdir: {url, ref}`: each node clones the repository into its working directory before setup,
// authenticated with the user's SSH key (GIT_SSH_KEY_PATH), over a real sshd of the test's own
// and the system's git. Real skyd, real `sky`, a local job.
#include "tests/support/git_repo.hpp"
#include "tests/support/private_sshd.hpp"

#include <filesystem>

namespace skyd::testing {
namespace {

class GitWorkdirJob : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd's privilege separation";
    if (!std::filesystem::exists("/usr/sbin/sshd") || !std::filesystem::exists("/usr/bin/git"))
      GTEST_SKIP() << "needs OpenSSH's server and git";
    sshd_ = std::make_unique<PrivateSshd>(skyd_.socket(), std::vector{current_user()});
    // A repository with a tag v1 and, on main, a later commit, served bare over ssh.
    v1_commit_ = make_versioned_repo(dir_.file("source"));
    run_git({"clone", "-q", "--bare", dir_.file("source"), dir_.file("repo.git")});
  }

  // Runs a job whose workdir is the test's repository at `ref`; what its run printed.
  CommandResult run_at(const std::string& ref_line) {
    const std::string url = sshd_->url(current_user()) + dir_.file("repo.git");
    const auto yaml = skyd_.write_file(
        "git" + std::to_string(++jobs_) + ".yaml",
        "resources:\n  infra: local\nenvs:\n  GIT_SSH_KEY_PATH: " + sshd_->client_key() +
            "\nworkdir:\n  url: " + url + "\n" + ref_line +
            "setup: echo \"setup in $(basename \"$PWD\")\"\n"
            "run: echo \"version $(cat version.txt)\"\n");
    return skyd_.sky({"jobs", "launch", "-y", yaml});
  }

  SkydHarness skyd_;
  TempDir dir_;
  std::unique_ptr<PrivateSshd> sshd_;
  std::string v1_commit_;
  int jobs_ = 0;
};

TEST_F(GitWorkdirJob, ATagIsCheckedOutBeforeSetupOverSshWithTheUsersKey) {
  const auto launched = run_at("  ref: v1\n");
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "setup in sky_workdir")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "version v1")) << launched.out;
  EXPECT_GE(sshd_->logins(), 1) << sshd_->log();
}

TEST_F(GitWorkdirJob, WithoutARefTheRemotesHeadAndACommitIdByAFullFetch) {
  auto launched = run_at("");
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "version main-2")) << launched.out;
  launched = run_at("  ref: " + v1_commit_ + "\n");
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "version v1")) << launched.out;
}

TEST_F(GitWorkdirJob, ARefTheRepositoryLacksFailsTheSetupSayingWhat) {
  const auto launched = run_at("  ref: no-such-branch\n");
  EXPECT_NE(launched.exit_code, 0) << launched.out;
  EXPECT_TRUE(contains(launched.out + launched.err, "cannot check out the git workdir"))
      << launched.out << launched.err;
  EXPECT_TRUE(contains(skyd_.sky({"jobs", "queue", "-a"}).out, "FAILED_SETUP"));
}

TEST_F(GitWorkdirJob, AKeyPathThatCannotBeReadIsRefusedBeforeSubmitNamingIt) {
  const auto yaml = skyd_.write_file("nokey.yaml",
                                     "envs:\n  GIT_SSH_KEY_PATH: /nonexistent/key\nworkdir:\n"
                                     "  url: git@example.com:org/repo.git\nrun: echo never\n");
  const auto launched = skyd_.sky({"jobs", "launch", "-y", yaml});
  EXPECT_NE(launched.exit_code, 0);
  EXPECT_TRUE(contains(launched.err, "GIT_SSH_KEY_PATH: cannot read the SSH key /nonexistent/key"))
      << launched.err;
}

}  // namespace
}  // namespace skyd::testing
