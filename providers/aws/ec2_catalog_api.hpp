#pragma once
// The calls a catalog refresh makes, as pure functions (build a request, parse a response):
// EC2's DescribeInstanceTypes, DescribeInstanceTypeOfferings (per availability zone) and
// DescribeSpotPriceHistory (Query API, XML, paginated with NextToken/MaxResults), and the Price
// List service's GetProducts (JSON protocol, target AWSPriceListService.GetProducts; each
// PriceList entry is itself a JSON document in a string).

#include "providers/aws/ec2_api.hpp"
#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::aws {

struct Ec2InstanceType {
  std::string name;  // m5.large
  double vcpus = 0;
  double memory_mib = 0;
  std::string accelerator;  // as SkyPilot names it (A100-80GB, V100-32GB, Trainium...); empty
  double accelerator_count = 0;
  double accelerator_memory_mib = 0;  // per device
  int max_efa_interfaces = 0;         // networkInfo/efaInfo/maximumEfaInterfaces; 0: no EFA
  bool spot = false;                  // SupportedUsageClasses holds "spot"
};

struct InstanceTypesPage {
  std::vector<Ec2InstanceType> types;
  std::string next_token;
};

struct InstanceTypeOffering {
  std::string instance_type;
  std::string zone;
};

struct OfferingsPage {
  std::vector<InstanceTypeOffering> offerings;
  std::string next_token;
};

struct SpotPricePoint {
  std::string instance_type;
  std::string zone;
  double price = 0;
  std::string timestamp;  // ISO 8601, as EC2 sends it
};

struct SpotPricesPage {
  std::vector<SpotPricePoint> prices;
  std::string next_token;
};

struct OnDemandPrice {
  std::string instance_type;
  std::string region;
  double price = 0;  // USD per hour
};

struct ProductsPage {
  std::vector<OnDemandPrice> prices;
  std::string next_token;
};

// SkyPilot's names for EC2's accelerators: the 80 GB A100 is A100-80GB, the 32 GB V100 V100-32GB.
std::string skypilot_accelerator_name(std::string_view ec2_name, double memory_mib);

QueryParams build_describe_instance_types(const std::string& next_token, int max_results);
QueryParams build_describe_instance_type_offerings(const std::string& next_token, int max_results);
// The latest Linux/UNIX price of every type in every zone of the region (StartTime = `now`).
QueryParams build_describe_spot_price_history(const std::string& next_token, int max_results,
                                              const std::string& now_iso8601);
// GetProducts for Linux, shared-tenancy, no-software, used-capacity instances of one region.
std::string build_get_products(const std::string& region, const std::string& next_token,
                               int max_results);

Result<InstanceTypesPage> parse_describe_instance_types(std::string_view xml);
Result<OfferingsPage> parse_describe_instance_type_offerings(std::string_view xml);
Result<SpotPricesPage> parse_describe_spot_price_history(std::string_view xml);
Result<ProductsPage> parse_get_products(std::string_view json);

// A JSON-protocol error body ({"__type": "...#ThrottlingException", "message": "..."}).
Ec2Error parse_json_error(int http_status, std::string_view body);

}  // namespace skyd::providers::aws
