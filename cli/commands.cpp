#include "cli/commands.hpp"

#include "cli/catalog_command.hpp"
#include "cli/completion.hpp"
#include "cli/contexts.hpp"
#include "cli/controller_command.hpp"
#include "cli/daemon_address.hpp"
#include "cli/daemon_client.hpp"
#include "cli/dashboard_command.hpp"
#include "cli/help.hpp"
#include "cli/jobs_commands.hpp"
#include "cli/launch_command.hpp"
#include "cli/pool_command.hpp"
#include "cli/show_gpus_command.hpp"
#include "cli/storage_command.hpp"
#include "cli/volumes_command.hpp"
#include "daemon/version.hpp"

#include <iostream>
#include <optional>

namespace skyd::cli {
namespace {

constexpr const char* kUsage =
    "usage: sky [--socket PATH | --host ssh://[user@]host[:port]] COMMAND ...\n"
    "\n"
    "  skyd is reached at --host or --socket, else $SKYD_HOST, else $SKYD_SOCKET, else the\n"
    "  current context, else this machine's socket.\n"
    "\n"
    "commands (each takes --help):\n"
    "  jobs launch [OPTIONS] YAML|COMMAND   submit a managed job (--dryrun: show the plan only)\n"
    "  jobs queue [-a] [-s] [-u] [-v] [-r] [-l N] [-o table|json]\n"
    "                                       list managed jobs\n"
    "  jobs logs [ID | -n NAME] [TASK]      stream a job's logs (--node RANK, --no-follow,\n"
    "                                       --controller)\n"
    "  jobs cancel ID... | -n NAME | -a | -u\n"
    "                                       cancel jobs (yours with -a, everyone's with -u)\n"
    "  jobs preempt ID                      preempt a job's local spot machines (try recovery)\n"
    "  jobs dashboard [--no-browser]        print the dashboard's URL and open it in a browser\n"
    "  storage ls | delete NAME...          the buckets task file_mounts use\n"
    "  volumes apply | ls | delete          Kubernetes claims tasks mount (`volumes:`)\n"
    "  show-gpus [NAME]                     accelerators in the catalog, with prices\n"
    "  catalog refresh [--dir DIR]          rebuild the AWS catalog from AWS's APIs\n"
    "  daemon status                        is skyd running, and which version\n"
    "  context create|use|ls|rm|show        named skyd hosts (controllers over SSH)\n"
    "  controller up|down                   a controller VM on EC2 (and its context)\n"
    "  completion bash                      print the bash completion script\n"
    "\n"
    "options:\n"
    "  --socket PATH                        skyd's socket on this machine\n"
    "  --host ssh://[user@]host[:port]      skyd on another machine, over SSH\n"
    "  --version                            print the version\n"
    "  -h, --help                           this text\n";

constexpr const char* kJobsUsage =
    "usage: sky jobs COMMAND ...\n"
    "\n"
    "Managed jobs: skyd places each on the cheapest machines that fit, runs it, and recovers it\n"
    "from preemptions and failures.\n"
    "\n"
    "commands (each takes --help):\n"
    "  launch      submit a managed job\n"
    "  queue       list managed jobs\n"
    "  logs        stream a job's logs\n"
    "  cancel      cancel jobs\n"
    "  preempt     preempt a job's local spot machines\n"
    "  pool        pools of workers: apply, status, down\n"
    "  dashboard   open the dashboard\n";

constexpr const char* kDaemonUsage =
    "usage: sky daemon status\n"
    "\n"
    "Is skyd running: its version, pid, shards, uptime, socket, state directory and database.\n"
    "\n"
    "options:\n"
    "  -h, --help              this text\n";

// show-gpus parses its own words; its help is answered here.
constexpr const char* kShowGpusUsage =
    "usage: sky show-gpus [NAME[:COUNT]] [--cloud CLOUD | --infra CLOUD]\n"
    "\n"
    "Accelerators in the catalog, with their instance types and prices.\n"
    "\n"
    "options:\n"
    "  --cloud, --infra CLOUD  only this cloud's offers\n"
    "  -h, --help              this text\n";

int usage_error(const std::string& message) {
  std::cerr << "sky: " << message << "\n\n" << kUsage;
  return 2;
}

int daemon_status(const std::string& address) {
  DaemonClient client(address);
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
            << "  address:   " << client.address() << "\n"
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
  // Where skyd is comes before the command; after it, `--host` belongs to the command.
  for (std::size_t i = 0; i < all_args.size(); ++i) {
    if (!args.empty()) {
      args.push_back(all_args[i]);
    } else if (all_args[i] == "--socket" || all_args[i] == "--host") {
      if (i + 1 >= all_args.size()) return usage_error(all_args[i] + " needs a value");
      if (all_args[i] == "--host" && !is_ssh_address(all_args[i + 1]))
        return usage_error("--host takes ssh://[user@]host[:port]; a local socket is --socket");
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
  const std::vector<std::string> after_command(args.begin() + 1, args.end());
  if (args[0] == "context") return context_command(after_command);
  if (args[0] == "controller") return controller_command(after_command);
  if (args[0] == "completion") return completion_command(after_command);
  if (args[0] == "catalog") return catalog_command(after_command);
  const bool pool_words = args[0] == "jobs" && args.size() >= 2 && args[1] == "pool";
  if (args[0] == "show-gpus" || (args[0] == "jobs" && args.size() >= 2 && args[1] == "launch") ||
      pool_words) {
    // The configured catalog_dir (as skyd uses it) replaces the built-in catalog for planning.
    if (auto installed = install_configured_catalog(); !installed) {
      std::cerr << "Error: " << installed.error().detail << "\n";
      return 1;
    }
  }
  if (args[0] == "show-gpus") {
    if (asks_for_help(after_command)) {
      std::cout << kShowGpusUsage;
      return 0;
    }
    return show_gpus_command(after_command);
  }
  if (args[0] == "jobs" && (args.size() == 1 || args[1] == "--help" || args[1] == "-h")) {
    std::cout << kJobsUsage;
    return args.size() == 1 ? 2 : 0;
  }
  if (pool_words) return jobs_pool_command({args.begin() + 2, args.end()});
  if (args[0] == "storage" && (after_command.empty() || asks_for_help(after_command)))
    return storage_command(after_command, "");
  if (args[0] == "volumes" && (after_command.empty() || asks_for_help(after_command)))
    return volumes_command(after_command, "");
  if (args[0] == "daemon" && asks_for_help(after_command)) {
    std::cout << kDaemonUsage;
    return 0;
  }
  auto address = find_daemon_address(socket_flag);
  if (!address) {
    std::cerr << "sky: " << address.error().detail << "\n";
    return 1;
  }
  // A controller that stopped itself when idle is started again by the next command.
  *address = wake_controller(*address);
  if (args[0] == "daemon" && args.size() == 2 && args[1] == "status")
    return daemon_status(*address);
  if (args[0] == "jobs" && args.size() >= 2) {
    const std::vector<std::string> rest(args.begin() + 2, args.end());
    const std::string& socket = *address;
    if (args[1] == "launch") return jobs_launch_command(rest, socket);
    if (args[1] == "queue") return jobs_queue_command(rest, socket);
    if (args[1] == "logs") return jobs_logs_command(rest, socket);
    if (args[1] == "cancel") return jobs_cancel_command(rest, socket);
    if (args[1] == "preempt") return jobs_preempt_command(rest, socket);
    if (args[1] == "dashboard") return jobs_dashboard_command(rest, socket);
  }
  if (args[0] == "storage") return storage_command(after_command, *address);
  if (args[0] == "volumes") return volumes_command(after_command, *address);
  return usage_error("unknown command '" + args[0] + (args.size() > 1 ? " " + args[1] : "") + "'");
}

}  // namespace skyd::cli
