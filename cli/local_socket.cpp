#include "cli/local_socket.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace skyd::cli {
const char* non_empty_env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

std::string find_local_socket(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return *flag;
  if (const char* env = non_empty_env("SKYD_SOCKET")) return env;
  std::vector<std::string> candidates;
  if (const char* runtime = non_empty_env("XDG_RUNTIME_DIR"))
    candidates.push_back(std::string(runtime) + "/skyd.sock");
  if (const char* home = non_empty_env("HOME"); home && ::geteuid() != 0)
    candidates.push_back(std::string(home) + "/.sky/skyd/skyd.sock");
  candidates.push_back("/run/skyd/skyd.sock");
  candidates.push_back("/var/lib/skyd/skyd.sock");
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) return candidate;
  }
  return candidates.front();
}

}  // namespace skyd::cli
