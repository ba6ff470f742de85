#include "tests/fakecloud/fake_catalog_api.hpp"

#include "reactor/json.hpp"
#include "reactor/utc_time.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

namespace skyd::fakecloud {
namespace {

namespace aws = providers::aws;
constexpr std::string_view kXmlns = " xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"";

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

std::string open_response(std::string_view name, const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + std::string(name) + std::string(kXmlns) +
         "><requestId>" + request_id + "</requestId>";
}

// The page [begin, end) of `total` items that MaxResults (within EC2's `low`..`high`) and
// NextToken ("fc-<index>") ask for.
ApiAnswer<std::pair<std::size_t, std::size_t>> page_of(const aws::QueryParams& params,
                                                       std::size_t total, int low, int high) {
  int max_results = high;
  if (auto text = aws::param(params, "MaxResults")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), max_results);
    if (ec != std::errc() || end != text->data() + text->size() || max_results < low ||
        max_results > high) {
      return ApiRefusal{
          "InvalidParameterValue",
          "MaxResults must be between " + std::to_string(low) + " and " + std::to_string(high)};
    }
  }
  std::size_t begin = 0;
  if (auto token = aws::param(params, "NextToken")) {
    if (!token->starts_with("fc-")) return ApiRefusal{"InvalidNextToken", "The token is invalid"};
    begin = std::min<std::size_t>(std::strtoull(token->c_str() + 3, nullptr, 10), total);
  }
  return std::pair{begin, std::min(total, begin + static_cast<std::size_t>(max_results))};
}

ApiAnswer<std::string> answer(std::string body) {
  return ApiAnswer<std::string>(boost::system::in_place_value, std::move(body));
}

ApiAnswer<std::string> close_page(std::string body, std::size_t end, std::size_t total,
                                  std::string_view name) {
  if (end < total) body += "<nextToken>fc-" + std::to_string(end) + "</nextToken>";
  return answer(body + "</" + std::string(name) + ">");
}

// One offering of each instance type sold in the region (its shape).
std::vector<const catalog::Offering*> types_in(const catalog::Catalog& catalog,
                                               const std::string& region) {
  std::vector<const catalog::Offering*> types;
  std::set<std::string> seen;
  for (const auto& o : catalog.offerings()) {
    if (o.cloud == "aws" && o.region == region && seen.insert(o.instance_type).second) {
      types.push_back(&o);
    }
  }
  return types;
}

void append_type(std::string& out, const catalog::Offering& o) {
  out += "<item><instanceType>" + aws::xml_escape(o.instance_type) + "</instanceType>";
  out += "<supportedUsageClasses><item>on-demand</item>";
  if (o.spot) out += "<item>spot</item>";
  out += "</supportedUsageClasses>";
  out += "<vCpuInfo><defaultVCpus>" + number(o.vcpus) + "</defaultVCpus></vCpuInfo>";
  out += "<memoryInfo><sizeInMiB>" + number(o.memory_gb * 1024) + "</sizeInMiB></memoryInfo>";
  out += "<networkInfo><efaSupported>" + std::string(o.efa_supported() ? "true" : "false") +
         "</efaSupported>";
  if (o.efa_supported()) {
    out += "<efaInfo><maximumEfaInterfaces>" + std::to_string(o.max_efa_interfaces) +
           "</maximumEfaInterfaces></efaInfo>";
  }
  out += "</networkInfo>";
  if (o.has_accelerator()) {
    // EC2 names the device (A100), not SkyPilot's variant (A100-80GB); the client maps it back.
    std::string name = o.accelerator_name;
    if (const auto dash = name.find("-"); dash != std::string::npos && name.ends_with("GB")) {
      name.resize(dash);
    }
    const std::string memory = number(o.accelerator_memory_gb * 1024);
    out += "<gpuInfo><gpus><item><name>" + aws::xml_escape(name) +
           "</name><manufacturer>NVIDIA</manufacturer><count>" + number(o.accelerator_count) +
           "</count><memoryInfo><sizeInMiB>" + memory +
           "</sizeInMiB></memoryInfo></item></gpus><totalGpuMemoryInMiB>" +
           number(o.accelerator_memory_gb * 1024 * o.accelerator_count) +
           "</totalGpuMemoryInMiB></gpuInfo>";
  }
  out += "</item>";
}

