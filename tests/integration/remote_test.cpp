// `sky` reaching a skyd on another machine over SSH: a private sshd on loopback plays the
// controller VM, the system's ssh client is the laptop's. Every call goes through
// `ssh HOST skyd dial-stdio`, on one shared SSH connection per host; the daemon sees the SSH user
// as the peer. Needs OpenSSH's server (installed by scripts/install-deps.sh) and root (sshd's
// privilege separation, and users made for the test); skipped with a message otherwise.
#include "tests/support/skyd_harness.hpp"
#include "tests/support/test_users.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

int unused_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

void write_text(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

std::string without_digits(std::string text) {
  for (char& c : text)
    if (std::isdigit(static_cast<unsigned char>(c))) c = '#';
  return text;
}

std::string current_user() {
  return ::getpwuid(::geteuid())->pw_name;
}

// An sshd of the test's own on 127.0.0.1, with its own host key, taking one client key for every
// user. Its sessions find skyd's binaries and socket through SetEnv, as a controller VM's PATH
// and default socket would.
class PrivateSshd {
 public:
  PrivateSshd(const std::string& socket, std::vector<std::string> users) {
    ::chmod(dir_.path().c_str(), 0711);  // users read their authorized keys below it
    run_command({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file("host_key")});
    run_command({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file("client_key")});
    fs::create_directories(file("keys"));
    ::chmod(file("keys").c_str(), 0755);
    const std::string client_key = read_text(file("client_key.pub"));
    for (const auto& user : users) write_text(file("keys/" + user), client_key);
    const std::string bin = fs::path(binary_path("skyd")).parent_path().string();
    port_ = unused_loopback_port();
    write_text(file("sshd_config"),
               "Port " + std::to_string(port_) + "\nListenAddress 127.0.0.1\nHostKey " +
                   file("host_key") + "\nPidFile " + file("sshd.pid") + "\nAuthorizedKeysFile " +
                   file("keys/%u") +
                   "\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                   "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                   "LogLevel VERBOSE\nSetEnv SKYD_SOCKET=" +
                   socket + " PATH=" + bin + ":/usr/bin:/bin\n");
    write_text(file("known_hosts"),
               "[127.0.0.1]:" + std::to_string(port_) + " " + read_text(file("host_key.pub")));
    write_text(file("ssh_config"), "Host *\n  IdentityFile " + file("client_key") +
                                       "\n  IdentitiesOnly yes\n  UserKnownHostsFile " +
                                       file("known_hosts") +
                                       "\n  StrictHostKeyChecking yes\n  BatchMode yes\n");
    ::chmod(file("client_key").c_str(), 0600);
    fs::create_directories("/run/sshd");  // privilege separation's empty root
    sshd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-f", file("sshd_config"), "-E",
                                 file("sshd.log")},
        std::map<std::string, std::string>{}, file("sshd.out"));
    for (int i = 0; i < 100 && !contains(read_text(file("sshd.log")), "Server listening"); ++i)
      ::usleep(50'000);
  }
  // The shared connections outlive each `sky`: they end with the server.
  ~PrivateSshd() {
    for (const auto& home : homes_) drop_shared_connections(home);
  }

  // Ends the shared SSH connections of the client whose HOME is `home`, as a network fault would.
  void drop_shared_connections(const std::string& home) {
    for (const auto& entry : fs::directory_iterator(home + "/.sky/ssh", ignored_))
      run_command({"/usr/bin/ssh", "-F", file("ssh_config"), "-o",
                   "ControlPath=" + entry.path().string(), "-O", "exit", "127.0.0.1"});
  }

  std::string url(const std::string& user) const {
    return "ssh://" + user + "@127.0.0.1:" + std::to_string(port_);
  }
  // `sky ARGS...` on the "laptop": its own HOME, the test's ssh configuration.
  std::map<std::string, std::string> client_env(const std::string& home) {
    homes_.push_back(home);
    return {{"HOME", home}, {"SKYD_SSH_COMMAND", "/usr/bin/ssh -F " + file("ssh_config")}};
  }
  // How many SSH connections the server accepted.
  int logins() const {
    const std::string log = read_text(file("sshd.log"));
    int count = 0;
    for (auto at = log.find("Accepted publickey"); at != std::string::npos;
         at = log.find("Accepted publickey", at + 1))
      ++count;
    return count;
  }
  std::string log() const { return read_text(file("sshd.log")); }

 private:
  std::string file(const std::string& name) const { return dir_.file(name); }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> sshd_;
  std::vector<std::string> homes_;
  std::error_code ignored_;
};

class RemoteUse : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd's privilege separation";
    if (!fs::exists("/usr/sbin/sshd") || !fs::exists("/usr/bin/ssh"))
      GTEST_SKIP() << "needs OpenSSH's client and server (openssh-client, openssh-server)";
  }

  CommandResult sky(const std::map<std::string, std::string>& env, std::vector<std::string> args) {
    args.insert(args.begin(), binary_path("sky"));
    return run_command(args, env, std::chrono::seconds(120));
  }

  TempDir laptop_;
};

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

TEST_F(RemoteUse, ALargeWorkdirUploadResumesAfterTheConnectionDrops) {
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  auto env = sshd.client_env(laptop_.path());
  env["SKYD_HOST"] = sshd.url(current_user());
  fs::create_directories(laptop_.file("data"));
  ASSERT_EQ(run_command({"/bin/sh", "-c",
                         "head -c 104857600 /dev/urandom > " + laptop_.file("data/big.bin")})
                .exit_code,
            0);
  const std::string digest =
      run_command({"/usr/bin/md5sum", laptop_.file("data/big.bin")}).out.substr(0, 32);
  write_text(laptop_.file("big.yaml"), "resources:\n  infra: local\nworkdir: " +
                                           laptop_.file("data") + "\nrun: md5sum big.bin\n");

  const std::string printed = laptop_.file("launch.out");
  ChildProcess launch({binary_path("sky"), "jobs", "launch", "-y", laptop_.file("big.yaml")}, env,
                      printed);
  // Once part of the archive has arrived, the connection goes away under the upload.
  const std::string partial = skyd.state_dir() + "/incoming/partial";
  bool dropped = false;
  for (int i = 0; i < 3000 && !dropped; ++i) {
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(partial, ec))
      if (entry.is_regular_file(ec) && entry.file_size(ec) >= (8u << 20)) dropped = true;
    if (dropped)
      sshd.drop_shared_connections(laptop_.path());
    else
      ::usleep(10'000);
  }
  ASSERT_TRUE(dropped) << read_text(printed);
  ASSERT_EQ(launch.wait(std::chrono::seconds(120)), 0) << read_text(printed);
  const std::string out = read_text(printed);
  EXPECT_TRUE(contains(out, "Uploading workdir")) << out;
  EXPECT_TRUE(contains(out, "100 / 100 MiB (100%)")) << out;
  EXPECT_TRUE(contains(out, digest + "  big.bin")) << out;
  EXPECT_GE(sshd.logins(), 2) << "the upload went on over a new connection";
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
    EXPECT_TRUE(contains(queue.out, "\"user\":\"" + user.name + "\"")) << queue.out;
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
