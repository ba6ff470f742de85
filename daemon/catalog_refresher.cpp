#include "daemon/catalog_refresher.hpp"

#include "providers/aws/catalog_refresh.hpp"
#include "providers/catalog/catalog_dir.hpp"
#include "reactor/blocking.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"
#include "reactor/utc_time.hpp"

#include <filesystem>
#include <functional>

namespace skyd::daemon {
namespace {

// How long until the AWS file is due: zero when it is missing or older than the interval.
Duration due_in(const std::string& dir, Duration interval) {
  std::error_code ec;
  const auto written =
      std::filesystem::last_write_time(std::filesystem::path(dir) / "aws" / "vms.csv", ec);
  if (ec) return Duration::zero();
  const auto age = std::filesystem::file_time_type::clock::now() - written;
  const auto left = interval - std::chrono::duration_cast<Duration>(age);
  return std::max(left, Duration::zero());
}

// Writes the refreshed file and installs the directory's catalog (blocking: on the file pool).
Result<void> write_and_install(const std::string& dir, const providers::aws::AwsCatalog& fetched,
                               const catalog::Provenance& provenance) {
  if (auto written = catalog::write_catalog_file(dir, "aws", fetched.offerings, provenance);
      !written) {
    return written;
  }
  auto loaded = catalog::load_catalog_dir(dir);
  if (!loaded) return loaded.error();
  catalog::install(std::make_shared<const catalog::Catalog>(std::move(*loaded)));
  return {};
}

}  // namespace

Task<void> refresh_catalog_periodically(CatalogRefreshOptions options) {
  auto log = logger("catalog");
  auto executor = co_await asio::this_coro::executor;
  providers::aws::AwsProvider provider(executor, options.aws);
  std::vector<std::string> regions = options.regions;
  if (regions.empty()) regions = catalog::current()->regions("aws");
  for (;;) {
    std::function<Duration()> check = [dir = options.dir, every = options.interval] {
      return due_in(dir, every);
    };
    const Duration wait = co_await run_blocking(std::move(check));
    if (wait > Duration::zero()) co_await sleep_for(wait);
    std::vector<std::string> asked = regions;
    auto fetched = co_await providers::aws::fetch_aws_catalog(provider, std::move(asked));
    if (!fetched) {
      log->warn("catalog refresh failed error=\"{}\"", fetched.error().detail);
      co_await sleep_for(std::min<Duration>(options.interval, std::chrono::hours(1)));
      continue;
    }
    const catalog::Provenance provenance{
        "AWS APIs (skyd's daily refresh) for " + std::to_string(regions.size()) + " regions",
        format_utc_now("%Y-%m-%d"), 0};
    std::function<Result<void>()> store = [dir = options.dir, all = std::move(*fetched),
                                           provenance] {
      return write_and_install(dir, all, provenance);
    };
    auto stored = co_await run_blocking(std::move(store));
    if (!stored) {
      log->warn("catalog refresh not stored dir={} error=\"{}\"", options.dir,
                stored.error().detail);
    } else {
      log->info("catalog refreshed dir={} regions={}", options.dir, regions.size());
    }
    co_await sleep_for(options.interval);
  }
}

}  // namespace skyd::daemon
