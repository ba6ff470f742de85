#pragma once
// Limits shared by every shard: how many jobs run at once, how many tasks are being launched at
// once (from STARTING or RECOVERING until RUNNING), and how many launch calls are in flight per
// cloud region. Jobs beyond a limit wait in PENDING, admitted by priority (higher first) then
// job id, and the queue shows why they wait. Lives on one home shard; runners on other shards reach
// it through ShardPool::call_on. Only the reasons are read from other threads (under a mutex).

#include "reactor/event.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace skyd::daemon {

struct AdmissionLimits {
  int max_running_jobs = 0;             // 0: no limit
  int max_launches_in_flight = 0;       // 0: no limit
  int max_reattachments_in_flight = 0;  // 0: no limit; RUNNING tasks re-attached after a restart
  int max_launches_per_region = 0;      // 0: no limit
};

class Admission {
 public:
  Admission(asio::any_io_executor home, AdmissionLimits limits);

  // Takes a slot of `key` (at most `limit` held at once; 0 = no limit), waiting in line when none
  // is free. `reason` is what the queue shows meanwhile. Without `wait_in_line` the slot is taken
  // at once, over the limit if need be (a job that was already running when skyd restarted).
  // Call on the home shard. A cancelled waiter leaves the line.
  Task<void> acquire(std::string key, int limit, int priority, std::int64_t job_id,
                     std::string reason, bool wait_in_line);
  // Gives a slot back; callable from any shard.
  void release(std::string key);

  // Why the job waits, if it does (any thread).
  std::optional<std::string> waiting_reason(std::int64_t job_id) const;
  const AdmissionLimits& limits() const { return limits_; }
  const asio::any_io_executor& home() const { return home_; }

 private:
  struct Line {
    int held = 0;
    int limit = 0;
    // (-priority, job id, arrival) -> the waiter's wake-up; the arrival keeps apart the tasks
    // of one job that wait together (a job group's).
    std::map<std::tuple<int, std::int64_t, std::uint64_t>, Event*> waiting;
  };
  void hand_over(Line& line);

  asio::any_io_executor home_;
  AdmissionLimits limits_;
  std::map<std::string, Line> lines_;
  std::uint64_t arrivals_ = 0;
  mutable std::mutex reasons_mutex_;
  std::map<std::int64_t, std::string> reasons_;
};

}  // namespace skyd::daemon
