#include "reactor/process.hpp"

#include <boost/asio/as_tuple.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace skyd {
namespace {

Error system_error(int number, std::string what) {
  return make_error(boost::system::error_code(number, boost::system::system_category()),
                    std::move(what));
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<std::unique_ptr<Process>> Process::spawn(asio::any_io_executor executor,
                                                ProcessOptions options) {
  if (options.argv.empty()) return make_error(NetErrc::kProtocol, "no program to start");
  int pipe_fds[2] = {-1, -1};
  if (options.capture_output && ::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return system_error(errno, "pipe");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (options.capture_output) {
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  } else {
    const char* sink = options.output_file.empty() ? "/dev/null" : options.output_file.c_str();
    posix_spawn_file_actions_addopen(&actions, 1, sink, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  int highest_kept = 2;
  for (const auto& [child_fd, parent_fd] : options.extra_fds) {
    posix_spawn_file_actions_adddup2(&actions, parent_fd, child_fd);
    highest_kept = std::max(highest_kept, child_fd);
  }
  // Nothing else of ours leaks into the child: Asio's sockets are not close-on-exec, and an
  // inherited listening socket would keep answering for a skyd that has died.
  posix_spawn_file_actions_addclosefrom_np(&actions, highest_kept + 1);
  if (!options.working_dir.empty())
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_session) {
    flags |= POSIX_SPAWN_SETSID;
  } else if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attributes, 0);
  }
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);  // the reactor's blocked signals stay ours
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, flags);

  auto argv = c_strings(options.argv);
  auto env = c_strings(options.environment);
  pid_t pid = -1;
  const int failed =
      ::posix_spawn(&pid, options.argv[0].c_str(), &actions, &attributes, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (options.capture_output) ::close(pipe_fds[1]);
  if (failed) {
    if (options.capture_output) ::close(pipe_fds[0]);
    return system_error(failed, "cannot start " + options.argv[0]);
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    if (options.capture_output) ::close(pipe_fds[0]);
    return system_error(error, "pidfd_open");
  }
  return std::unique_ptr<Process>(
      new Process(std::move(executor), pid, options.capture_output ? pipe_fds[0] : -1, pidfd,
                  options.new_process_group || options.new_session, options.kill_on_destroy));
}

Process::Process(asio::any_io_executor executor, pid_t pid, int output_fd, int pidfd,
                 bool own_group, bool kill_on_destroy)
    : pid_(pid),
      own_group_(own_group),
      kill_on_destroy_(kill_on_destroy),
      output_(executor),
      exit_(executor, pidfd) {
  if (output_fd >= 0) output_.assign(output_fd);
}

Process::~Process() {
  if (!exit_status_ && kill_on_destroy_) {
    // Nobody waited: do not leave a zombie behind. The child is killed only if still running.
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
}

Task<std::string> Process::read_output() {
  if (!output_.is_open()) co_return std::string();
  std::string buffer(64 * 1024, '\0');
  auto [ec, got] =
      co_await output_.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
  if (ec) {
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    boost::system::error_code ignored;
    output_.close(ignored);
    co_return std::string();
  }
  buffer.resize(got);
  co_return buffer;
}

Task<int> Process::wait() {
  while (!exit_status_) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    co_await exit_.async_wait(asio::posix::descriptor_base::wait_read, asio::use_awaitable);
  }
  co_return *exit_status_;
}

void Process::signal_group(int number) const {
  if (exit_status_ && !own_group_) return;
  if (own_group_) {
    ::kill(-pid_, number);
  } else {
    ::kill(pid_, number);
  }
}

Task<Result<std::string>> run_program(asio::any_io_executor executor, ProcessOptions options) {
  constexpr std::size_t kKeep = 64 * 1024;
  const std::string program = options.argv.empty() ? std::string() : options.argv.front();
  options.capture_output = true;
  auto process = Process::spawn(executor, std::move(options));
  if (!process) co_return process.error();
  std::string output;
  for (;;) {
    std::string piece = co_await (*process)->read_output();
    if (piece.empty()) break;
    output += piece;
    if (output.size() > kKeep) output.erase(0, output.size() - kKeep);
  }
  const int status = co_await (*process)->wait();
  if (status != 0) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    co_return make_error(boost::system::errc::make_error_code(boost::system::errc::io_error),
                         program + " exited with status " + std::to_string(status) + ": " + output);
  }
  co_return output;
}

std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides,
                                          const std::vector<std::string>& remove) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry; ++entry) {
    const char* eq = std::strchr(*entry, '=');
    if (eq) merged[std::string(*entry, static_cast<std::size_t>(eq - *entry))] = eq + 1;
  }
  for (const auto& name : remove) merged.erase(name);
  for (const auto& [key, value] : overrides) merged[key] = value;
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [key, value] : merged) out.push_back(key + "=" + value);
  return out;
}

namespace {
struct ProcStat {
  char state = 0;
  pid_t group = 0;
};

// State and process group from /proc/<pid>/stat.
std::optional<ProcStat> read_proc_stat(const std::string& pid) {
  std::ifstream stat_file("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 >= stat.size()) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  ProcStat out;
  pid_t parent = 0;
  fields >> out.state >> parent >> out.group;
  return out;
}

bool is_dead_state(char state) {
  return state == 'Z' || state == 'X';
}
}  // namespace

bool process_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  // kill() also reaches zombies: dead, but not yet reaped by their parent.
  auto stat = read_proc_stat(std::to_string(pid));
  return stat && !is_dead_state(stat->state);
}

bool process_group_alive(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno != EPERM) return false;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    auto stat = read_proc_stat(name);
    if (stat && stat->group == pgid && !is_dead_state(stat->state)) return true;
  }
  return false;
}

}  // namespace skyd
