#pragma once
// Child processes for integration tests: the real skyd, sky and skylet binaries.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyd::testing {

// The build's binaries, located next to the test executable's build tree (SKYD_BUILD_DIR is set
// by ctest; it falls back to the current directory's parent).
std::string binary_path(const std::string& name);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// The program's path from PATH (run_command execs a path), or /usr/bin/<name> when not found.
std::string program_on_path(const std::string& name);

// True while a process with this id exists and has not ended (a zombie counts as ended).
bool process_alive(int pid);

// What a child wrote on its readiness pipe (the read end `fd`, closed here): up to 63 bytes, or
// empty when nothing came within `limit`. fakecloud and s3rver's launcher report their ports so.
std::string read_ready_message(int fd, std::chrono::milliseconds limit);

// Runs a command to completion with extra environment variables; kills it after `limit`.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds limit = std::chrono::seconds(60));

// A long-running child (a daemon); killed with SIGKILL if still running when destroyed.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int number);
  // The exit status (exit code, or 128 + signal) once the child ends, or nothing after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// A datagram socket that plays systemd's notify socket: a test sets NOTIFY_SOCKET to its path
// and waits for the daemon's READY=1 instead of polling for it.
class NotifyListener {
 public:
  explicit NotifyListener(std::string path);
  ~NotifyListener();
  const std::string& path() const { return path_; }
  // The next datagram, or nothing after `limit`.
  std::optional<std::string> receive(std::chrono::milliseconds limit);
  // Waits until a datagram containing `state` arrives.
  bool wait_for(const std::string& state, std::chrono::milliseconds limit);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace skyd::testing
