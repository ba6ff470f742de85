#include "tests/fakecloud/fake_gce_chaos.hpp"

namespace skyd::fakecloud {
namespace {

Error invalid(std::string message) {
  return make_error(NetErrc::kProtocol, std::move(message));
}

std::string text(const Json& value) {
  auto s = value.as_string();
  return s ? std::string(*s) : std::string();
}

Result<Duration> milliseconds(const Json& value, std::string_view key) {
  auto ms = value.as_int();
  if (!ms || *ms < 0) return invalid("gcp." + std::string(key) + " must be milliseconds");
  return Duration(std::chrono::milliseconds(*ms));
}

Result<double> share(const Json& value, std::string_view key) {
  auto rate = value.as_double();
  if (!rate && value.as_int()) rate = static_cast<double>(*value.as_int());
  if (!rate || *rate < 0 || *rate > 1)
    return invalid("gcp." + std::string(key) + " must be a share between 0 and 1");
  return *rate;
}

}  // namespace

bool GceFault::in_operation() const {
  return code == "ZONE_RESOURCE_POOL_EXHAUSTED" ||
         code == "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS" || code == "QUOTA_EXCEEDED";
}

int gce_default_status(std::string_view code) {
  if (code == "rateLimitExceeded" || code == "quotaExceeded" || code == "forbidden" ||
      code == "QUOTA_EXCEEDED")
    return 403;
  if (code == "notFound") return 404;
  if (code == "alreadyExists") return 409;
  if (code == "authError") return 401;
  if (code == "internalError") return 500;
  if (code == "backendError" || code.starts_with("ZONE_RESOURCE_POOL_EXHAUSTED")) return 503;
  return 400;
}

std::string gce_default_message(std::string_view code, std::string_view zone) {
  if (code == "ZONE_RESOURCE_POOL_EXHAUSTED")
    return "The zone 'projects/fakecloud/zones/" + std::string(zone) +
           "' does not have enough resources available to fulfill the request.  Try a different "
           "zone, or try again later.";
  if (code == "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
    return "The zone 'projects/fakecloud/zones/" + std::string(zone) +
           "' does not have enough resources available to fulfill the request. '(resource type:"
           "compute)'.";
  if (code == "QUOTA_EXCEEDED")
    return "Quota 'CPUS' exceeded.  Limit: 24.0 in region " +
           std::string(zone.substr(0, zone.rfind('-'))) + ".";
  if (code == "rateLimitExceeded") return "Rate Limit Exceeded";
  if (code == "quotaExceeded") return "Quota exceeded for quota metric 'Queries'.";
  if (code == "backendError") return "Backend Error";
  return "fakecloud injected " + std::string(code);
}

Result<GceFault> GceFault::from_json(const Json& json) {
  if (!json.as_object()) return invalid("a gcp fault must be an object");
  GceFault fault;
  for (const auto& [key, value] : *json.as_object()) {
    if (key == "action") {
      fault.action = text(value);
    } else if (key == "zone") {
      fault.zone = text(value);
    } else if (key == "machine_type") {
      fault.machine_type = text(value);
    } else if (key == "provisioning_model") {
      fault.provisioning_model = text(value);
      if (fault.provisioning_model != "SPOT" && fault.provisioning_model != "STANDARD")
        return invalid("gcp.faults[].provisioning_model is SPOT or STANDARD");
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
      return invalid("unknown key gcp.faults[]." + key);
    }
  }
  if (fault.code.empty()) return invalid("a gcp fault needs a code");
  if (fault.status == 0) fault.status = gce_default_status(fault.code);
  return fault;
}

Result<GceChaos> GceChaos::from_json(const Json& json) {
  if (!json.as_object()) return invalid("the gcp chaos section is an object");
  GceChaos out;
  for (const auto& [key, value] : *json.as_object()) {
    if (key == "faults") {
      if (!value.as_array()) return invalid("gcp.faults must be a list");
      for (const auto& item : *value.as_array()) {
        auto fault = GceFault::from_json(item);
        if (!fault) return fault.error();
        out.faults.push_back(std::move(*fault));
      }
    } else if (key == "throttle_rate" || key == "error_5xx_rate") {
      auto rate = share(value, key);
      if (!rate) return rate.error();
      (key == "throttle_rate" ? out.throttle_rate : out.error_5xx_rate) = *rate;
    } else if (key == "zone_capacity") {
      if (!value.as_object()) return invalid("gcp.zone_capacity maps zones to instance counts");
      for (const auto& [zone, limit] : *value.as_object()) {
        if (!limit.as_int() || *limit.as_int() < 0)
          return invalid("gcp.zone_capacity." + zone + " must be a count");
        out.zone_capacity[zone] = static_cast<int>(*limit.as_int());
      }
    } else if (key == "operation_ms" || key == "operation_wait_max_ms" ||
               key == "preemption_grace_ms") {
      auto duration = milliseconds(value, key);
      if (!duration) return duration.error();
      (key == "operation_ms"            ? out.operation_time
       : key == "operation_wait_max_ms" ? out.operation_wait_max
                                        : out.preemption_grace) = *duration;
    } else {
      return invalid("unknown chaos key 'gcp." + key + "'");
    }
  }
  return out;
}

}  // namespace skyd::fakecloud
