// `sky` reaching a skyd on another machine over SSH: a private sshd on loopback plays the
// controller VM, the system's ssh client is the laptop's. Every call goes through
// `ssh HOST skyd dial-stdio`, on one shared SSH connection per host; the daemon sees the SSH user
// as the peer. Needs OpenSSH's server (installed by scripts/install-deps.sh) and root (sshd's
// privilege separation, and users made for the test); skipped with a message otherwise.
#include "tests/support/private_sshd.hpp"
#include "tests/support/test_users.hpp"

#include <signal.h>

#include <filesystem>
#include <regex>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

// Output with its clock masked: ages ("3 secs ago") and every other digit.
std::string without_digits(std::string text) {
  text = std::regex_replace(text, std::regex("[0-9]+ [a-z]+ ago"), "AGE");
  text = std::regex_replace(text, std::regex(" +"), " ");  // columns widen with the ages
  for (char& c : text)
    if (std::isdigit(static_cast<unsigned char>(c))) c = '#';
  return text;
}

using RemoteUse = SshClientTest;

TEST_F(RemoteUse, EveryCallGoesThroughSshOnOneSharedConnection) {
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  const auto env = sshd.client_env(laptop_.path());
  const std::string host = sshd.url(current_user());

  auto status = sky(env, {"--host", host, "daemon", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err << sshd.log();
  EXPECT_TRUE(contains(status.out, "skyd is running")) << status.out;
  EXPECT_TRUE(contains(status.out, host)) << status.out;
  for (int i = 0; i < 3; ++i) {
    auto queue = sky(env, {"--host", host, "jobs", "queue"});
    ASSERT_EQ(queue.exit_code, 0) << queue.out << queue.err;
    EXPECT_TRUE(contains(queue.out, "No in-progress managed jobs")) << queue.out;
  }
  EXPECT_EQ(sshd.logins(), 1) << sshd.log();
}

TEST_F(RemoteUse, EveryJobsCommandSaysOverSshWhatItSaysOnTheLocalSocket) {
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  const auto env = sshd.client_env(laptop_.path());
  const std::string host = sshd.url(current_user());
  const auto done =
      skyd.write_file("done.yaml", "name: done\nresources:\n  infra: local\nrun: echo finished\n");
  const auto failed =
      skyd.write_file("failed.yaml", "name: failed\nresources:\n  infra: local\nrun: exit 3\n");
  const auto held =
      skyd.write_file("held.yaml", "name: held\nresources:\n  infra: local\nrun: sleep 600\n");
  // Finished jobs only while comparing: a running job's durations change between two calls.
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", done}).exit_code, 0);
  skyd.sky({"jobs", "launch", "-y", failed});
  ASSERT_TRUE(skyd.wait_for_status(2, {"FAILED"}));

  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
           {"jobs", "queue"},
           {"jobs", "queue", "-a"},
           {"jobs", "queue", "-o", "json"},
           {"jobs", "logs", "1", "--no-follow"},
           {"jobs", "logs", "2", "--no-follow"},
           {"jobs", "logs", "1", "--controller", "--no-follow"}}) {
    std::vector<std::string> remote{"--host", host};
    remote.insert(remote.end(), command.begin(), command.end());
    const auto over_ssh = sky(env, remote);
    const auto local = skyd.sky(command);
    EXPECT_EQ(over_ssh.exit_code, local.exit_code) << command.back();
    // Durations tick between the two calls: compare with every digit masked.
    EXPECT_EQ(without_digits(over_ssh.out), without_digits(local.out))
        << command.back() << over_ssh.err;
    EXPECT_FALSE(over_ssh.out.empty()) << command.back();
  }
  auto launched = sky(env, {"--host", host, "jobs", "launch", "-y", "-d", held});
  ASSERT_EQ(launched.exit_code, 0) << launched.err;
  ASSERT_TRUE(skyd.wait_for_status(3, {"RUNNING"}));
  auto cancelled = sky(env, {"--host", host, "jobs", "cancel", "-y", "3"});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.out << cancelled.err;
  EXPECT_TRUE(skyd.wait_for_status(3, {"CANCELLED"}));
  EXPECT_EQ(sshd.logins(), 1) << sshd.log();
}

