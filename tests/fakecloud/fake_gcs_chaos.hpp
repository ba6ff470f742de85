#pragma once
// The `gcs` section of fakecloud's chaos config: how Cloud Storage misbehaves (throttling with 429
// rateLimitExceeded, 5xx, any error on chosen calls). See tests/fakecloud/README.md.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <string>
#include <vector>

namespace skyd::fakecloud {

// A Cloud Storage call that should fail. Empty match fields match anything.
struct GcsFault {
  // buckets.insert|get|list|delete, objects.insert (media, multipart, a resumable session's
  // start), objects.resume (a PUT to a resumable session), objects.get, objects.download
  // (alt=media), objects.list, objects.delete; empty: every call.
  std::string action;
  std::string bucket;
  std::string object_prefix;  // the object name starts with this
  std::string code;           // the error's reason: rateLimitExceeded, backendError, ...
  std::string message;        // empty: Google's wording for the reason
  int status = 0;             // 0: the reason's usual status
  double rate = 1.0;
  int remaining = -1;  // -1: forever

  static Result<GcsFault> from_json(const Json& json);
};

struct GcsChaos {
  std::vector<GcsFault> faults;
  double throttle_rate = 0;   // share of calls answered 429 rateLimitExceeded
  double error_5xx_rate = 0;  // share answered 503 backendError

  static Result<GcsChaos> from_json(const Json& json);
};

// Cloud Storage's HTTP status and message for an error reason.
int gcs_default_status(std::string_view reason);
std::string gcs_default_message(std::string_view reason);

}  // namespace skyd::fakecloud
