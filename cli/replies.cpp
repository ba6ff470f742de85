#include "cli/replies.hpp"

#include "reactor/http_types.hpp"

#include <unistd.h>

#include <iostream>

namespace skyd::cli {

Result<Json> call_json(DaemonClient& client, const std::string& method, const std::string& target,
                       const std::string& body) {
  auto response = client.call(method, target, body);
  if (!response) return response.error();
  auto parsed = parse_json(response->body);
  if (response->status >= 400 || !parsed) {
    return make_error(NetErrc::kProtocol, response->status == 404
                                              ? "not found: " + http::error_message_of(*response)
                                              : http::error_message_of(*response));
  }
  return parsed;
}

std::string text(const Json& json, const char* key, std::string fallback) {
  const Json* value = json.find(key);
  return value && value->as_string() ? std::string(*value->as_string()) : fallback;
}

double number(const Json& json, const char* key, double fallback) {
  const Json* value = json.find(key);
  return value && value->as_double() ? *value->as_double() : fallback;
}

int usage_error(const std::string& message, const char* usage) {
  std::cerr << "Error: " << message << "\n" << usage;
  return 2;
}

bool confirm(const std::string& question) {
  if (::isatty(STDIN_FILENO) != 1) return true;
  std::cout << question << " [Y/n]: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer.empty() || answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace skyd::cli
