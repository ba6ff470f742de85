#pragma once
// Parses SkyPilot task YAML into the typed model (task.hpp). One task per YAML document; several
// documents make a pipeline (a first document holding only `name` — and `execution: serial` —
// names it). Errors read "file:line:col: field.path: what was expected" and never throw.

#include "daemon/spec/names.hpp"
#include "daemon/spec/task.hpp"
#include "reactor/error.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::spec {

struct ParseOptions {
  // `--env` (and `--env-file`, lower priority, already merged in by the caller): added to every
  // task's envs before ${VAR} substitution; they fill YAML envs left null.
  std::map<std::string, std::string> env_overrides;
  // `--secret`: the same for secrets.
  std::map<std::string, std::string> secret_overrides;
  // `--env-file` values for keys a task declares as secrets (lower priority than --secret).
  std::map<std::string, std::string> secret_fallbacks;
  // Substitute ${VAR}/$VAR in workdir and file_mounts. Off for already normalized input.
  bool substitute = true;
};

// Parses YAML text; `source_name` (a file path, or "<stdin>") prefixes every error.
Result<Pipeline> parse_pipeline(std::string_view yaml_text, std::string_view source_name,
                                const ParseOptions& options = {});

// Reads and parses a file (kIo when it cannot be read).
Result<Pipeline> load_pipeline_file(const std::string& path, const ParseOptions& options = {});

// Resource flags from the command line, applied to every candidate of every task. Each value is
// the text given on the command line, read as YAML (so "4+" is a string, "4" a number) and
// checked by the same code as the file; the literal `none` resets a field (and `*` resets
// cloud/region/zone). Keys are resources field names: infra, cloud, region, zone, cpus, memory,
// accelerators, instance_type, use_spot, disk_size, disk_tier, image_id, ports, job_recovery.
struct ResourceOverride {
  std::string field;
  std::string value;
  std::string flag;  // "--cpus", for messages
};

struct TaskOverrides {
  std::optional<std::string> name;
  std::optional<std::string> workdir;
  std::optional<int> num_nodes;
  std::vector<ResourceOverride> resources;
};

// Applies overrides to a task (the caller decides that a pipeline gets none). Errors name the flag.
Result<void> apply_overrides(Task& task, const TaskOverrides& overrides);

// Replaces ${VAR} and $VAR with values from `vars`; unknown names stay as written.
std::string substitute_vars(std::string_view text, const std::map<std::string, std::string>& vars);

}  // namespace skyd::spec
