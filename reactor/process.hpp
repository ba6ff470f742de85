#pragma once
// Child processes driven by the reactor: spawned with posix_spawn (argv and environment passed as
// they are, never through a shell line), optionally in their own process group, with stdout and
// stderr on non-blocking pipes and the exit awaited through a pidfd. Belongs to one shard.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd {

struct ProcessOptions {
  std::vector<std::string> argv;         // argv[0] is the program path
  std::vector<std::string> environment;  // "KEY=value" entries: the whole environment
  std::string working_dir;               // empty: inherit
  bool new_process_group = true;         // the child leads its own group (kill the whole tree)
  bool capture_output = true;            // stdout+stderr on one pipe; else /dev/null
  std::map<int, int> extra_fds;  // child fd -> parent fd to pass through (e.g. a ready pipe)
  bool new_session = false;      // setsid: the child outlives this process's group
  std::string output_file;       // with capture_output off: append output here
  bool kill_on_destroy = true;   // false for agents that must outlive their starter
};

class Process {
 public:
  // Starts the child. Errors name the program and the reason (not found, not executable).
  static Result<std::unique_ptr<Process>> spawn(asio::any_io_executor executor,
                                                ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Reads the next piece of output (stdout and stderr interleaved); empty at end of output.
  Task<std::string> read_output();
  // The exit status: the exit code, or 128 + signal number. Cached after the first call.
  Task<int> wait();
  bool exited() const { return exit_status_.has_value(); }
  std::optional<int> exit_status() const { return exit_status_; }
  // Sends a signal to the child's process group (or the child alone when it has none).
  void signal_group(int number) const;

 private:
  Process(asio::any_io_executor executor, pid_t pid, int output_fd, int pidfd, bool own_group,
          bool kill_on_destroy);

  pid_t pid_;
  bool own_group_;
  bool kill_on_destroy_;
  asio::posix::stream_descriptor output_;
  asio::posix::stream_descriptor exit_;
  std::optional<int> exit_status_;
};

// Runs a short-lived program (tar, a helper) to its end without blocking the reactor. Its output
// (the last 64 KiB) is returned; a failure to start or a non-zero exit is an error naming the
// program, its exit status and what it printed.
Task<Result<std::string>> run_program(asio::any_io_executor executor, ProcessOptions options);

// The current process's environment as "KEY=value" entries, with `overrides` applied.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides,
                                          const std::vector<std::string>& remove = {});

// True while the process runs (a zombie awaiting its reaper counts as gone).
bool process_alive(pid_t pid);

// True while any process in group `pgid` is alive (zombies do not count).
bool process_group_alive(pid_t pgid);

}  // namespace skyd
