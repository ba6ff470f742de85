#pragma once
// `sky show-gpus [NAME[:COUNT]] [--cloud CLOUD]`: the accelerators in the catalog, their counts,
// instance types and cheapest prices.

#include <string>
#include <vector>

namespace skyd::cli {

// Returns the process exit code (0; 1 for an unknown accelerator; 2 for a usage error).
int show_gpus_command(const std::vector<std::string>& args);

// The text show_gpus_command prints on success (for tests); empty `name` lists every accelerator.
std::string render_gpus(const std::string& name, double count, const std::string& cloud);

}  // namespace skyd::cli
