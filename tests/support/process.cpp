#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace skyd::testing {
namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> all;
  for (char** entry = environ; *entry; ++entry) {
    std::string text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string::npos) all[text.substr(0, eq)] = text.substr(eq + 1);
  }
  for (const auto& [key, value] : extra) all[key] = value;
  std::vector<std::string> out;
  for (const auto& [key, value] : all) out.push_back(key + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& out_file, const std::string& err_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // One file for both: one open file description, so neither stream writes over the other.
  if (err_file == out_file)
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  else
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
  auto args = argv;
  auto environment = merged_environment(env);
  auto arg_pointers = pointers(args);
  auto env_pointers = pointers(environment);
  pid_t pid = -1;
  const int failed = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                                 env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (failed) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(failed));
  return pid;
}

std::optional<int> reap(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits for the child's exit event through a pidfd (readable once the process ends).
std::optional<int> wait_pid(pid_t pid, std::chrono::milliseconds limit) {
  if (auto done = reap(pid)) return done;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) throw std::runtime_error("pidfd_open failed");
  pollfd ended{pidfd, POLLIN, 0};
  ::poll(&ended, 1, static_cast<int>(limit.count()));
  ::close(pidfd);
  return reap(pid);
}

}  // namespace

std::string binary_path(const std::string& name) {
  const char* build = std::getenv("SKYD_BUILD_DIR");
  const std::string root = build && *build ? build : "..";
  for (const char* folder : {"/daemon/", "/cli/", "/tests/", "/bench/"}) {
    const std::string candidate = root + folder + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("binary " + name + " not found under " + root);
}

std::string program_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "/usr/bin/" + name;
}

bool process_alive(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds limit) {
  char dir[] = "/tmp/skyd-cmd.XXXXXX";
  if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  const std::string out = std::string(dir) + "/out", err = std::string(dir) + "/err";
  const pid_t pid = spawn(argv, env, out, err);
  CommandResult result;
  auto status = wait_pid(pid, limit);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_pid(pid, std::chrono::seconds(5));
  }
  result.exit_code = status.value_or(-1);
  result.out = read_text(out);
  result.err = read_text(err);
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  ::rmdir(dir);
  return result;
}

std::string read_ready_message(int fd, std::chrono::milliseconds limit) {
  pollfd ready{fd, POLLIN, 0};
  ::poll(&ready, 1, static_cast<int>(limit.count()));
  char buffer[64] = {};
  const auto n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           const std::string& log_file)
    : pid_(spawn(argv, env, log_file, log_file)) {}

ChildProcess::~ChildProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    wait_pid(pid_, std::chrono::seconds(10));
  }
}

void ChildProcess::signal(int number) {
  if (!status_) ::kill(pid_, number);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds limit) {
  if (!status_) status_ = wait_pid(pid_, limit);
  return status_;
}

NotifyListener::NotifyListener(std::string path) : path_(std::move(path)) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("cannot bind notify socket " + path_);
  }
}

NotifyListener::~NotifyListener() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::optional<std::string> NotifyListener::receive(std::chrono::milliseconds limit) {
  pollfd ready{fd_, POLLIN, 0};
  if (::poll(&ready, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
  char buffer[4096];
  const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
  if (got <= 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(got));
}

bool NotifyListener::wait_for(const std::string& state, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto message = receive(left);
    if (message && message->find(state) != std::string::npos) return true;
  }
  return false;
}

}  // namespace skyd::testing
