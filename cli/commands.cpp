#include "cli/commands.hpp"

#include "cli/catalog_command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/dashboard_command.hpp"
#include "cli/jobs_commands.hpp"
#include "cli/launch_command.hpp"
#include "cli/show_gpus_command.hpp"
#include "daemon/version.hpp"

#include <iostream>
#include <optional>

namespace skyd::cli {
namespace {

constexpr const char* kUsage =
    "usage: sky [--socket PATH] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  jobs launch [options] YAML|COMMAND   submit a managed job (--dryrun: show the plan only)\n"
    "  jobs queue [-a] [-s] [-u] [-o json]  list managed jobs\n"
    "  jobs logs [ID | -n NAME] [TASK]      stream a job's logs (--no-follow, --controller)\n"
    "  jobs cancel ID... | -n NAME | -a     cancel jobs\n"
    "  jobs preempt ID                      preempt a job's local spot machines (try recovery)\n"
    "  jobs dashboard [--no-browser]        print the dashboard's URL and open it in a browser\n"
    "  show-gpus [NAME]                     accelerators in the catalog, with prices\n"
    "  catalog refresh [--dir DIR]          rebuild the AWS catalog from AWS's APIs\n"
    "  daemon status                        is skyd running, and which version\n"
    "  --version                            print the version\n";

int usage_error(const std::string& message) {
  std::cerr << "sky: " << message << "\n\n" << kUsage;
  return 2;
}

int daemon_status(const std::optional<std::string>& socket_flag) {
  DaemonClient client(find_daemon_socket(socket_flag));
  auto response = client.call("GET", "/v1/health");
  if (!response) {
    std::cerr << response.error().detail << "\n";
    return 1;
  }
  if (response->status != 200) {
    std::cerr << "skyd answered " << response->status << ": " << http::error_message_of(*response)
              << "\n";
    return 1;
  }
  auto body = parse_json(response->body);
  if (!body) {
    std::cerr << "skyd sent an unreadable answer: " << body.error().message() << "\n";
    return 1;
  }
  auto text = [&](const char* key) {
    const Json* value = body->find(key);
    if (!value) return std::string("?");
    if (auto s = value->as_string()) return std::string(*s);
    return value->dump();
  };
  std::cout << "skyd is running: version " << text("version") << ", pid " << text("pid") << ", "
            << text("shards") << " shards, up " << text("uptime_seconds") << " s\n"
            << "  socket:    " << client.socket_path() << "\n"
            << "  state dir: " << text("state_dir") << "\n"
            << "  installation: " << text("installation") << "\n";
  if (text("status") == "degraded")
    std::cout << "  database:  unavailable (" << text("reason")
              << "); job calls fail until it is back\n";
  return 0;
}

}  // namespace

int run_command(const std::vector<std::string>& all_args) {
  std::optional<std::string> socket_flag;
  std::vector<std::string> args;
  for (std::size_t i = 0; i < all_args.size(); ++i) {
    if (all_args[i] == "--socket") {
      if (i + 1 >= all_args.size()) return usage_error("--socket needs a path");
      socket_flag = all_args[++i];
    } else {
      args.push_back(all_args[i]);
    }
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "sky (skyd) " << kVersion << "\n";
    return 0;
  }
  if (args[0] == "daemon" && args.size() == 2 && args[1] == "status")
    return daemon_status(socket_flag);
  if (args[0] == "show-gpus" || (args[0] == "jobs" && args.size() >= 2 && args[1] == "launch")) {
    // The configured catalog_dir (as skyd uses it) replaces the built-in catalog for planning.
    if (auto installed = install_configured_catalog(); !installed) {
      std::cerr << "Error: " << installed.error().detail << "\n";
      return 1;
    }
  }
  if (args[0] == "jobs" && args.size() >= 2) {
    const std::vector<std::string> rest(args.begin() + 2, args.end());
    const std::string socket = find_daemon_socket(socket_flag);
    if (args[1] == "launch") return jobs_launch_command(rest, socket);
    if (args[1] == "queue") return jobs_queue_command(rest, socket);
    if (args[1] == "logs") return jobs_logs_command(rest, socket);
    if (args[1] == "cancel") return jobs_cancel_command(rest, socket);
    if (args[1] == "preempt") return jobs_preempt_command(rest, socket);
    if (args[1] == "dashboard") return jobs_dashboard_command(rest, socket);
  }
  if (args[0] == "show-gpus") return show_gpus_command({args.begin() + 1, args.end()});
  if (args[0] == "catalog") return catalog_command({args.begin() + 1, args.end()});
  return usage_error("unknown command '" + args[0] + (args.size() > 1 ? " " + args[1] : "") + "'");
}

}  // namespace skyd::cli
