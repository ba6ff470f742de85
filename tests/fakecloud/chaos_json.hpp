#pragma once
// What the Google clouds' chaos sections share (`gcp` for Compute Engine, `gcs` for Cloud
// Storage): the keys every fault has (code, message, status, rate, count), the keys every section
// has (faults, throttle_rate, error_5xx_rate), and the admin calls that replace a section or
// append faults to it. Each section names itself in its errors ("gcs.faults[].rate ...").

#include "reactor/error.hpp"
#include "reactor/http_types.hpp"
#include "reactor/json.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::fakecloud {

inline Error chaos_error(std::string message) {
  return make_error(NetErrc::kProtocol, std::move(message));
}

inline std::string chaos_text(const Json& value) {
  auto text = value.as_string();
  return text ? std::string(*text) : std::string();
}

// A share in [0, 1] at `section.key`.
inline Result<double> chaos_share(const Json& value, std::string_view section,
                                  std::string_view key) {
  auto rate = value.as_double();
  if (!rate && value.as_int()) rate = static_cast<double>(*value.as_int());
  if (!rate || *rate < 0 || *rate > 1)
    return chaos_error(std::string(section) + "." + std::string(key) +
                       " must be a share between 0 and 1");
  return *rate;
}

// Reads `key` into the fault when it is one every fault has (code, message, status, rate,
// count): nullopt when it is not, else whether its value was good.
template <typename Fault>
std::optional<Result<void>> read_common_fault_key(std::string_view section, const std::string& key,
                                                  const Json& value, Fault& fault) {
  if (key == "code") {
    fault.code = chaos_text(value);
  } else if (key == "message") {
    fault.message = chaos_text(value);
  } else if (key == "status") {
    fault.status = static_cast<int>(value.as_int().value_or(0));
  } else if (key == "rate") {
    auto rate = chaos_share(value, section, "faults[].rate");
    if (!rate) return Result<void>(rate.error());
    fault.rate = *rate;
  } else if (key == "count") {
    fault.remaining = static_cast<int>(value.as_int().value_or(-1));
  } else {
    return std::nullopt;
  }
  return Result<void>();
}

// Reads `key` into the section when it is one every section has (faults, throttle_rate,
// error_5xx_rate): nullopt when it is not, else whether its value was good.
template <typename Section>
std::optional<Result<void>> read_common_section_key(std::string_view section,
                                                    const std::string& key, const Json& value,
                                                    Section& out) {
  using Fault = typename decltype(out.faults)::value_type;
  if (key == "faults") {
    if (!value.as_array())
      return Result<void>(chaos_error(std::string(section) + ".faults must be a list"));
    for (const auto& item : *value.as_array()) {
      auto fault = Fault::from_json(item);
      if (!fault) return Result<void>(fault.error());
      out.faults.push_back(std::move(*fault));
    }
  } else if (key == "throttle_rate" || key == "error_5xx_rate") {
    auto rate = chaos_share(value, section, key);
    if (!rate) return Result<void>(rate.error());
    (key == "throttle_rate" ? out.throttle_rate : out.error_5xx_rate) = *rate;
  } else {
    return std::nullopt;
  }
  return Result<void>();
}

// POST /_admin/<cloud>/chaos (`what` "chaos": the body replaces the section) and /faults
// ("faults": one fault or a list, appended).
template <typename Section>
http::Response update_chaos(std::string_view what, std::string_view body, Section& section) {
  using Fault = typename decltype(section.faults)::value_type;
  auto json = parse_json(body);
  if (!json) return http::Response::error(400, "bad_request", json.error().detail);
  if (what == "chaos") {
    auto parsed = Section::from_json(*json);
    if (!parsed) return http::Response::error(400, "bad_request", parsed.error().detail);
    section = std::move(*parsed);
    return http::Response::json(200, Json::object());
  }
  std::vector<Json> items;
  if (json->as_array())
    items = *json->as_array();
  else
    items.push_back(*json);
  for (const auto& item : items) {
    auto fault = Fault::from_json(item);
    if (!fault) return http::Response::error(400, "bad_request", fault.error().detail);
    section.faults.push_back(std::move(*fault));
  }
  return http::Response::json(200, Json::object());
}

}  // namespace skyd::fakecloud
