#pragma once
// `sky storage ls` and `sky storage delete`: the buckets task file_mounts use, as SkyPilot's
// commands show them, with their size, owner job and persistence.

#include <string>
#include <vector>

namespace skyd::cli {

// Returns the process exit code (0; 1 when skyd refused or could not be reached; 2 for a usage
// error).
int storage_command(const std::vector<std::string>& args, const std::string& socket);

}  // namespace skyd::cli
