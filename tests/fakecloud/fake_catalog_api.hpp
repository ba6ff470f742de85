#pragma once
// What fakecloud answers to a catalog refresh: EC2's DescribeInstanceTypes,
// DescribeInstanceTypeOfferings (availability-zone) and DescribeSpotPriceHistory in EC2's XML
// shapes, paginated with NextToken/MaxResults within EC2's limits (DescribeInstanceTypes narrowed
// by InstanceType.N, refusing an unknown type with InvalidInstanceType as EC2 does), and the Price
// List's GetProducts in its JSON shape (each PriceList entry a JSON document in a string). The
// account's types, zones and prices are a catalog (by default the built-in one; `--catalog DIR` for
// a catalog directory); a price the catalog does not know is not sold by the fake.

#include "providers/aws/ec2_api.hpp"
#include "providers/catalog/catalog.hpp"
#include "reactor/error.hpp"

#include <string>

namespace skyd::fakecloud {

// A refused request: EC2's (or the Price List's) error code and message.
struct ApiRefusal {
  std::string code;
  std::string message;
};

template <typename T>
using ApiAnswer = boost::system::result<T, ApiRefusal>;

// The XML body of a successful EC2 answer.
ApiAnswer<std::string> describe_instance_types(const catalog::Catalog& catalog,
                                               const std::string& region,
                                               const std::string& request_id,
                                               const providers::aws::QueryParams& params);
ApiAnswer<std::string> describe_instance_type_offerings(const catalog::Catalog& catalog,
                                                        const std::string& region,
                                                        const std::string& request_id,
                                                        const providers::aws::QueryParams& params);
ApiAnswer<std::string> describe_spot_price_history(const catalog::Catalog& catalog,
                                                   const std::string& region,
                                                   const std::string& request_id,
                                                   const providers::aws::QueryParams& params);
// The JSON body of a successful GetProducts answer.
ApiAnswer<std::string> get_products(const catalog::Catalog& catalog, const std::string& body);

}  // namespace skyd::fakecloud
