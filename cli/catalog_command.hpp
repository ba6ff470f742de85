#pragma once
// `sky catalog refresh`: rebuilds the AWS catalog from AWS's own APIs (instance types, zone
// offerings, spot price history, the Price List) and writes it into the catalog directory in
// SkyPilot's vms.csv format, atomically. Also how `sky` finds the catalog it plans with.

#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::cli {

// The catalog directory sky uses: SKYD_CATALOG_DIR, else `catalog_dir` of skyd's config file
// (/etc/skyd/config.yaml for root, ~/.sky/skyd.yaml otherwise). Nothing: the built-in catalog.
std::optional<std::string> configured_catalog_dir();

// Installs the configured directory's catalog as the one sky plans with (a no-op without one).
// Errors name the bad file and line.
Result<void> install_configured_catalog();

// Returns the process exit code (0; 1 when the refresh failed; 2 for a usage error).
int catalog_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
