#include "cli/catalog_command.hpp"

#include "providers/aws/aws_provider.hpp"
#include "providers/aws/catalog_refresh.hpp"
#include "providers/catalog/catalog_dir.hpp"
#include "reactor/utc_time.hpp"

#include <yaml-cpp/yaml.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>

namespace skyd::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: sky catalog refresh [--dir DIR] [--regions REGION,...] [--endpoint URL]\n"
    "                           [--pricing-endpoint URL]\n"
    "  Rebuilds DIR/aws/vms.csv (default: the configured catalog_dir) from AWS's APIs with the\n"
    "  AWS credentials of this shell (environment, ~/.aws, instance role). --endpoint and\n"
    "  --pricing-endpoint point EC2 and the Price List elsewhere (a test cloud).\n";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

struct RefreshOptions {
  std::string dir;
  std::vector<std::string> regions;
  std::string endpoint;
  std::string pricing_endpoint;
};

Task<Result<providers::aws::AwsCatalog>> fetch(RefreshOptions options) {
  providers::aws::AwsProviderOptions aws;
  aws.endpoint = options.endpoint;
  aws.pricing_endpoint = options.pricing_endpoint;
  aws.regions = options.regions;
  auto executor = co_await asio::this_coro::executor;
  providers::aws::AwsProvider provider(executor, std::move(aws));
  std::vector<std::string> regions = options.regions;
  co_return co_await providers::aws::fetch_aws_catalog(provider, std::move(regions));
}

int refresh(const std::vector<std::string>& args) {
  RefreshOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    std::optional<std::string> given;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg != "--dir" && arg != "--regions" && arg != "--endpoint" &&
        arg != "--pricing-endpoint") {
      std::cerr << "Error: unexpected argument " << arg << "\n" << kUsage;
      return 2;
    }
    if (!(given = value())) {
      std::cerr << "Error: " << arg << " needs a value\n" << kUsage;
      return 2;
    }
    if (arg == "--dir") options.dir = *given;
    if (arg == "--regions") options.regions = split_commas(*given);
    if (arg == "--endpoint") options.endpoint = *given;
    if (arg == "--pricing-endpoint") options.pricing_endpoint = *given;
  }
  if (options.dir.empty()) options.dir = configured_catalog_dir().value_or("");
  if (options.dir.empty()) {
    std::cerr << "Error: no catalog directory: pass --dir DIR, or set catalog_dir in skyd's "
                 "config (or SKYD_CATALOG_DIR)\n";
    return 2;
  }
  if (options.regions.empty()) {
    // Every AWS region of the built-in catalog (all that EC2 offered when it was generated).
    options.regions = catalog::Catalog::builtin().regions("aws");
  }
  asio::io_context context(1);
  auto future = asio::co_spawn(context, fetch(options), asio::use_future);
  context.run();
  auto fetched = future.get();
  if (!fetched) {
    std::cerr << "Error: catalog refresh failed: " << fetched.error().detail << "\n";
    return 1;
  }
  std::string regions;
  for (const auto& region : options.regions) regions += (regions.empty() ? "" : ",") + region;
  const catalog::Provenance provenance{
      "AWS APIs (DescribeInstanceTypes, DescribeInstanceTypeOfferings, DescribeSpotPriceHistory, "
      "Price List GetProducts) for " +
          regions,
      format_utc_now("%Y-%m-%d"), 0};
  if (auto written =
          catalog::write_catalog_file(options.dir, "aws", fetched->offerings, provenance);
      !written) {
    std::cerr << "Error: " << written.error().detail << "\n";
    return 1;
  }
  std::cout << "Wrote " << (std::filesystem::path(options.dir) / "aws" / "vms.csv").string() << ": "
            << fetched->offerings.size() << " offerings of " << fetched->instance_types
            << " instance types in " << options.regions.size() << " region"
            << (options.regions.size() == 1 ? "" : "s") << "; " << fetched->priced
            << " with an on-demand price, " << fetched->spot_priced << " with a spot price.\n";
  return 0;
}

}  // namespace

std::optional<std::string> configured_catalog_dir() {
  if (const char* env = std::getenv("SKYD_CATALOG_DIR"); env && *env) return std::string(env);
  std::string file = "/etc/skyd/config.yaml";
  if (::geteuid() != 0) {
    const char* home = std::getenv("HOME");
    if (!home) return std::nullopt;
    file = std::string(home) + "/.sky/skyd.yaml";
  }
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  try {
    const YAML::Node root = YAML::LoadFile(file);
    if (root["catalog_dir"]) return root["catalog_dir"].as<std::string>();
  } catch (const YAML::Exception&) {
    // skyd reports its own config's errors; sky then plans with the built-in catalog.
  }
  return std::nullopt;
}

Result<void> install_configured_catalog() {
  const auto dir = configured_catalog_dir();
  if (!dir) return {};
  auto loaded = catalog::load_catalog_dir(*dir);
  if (!loaded) return loaded.error();
  catalog::install(std::make_shared<const catalog::Catalog>(std::move(*loaded)));
  return {};
}

int catalog_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "refresh") return refresh({args.begin() + 1, args.end()});
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "Error: expected `sky catalog refresh`\n" << kUsage;
  return 2;
}

}  // namespace skyd::cli
