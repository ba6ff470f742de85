#pragma once
// A catalog directory in SkyPilot's layout: <dir>/<cloud>/vms.csv (see vms_csv.hpp), each file
// optionally beside a `provenance` file of `key=value` lines saying where its prices come from:
//
//   source=AWS Pricing API and spot price history (sky catalog refresh)
//   date=2026-12-01
//
// A directory with no provenance file (SkyPilot's maintained files dropped in) is described by its
// path and the file's modification date. These calls read and write whole files and block: use
// them at start-up, in the CLI, or inside run_blocking.

#include "providers/catalog/catalog.hpp"
#include "reactor/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace skyd::catalog {

// The clouds a catalog directory may hold (local is always the built-in one).
inline constexpr std::string_view kDirectoryClouds[] = {"aws", "gcp"};

Provenance parse_provenance(std::string_view text);
std::string format_provenance(const Provenance& provenance);

// The built-in catalog with each cloud that `dir` has a vms.csv for replaced by that file.
// Errors: kBadData naming the file and line.
Result<Catalog> load_catalog_dir(const std::string& dir);

// Writes <dir>/<cloud>/vms.csv and its provenance, each replaced atomically (a reader sees the
// old file or the new one, never half of one).
Result<void> write_catalog_file(const std::string& dir, std::string_view cloud,
                                const std::vector<Offering>& offerings,
                                const Provenance& provenance);

}  // namespace skyd::catalog
