#include "cli/launch_command.hpp"

#include "cli/git_credentials.hpp"
#include "cli/help.hpp"
#include "cli/jobs_commands.hpp"
#include "cli/show_gpus_command.hpp"
#include "cli/table.hpp"
#include "cli/uploads.hpp"
#include "daemon/spec/names.hpp"
#include "daemon/spec/spec_error.hpp"
#include "daemon/spec/task_json.hpp"
#include "providers/catalog/suggest.hpp"
#include "providers/cloud_names.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace skyd::cli {
namespace {

using spec::SpecErrc;

constexpr std::string_view kUsage =
    "usage: sky jobs launch [OPTIONS] ENTRYPOINT...\n"
    "\n"
    "Launch a managed job. ENTRYPOINT is a task YAML file, or a command to run.\n"
    "\n"
    "options:\n"
    "  -n, --name NAME                  the job's name (and a single task's)\n"
    "  --workdir DIR                    the task's working directory, uploaded from here\n"
    "  --num-nodes N                    how many nodes the task runs on\n"
    "  --infra CLOUD[/REGION[/ZONE]]    where it may run, e.g. aws/us-east-1\n"
    "  --cloud CLOUD                    --region REGION   --zone ZONE\n"
    "  --cpus N[+]                      --memory GB[+]    --gpus NAME[:N]\n"
    "  -t, --instance-type TYPE         an instance type of the cloud\n"
    "  --use-spot / --no-use-spot       spot machines, or on-demand ones\n"
    "  --disk-size GB                   --disk-tier TIER  --image-id ID\n"
    "  --ports PORT                     a port to open (repeatable)\n"
    "  --job-recovery STRATEGY          EAGER_NEXT_REGION or FAILOVER\n"
    "  --env KEY[=VALUE]                an env for the task (repeatable; KEY alone: from here)\n"
    "  --env-file PATH                  envs from a dotenv file (KEY=VALUE lines)\n"
    "  --secret KEY[=VALUE]             a secret for the task (repeatable; never shown)\n"
    "  --secret-file PATH               secrets from a dotenv file (KEY=VALUE lines)\n"
    "  --num-jobs N                     submit N copies in one call (1 to 10000); each sees\n"
    "                                   SKYPILOT_JOB_RANK (0..N-1) and SKYPILOT_NUM_JOBS (N)\n"
    "  -p, --pool NAME                  run on a worker of pool NAME (SkyPilot's pools; skyd\n"
    "                                   plans pool YAMLs but runs no pools yet: refused)\n"
    "  -d, --detach-run                 submit, print the job's ID and return: no log streaming\n"
    "  --async                          the same as --detach-run: return once skyd has the job\n"
    "  -y, --yes                        skip the confirmation prompt\n"
    "  --dryrun                         print the plan only; nothing is submitted\n"
    "  -h, --help                       this text\n";

// Flags that take a value and map onto a resources field.
struct ResourceFlag {
  std::string_view flag;
  std::string_view short_flag;
  std::string_view field;
};
constexpr ResourceFlag kResourceFlags[] = {{"--infra", "", "infra"},
                                           {"--cloud", "", "cloud"},
                                           {"--region", "", "region"},
                                           {"--zone", "", "zone"},
                                           {"--cpus", "", "cpus"},
                                           {"--memory", "", "memory"},
                                           {"--gpus", "", "accelerators"},
                                           {"--instance-type", "-t", "instance_type"},
                                           {"--disk-size", "", "disk_size"},
                                           {"--disk-tier", "", "disk_tier"},
                                           {"--image-id", "", "image_id"},
                                           {"--ports", "", "ports"},
                                           {"--job-recovery", "", "job_recovery"}};

const std::vector<std::string> kAllFlags = {
    "--name",          "--workdir",     "--num-nodes",   "--infra",    "--cloud",
    "--region",        "--zone",        "--cpus",        "--memory",   "--gpus",
    "--instance-type", "--disk-size",   "--disk-tier",   "--image-id", "--ports",
    "--job-recovery",  "--use-spot",    "--no-use-spot", "--env",      "--env-file",
    "--secret",        "--secret-file", "--detach-run",  "--async",    "--yes",
    "--dryrun",        "--num-jobs",    "--pool",        "--help"};

Error usage_error(std::string detail) {
  return spec::make_error(SpecErrc::kInvalid, std::move(detail));
}

// KEY=VAL, or KEY whose value comes from this process's environment.
Result<std::pair<std::string, std::string>> key_value(const std::string& text,
                                                      std::string_view flag) {
  const std::size_t equals = text.find('=');
  std::string key = text.substr(0, equals);
  if (key.empty()) return usage_error(std::string(flag) + ": expected KEY=VALUE or KEY");
  if (equals != std::string::npos) return std::pair{key, text.substr(equals + 1)};
  const char* value = std::getenv(key.c_str());
  if (!value) {
    return usage_error(std::string(flag) + " " + key + ": " + key +
                       " is not set in the environment; pass " + key + "=VALUE");
  }
  return std::pair{key, std::string(value)};
}

// A dotenv file: KEY=VALUE lines, `#` comments, optional `export ` and quotes.
Result<std::map<std::string, std::string>> read_env_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return spec::make_error(SpecErrc::kIo, path + ": cannot open the env file");
  std::map<std::string, std::string> values;
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (line.starts_with("export ")) line = line.substr(7);
    const std::size_t equals = line.find('=');
    if (equals == std::string::npos || equals == 0) {
      return spec::make_error(SpecErrc::kInvalid,
                              path + ":" + std::to_string(number) + ": expected KEY=VALUE");
    }
    std::string value = line.substr(equals + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    std::string key = line.substr(0, equals);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    values[key] = value;
  }
  return values;
}

