#include "tests/fakecloud/kube_objects.hpp"

#include "reactor/crypto.hpp"
#include "reactor/json.hpp"

#include <ctime>

namespace skyd::fakecloud {

std::string rfc3339_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string kube_uid(const std::string& seed) {
  const std::string hex = sha256_hex(seed + rfc3339_now()).substr(0, 32);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

http::Response status(int code, const std::string& reason, const std::string& message,
                      const std::string& name, const std::string& kind) {
  Json body = Json::object();
  body.set("kind", "Status");
  body.set("apiVersion", "v1");
  body.set("metadata", Json::object());
  body.set("status", "Failure");
  body.set("message", message);
  body.set("reason", reason);
  if (!name.empty()) {
    Json details = Json::object();
    details.set("name", name);
    details.set("kind", kind);
    body.set("details", std::move(details));
  }
  body.set("code", code);
  return http::Response::json(code, body);
}

}  // namespace skyd::fakecloud
