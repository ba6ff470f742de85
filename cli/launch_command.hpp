#pragma once
// `sky jobs launch`: argument parsing, building the final pipeline (YAML or a bare command, plus
// command-line overrides), planning each task with the optimizer, and the --dryrun output.
// Submission to skyd reuses prepare_launch.

#include "daemon/spec/parser.hpp"
#include "daemon/spec/task.hpp"
#include "providers/catalog/optimizer.hpp"
#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::cli {

struct LaunchOptions {
  std::vector<std::string> entrypoint;    // one YAML path, or the words of a command
  std::optional<std::string> name;        // -n/--name: the job name (and a single task's name)
  spec::TaskOverrides overrides;          // --workdir, --num-nodes and the resource flags
  std::vector<std::string> envs;          // --env KEY=VAL or --env KEY, in order
  std::vector<std::string> env_files;     // --env-file PATH
  std::vector<std::string> secrets;       // --secret KEY=VAL or --secret KEY
  std::vector<std::string> secret_files;  // --secret-file PATH (below --secret)
  int num_jobs = 1;                       // --num-jobs N: N copies, SKYPILOT_JOB_RANK 0..N-1
  bool detach_run = false;                // -d/--detach-run, or --async
  bool yes = false;
  bool dryrun = false;
  std::optional<std::string> pool;  // -p/--pool NAME: run on a worker of that pool
  // `sky jobs pool apply`: the YAML must define a pool (`pool:`); `sky jobs launch` refuses one.
  bool pool_apply = false;
};

// Parses everything after `sky jobs launch`. Errors are usage errors (the CLI exits 2).
Result<LaunchOptions> parse_launch_args(const std::vector<std::string>& args);

struct PreparedLaunch {
  std::string job_name;
  std::optional<std::string> yaml_path;  // set when the entrypoint is a YAML file
  std::optional<std::string> command;    // set when it is a bare command
  spec::Pipeline pipeline;               // names filled in, overrides applied
  // plans[i]: task i's candidates, best first (see catalog::plan).
  std::vector<std::vector<catalog::Candidate>> plans;
  // Things that do not stop a dry run but would stop a submission (a missing workdir).
  std::vector<std::string> warnings;
};

// Reads and validates the entrypoint, applies the overrides and plans every task. Errors carry
// the file:line:col message (the CLI exits 1). `--env KEY` reads KEY from this process.
Result<PreparedLaunch> prepare_launch(const LaunchOptions& options);

// The --dryrun text: the entrypoint line and, per task, the considered-resources table.
std::string render_plan(const PreparedLaunch& launch);

// The --help text, and the long flags the parser takes (each named in the text).
std::string_view launch_usage();
const std::vector<std::string>& launch_flags();

// `sky jobs launch ...`: returns the process exit code (0, 1 validation, 2 usage).
int jobs_launch_command(const std::vector<std::string>& args, const std::string& socket);

}  // namespace skyd::cli