// The Price List's document for one product: attributes and its one OnDemand term.
std::string product_document(const catalog::Offering& o, const std::string& os, double price) {
  const std::string sku =
      "FAKE" +
      std::to_string(std::hash<std::string>{}(o.instance_type + o.region + os) % 100000000);
  Json attributes = Json::object();
  attributes.set("instanceType", o.instance_type);
  attributes.set("regionCode", o.region);
  attributes.set("operatingSystem", os);
  attributes.set("tenancy", "Shared");
  attributes.set("preInstalledSw", "NA");
  attributes.set("capacitystatus", "Used");
  attributes.set("vcpu", number(o.vcpus));
  Json product = Json::object();
  product.set("productFamily", "Compute Instance");
  product.set("attributes", std::move(attributes));
  product.set("sku", sku);
  Json per_unit = Json::object();
  per_unit.set("USD", number(price));
  Json dimension = Json::object();
  dimension.set("unit", "Hrs");
  dimension.set("pricePerUnit", std::move(per_unit));
  dimension.set("description", "$" + number(price) + " per On Demand " + os + " " +
                                   o.instance_type + " Instance Hour");
  Json dimensions = Json::object();
  dimensions.set(sku + ".JRTCKXETXF.6YS6EN2CT7", std::move(dimension));
  Json term = Json::object();
  term.set("priceDimensions", std::move(dimensions));
  term.set("sku", sku);
  term.set("offerTermCode", "JRTCKXETXF");
  Json on_demand = Json::object();
  on_demand.set(sku + ".JRTCKXETXF", std::move(term));
  Json terms = Json::object();
  terms.set("OnDemand", std::move(on_demand));
  Json document = Json::object();
  document.set("product", std::move(product));
  document.set("serviceCode", "AmazonEC2");
  document.set("terms", std::move(terms));
  document.set("version", "20261201000000");
  return document.dump();
}

}  // namespace

ApiAnswer<std::string> describe_instance_types(const catalog::Catalog& catalog,
                                               const std::string& region,
                                               const std::string& request_id,
                                               const aws::QueryParams& params) {
  auto types = types_in(catalog, region);
  // InstanceType.N narrows the answer to the named types; EC2 refuses the whole call when one of
  // them is not sold in the region, naming every such type.
  if (const auto named = aws::param_list(params, "InstanceType"); !named.empty()) {
    std::vector<const catalog::Offering*> chosen;
    std::string unknown;
    for (const auto& name : named) {
      auto found = std::find_if(types.begin(), types.end(), [&](const catalog::Offering* o) {
        return o->instance_type == name;
      });
      if (found == types.end()) {
        unknown += (unknown.empty() ? "" : ", ") + name;
      } else if (std::find(chosen.begin(), chosen.end(), *found) == chosen.end()) {
        chosen.push_back(*found);
      }
    }
    if (!unknown.empty()) {
      return ApiRefusal{"InvalidInstanceType",
                        "The following supplied instance types do not exist: [" + unknown + "]"};
    }
    types = std::move(chosen);
  }
  auto page = page_of(params, types.size(), 5, 100);
  if (!page) return page.error();
  std::string body = open_response("DescribeInstanceTypesResponse", request_id);
  body += "<instanceTypeSet>";
  for (std::size_t i = page->first; i < page->second; ++i) append_type(body, *types[i]);
  body += "</instanceTypeSet>";
  return close_page(std::move(body), page->second, types.size(), "DescribeInstanceTypesResponse");
}

ApiAnswer<std::string> describe_instance_type_offerings(const catalog::Catalog& catalog,
                                                        const std::string& region,
                                                        const std::string& request_id,
                                                        const aws::QueryParams& params) {
  if (aws::param(params, "LocationType").value_or("region") != "availability-zone") {
    return ApiRefusal{"InvalidParameterValue",
                      "fakecloud lists offerings by availability-zone only"};
  }
  std::vector<const catalog::Offering*> rows;
  for (const auto& o : catalog.offerings()) {
    if (o.cloud == "aws" && o.region == region) rows.push_back(&o);
  }
  auto page = page_of(params, rows.size(), 5, 1000);
  if (!page) return page.error();
  std::string body = open_response("DescribeInstanceTypeOfferingsResponse", request_id);
  body += "<instanceTypeOfferingSet>";
  for (std::size_t i = page->first; i < page->second; ++i) {
    body += "<item><instanceType>" + aws::xml_escape(rows[i]->instance_type) +
            "</instanceType><locationType>availability-zone</locationType><location>" +
            aws::xml_escape(rows[i]->zone) + "</location></item>";
  }
  body += "</instanceTypeOfferingSet>";
  return close_page(std::move(body), page->second, rows.size(),
                    "DescribeInstanceTypeOfferingsResponse");
}

