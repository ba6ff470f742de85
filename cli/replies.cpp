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

std::optional<bool> json_output_of(const std::vector<std::string>& args, const char* usage,
                                   int& failed) {
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size()) {
      const std::string& format = args[++i];
      if (format != "table" && format != "json") {
        failed = usage_error("--output is table or json", usage);
        return std::nullopt;
      }
      json = format == "json";
    } else {
      failed = usage_error("unknown option '" + args[i] + "'", usage);
      return std::nullopt;
    }
  }
  return json;
}

std::optional<Json> listing(DaemonClient& client, const std::string& target, const char* key,
                            bool json, const char* what, int& code) {
  code = 0;
  auto reply = call_json(client, "GET", target);
  if (!reply) {
    std::cerr << "Error: " << reply.error().detail << "\n";
    code = 1;
    return std::nullopt;
  }
  const Json* listed = reply->find(key);
  if (json) {
    std::cout << (listed ? listed->dump() : "[]") << "\n";
    return std::nullopt;
  }
  const Json::Array* items = listed ? listed->as_array() : nullptr;
  if (!items || items->empty()) {
    std::cout << "No existing " << what << ".\n";
    return std::nullopt;
  }
  return std::move(*reply);
}

std::optional<int> subcommand_usage(const std::vector<std::string>& args, const char* usage) {
  if (args.empty()) {
    std::cout << usage;
    return 2;
  }
  for (const auto& arg : args) {
    if (arg == "-h" || arg == "--help") {
      std::cout << usage;
      return 0;
    }
  }
  return std::nullopt;
}

bool confirm(const std::string& question) {
  if (::isatty(STDIN_FILENO) != 1) return true;
  std::cout << question << " [Y/n]: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer.empty() || answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace skyd::cli
