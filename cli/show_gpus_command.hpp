#pragma once
// `sky show-gpus [NAME[:COUNT]] [--cloud CLOUD]`: the accelerators in the catalog, their counts,
// instance types and cheapest prices.

#include "providers/catalog/catalog.hpp"

#include <string>
#include <vector>

namespace skyd::cli {

// Returns the process exit code (0; 1 for an unknown accelerator; 2 for a usage error).
int show_gpus_command(const std::vector<std::string>& args);

// The text show_gpus_command prints on success (for tests); empty `name` lists every accelerator.
// It ends with where each cloud's prices come from and how old they are.
std::string render_gpus(const std::string& name, double count, const std::string& cloud);

// A catalog file's source and date (and rows it could not use), as show-gpus and the plan print it.
std::string describe_provenance(const catalog::Provenance& provenance);

// "Prices …:" and one line per cloud (every non-local cloud when `cloud` is empty): the catalog
// file's source and date. Empty when `cloud` is "-" (nothing was listed).
std::string price_sources(const catalog::Catalog& catalog, const std::string& cloud);

}  // namespace skyd::cli
