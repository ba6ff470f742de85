#pragma once
// Where a job's logs live under the controller's state directory, and the small appends that
// build them. Output pulled from skylet is kept raw, one file per task attempt and node (the next
// pull starts at the file's size); attempts.jsonl lists each task's attempts with the marker line
// `sky jobs logs` prints before them; controller.log records the job's decisions.
//
//   <root>/<job>/controller.log
//   <root>/<job>/task-<t>/attempts.jsonl
//   <root>/<job>/task-<t>/attempt-<a>.log          rank 0
//   <root>/<job>/task-<t>/attempt-<a>.node-<r>.log other ranks

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::daemon {

struct AttemptMarker {
  int attempt = 0;
  int nodes = 1;       // each node's output is its own file
  std::string marker;  // "== attempt 2 on local/local-a (cluster train-7): recovering after spot
                       // preemption =="
};

class JobLogs {
 public:
  JobLogs(std::string root, std::int64_t job_id);

  const std::string& dir() const { return dir_; }
  std::string controller_log() const { return dir_ + "/controller.log"; }
  std::string attempt_log(int task, int attempt, int rank) const;

  // "<UTC time> <line>" into controller.log (decisions, placements, restarts).
  void record(std::string_view line) const;
  // Adds an attempt on `nodes` nodes to the task's list (once per attempt number).
  void add_attempt(int task, int attempt, int nodes, std::string_view marker) const;
  std::vector<AttemptMarker> attempts(int task) const;

  static std::uint64_t size_of(const std::string& path);
  static void append(const std::string& path, std::string_view bytes);
  // Up to `limit` bytes of `path` from `offset` (empty past the end or when missing).
  static std::string read(const std::string& path, std::uint64_t offset, std::size_t limit);

 private:
  std::string dir_;
};

}  // namespace skyd::daemon