TEST_F(RemoteUse, AJobLaunchedFromAnotherMachineTakesItsWorkdirAndStreamsItsLogsBack) {
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  const auto env = sshd.client_env(laptop_.path());
  fs::create_directories(laptop_.file("project"));
  write_text(laptop_.file("project/data.txt"), "made on the laptop\n");
  write_text(laptop_.file("task.yaml"), "resources:\n  infra: local\nworkdir: " +
                                            laptop_.file("project") + "\nrun: cat data.txt\n");
  auto env_with_host = env;
  env_with_host["SKYD_HOST"] = sshd.url(current_user());

  auto launched =
      sky(env_with_host, {"jobs", "launch", "-y", "-n", "remote", laptop_.file("task.yaml")});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  const auto at = launched.out.find("Managed Job ID: ");
  ASSERT_NE(at, std::string::npos) << launched.out;
  const std::string id = std::to_string(std::atoll(launched.out.c_str() + at + 16));
  auto logs = sky(env_with_host, {"jobs", "logs", id, "--no-follow"});
  EXPECT_TRUE(contains(logs.out, "made on the laptop")) << logs.out << logs.err;
  auto queue = sky(env_with_host, {"jobs", "queue"});
  EXPECT_TRUE(contains(queue.out, "SUCCEEDED")) << queue.out;
}

