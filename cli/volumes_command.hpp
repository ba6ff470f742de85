#pragma once
// `sky volumes apply | ls | delete`: SkyPilot's volumes, which in skyd are the
// PersistentVolumeClaims of the Kubernetes namespace it uses (docs/kubernetes-provider.md,
// "Volumes"), and which tasks mount through `volumes:`.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <string>
#include <vector>

namespace skyd::cli {

// A volume YAML (name, type, infra, size, use_existing, labels, config: {namespace,
// storage_class_name, access_mode}) as the body of POST /v1/volumes; an error names the file,
// line, column and field.
Result<Json> read_volume_yaml(const std::string& path);

// Returns the process exit code (0; 1 when skyd refused or could not be reached, or the YAML is
// wrong; 2 for a usage error).
int volumes_command(const std::vector<std::string>& args, const std::string& socket);

}  // namespace skyd::cli
