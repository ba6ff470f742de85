#include "cli/dashboard_command.hpp"

#include "cli/daemon_client.hpp"
#include "cli/help.hpp"
#include "reactor/json.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <iostream>

extern char** environ;

namespace skyd::cli {
namespace {

bool has_display() {
  for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY"}) {
    const char* value = std::getenv(name);
    if (value && *value) return true;
  }
  return false;
}

// Runs xdg-open and waits for it (it returns once the browser has the URL). False when it is
// missing or fails.
bool open_in_browser(const std::string& url) {
  std::string program = "xdg-open";
  std::vector<char*> argv{program.data(), const_cast<char*>(url.c_str()), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
    return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int jobs_dashboard_command(const std::vector<std::string>& args, const std::string& socket) {
  constexpr const char* kDashboardUsage =
      "usage: sky jobs dashboard [--no-browser]\n"
      "\n"
      "Print the dashboard's URL (served by skyd on loopback) and open it in a browser.\n"
      "\n"
      "options:\n"
      "  --no-browser            only print the URL\n"
      "  -h, --help              this text\n";
  if (asks_for_help(args)) {
    std::cout << kDashboardUsage;
    return 0;
  }
  bool browser = true;
  for (const auto& arg : args) {
    if (arg == "--no-browser") {
      browser = false;
    } else {
      std::cerr << "sky: unknown option '" << arg << "'\n\n" << kDashboardUsage;
      return 2;
    }
  }
  DaemonClient client(socket);
  auto response = client.call("GET", "/v1/health");
  if (!response) {
    std::cerr << response.error().detail << "\n";
    return 1;
  }
  auto body = parse_json(response->body);
  if (response->status != 200 || !body) {
    std::cerr << "skyd answered " << response->status << ": " << http::error_message_of(*response)
              << "\n";
    return 1;
  }
  const Json* url = body->find("dashboard_url");
  if (!url || !url->as_string()) {
    std::cerr << "The dashboard is off. Set `dashboard: 127.0.0.1:8266` in skyd's config file (or\n"
                 "start skyd with --dashboard 127.0.0.1:8266) and restart skyd.\n";
    return 1;
  }
  const std::string address(*url->as_string());
  std::cout << "Dashboard: " << address << "\n";
  if (browser && has_display()) {
    if (!open_in_browser(address)) std::cerr << "(could not open a browser: open the URL above)\n";
  } else {
    std::cout << "It listens on this machine's loopback only; from another machine, tunnel to it:\n"
              << "  ssh -N -L PORT:" << address.substr(7, address.size() - 8)
              << " USER@THIS_HOST  then open http://127.0.0.1:PORT/\n";
  }
  return 0;
}

}  // namespace skyd::cli
