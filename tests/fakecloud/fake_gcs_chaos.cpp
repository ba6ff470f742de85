#include "tests/fakecloud/fake_gcs_chaos.hpp"

#include "tests/fakecloud/chaos_json.hpp"

#include <set>

namespace skyd::fakecloud {
namespace {

const std::set<std::string, std::less<>> kActions = {
    "buckets.insert", "buckets.get", "buckets.list",     "buckets.delete", "objects.insert",
    "objects.resume", "objects.get", "objects.download", "objects.list",   "objects.delete"};

}  // namespace

int gcs_default_status(std::string_view reason) {
  if (reason == "rateLimitExceeded") return 429;
  if (reason == "backendError") return 503;
  if (reason == "internalError") return 500;
  if (reason == "authError" || reason == "required") return 401;
  if (reason == "forbidden") return 403;
  if (reason == "notFound") return 404;
  if (reason == "conflict") return 409;
  if (reason == "conditionNotMet") return 412;
  return 400;
}

std::string gcs_default_message(std::string_view reason) {
  if (reason == "rateLimitExceeded")
    return "The project exceeded the rate limit for CloudStorage and this operation.";
  if (reason == "backendError") return "Backend Error";
  if (reason == "internalError") return "We encountered an internal error. Please try again.";
  return "fakecloud injected " + std::string(reason);
}

Result<GcsFault> GcsFault::from_json(const Json& json) {
  if (!json.as_object()) return chaos_error("a gcs fault must be an object");
  GcsFault fault;
  for (const auto& [key, value] : *json.as_object()) {
    if (auto common = read_common_fault_key("gcs", key, value, fault)) {
      if (!*common) return common->error();
    } else if (key == "action") {
      fault.action = chaos_text(value);
      if (!fault.action.empty() && !kActions.contains(fault.action))
        return chaos_error("gcs.faults[].action '" + fault.action +
                           "' is not a Cloud Storage call");
    } else if (key == "bucket") {
      fault.bucket = chaos_text(value);
    } else if (key == "object_prefix") {
      fault.object_prefix = chaos_text(value);
    } else {
      return chaos_error("unknown key gcs.faults[]." + key);
    }
  }
  if (fault.code.empty()) return chaos_error("a gcs fault needs a code");
  if (fault.status == 0) fault.status = gcs_default_status(fault.code);
  if (fault.message.empty()) fault.message = gcs_default_message(fault.code);
  return fault;
}

Result<GcsChaos> GcsChaos::from_json(const Json& json) {
  if (!json.as_object()) return chaos_error("the gcs chaos section is an object");
  GcsChaos out;
  for (const auto& [key, value] : *json.as_object()) {
    auto common = read_common_section_key("gcs", key, value, out);
    if (!common) return chaos_error("unknown chaos key 'gcs." + key + "'");
    if (!*common) return common->error();
  }
  return out;
}

}  // namespace skyd::fakecloud