TEST_F(RemoteUse, AContextNamesAControllerAndDefaultIsThisMachine) {
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  const auto env = sshd.client_env(laptop_.path());

  auto created = sky(env, {"context", "create", "team", "--host", sshd.url(current_user()),
                           "--description", "the team's controller"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  ASSERT_EQ(sky(env, {"context", "use", "team"}).exit_code, 0);
  auto listed = sky(env, {"context", "ls"});
  EXPECT_TRUE(contains(listed.out, "team *")) << listed.out;
  EXPECT_TRUE(contains(listed.out, "the team's controller")) << listed.out;

  auto status = sky(env, {"daemon", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_TRUE(contains(status.out, "ssh://")) << status.out;
  EXPECT_EQ(sshd.logins(), 1) << sshd.log();

  // Back on `default`, nothing goes through ssh: this machine has no skyd at the default place.
  ASSERT_EQ(sky(env, {"context", "use", "default"}).exit_code, 0);
  auto local_env = env;
  local_env["SKYD_SOCKET"] = skyd.socket();
  auto local = sky(local_env, {"daemon", "status"});
  EXPECT_EQ(local.exit_code, 0) << local.err;
  EXPECT_TRUE(contains(local.out, skyd.socket())) << local.out;
  EXPECT_EQ(sshd.logins(), 1);

  auto missing = sky(env, {"context", "use", "nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "no context 'nowhere'")) << missing.err;
}

TEST_F(RemoteUse, TwoUsersOverSshEachSeeTheirJobRunAsThemselves) {
  if (!fs::exists("/usr/sbin/useradd")) GTEST_SKIP() << "needs useradd (passwd)";
  TestUsers users;
  const std::string members = users.group("r");
  SkydHarness skyd(std::map<std::string, std::string>{{"socket_group", members}});
  ::chmod(skyd.dir().c_str(), 0711);
  const TestUser dana = users.user("d", {members}, skyd.dir());
  const TestUser eve = users.user("e", {members}, skyd.dir());
  // A system user's account is locked, and sshd lets no locked account in, even with a key.
  for (const auto& user : {dana, eve})
    ASSERT_EQ(run_command({"/usr/sbin/usermod", "-p", "*", user.name}).exit_code, 0);
  PrivateSshd sshd(skyd.socket(), {dana.name, eve.name});
  const auto env = sshd.client_env(laptop_.path());
  write_text(laptop_.file("whoami.yaml"),
             "resources:\n  infra: local\nrun: echo ran as $(id -un)\n");

  std::map<std::string, std::string> job_of;
  for (const auto& user : {dana, eve}) {
    auto launched = sky(env, {"--host", sshd.url(user.name), "jobs", "launch", "-y", "-n",
                              "who-" + user.name, laptop_.file("whoami.yaml")});
    ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err << sshd.log();
    const auto at = launched.out.find("Managed Job ID: ");
    ASSERT_NE(at, std::string::npos) << launched.out;
    job_of[user.name] = std::to_string(std::atoll(launched.out.c_str() + at + 16));
  }
  for (const auto& user : {dana, eve}) {
    auto logs =
        sky(env, {"--host", sshd.url(user.name), "jobs", "logs", job_of[user.name], "--no-follow"});
    EXPECT_TRUE(contains(logs.out, "ran as " + user.name)) << logs.out << logs.err;
    auto queue = sky(env, {"--host", sshd.url(user.name), "jobs", "queue", "-o", "json"});
    EXPECT_TRUE(contains(queue.out, "\"user_name\":\"" + user.name + "\"")) << queue.out;
  }
  // What a user may not do locally, they may not do over SSH either.
  auto others =
      sky(env, {"--host", sshd.url(eve.name), "jobs", "logs", job_of[dana.name], "--no-follow"});
  EXPECT_NE(others.exit_code, 0);
  EXPECT_TRUE(contains(others.err, "belongs to " + dana.name)) << others.out << others.err;
}

TEST_F(RemoteUse, TheDashboardOnTheControllersLoopbackIsForwardedUntilTheCommandStops) {
  SkydHarness skyd(std::map<std::string, std::string>{{"dashboard", "127.0.0.1:0"}});
  PrivateSshd sshd(skyd.socket(), {current_user()});
  auto env = sshd.client_env(laptop_.path());
  env["SKYD_HOST"] = sshd.url(current_user());
  const std::string printed = laptop_.file("dashboard.out");
  ChildProcess dashboard({binary_path("sky"), "jobs", "dashboard", "--no-browser"}, env, printed);

  std::string url;
  for (int i = 0; i < 600 && url.empty(); ++i) {
    const std::string out = read_text(printed);
    if (const auto at = out.find("Dashboard: ");
        at != std::string::npos && out.find('\n', at) != std::string::npos)
      url = out.substr(at + 11, out.find('\n', at) - at - 11);
    else
      ::usleep(50'000);
  }
  ASSERT_TRUE(url.starts_with("http://127.0.0.1:")) << read_text(printed);
  auto page = run_command({program_on_path("curl"), "-s", "-w", "\n%{http_code}", url});
  EXPECT_TRUE(contains(page.out, "<title>skyd managed jobs</title>")) << page.out;

  EXPECT_EQ(sshd.logins(), 2) << "one shared connection for the API, one for the forward";
  dashboard.signal(SIGINT);
  EXPECT_TRUE(dashboard.wait(std::chrono::seconds(10)).has_value());
  auto after =
      run_command({program_on_path("curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}", url});
  EXPECT_EQ(after.out, "000") << "the forward outlived the command";
}

TEST_F(RemoteUse, AHostThatCannotBeReachedSaysHowToCheckIt) {
  const std::map<std::string, std::string> env{
      {"HOME", laptop_.path()}, {"SKYD_SSH_COMMAND", "/usr/bin/ssh -o BatchMode=yes"}};
  auto status = sky(env, {"--host", "ssh://nobody@127.0.0.1:1", "daemon", "status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_TRUE(contains(status.err, "cannot reach skyd at ssh://nobody@127.0.0.1:1")) << status.err;
  EXPECT_TRUE(contains(status.err, "skyd dial-stdio")) << status.err;

  auto bad = sky(env, {"--host", "ssh://-oProxyCommand=x", "daemon", "status"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "may not start with '-'")) << bad.err;
}

}  // namespace
}  // namespace skyd::testing