// --num-jobs: a whole number from 1 to spec::kMaxNumJobs, as written (no sign, no spaces).
Result<int> parse_num_jobs(const std::string& text) {
  const std::string expected =
      "--num-jobs: expected a number of jobs from 1 to " + std::to_string(spec::kMaxNumJobs);
  const bool digits =
      !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      });
  if (!digits) return usage_error(expected + ", got `" + text + "`");
  const int count = std::stoi(text);
  if (count < 1 || count > spec::kMaxNumJobs) {
    return usage_error(
        expected + ", got " + text +
        (count > spec::kMaxNumJobs ? " (submit larger sweeps in several launches)" : ""));
  }
  return count;
}

bool is_yaml_path(const std::vector<std::string>& entrypoint) {
  if (entrypoint.size() != 1) return false;
  const std::string& word = entrypoint[0];
  return word.ends_with(".yaml") || word.ends_with(".yml");
}

// sky-XXXX-<user>, the user name made to fit the job and task name rules (other characters
// become `-`, runs of separators shrink to one, the name ends in a letter or digit).
std::string generated_job_name() {
  std::random_device random;
  char hex[8];
  std::snprintf(hex, sizeof hex, "%04x", static_cast<unsigned>(random() & 0xffff));
  const char* user = std::getenv("USER");
  std::string name = std::string("sky-") + hex + "-";
  for (const char c : std::string(user && *user ? user : "user")) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (plain) {
      name += c;
    } else if (name.back() != '-') {
      name += '-';
    }
  }
  while (!std::isalnum(static_cast<unsigned char>(name.back()))) name.pop_back();
  return name.substr(0, spec::kMaxNameLength);
}

// A pool YAML (`pool:`) is for `sky jobs pool apply`, and only a pool YAML is.
Result<void> check_pool_section(const PreparedLaunch& launch, const LaunchOptions& options) {
  const std::string source = launch.yaml_path.value_or("command");
  const auto& tasks = launch.pipeline.tasks;
  if (!options.pool_apply) {
    for (const auto& task : tasks) {
      if (!task.pool) continue;
      return spec::make_error(
          SpecErrc::kInvalid,
          task.pool->where +
              ": this YAML defines a pool; create it with `sky jobs pool apply -p NAME " + source +
              "`, then submit jobs to it with `sky jobs launch --pool NAME JOB.yaml`");
    }
    return {};
  }
  if (tasks.size() != 1 || !tasks[0].pool) {
    return spec::make_error(SpecErrc::kInvalid,
                            source +
                                ": a pool YAML is one task with a `pool:` section "
                                "(pool: {workers: N}) beside its resources and setup");
  }
  return {};
}

}  // namespace

