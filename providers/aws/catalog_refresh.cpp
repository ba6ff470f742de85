#include "providers/aws/catalog_refresh.hpp"

#include "providers/aws/ec2_catalog_api.hpp"
#include "reactor/log.hpp"
#include "reactor/utc_time.hpp"

#include <algorithm>
#include <map>

namespace skyd::providers::aws {
namespace {

constexpr int kTypesPage = 100;       // DescribeInstanceTypes allows 5..100
constexpr int kOfferingsPage = 1000;  // DescribeInstanceTypeOfferings 5..1000
constexpr int kSpotPage = 1000;       // DescribeSpotPriceHistory up to 1000
constexpr int kProductsPage = 100;    // GetProducts up to 100

Error in_region(const Error& error, const std::string& region) {
  return Error{error.code, region + ": " + error.detail};
}

// One region's rows.
Task<Result<AwsCatalog>> fetch_region(AwsProvider& provider, std::string region) {
  std::map<std::string, Ec2InstanceType> types;
  std::string token;
  do {
    // Arguments are named: g++ 12 destroys temporaries in a co_await expression twice.
    QueryParams params = build_describe_instance_types(token, kTypesPage);
    auto body = co_await provider.call(region, std::move(params));
    if (!body) co_return in_region(body.error(), region);
    auto page = parse_describe_instance_types(*body);
    if (!page) co_return in_region(page.error(), region);
    for (auto& type : page->types) types[type.name] = std::move(type);
    token = page->next_token;
  } while (!token.empty());

  std::vector<InstanceTypeOffering> offerings;
  do {
    QueryParams params = build_describe_instance_type_offerings(token, kOfferingsPage);
    auto body = co_await provider.call(region, std::move(params));
    if (!body) co_return in_region(body.error(), region);
    auto page = parse_describe_instance_type_offerings(*body);
    if (!page) co_return in_region(page.error(), region);
    offerings.insert(offerings.end(), page->offerings.begin(), page->offerings.end());
    token = page->next_token;
  } while (!token.empty());

  // The latest price of each (type, zone): EC2 lists a window, newest first but not promised.
  std::map<std::pair<std::string, std::string>, SpotPricePoint> spot;
  const std::string now = format_utc_now("%Y-%m-%dT%H:%M:%SZ");
  do {
    QueryParams params = build_describe_spot_price_history(token, kSpotPage, now);
    auto body = co_await provider.call(region, std::move(params));
    if (!body) co_return in_region(body.error(), region);
    auto page = parse_describe_spot_price_history(*body);
    if (!page) co_return in_region(page.error(), region);
    for (auto& point : page->prices) {
      auto& latest = spot[{point.instance_type, point.zone}];
      if (latest.timestamp.empty() || point.timestamp > latest.timestamp) latest = point;
    }
    token = page->next_token;
  } while (!token.empty());

  std::map<std::string, double> on_demand;
  do {
    std::string operation = "GetProducts";
    std::string request = build_get_products(region, token, kProductsPage);
    auto body = co_await provider.call_pricing(std::move(operation), std::move(request));
    if (!body) co_return in_region(body.error(), region);
    auto page = parse_get_products(*body);
    if (!page) co_return in_region(page.error(), region);
    for (const auto& price : page->prices) {
      if (price.region == region) on_demand[price.instance_type] = price.price;
    }
    token = page->next_token;
  } while (!token.empty());

  AwsCatalog out;
  out.instance_types = types.size();
  for (const auto& offering : offerings) {
    auto type = types.find(offering.instance_type);
    if (type == types.end()) continue;  // offered but not described: nothing to plan with
    catalog::Offering row;
    row.cloud = "aws";
    row.instance_type = offering.instance_type;
    row.vcpus = type->second.vcpus;
    row.memory_gb = type->second.memory_mib / 1024;
    row.accelerator_name = type->second.accelerator;
    row.accelerator_count = type->second.accelerator_count;
    row.accelerator_memory_gb = type->second.accelerator_memory_mib / 1024;
    row.region = region;
    row.zone = offering.zone;
    if (auto price = on_demand.find(offering.instance_type); price != on_demand.end()) {
      row.price = price->second;
      ++out.priced;
    }
    row.spot = type->second.spot;
    if (auto price = spot.find({offering.instance_type, offering.zone}); price != spot.end()) {
      row.spot = true;
      row.spot_price = price->second.price;
      ++out.spot_priced;
    }
    row.max_efa_interfaces = type->second.max_efa_interfaces;
    out.offerings.push_back(std::move(row));
  }
  co_return out;
}

}  // namespace

Task<Result<AwsCatalog>> fetch_aws_catalog(AwsProvider& provider,
                                           std::vector<std::string> regions) {
  AwsCatalog all;
  for (const auto& region : regions) {
    std::string name = region;
    auto one = co_await fetch_region(provider, std::move(name));
    if (!one) co_return one.error();
    logger("aws")->info("catalog fetched region={} types={} offerings={} priced={} spot_priced={}",
                        region, one->instance_types, one->offerings.size(), one->priced,
                        one->spot_priced);
    all.instance_types += one->instance_types;
    all.priced += one->priced;
    all.spot_priced += one->spot_priced;
    all.offerings.insert(all.offerings.end(), std::make_move_iterator(one->offerings.begin()),
                         std::make_move_iterator(one->offerings.end()));
  }
  std::sort(all.offerings.begin(), all.offerings.end(),
            [](const catalog::Offering& a, const catalog::Offering& b) {
              return std::tie(a.instance_type, a.region, a.zone) <
                     std::tie(b.instance_type, b.region, b.zone);
            });
  co_return all;
}

}  // namespace skyd::providers::aws
