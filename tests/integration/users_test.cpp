// Jobs run as the user who submitted them. Two (three) real unprivileged users made for the test
// share one skyd through its socket group: a job runs with its submitter's uid and groups, in a
// sandbox only they can enter, from files `sky` read with their rights; others see the job but
// cannot cancel it or read its logs, unless they are in the admin group. Needs root (to make the
// users and to let skyd switch to them); skipped with a message otherwise.
#include "reactor/crypto.hpp"
#include "tests/support/skyd_harness.hpp"
#include "tests/support/test_users.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

// A file of `user`'s, readable by them alone.
std::string write_as(const TestUser& user, const std::string& name, const std::string& text) {
  const std::string path = user.home + "/" + name;
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  for (fs::path at = path; at != user.home; at = at.parent_path())
    ::chown(at.c_str(), user.uid, user.gid);
  ::chmod(path.c_str(), 0600);
  return path;
}

class Users : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: it makes users and groups for the test";
    if (!fs::exists("/usr/sbin/useradd") || !fs::exists("/usr/bin/setpriv"))
      GTEST_SKIP() << "needs useradd and setpriv (passwd, util-linux)";
    users_ = std::make_unique<TestUsers>();
    const std::string members = users_->group("s");
    const std::string admins = users_->group("m");
    skyd_ = std::make_unique<SkydHarness>(
        std::map<std::string, std::string>{{"socket_group", members}, {"admin_group", admins}});
    // The test's own directory: the users keep their files below it.
    ::chmod(skyd_->dir().c_str(), 0711);
    alice_ = users_->user("a", {members}, skyd_->dir());
    bob_ = users_->user("b", {members}, skyd_->dir());
    carol_ = users_->user("c", {members, admins}, skyd_->dir());
  }
  void TearDown() override {
    if (skyd_) skyd_.reset();  // cancels what is left while the users still exist
    users_.reset();
  }

  long long launch_as(const TestUser& user, const std::string& yaml) {
    auto launched = sky_as(user, skyd_->socket(), {"jobs", "launch", "-y", "-d", yaml});
    EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
    const auto at = launched.out.find("Managed Job ID: ");
    return at == std::string::npos ? -1 : std::atoll(launched.out.c_str() + at + 16);
  }

  std::unique_ptr<TestUsers> users_;
  std::unique_ptr<SkydHarness> skyd_;
  TestUser alice_, bob_, carol_;
};

TEST_F(Users, AJobRunsAsItsSubmitterInASandboxOnlyTheyCanEnter) {
  write_as(alice_, "work/secret.txt", "alice's secret\n");
  const auto yaml = write_as(
      alice_, "job.yaml",
      "name: whoami\nresources:\n  infra: local\nworkdir: " + alice_.home +
          "/work\nrun: |\n  echo uid=$(id -u) gid=$(id -g)\n  cat secret.txt\n"
          "  if cat /etc/shadow > /dev/null 2>&1; then echo shadow-read; else echo shadow-denied; "
          "fi\n  stat -c 'home %a %u' $HOME\n  touch $HOME/made-by-job; sleep 1000\n");
  const long long id = launch_as(alice_, yaml);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(skyd_->wait_for_status(id, {"RUNNING"}));
  const std::string home =
      skyd_->state_dir() + "/local/clusters/whoami-" + std::to_string(id) + "/node-0/home";
  ASSERT_TRUE(skyd_->wait_for_file(home + "/made-by-job"));
  auto logs = sky_as(alice_, skyd_->socket(), {"jobs", "logs", "--no-follow", std::to_string(id)});
  EXPECT_TRUE(contains(logs.out,
                       "uid=" + std::to_string(alice_.uid) + " gid=" + std::to_string(alice_.gid)))
      << logs.out << logs.err;
  EXPECT_TRUE(contains(logs.out, "alice's secret")) << "the workdir came from alice's upload";
  EXPECT_TRUE(contains(logs.out, "shadow-denied")) << logs.out;
  EXPECT_TRUE(contains(logs.out, "home 700 " + std::to_string(alice_.uid))) << logs.out;
  struct stat made {};
  ASSERT_EQ(::stat((home + "/made-by-job").c_str(), &made), 0);
  EXPECT_EQ(made.st_uid, alice_.uid) << "what the job writes is alice's";
  // Bob, on the same host, cannot look into alice's machine.
  auto peek = run_command({"/usr/bin/setpriv", "--reuid=" + std::to_string(bob_.uid),
                           "--regid=" + std::to_string(bob_.gid), "--init-groups", "/bin/cat",
                           home + "/sky_workdir/secret.txt"});
  EXPECT_NE(peek.exit_code, 0) << peek.out;
  EXPECT_EQ(sky_as(alice_, skyd_->socket(), {"jobs", "cancel", "-y", std::to_string(id)}).exit_code,
            0);
}

TEST_F(Users, AWorkdirTheSubmitterCannotReadIsRefusedAndNothingIsSubmitted) {
  const std::string private_dir = skyd_->dir() + "/root-only";
  fs::create_directories(private_dir);
  std::ofstream(private_dir + "/key") << "root's key\n";
  ::chmod(private_dir.c_str(), 0700);
  const auto yaml = write_as(
      alice_, "steal.yaml",
      "name: steal\nresources:\n  infra: local\nworkdir: " + private_dir + "\nrun: cat key\n");
  auto launched = sky_as(alice_, skyd_->socket(), {"jobs", "launch", "-y", "-d", yaml});
  EXPECT_NE(launched.exit_code, 0) << launched.out;
  EXPECT_TRUE(contains(launched.err, "cannot be read by this user") ||
              contains(launched.err, "cannot read"))
      << launched.err;
  auto queue = sky_as(alice_, skyd_->socket(), {"jobs", "queue"});
  EXPECT_FALSE(contains(queue.out, "steal")) << queue.out;
}

TEST_F(Users, OnlyTheOwnerOrTheAdminGroupMayCancelAJobOrReadItsLogs) {
  const auto yaml = write_as(alice_, "long.yaml",
                             "name: long\nresources:\n  infra: local\nrun: echo started; sleep "
                             "1000\n");
  const long long id = launch_as(alice_, yaml);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(skyd_->wait_for_status(id, {"RUNNING"}));
  const std::string job = std::to_string(id);
  auto seen = sky_as(bob_, skyd_->socket(), {"jobs", "queue", "-u"});
  EXPECT_TRUE(contains(seen.out, "long")) << "every user sees every job: " << seen.out;
  auto logs = sky_as(bob_, skyd_->socket(), {"jobs", "logs", "--no-follow", job});
  EXPECT_NE(logs.exit_code, 0);
  EXPECT_TRUE(contains(logs.err, "only they or a member of the admin group")) << logs.err;
  auto cancel = sky_as(bob_, skyd_->socket(), {"jobs", "cancel", "-y", job});
  EXPECT_NE(cancel.exit_code, 0);
  EXPECT_EQ(skyd_->job_status(id), "RUNNING");
  auto admin_logs = sky_as(carol_, skyd_->socket(), {"jobs", "logs", "--no-follow", job});
  EXPECT_TRUE(contains(admin_logs.out, "started")) << admin_logs.out << admin_logs.err;
  EXPECT_EQ(sky_as(carol_, skyd_->socket(), {"jobs", "cancel", "-y", job}).exit_code, 0);
  EXPECT_TRUE(skyd_->wait_for_status(id, {"CANCELLED"}));
}

}  // namespace
}  // namespace skyd::testing
