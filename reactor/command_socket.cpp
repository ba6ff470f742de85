#include "reactor/command_socket.hpp"

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

extern char** environ;

namespace skyd {

Result<CommandSocket> start_command_socket(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error(NetErrc::kConnectFailed, "no command to connect through");
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return make_error(NetErrc::kConnectFailed, std::string("socketpair: ") + std::strerror(errno));
  const int ours = pair[0], theirs = pair[1];

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copies, so only stdin and stdout reach the child.
  posix_spawn_file_actions_adddup2(&actions, theirs, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, theirs, STDOUT_FILENO);
  std::vector<char*> args;
  for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int failed = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(theirs);
  if (failed != 0) {
    ::close(ours);
    return make_error(NetErrc::kConnectFailed,
                      "cannot start " + argv[0] + ": " + std::strerror(failed));
  }
  return CommandSocket{ours, pid};
}

void end_command(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace skyd