ApiAnswer<std::string> describe_spot_price_history(const catalog::Catalog& catalog,
                                                   const std::string& region,
                                                   const std::string& request_id,
                                                   const aws::QueryParams& params) {
  std::vector<const catalog::Offering*> rows;
  for (const auto& o : catalog.offerings()) {
    if (o.cloud == "aws" && o.region == region && o.spot_price) rows.push_back(&o);
  }
  auto page = page_of(params, rows.size(), 1, 1000);
  if (!page) return page.error();
  const std::string now = format_utc_now("%Y-%m-%dT%H:%M:%S.000Z");
  std::string body = open_response("DescribeSpotPriceHistoryResponse", request_id);
  body += "<spotPriceHistorySet>";
  for (std::size_t i = page->first; i < page->second; ++i) {
    body += "<item><instanceType>" + aws::xml_escape(rows[i]->instance_type) +
            "</instanceType><productDescription>Linux/UNIX</productDescription><spotPrice>" +
            number(*rows[i]->spot_price) + "</spotPrice><timestamp>" + now +
            "</timestamp><availabilityZone>" + aws::xml_escape(rows[i]->zone) +
            "</availabilityZone></item>";
  }
  body += "</spotPriceHistorySet>";
  return close_page(std::move(body), page->second, rows.size(), "DescribeSpotPriceHistoryResponse");
}

ApiAnswer<std::string> get_products(const catalog::Catalog& catalog, const std::string& body) {
  auto request = parse_json(body);
  if (!request || !request->is_object()) {
    return ApiRefusal{"InvalidParameterException", "the body is not a JSON object"};
  }
  const Json* service = request->find("ServiceCode");
  if (!service || service->as_string() != std::optional<std::string_view>("AmazonEC2")) {
    return ApiRefusal{"InvalidParameterException", "ServiceCode must be AmazonEC2 here"};
  }
  std::map<std::string, std::string> wanted;  // TERM_MATCH field -> value
  if (const Json* filters = request->find("Filters"); filters && filters->as_array()) {
    for (const auto& filter : *filters->as_array()) {
      const Json* field = filter.find("Field");
      const Json* value = filter.find("Value");
      if (!field || !value || !field->as_string() || !value->as_string()) {
        return ApiRefusal{"InvalidParameterException", "a filter needs Field and Value"};
      }
      wanted[std::string(*field->as_string())] = std::string(*value->as_string());
    }
  }
  int max_results = 100;
  if (const Json* max = request->find("MaxResults")) {
    max_results = static_cast<int>(max->as_int().value_or(0));
    if (max_results < 1 || max_results > 100) {
      return ApiRefusal{"InvalidParameterException", "MaxResults must be between 1 and 100"};
    }
  }
  // Every (type, region) with a known price, in Linux and Windows (so filters matter).
  std::vector<std::string> documents;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& o : catalog.offerings()) {
    if (o.cloud != "aws" || !o.price || !seen.insert({o.instance_type, o.region}).second) continue;
    for (const auto& [os, factor] :
         {std::pair{std::string("Linux"), 1.0}, std::pair{std::string("Windows"), 2.0}}) {
      const std::map<std::string, std::string> attributes{
          {"regionCode", o.region}, {"instanceType", o.instance_type}, {"operatingSystem", os},
          {"tenancy", "Shared"},    {"preInstalledSw", "NA"},          {"capacitystatus", "Used"}};
      bool matches = true;
      for (const auto& [field, value] : wanted) {
        auto found = attributes.find(field);
        if (found != attributes.end() && found->second != value) matches = false;
      }
      if (matches) documents.push_back(product_document(o, os, *o.price * factor));
    }
  }
  std::size_t begin = 0;
  if (const Json* token = request->find("NextToken"); token && token->as_string()) {
    const std::string text(*token->as_string());
    if (!text.starts_with("fc-")) return ApiRefusal{"InvalidNextTokenException", "bad token"};
    begin = std::min<std::size_t>(std::strtoull(text.c_str() + 3, nullptr, 10), documents.size());
  }
  const std::size_t end = std::min(documents.size(), begin + static_cast<std::size_t>(max_results));
  Json list = Json::array();
  for (std::size_t i = begin; i < end; ++i) list.push_back(documents[i]);
  Json reply = Json::object();
  reply.set("FormatVersion", "aws_v1");
  reply.set("PriceList", std::move(list));
  if (end < documents.size()) reply.set("NextToken", "fc-" + std::to_string(end));
  return answer(reply.dump());
}

}  // namespace skyd::fakecloud