Result<LaunchOptions> parse_launch_args(const std::vector<std::string>& args) {
  LaunchOptions options;
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (only_positional || arg.empty() || arg[0] != '-' || arg == "-") {
      options.entrypoint.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::optional<std::string> inline_value;
    if (const std::size_t equals = arg.find('=');
        arg.starts_with("--") && equals != std::string::npos) {
      inline_value = arg.substr(equals + 1);
      arg.resize(equals);
    }
    auto value = [&]() -> Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return usage_error(arg + " needs a value");
      return args[++i];
    };
    auto flag_only = [&]() -> Result<void> {
      if (inline_value) return usage_error(arg + " takes no value");
      return {};
    };
    if (arg == "-n" || arg == "--name") {
      auto v = value();
      if (!v) return v.error();
      options.name = *v;
    } else if (arg == "--workdir") {
      auto v = value();
      if (!v) return v.error();
      options.overrides.workdir = *v;
    } else if (arg == "--num-nodes") {
      auto v = value();
      if (!v) return v.error();
      char* end = nullptr;
      const long nodes = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || nodes < 1 || nodes > 10000) {
        return usage_error("--num-nodes: expected a positive integer, got `" + *v + "`");
      }
      options.overrides.num_nodes = static_cast<int>(nodes);
    } else if (arg == "--num-jobs") {
      auto v = value();
      if (!v) return v.error();
      auto count = parse_num_jobs(*v);
      if (!count) return count.error();
      options.num_jobs = *count;
    } else if (arg == "--use-spot" || arg == "--no-use-spot") {
      if (auto ok = flag_only(); !ok) return ok.error();
      options.overrides.resources.push_back(
          {"use_spot", arg == "--use-spot" ? "true" : "false", arg});
    } else if (arg == "--env" || arg == "--env-file" || arg == "--secret" ||
               arg == "--secret-file") {
      auto v = value();
      if (!v) return v.error();
      (arg == "--env"           ? options.envs
       : arg == "--secret"      ? options.secrets
       : arg == "--secret-file" ? options.secret_files
                                : options.env_files)
          .push_back(*v);
    } else if (arg == "-d" || arg == "--detach-run" || arg == "--async") {
      if (auto ok = flag_only(); !ok) return ok.error();
      options.detach_run = true;
    } else if (arg == "-y" || arg == "--yes") {
      if (auto ok = flag_only(); !ok) return ok.error();
      options.yes = true;
    } else if (arg == "--dryrun") {
      if (auto ok = flag_only(); !ok) return ok.error();
      options.dryrun = true;
    } else if (arg == "-p" || arg == "--pool") {
      auto v = value();
      if (!v) return v.error();
      if (!spec::is_valid_job_name(*v)) {
        return usage_error("--pool: `" + *v + "` is not a valid pool name; expected " +
                           std::string(spec::kJobNameRule));
      }
      options.pool = *v;
    } else {
      auto flag = std::find_if(
          std::begin(kResourceFlags), std::end(kResourceFlags), [&](const ResourceFlag& f) {
            return arg == f.flag || (!f.short_flag.empty() && arg == f.short_flag);
          });
      if (flag == std::end(kResourceFlags)) {
        return usage_error("no such option: " + arg + catalog::did_you_mean(arg, kAllFlags));
      }
      auto v = value();
      if (!v) return v.error();
      options.overrides.resources.push_back(
          {std::string(flag->field), *v, std::string(flag->flag)});
    }
  }
  if (options.entrypoint.empty())
    return usage_error("missing ENTRYPOINT (a task YAML or a command)");
  return options;
}

