#include "cli/dashboard_command.hpp"

#include "cli/daemon_address.hpp"
#include "cli/daemon_client.hpp"
#include "cli/help.hpp"
#include "reactor/json.hpp"

#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

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

// A free port on this machine's loopback, for the forward's local end.
int unused_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0)
    port = ntohs(address.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

bool port_answers(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool connected =
      fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  if (fd >= 0) ::close(fd);
  return connected;
}

volatile sig_atomic_t forwarder_pid = 0;

// Ctrl-C (or a stop) ends the forward with the command, never leaving ssh behind.
void stop_forwarder(int number) {
  if (forwarder_pid > 0) ::kill(forwarder_pid, number);
}

// The dashboard listens on the controller's loopback: forward a local port to it over the shared
// SSH connection and keep it open until the user stops the command.
int forward_dashboard(const std::string& address, const std::string& remote_address, bool browser) {
  auto host = parse_ssh_address(address);
  const int port = unused_loopback_port();
  if (!host || port < 0) {
    std::cerr << "sky: cannot forward the dashboard: "
              << (!host ? host.error().detail : "no free local port") << "\n";
    return 1;
  }
  const auto argv = ssh_forward_command(*host, port, remote_address);
  std::vector<char*> args;
  for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    std::cerr << "sky: cannot start " << argv[0] << "\n";
    return 1;
  }
  forwarder_pid = pid;
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal_number, stop_forwarder);
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!port_answers(port)) {
    if (::waitpid(pid, &status, WNOHANG) == pid || std::chrono::steady_clock::now() > give_up) {
      stop_forwarder(SIGTERM);
      std::cerr << "sky: the SSH forward to the dashboard did not come up\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the CLI's own thread
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  std::cout << "Dashboard: " << url << "\n"
            << "(forwarded over SSH from " << host->host << "; Ctrl-C stops it)" << std::endl;
  if (browser && has_display() && !open_in_browser(url))
    std::cerr << "(could not open a browser: open the URL above)\n";
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return 0;
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
  if (is_ssh_address(socket))
    return forward_dashboard(socket, address.substr(7, address.size() - 8), browser);
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
