#include "cli/pool_command.hpp"

#include "cli/help.hpp"
#include "cli/launch_command.hpp"
#include "cli/replies.hpp"
#include "daemon/spec/names.hpp"

#include <iostream>

namespace skyd::cli {
namespace {

constexpr const char* kPoolUsage =
    "usage: sky jobs pool COMMAND ...\n"
    "\n"
    "Pools of workers: clusters set up once, on which jobs launched with `--pool NAME` run one\n"
    "at a time each, without a launch of their own.\n"
    "\n"
    "commands (each takes --help):\n"
    "  apply    create a pool from a pool YAML\n"
    "  status   the pools and their workers\n"
    "  down     terminate a pool's workers and forget it\n";

constexpr const char* kApplyUsage =
    "usage: sky jobs pool apply [-p NAME] POOL.yaml [-y] [--dryrun]\n"
    "\n"
    "Create a pool: a task YAML with a `pool:` section (workers: N) beside its resources,\n"
    "file_mounts, workdir and setup. Each worker is launched and set up once; `run` is not\n"
    "used (each job brings its own).\n"
    "\n"
    "options:\n"
    "  -p, --pool NAME         the pool's name (default: the YAML's name, else generated)\n"
    "  --env KEY[=VALUE]       an env for the workers' setup (repeatable)\n"
    "  --env-file PATH         envs from a dotenv file\n"
    "  --secret KEY[=VALUE]    a secret for the workers' setup (repeatable; never shown)\n"
    "  --secret-file PATH      secrets from a dotenv file\n"
    "  -y, --yes               skip the confirmation prompt\n"
    "  --dryrun                print the plan of one worker only; nothing is created\n"
    "  -h, --help              this text\n";

constexpr const char* kStatusUsage =
    "usage: sky jobs pool status [NAME]\n"
    "\n"
    "The pools (or pool NAME): their workers, each worker's state and the job it runs.\n"
    "\n"
    "options:\n"
    "  -h, --help              this text\n";

constexpr const char* kDownUsage =
    "usage: sky jobs pool down NAME [-y]\n"
    "\n"
    "Terminate every worker of pool NAME and forget the pool. Jobs still waiting for a worker\n"
    "of the pool fail; cancel them first to keep them from failing.\n"
    "\n"
    "options:\n"
    "  -y, --yes               skip the confirmation prompt\n"
    "  -h, --help              this text\n";

// skyd checks and plans a pool YAML as SkyPilot does, but its daemon keeps no pools yet: every
// command that would create, list or end one says so instead of pretending.
int not_run_yet() {
  std::cerr
      << "Error: skyd does not run pools yet: `sky jobs pool apply --dryrun POOL.yaml` checks "
         "and plans a pool YAML; to run the work, launch each job with its own resources "
         "(`sky jobs launch JOB.yaml`, with the pool's setup in the job).\n";
  return 1;
}

std::string workers_text(int count) {
  return std::to_string(count) + (count == 1 ? " worker" : " workers");
}

// "Fixed-size (3 workers)", or "Autoscaling (1 to 10 workers; ...)" with the settings given.
std::string worker_policy(const spec::PoolSpec& pool) {
  if (!pool.max_workers) return "Fixed-size (" + workers_text(pool.workers) + ")";
  std::string policy =
      "Autoscaling (" + std::to_string(pool.min_workers) + " to " + workers_text(*pool.max_workers);
  if (pool.workers != pool.min_workers) policy += ", starting with " + std::to_string(pool.workers);
  if (pool.queue_length_threshold)
    policy += "; queue length threshold " + std::to_string(*pool.queue_length_threshold);
  if (pool.upscale_delay_seconds)
    policy += "; upscale delay " + std::to_string(*pool.upscale_delay_seconds) + " s";
  if (pool.downscale_delay_seconds)
    policy += "; downscale delay " + std::to_string(*pool.downscale_delay_seconds) + " s";
  return policy + ")";
}

// The plan of one worker, under SkyPilot's heading.
std::string render_pool_plan(const PreparedLaunch& launch, const std::string& pool) {
  std::string plan = render_plan(launch);
  // render_plan's second line names a managed job; a pool states its worker policy instead.
  const std::size_t first = plan.find('\n');
  const std::size_t second = plan.find('\n', first + 1);
  return plan.substr(0, first + 1) + "Pool: " + pool +
         "\nPool spec:\nWorker policy:  " + worker_policy(*launch.pipeline.tasks.front().pool) +
         "\n\nEach pool worker will use the following resources (estimated):\n" +
         plan.substr(second + 1);
}

int pool_apply(const std::vector<std::string>& args) {
  if (asks_for_help(args)) {
    std::cout << kApplyUsage;
    return 0;
  }
  auto options = parse_launch_args(args);
  if (!options) return usage_error(options.error().detail, kApplyUsage);
  if (options->num_jobs != 1 || options->detach_run) {
    return usage_error("--num-jobs and --detach-run are `sky jobs launch` options", kApplyUsage);
  }
  options->pool_apply = true;
  auto launch = prepare_launch(*options);
  if (!launch) {
    std::cerr << "Error: " << launch.error().detail << "\n";
    return 1;
  }
  for (const auto& warning : launch->warnings) std::cerr << "Warning: " << warning << "\n";
  const std::string pool = options->pool.value_or(launch->job_name);
  if (!spec::is_valid_job_name(pool)) {
    return usage_error("`" + pool + "` is not a valid pool name", kApplyUsage);
  }
  if (!options->dryrun) return not_run_yet();
  std::cout << render_pool_plan(*launch, pool);
  return 0;
}

int pool_status(const std::vector<std::string>& args) {
  if (asks_for_help(args)) {
    std::cout << kStatusUsage;
    return 0;
  }
  if (args.size() > 1) return usage_error("expected at most one pool name", kStatusUsage);
  return not_run_yet();
}

int pool_down(const std::vector<std::string>& args) {
  if (asks_for_help(args)) {
    std::cout << kDownUsage;
    return 0;
  }
  std::vector<std::string> names;
  for (const auto& arg : args) {
    if (arg == "-y" || arg == "--yes") {
      continue;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage_error("no such option: " + arg, kDownUsage);
    } else {
      names.push_back(arg);
    }
  }
  if (names.size() != 1) return usage_error("expected one pool name", kDownUsage);
  return not_run_yet();
}

}  // namespace

int jobs_pool_command(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cout << kPoolUsage;
    return 2;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "apply") return pool_apply(rest);
  if (args[0] == "status") return pool_status(rest);
  if (args[0] == "down") return pool_down(rest);
  if (asks_for_help(args)) {
    std::cout << kPoolUsage;
    return 0;
  }
  return usage_error("unknown command 'pool " + args[0] + "'", kPoolUsage);
}

}  // namespace skyd::cli
