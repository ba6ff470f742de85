#include "tests/fakecloud/fake_gce_chaos.hpp"

#include "tests/fakecloud/chaos_json.hpp"

namespace skyd::fakecloud {
namespace {

Result<Duration> milliseconds(const Json& value, std::string_view key) {
  auto ms = value.as_int();
  if (!ms || *ms < 0) return chaos_error("gcp." + std::string(key) + " must be milliseconds");
  return Duration(std::chrono::milliseconds(*ms));
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
  if (!json.as_object()) return chaos_error("a gcp fault must be an object");
  GceFault fault;
  for (const auto& [key, value] : *json.as_object()) {
    if (auto common = read_common_fault_key("gcp", key, value, fault)) {
      if (!*common) return common->error();
    } else if (key == "action") {
      fault.action = chaos_text(value);
    } else if (key == "zone") {
      fault.zone = chaos_text(value);
    } else if (key == "machine_type") {
      fault.machine_type = chaos_text(value);
    } else if (key == "provisioning_model") {
      fault.provisioning_model = chaos_text(value);
      if (fault.provisioning_model != "SPOT" && fault.provisioning_model != "STANDARD")
        return chaos_error("gcp.faults[].provisioning_model is SPOT or STANDARD");
    } else {
      return chaos_error("unknown key gcp.faults[]." + key);
    }
  }
  if (fault.code.empty()) return chaos_error("a gcp fault needs a code");
  if (fault.status == 0) fault.status = gce_default_status(fault.code);
  return fault;
}

Result<GceChaos> GceChaos::from_json(const Json& json) {
  if (!json.as_object()) return chaos_error("the gcp chaos section is an object");
  GceChaos out;
  for (const auto& [key, value] : *json.as_object()) {
    if (auto common = read_common_section_key("gcp", key, value, out)) {
      if (!*common) return common->error();
    } else if (key == "zone_capacity") {
      if (!value.as_object()) return chaos_error("gcp.zone_capacity maps zones to instance counts");
      for (const auto& [zone, limit] : *value.as_object()) {
        if (!limit.as_int() || *limit.as_int() < 0)
          return chaos_error("gcp.zone_capacity." + zone + " must be a count");
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
      return chaos_error("unknown chaos key 'gcp." + key + "'");
    }
  }
  return out;
}

}  // namespace skyd::fakecloud
