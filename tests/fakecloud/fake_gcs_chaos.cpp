#include "tests/fakecloud/fake_gcs_chaos.hpp"

#include <set>

namespace skyd::fakecloud {
namespace {

Error invalid(std::string message) {
  return make_error(NetErrc::kProtocol, std::move(message));
}

std::string text(const Json& value) {
  auto s = value.as_string();
  return s ? std::string(*s) : std::string();
}

Result<double> share(const Json& value, std::string_view key) {
  auto rate = value.as_double();
  if (!rate && value.as_int()) rate = static_cast<double>(*value.as_int());
  if (!rate || *rate < 0 || *rate > 1)
    return invalid("gcs." + std::string(key) + " must be a share between 0 and 1");
  return *rate;
}

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
  if (!json.as_object()) return invalid("a gcs fault must be an object");
  GcsFault fault;
  for (const auto& [key, value] : *json.as_object()) {
    if (key == "action") {
      fault.action = text(value);
      if (!fault.action.empty() && !kActions.contains(fault.action))
        return invalid("gcs.faults[].action '" + fault.action + "' is not a Cloud Storage call");
    } else if (key == "bucket") {
      fault.bucket = text(value);
    } else if (key == "object_prefix") {
      fault.object_prefix = text(value);
    } else if (key == "code") {
      fault.code = text(value);
    } else if (key == "message") {
      fault.message = text(value);
    } else if (key == "status") {
      fault.status = static_cast<int>(value.as_int().value_or(0));
    } else if (key == "rate") {
      auto rate = share(value, "faults[].rate");
      if (!rate) return rate.error();
      fault.rate = *rate;
    } else if (key == "count") {
      fault.remaining = static_cast<int>(value.as_int().value_or(-1));
    } else {
      return invalid("unknown key gcs.faults[]." + key);
    }
  }
  if (fault.code.empty()) return invalid("a gcs fault needs a code");
  if (fault.status == 0) fault.status = gcs_default_status(fault.code);
  if (fault.message.empty()) fault.message = gcs_default_message(fault.code);
  return fault;
}

Result<GcsChaos> GcsChaos::from_json(const Json& json) {
  if (!json.as_object()) return invalid("the gcs chaos section is an object");
  GcsChaos out;
  for (const auto& [key, value] : *json.as_object()) {
    if (key == "faults") {
      if (!value.as_array()) return invalid("gcs.faults must be a list");
      for (const auto& item : *value.as_array()) {
        auto fault = GcsFault::from_json(item);
        if (!fault) return fault.error();
        out.faults.push_back(std::move(*fault));
      }
    } else if (key == "throttle_rate" || key == "error_5xx_rate") {
      auto rate = share(value, key);
      if (!rate) return rate.error();
      (key == "throttle_rate" ? out.throttle_rate : out.error_5xx_rate) = *rate;
    } else {
      return invalid("unknown chaos key 'gcs." + key + "'");
    }
  }
  return out;
}

}  // namespace skyd::fakecloud