Result<PreparedLaunch> prepare_launch(const LaunchOptions& options) {
  PreparedLaunch launch;
  spec::ParseOptions parse;
  for (const auto& path : options.env_files) {
    auto values = read_env_file(path);
    if (!values) return values.error();
    for (const auto& [key, value] : *values) {
      parse.env_overrides[key] = value;
      parse.secret_fallbacks[key] = value;
    }
  }
  for (const auto& text : options.envs) {
    auto kv = key_value(text, "--env");
    if (!kv) return kv.error();
    parse.env_overrides[kv->first] = kv->second;
  }
  for (const auto& path : options.secret_files) {
    auto values = read_env_file(path);
    if (!values) return values.error();
    for (const auto& [key, value] : *values) parse.secret_overrides[key] = value;
  }
  for (const auto& text : options.secrets) {
    auto kv = key_value(text, "--secret");
    if (!kv) return kv.error();
    parse.secret_overrides[kv->first] = kv->second;
  }

  if (is_yaml_path(options.entrypoint)) {
    launch.yaml_path = options.entrypoint[0];
    auto pipeline = spec::load_pipeline_file(*launch.yaml_path, parse);
    if (!pipeline) return pipeline.error();
    launch.warnings = pipeline->warnings;  // what the file asks for that will not act as written
    launch.pipeline = std::move(*pipeline);
  } else {
    std::string command;
    for (const auto& word : options.entrypoint) command += (command.empty() ? "" : " ") + word;
    launch.command = command;
    spec::Task task;
    task.name = "sky-cmd";
    task.run = command;
    for (const auto& [key, value] : parse.env_overrides) task.envs[key] = value;
    for (const auto& [key, value] : parse.secret_overrides) {
      task.secrets[key] = value;
      task.envs.erase(key);
    }
    launch.pipeline.tasks.push_back(std::move(task));
  }

  auto& tasks = launch.pipeline.tasks;
  if (auto checked = check_pool_section(launch, options); !checked) return checked.error();
  const bool has_task_overrides = options.overrides.workdir || options.overrides.num_nodes ||
                                  !options.overrides.resources.empty();
  if (tasks.size() > 1 && has_task_overrides) {
    return spec::make_error(SpecErrc::kInvalid,
                            "resource, --workdir and --num-nodes overrides apply to a single task; "
                            "this pipeline has " +
                                std::to_string(tasks.size()) +
                                " tasks (set them in each task of the YAML)");
  }
  if (options.name && !spec::is_valid_job_name(*options.name)) {
    return spec::make_error(SpecErrc::kInvalid, "--name: `" + *options.name +
                                                    "` is not valid; expected " +
                                                    std::string(spec::kJobNameRule));
  }
  if (tasks.size() == 1) {
    spec::TaskOverrides overrides = options.overrides;
    overrides.name = options.name;
    if (auto applied = spec::apply_overrides(tasks[0], overrides); !applied) {
      return applied.error();
    }
  }
  for (auto& task : tasks) {
    if (auto attached = attach_git_credentials(task); !attached) return attached.error();
  }
  // Job name: -n, then the pipeline header, then a single task's name, then a generated one.
  launch.job_name = options.name                         ? *options.name
                    : launch.pipeline.name               ? *launch.pipeline.name
                    : tasks.size() == 1 && tasks[0].name ? *tasks[0].name
                                                         : generated_job_name();
  launch.pipeline.name = launch.job_name;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].name) {
      tasks[i].name =
          tasks.size() == 1 ? launch.job_name : launch.job_name + "-" + std::to_string(i);
    }
  }

  const std::string source = launch.yaml_path.value_or("command");
  // What skyd will read, checked here by the same parser (names made up above, a command's
  // size): the user hears of a problem before anything is sent.
  const std::string submitted = spec::to_json(launch.pipeline, spec::SecretMode::kInclude).dump();
  if (auto checked = spec::pipeline_from_json(submitted, ""); !checked) {
    return Error{checked.error().code, source + " (as submitted): " + checked.error().detail};
  }
  for (const auto& task : tasks) {
    auto plan = catalog::plan(*catalog::current(), spec::to_plan_request(task));
    if (!plan) {
      return spec::make_error(SpecErrc::kInvalid,
                              source + ": task `" + *task.name + "`: " + plan.error().detail);
    }
    launch.plans.push_back(std::move(*plan));
    auto check_local = [&](const std::string& path, const std::string& what) {
      if (!std::filesystem::exists(expand_home(path))) {
        launch.warnings.push_back("task `" + *task.name + "`: " + what + " " + path +
                                  " does not exist (it must exist to submit)");
      }
    };
    if (task.workdir) check_local(*task.workdir, "workdir");
    for (const auto& mount : task.file_mounts) {
      if (const auto source = spec::uploaded_source(mount)) {
        check_local(*source, "file_mounts source for " + mount.destination + ":");
      }
    }
  }
  return launch;
}

