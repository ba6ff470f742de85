#pragma once
// `sky jobs pool apply | status | down`: SkyPilot's pools of workers. A pool YAML is a task YAML
// with a `pool:` section (workers: N); its workers are clusters of the task's resources, set up
// once, on which jobs launched with `sky jobs launch --pool NAME` run one at a time each.

#include <string>
#include <vector>

namespace skyd::cli {

// `sky jobs pool ...` (the words after `pool`): returns the process exit code. skyd checks and
// plans a pool YAML (`apply --dryrun`) but keeps no pools yet: apply, status and down say so.
int jobs_pool_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
