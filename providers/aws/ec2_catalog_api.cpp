#include "providers/aws/ec2_catalog_api.hpp"

#include "providers/provider.hpp"
#include "reactor/json.hpp"

#include <charconv>

namespace skyd::providers::aws {
namespace {

double number_of(std::string_view text) {
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// The first device of a gpuInfo/gpus or neuronInfo/neuronDevices list.
const XmlNode* first_item(const XmlNode& type, std::string_view list_path) {
  const XmlNode* list = type.at(list_path);
  if (!list) return nullptr;
  for (const auto& item : list->children) {
    if (item.name == "item") return &item;
  }
  return nullptr;
}

Ec2InstanceType instance_type_from(const XmlNode& item) {
  Ec2InstanceType type;
  type.name = item.text_at("instanceType");
  type.vcpus = number_of(item.text_at("vCpuInfo/defaultVCpus"));
  type.memory_mib = number_of(item.text_at("memoryInfo/sizeInMiB"));
  if (item.text_at("networkInfo/efaSupported") == "true") {
    type.max_efa_interfaces = std::max(
        1, static_cast<int>(number_of(item.text_at("networkInfo/efaInfo/maximumEfaInterfaces"))));
  }
  if (const XmlNode* classes = item.child("supportedUsageClasses")) {
    for (const auto& usage : classes->children) type.spot = type.spot || usage.text == "spot";
  }
  const XmlNode* device = first_item(item, "gpuInfo/gpus");
  if (!device) device = first_item(item, "neuronInfo/neuronDevices");
  if (device) {
    type.accelerator_memory_mib = number_of(device->text_at("memoryInfo/sizeInMiB"));
    type.accelerator =
        skypilot_accelerator_name(device->text_at("name"), type.accelerator_memory_mib);
    type.accelerator_count = number_of(device->text_at("count"));
    if (type.accelerator_count == 0) {  // a fraction of one GPU (g6f)
      type.accelerator_count = number_of(device->text_at("logicalGpuCount")) *
                               number_of(device->text_at("gpuPartitionSize"));
    }
  }
  return type;
}

void add_filter(Json& filters, std::string_view field, std::string_view value) {
  Json filter = Json::object();
  filter.set("Type", "TERM_MATCH");
  filter.set("Field", field);
  filter.set("Value", value);
  filters.push_back(std::move(filter));
}

// The hourly USD price in a product's OnDemand terms (one term, one dimension for these filters).
std::optional<double> on_demand_usd(const Json& product) {
  const Json* terms = product.find("terms");
  const Json* on_demand = terms ? terms->find("OnDemand") : nullptr;
  const auto* offers = on_demand ? on_demand->as_object() : nullptr;
  if (!offers) return std::nullopt;
  for (const auto& [sku, offer] : *offers) {
    const Json* dimensions = offer.find("priceDimensions");
    const auto* each = dimensions ? dimensions->as_object() : nullptr;
    if (!each) continue;
    for (const auto& [rate, dimension] : *each) {
      if (string_at(dimension, "unit") != "Hrs") continue;
      const Json* per_unit = dimension.find("pricePerUnit");
      if (!per_unit) continue;
      const std::string usd = string_at(*per_unit, "USD");
      if (!usd.empty()) return number_of(usd);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string skypilot_accelerator_name(std::string_view ec2_name, double memory_mib) {
  if (ec2_name == "A100" && memory_mib >= 80 * 1024) return "A100-80GB";
  if (ec2_name == "V100" && memory_mib >= 32 * 1024) return "V100-32GB";
  return std::string(ec2_name);
}

QueryParams build_describe_instance_types(const std::string& next_token, int max_results) {
  QueryParams params{{"Action", "DescribeInstanceTypes"},
                     {"Version", "2016-11-15"},
                     {"MaxResults", std::to_string(max_results)}};
  if (!next_token.empty()) params.emplace_back("NextToken", next_token);
  return params;
}

QueryParams build_describe_instance_type_offerings(const std::string& next_token, int max_results) {
  QueryParams params{{"Action", "DescribeInstanceTypeOfferings"},
                     {"Version", "2016-11-15"},
                     {"LocationType", "availability-zone"},
                     {"MaxResults", std::to_string(max_results)}};
  if (!next_token.empty()) params.emplace_back("NextToken", next_token);
  return params;
}

QueryParams build_describe_spot_price_history(const std::string& next_token, int max_results,
                                              const std::string& now_iso8601) {
  QueryParams params{{"Action", "DescribeSpotPriceHistory"},
                     {"Version", "2016-11-15"},
                     {"ProductDescription.1", "Linux/UNIX"},
                     {"StartTime", now_iso8601},
                     {"MaxResults", std::to_string(max_results)}};
  if (!next_token.empty()) params.emplace_back("NextToken", next_token);
  return params;
}

std::string build_get_products(const std::string& region, const std::string& next_token,
                               int max_results) {
  Json filters = Json::array();
  add_filter(filters, "regionCode", region);
  add_filter(filters, "operatingSystem", "Linux");
  add_filter(filters, "tenancy", "Shared");
  add_filter(filters, "preInstalledSw", "NA");
  add_filter(filters, "capacitystatus", "Used");
  Json body = Json::object();
  body.set("ServiceCode", "AmazonEC2");
  body.set("Filters", std::move(filters));
  body.set("FormatVersion", "aws_v1");
  body.set("MaxResults", max_results);
  if (!next_token.empty()) body.set("NextToken", next_token);
  return body.dump();
}

Result<InstanceTypesPage> parse_describe_instance_types(std::string_view xml) {
  auto root = root_named(xml, "DescribeInstanceTypesResponse");
  if (!root) return root.error();
  InstanceTypesPage page;
  page.next_token = root->text_at("nextToken");
  if (const XmlNode* set = root->child("instanceTypeSet")) {
    for (const auto& item : set->children) {
      if (item.name == "item") page.types.push_back(instance_type_from(item));
    }
  }
  return page;
}

Result<OfferingsPage> parse_describe_instance_type_offerings(std::string_view xml) {
  auto root = root_named(xml, "DescribeInstanceTypeOfferingsResponse");
  if (!root) return root.error();
  OfferingsPage page;
  page.next_token = root->text_at("nextToken");
  if (const XmlNode* set = root->child("instanceTypeOfferingSet")) {
    for (const auto& item : set->children) {
      if (item.name != "item") continue;
      page.offerings.push_back({item.text_at("instanceType"), item.text_at("location")});
    }
  }
  return page;
}

Result<SpotPricesPage> parse_describe_spot_price_history(std::string_view xml) {
  auto root = root_named(xml, "DescribeSpotPriceHistoryResponse");
  if (!root) return root.error();
  SpotPricesPage page;
  page.next_token = root->text_at("nextToken");
  if (const XmlNode* set = root->child("spotPriceHistorySet")) {
    for (const auto& item : set->children) {
      if (item.name != "item") continue;
      page.prices.push_back({item.text_at("instanceType"), item.text_at("availabilityZone"),
                             number_of(item.text_at("spotPrice")), item.text_at("timestamp")});
    }
  }
  return page;
}

Result<ProductsPage> parse_get_products(std::string_view json) {
  auto body = parse_json(json);
  if (!body) return make_error(ProviderErrc::kTransient, "GetProducts: unreadable JSON answer");
  ProductsPage page;
  page.next_token = string_at(*body, "NextToken");
  const Json* list = body->find("PriceList");
  const auto* entries = list ? list->as_array() : nullptr;
  if (!entries) return page;
  for (const auto& entry : *entries) {
    auto text = entry.as_string();
    if (!text) continue;
    auto product = parse_json(*text);  // each entry is a JSON document in a string
    if (!product) {
      return make_error(ProviderErrc::kTransient, "GetProducts: a PriceList entry is not JSON");
    }
    const Json* attributes = product->find("product");
    attributes = attributes ? attributes->find("attributes") : nullptr;
    if (!attributes) continue;
    auto price = on_demand_usd(*product);
    if (!price) continue;
    page.prices.push_back(
        {string_at(*attributes, "instanceType"), string_at(*attributes, "regionCode"), *price});
  }
  return page;
}

Ec2Error parse_json_error(int http_status, std::string_view body) {
  Ec2Error out;
  out.http_status = http_status;
  if (auto parsed = parse_json(body)) {
    std::string type = string_at(*parsed, "__type");
    if (const auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
    out.code = type;
    out.message = string_at(*parsed, "message");
    if (out.message.empty()) out.message = string_at(*parsed, "Message");
  }
  if (out.code.empty()) out.code = http_status >= 500 ? "InternalError" : "Unknown";
  return out;
}

}  // namespace skyd::providers::aws
