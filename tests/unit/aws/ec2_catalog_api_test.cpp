// The catalog refresh's requests and the parsing of recorded answers (shapes as EC2 and the Price
// List send them; element names from the service models).
#include "providers/aws/ec2_catalog_api.hpp"
#include "providers/provider.hpp"
#include "reactor/json.hpp"

#include <gtest/gtest.h>

namespace skyd::providers::aws {
namespace {

constexpr const char* kInstanceTypes = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstanceTypesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <instanceTypeSet>
    <item>
      <instanceType>p4de.24xlarge</instanceType>
      <currentGeneration>true</currentGeneration>
      <supportedUsageClasses><item>on-demand</item><item>spot</item></supportedUsageClasses>
      <vCpuInfo><defaultVCpus>96</defaultVCpus><defaultCores>48</defaultCores></vCpuInfo>
      <memoryInfo><sizeInMiB>1179648</sizeInMiB></memoryInfo>
      <networkInfo><networkPerformance>4x 100 Gigabit</networkPerformance>
        <efaSupported>true</efaSupported><efaInfo><maximumEfaInterfaces>4</maximumEfaInterfaces></efaInfo></networkInfo>
      <gpuInfo>
        <gpus><item><name>A100</name><manufacturer>NVIDIA</manufacturer><count>8</count>
          <memoryInfo><sizeInMiB>81920</sizeInMiB></memoryInfo></item></gpus>
        <totalGpuMemoryInMiB>655360</totalGpuMemoryInMiB>
      </gpuInfo>
    </item>
    <item>
      <instanceType>trn1.2xlarge</instanceType>
      <supportedUsageClasses><item>on-demand</item></supportedUsageClasses>
      <vCpuInfo><defaultVCpus>8</defaultVCpus></vCpuInfo>
      <memoryInfo><sizeInMiB>32768</sizeInMiB></memoryInfo>
      <networkInfo><efaSupported>false</efaSupported></networkInfo>
      <neuronInfo><neuronDevices><item><count>1</count><name>Trainium</name>
        <memoryInfo><sizeInMiB>32768</sizeInMiB></memoryInfo></item></neuronDevices></neuronInfo>
    </item>
    <item>
      <instanceType>g6f.large</instanceType>
      <supportedUsageClasses><item>on-demand</item><item>spot</item></supportedUsageClasses>
      <vCpuInfo><defaultVCpus>2</defaultVCpus></vCpuInfo>
      <memoryInfo><sizeInMiB>8192</sizeInMiB></memoryInfo>
      <gpuInfo><gpus><item><name>L4</name><count>0</count><logicalGpuCount>1</logicalGpuCount>
        <gpuPartitionSize>0.125</gpuPartitionSize>
        <memoryInfo><sizeInMiB>2861</sizeInMiB></memoryInfo></item></gpus></gpuInfo>
    </item>
  </instanceTypeSet>
  <nextToken>page-2</nextToken>
</DescribeInstanceTypesResponse>)";

TEST(Ec2CatalogApi, InstanceTypesCarryShapeAcceleratorEfaAndSpot) {
  auto page = parse_describe_instance_types(kInstanceTypes);
  ASSERT_TRUE(page) << page.error().detail;
  EXPECT_EQ(page->next_token, "page-2");
  ASSERT_EQ(page->types.size(), 3u);
  const auto& p4de = page->types[0];
  EXPECT_EQ(p4de.name, "p4de.24xlarge");
  EXPECT_EQ(p4de.vcpus, 96);
  EXPECT_EQ(p4de.memory_mib, 1179648);
  EXPECT_EQ(p4de.accelerator, "A100-80GB");
  EXPECT_EQ(p4de.accelerator_count, 8);
  EXPECT_EQ(p4de.accelerator_memory_mib, 81920);
  EXPECT_EQ(p4de.max_efa_interfaces, 4);
  EXPECT_TRUE(p4de.spot);
  EXPECT_EQ(page->types[1].accelerator, "Trainium");
  EXPECT_FALSE(page->types[1].spot);
  EXPECT_DOUBLE_EQ(page->types[2].accelerator_count, 0.125);
}

TEST(Ec2CatalogApi, OfferingsAndSpotPricesParse) {
  auto offerings = parse_describe_instance_type_offerings(
      R"(<DescribeInstanceTypeOfferingsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
      <requestId>r</requestId><instanceTypeOfferingSet>
      <item><instanceType>m5.large</instanceType><locationType>availability-zone</locationType>
      <location>us-east-2a</location></item></instanceTypeOfferingSet>
      </DescribeInstanceTypeOfferingsResponse>)");
  ASSERT_TRUE(offerings);
  ASSERT_EQ(offerings->offerings.size(), 1u);
  EXPECT_EQ(offerings->offerings[0].zone, "us-east-2a");
  EXPECT_TRUE(offerings->next_token.empty());
  auto spot = parse_describe_spot_price_history(
      R"(<DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
      <requestId>r</requestId><spotPriceHistorySet><item><instanceType>m5.large</instanceType>
      <productDescription>Linux/UNIX</productDescription><spotPrice>0.034500</spotPrice>
      <timestamp>2026-12-01T10:00:00.000Z</timestamp><availabilityZone>us-east-2a</availabilityZone>
      </item></spotPriceHistorySet><nextToken>n</nextToken></DescribeSpotPriceHistoryResponse>)");
  ASSERT_TRUE(spot);
  ASSERT_EQ(spot->prices.size(), 1u);
  EXPECT_DOUBLE_EQ(spot->prices[0].price, 0.0345);
  EXPECT_EQ(spot->prices[0].zone, "us-east-2a");
  EXPECT_EQ(spot->next_token, "n");
}

TEST(Ec2CatalogApi, RequestsAskForZonesLinuxAndPages) {
  const auto offerings = build_describe_instance_type_offerings("tok", 1000);
  EXPECT_EQ(param(offerings, "LocationType"), "availability-zone");
  EXPECT_EQ(param(offerings, "NextToken"), "tok");
  const auto spot = build_describe_spot_price_history("", 1000, "2026-12-01T00:00:00Z");
  EXPECT_EQ(param(spot, "ProductDescription.1"), "Linux/UNIX");
  EXPECT_FALSE(param(spot, "NextToken"));
  auto body = parse_json(build_get_products("us-east-2", "next", 100));
  ASSERT_TRUE(body);
  EXPECT_EQ(body->find("ServiceCode")->as_string(), "AmazonEC2");
  EXPECT_EQ(body->find("NextToken")->as_string(), "next");
  const std::string text = body->dump();
  for (const char* filter :
       {R"("Field":"regionCode","Value":"us-east-2")",
        R"("Field":"operatingSystem","Value":"Linux")", R"("Field":"tenancy","Value":"Shared")",
        R"("Field":"preInstalledSw","Value":"NA")", R"("Field":"capacitystatus","Value":"Used")"}) {
    EXPECT_NE(text.find(filter), std::string::npos) << filter;
  }
}

TEST(Ec2CatalogApi, GetProductsReadsPriceListStrings) {
  // As the Price List sends it: each PriceList entry is a JSON document inside a string.
  Json product = Json::object();
  product.set(
      "product",
      *parse_json(R"({"attributes":{"instanceType":"m5.large","regionCode":"us-east-2"}})"));
  product.set("terms", *parse_json(R"({"OnDemand":{"SKU.T":{"priceDimensions":{"SKU.T.D":{
      "unit":"Hrs","pricePerUnit":{"USD":"0.0960000000"}}}}}})"));
  Json list = Json::array();
  list.push_back(product.dump());
  Json answer = Json::object();
  answer.set("FormatVersion", "aws_v1");
  answer.set("PriceList", std::move(list));
  answer.set("NextToken", "more");
  auto page = parse_get_products(answer.dump());
  ASSERT_TRUE(page) << page.error().detail;
  ASSERT_EQ(page->prices.size(), 1u);
  EXPECT_EQ(page->prices[0].instance_type, "m5.large");
  EXPECT_EQ(page->prices[0].region, "us-east-2");
  EXPECT_DOUBLE_EQ(page->prices[0].price, 0.096);
  EXPECT_EQ(page->next_token, "more");
}

TEST(Ec2CatalogApi, JsonErrorsClassifyLikeEc2s) {
  const auto throttled = parse_json_error(
      400, R"({"__type":"com.amazon.coral#ThrottlingException","message":"slow"})");
  EXPECT_EQ(throttled.code, "ThrottlingException");
  EXPECT_EQ(classify_error(throttled.http_status, throttled.code), ProviderErrc::kThrottled);
  const auto denied = parse_json_error(403, R"({"__type":"AccessDeniedException","Message":"no"})");
  EXPECT_EQ(denied.message, "no");
  EXPECT_EQ(parse_json_error(503, "<html>").code, "InternalError");
}

}  // namespace
}  // namespace skyd::providers::aws
