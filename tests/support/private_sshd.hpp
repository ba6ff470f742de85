#pragma once
// An sshd of a test's own on 127.0.0.1 (Debian's openssh-server), standing in for a controller VM
// that `sky --host ssh://...` reaches with the system ssh client. Needs root (privilege
// separation) and /usr/sbin/sshd.

#include "tests/support/skyd_harness.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

namespace skyd::testing {

inline int unused_loopback_port() {
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

inline void write_text(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

inline std::string current_user() {
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
    std::filesystem::create_directories(file("keys"));
    ::chmod(file("keys").c_str(), 0755);
    const std::string client_key = read_text(file("client_key.pub"));
    for (const auto& user : users) write_text(file("keys/" + user), client_key);
    const std::string bin = std::filesystem::path(binary_path("skyd")).parent_path().string();
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
    std::filesystem::create_directories("/run/sshd");  // privilege separation's empty root
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
    for (const auto& entry : std::filesystem::directory_iterator(home + "/.sky/ssh", ignored_))
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
  // The private key the server accepts for every user.
  std::string client_key() const { return file("client_key"); }

 private:
  std::string file(const std::string& name) const { return dir_.file(name); }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> sshd_;
  std::vector<std::string> homes_;
  std::error_code ignored_;
};

// A test with a "laptop": its own HOME (in memory, /dev/shm, where it can: large files there do
// not compete with skyd's database for the disk) from which `sky` reaches a PrivateSshd. Skipped
// with a message without root or OpenSSH.
class SshClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd's privilege separation";
    if (!std::filesystem::exists("/usr/sbin/sshd") || !std::filesystem::exists("/usr/bin/ssh"))
      GTEST_SKIP() << "needs OpenSSH's client and server (openssh-client, openssh-server)";
  }

  CommandResult sky(const std::map<std::string, std::string>& env, std::vector<std::string> args) {
    args.insert(args.begin(), binary_path("sky"));
    return run_command(args, env, std::chrono::seconds(120));
  }

  static std::string laptop_base() { return ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"; }

  TempDir laptop_{laptop_base()};
};

}  // namespace skyd::testing