namespace {

// Under the plan table: where the shown clouds' prices come from and how old they are.
std::string plan_price_sources(const std::vector<catalog::Candidate>& candidates,
                               std::size_t shown_rows) {
  std::vector<std::string> clouds;
  for (std::size_t i = 0; i < candidates.size() && clouds.size() < shown_rows; ++i) {
    if (std::find(clouds.begin(), clouds.end(), candidates[i].cloud) == clouds.end()) {
      clouds.push_back(candidates[i].cloud);
    }
  }
  const auto in_use = catalog::current();
  std::string out;
  for (const auto& cloud : clouds) {
    const catalog::Provenance* provenance = in_use->provenance(cloud);
    if (cloud == "local" || !provenance) continue;
    out += "  " + to_upper(cloud) + " prices: " + describe_provenance(*provenance) + "\n";
  }
  return out.empty() ? "" : "Price sources (\"unknown\": no price known, ranked last):\n" + out;
}

}  // namespace

std::string render_plan(const PreparedLaunch& launch) {
  std::string out = launch.yaml_path ? "YAML to run: " + *launch.yaml_path + "\n"
                                     : "Command to run: " + launch.command.value_or("") + "\n";
  out += "Managed job '" + launch.job_name + "' will be launched on (estimated):\n";
  const auto& tasks = launch.pipeline.tasks;
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    const auto& task = tasks[t];
    const auto& candidates = launch.plans[t];
    const std::string nodes =
        std::to_string(task.num_nodes) + (task.num_nodes == 1 ? " node" : " nodes");
    out += "Considered resources";
    if (tasks.size() > 1) out += " for task '" + *task.name + "'";
    out += " (" + nodes + "):\n";
    // One row per (resource option, cloud): its cheapest placement, in the plan's order.
    // SkyPilot's columns: INFRA is the cloud and region a candidate stands for.
    Table table({"INFRA", "INSTANCE", "vCPUs", "Mem(GB)", "GPUS", "ZONE", "COST ($/hr)", "CHOSEN"});
    std::vector<std::pair<std::size_t, std::string>> shown;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const auto& c = candidates[i];
      const std::pair<std::size_t, std::string> key{c.option_index, c.cloud};
      if (std::find(shown.begin(), shown.end(), key) != shown.end()) continue;
      shown.push_back(key);
      table.add_row({providers::infra_display(c.cloud, c.region, ""),
                     c.instance_type + (c.use_spot ? "[Spot]" : ""), format_number(c.vcpus),
                     format_number(c.memory_gb),
                     c.accelerator_name.empty()
                         ? "-"
                         : c.accelerator_name + ":" + format_number(c.accelerator_count),
                     c.zone, c.hourly_cost() ? format_fixed(*c.hourly_cost(), 2) : "unknown",
                     i == 0 ? "✔" : ""});
    }
    out += table.render();
    out += plan_price_sources(candidates, shown.size());
    if (t + 1 < tasks.size()) out += "\n";
  }
  return out;
}

std::string_view launch_usage() {
  return kUsage;
}

const std::vector<std::string>& launch_flags() {
  return kAllFlags;
}

int jobs_launch_command(const std::vector<std::string>& args, const std::string& socket) {
  if (asks_for_help(args)) {
    std::cout << kUsage;
    return 0;
  }
  auto options = parse_launch_args(args);
  if (!options) {
    std::cerr << "Error: " << options.error().detail << "\n" << kUsage;
    return 2;
  }
  auto launch = prepare_launch(*options);
  if (!launch) {
    std::cerr << "Error: " << launch.error().detail << "\n";
    return 1;
  }
  for (const auto& warning : launch->warnings) std::cerr << "Warning: " << warning << "\n";
  if (options->pool) {
    std::cerr << "Error: --pool " << *options->pool
              << ": skyd does not run pools yet (`sky jobs pool apply --dryrun` plans a pool "
                 "YAML); launch the job without --pool and it gets machines of its own\n";
    return 1;
  }
  if (options->dryrun) {
    std::cout << render_plan(*launch);
    return 0;
  }
  return submit_launch(*launch, *options, socket);
}

}  // namespace skyd::cli
