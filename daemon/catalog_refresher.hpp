#pragma once
// skyd's periodic catalog refresh (`catalog_refresh: true`): rebuilds catalog_dir/aws from the AWS
// APIs (see providers/aws/catalog_refresh.hpp) when the file is missing or older than the
// interval, then every interval; writes it atomically and installs the new catalog for every
// later plan. A failed refresh is logged and retried within the hour; the catalog in use stays.
// Runs on one shard until cancelled (skyd's shutdown); owns its own AWS client.

#include "providers/aws/aws_provider.hpp"
#include "reactor/coro.hpp"

#include <string>
#include <vector>

namespace skyd::daemon {

struct CatalogRefreshOptions {
  std::string dir;  // the catalog_dir
  Duration interval = std::chrono::hours(24);
  std::vector<std::string> regions;  // empty: every AWS region of the catalog in use
  providers::aws::AwsProviderOptions aws;
};

Task<void> refresh_catalog_periodically(CatalogRefreshOptions options);

}  // namespace skyd::daemon
