#pragma once
// `sky catalog refresh` and skyd's daily refresh for AWS: the catalog rebuilt from the cloud's own
// APIs through the provider's signed, rate-limited client. Per region: DescribeInstanceTypes
// (shapes, accelerators, EFA, whether spot is sold), DescribeInstanceTypeOfferings by
// availability zone (where each type is sold), DescribeSpotPriceHistory (each zone's latest
// Linux/UNIX spot price) and the Price List's GetProducts (Linux on-demand prices). A price the
// APIs did not give stays unknown.

#include "providers/aws/aws_provider.hpp"
#include "providers/catalog/catalog.hpp"
#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <string>
#include <vector>

namespace skyd::providers::aws {

struct AwsCatalog {
  std::vector<catalog::Offering> offerings;  // sorted by type, region, zone
  std::size_t instance_types = 0;
  std::size_t priced = 0;       // offerings with an on-demand price
  std::size_t spot_priced = 0;  // offerings with a spot price
};

// Errors: the first failed call's (auth, throttled after retries, transient...), naming the
// region; nothing is returned for a partial catalog.
Task<Result<AwsCatalog>> fetch_aws_catalog(AwsProvider& provider, std::vector<std::string> regions);

}  // namespace skyd::providers::aws
