#pragma once
// The `gcp` section of fakecloud's chaos config: how Compute Engine misbehaves (capacity, quota,
// throttling, 5xx) and how long its operations and preemptions take. See tests/fakecloud/README.md.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <map>
#include <string>
#include <vector>

namespace skyd::fakecloud {

// A Compute Engine call that should fail. Empty match fields match anything.
struct GceFault {
  std::string action;              // insert (also matches bulkInsert), bulkInsert, delete, get,
                                   // list, aggregatedList, operations; empty: every call
  std::string zone;                // (insert, bulkInsert)
  std::string machine_type;        // (insert, bulkInsert)
  std::string provisioning_model;  // SPOT or STANDARD (insert, bulkInsert)
  std::string code;     // an operation error code, or an HTTP error reason (rateLimitExceeded)
  std::string message;  // empty: GCE's own wording for the code
  int status = 0;       // HTTP status of an HTTP error; 0: the reason's usual one
  double rate = 1.0;
  int remaining = -1;  // -1: forever

  // ZONE_RESOURCE_POOL_EXHAUSTED, ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS and QUOTA_EXCEEDED
  // arrive in the DONE operation's error (the insert itself is accepted), as on GCE.
  bool in_operation() const;
  static Result<GceFault> from_json(const Json& json);
};

struct GceChaos {
  std::vector<GceFault> faults;
  double throttle_rate = 0;   // share of calls answered 403 rateLimitExceeded
  double error_5xx_rate = 0;  // share answered 503 backendError
  // At most this many live instances in a zone; more is ZONE_RESOURCE_POOL_EXHAUSTED.
  std::map<std::string, int> zone_capacity;
  Duration operation_time = std::chrono::milliseconds(200);  // PENDING -> RUNNING -> DONE
  Duration operation_wait_max = std::chrono::minutes(2);     // operations/{op}/wait's bound
  Duration preemption_grace = std::chrono::seconds(30);      // preempted=TRUE -> STOPPING

  static Result<GceChaos> from_json(const Json& json);
};

// GCE's message and HTTP status for an operation error or an HTTP error reason.
std::string gce_default_message(std::string_view code, std::string_view zone);
int gce_default_status(std::string_view code);

}  // namespace skyd::fakecloud
