#pragma once
// Compute Engine's zone operations in fakecloud: each insert, bulkInsert, delete and preemption
// is an operation that goes PENDING -> RUNNING -> DONE (DONE with an error when it failed), found
// by zone and name, awaited by operations/{op}/wait, and remembered by the requestId that made it
// (a repeated requestId gets the first call's operation). Runs on fakecloud's shard; owned by
// FakeGce.

#include "reactor/event.hpp"
#include "tests/fakecloud/fake_gce_api.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace skyd::fakecloud {

class GceOperations {
 public:
  explicit GceOperations(asio::any_io_executor executor);

  // A new PENDING operation.
  GceOperation& create(std::string project, std::string zone, std::string type,
                       std::string target_link, std::string target_id, std::string user);
  GceOperation* find(const std::string& project, const std::string& zone, const std::string& name);
  // The operation a requestId made before (in that project and zone), if any.
  GceOperation* by_request(const std::string& project, const std::string& zone,
                           const std::string& request_id);
  void remember_request(const GceOperation& operation, const std::string& request_id);

  void start(GceOperation& operation);  // RUNNING
  // DONE; `error_code` empty: it succeeded.
  void finish(GceOperation& operation, std::string error_code = {}, std::string message = {},
              int http_status = 0);
  // Returns when the operation is DONE or `bound` has passed (it is then still running).
  Task<void> wait_done(std::string project, std::string zone, std::string name, Duration bound);

  const std::vector<std::unique_ptr<GceOperation>>& all() const { return operations_; }

 private:
  static std::string key(const std::string& project, const std::string& zone,
                         const std::string& name);
  asio::any_io_executor executor_;
  std::vector<std::unique_ptr<GceOperation>> operations_;  // oldest first
  std::map<std::string, GceOperation*> by_name_;           // project/zone/name
  std::map<std::string, GceOperation*> by_request_;        // project/zone/requestId
  Notifier changed_;                                       // an operation moved on
  std::uint64_t next_ = 0;
};

// RFC 3339 with milliseconds and an offset, as Compute Engine writes times.
std::string gce_time(std::chrono::system_clock::time_point at);

}  // namespace skyd::fakecloud
