// fakecloud's EC2 catalog answers without a server: DescribeInstanceTypes narrowed by
// InstanceType.N, and EC2's refusal of a type the region does not sell.
#include "tests/fakecloud/fake_catalog_api.hpp"

#include <gtest/gtest.h>

namespace skyd::fakecloud {
namespace {

namespace aws = providers::aws;

catalog::Catalog small_catalog() {
  catalog::Catalog catalog;
  const std::string csv =
      "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
      "Region,AvailabilityZone,EfaSupported,MaxEfaInterfaces\n"
      "m5.large,,,2,8,,0.096,,us-east-1,us-east-1a,False,\n"
      "m5.large,,,2,8,,0.096,,us-east-1,us-east-1b,False,\n"
      "m5.xlarge,,,4,16,,0.192,,us-east-1,us-east-1a,False,\n"
      "c6i.large,,,2,4,,0.085,,us-east-1,us-east-1a,False,\n"
      "c6i.xlarge,,,4,8,,0.17,,eu-west-1,eu-west-1a,False,\n";
  EXPECT_TRUE(catalog.set_cloud("aws", csv, "aws/vms.csv", {}));
  return catalog;
}

// The <instanceType> names of an answer's instanceTypeSet, in order.
std::vector<std::string> names_in(const std::string& xml) {
  std::vector<std::string> names;
  const std::string open = "<instanceType>", close = "</instanceType>";
  for (auto at = xml.find(open); at != std::string::npos; at = xml.find(open, at)) {
    at += open.size();
    names.push_back(xml.substr(at, xml.find(close, at) - at));
  }
  return names;
}

TEST(DescribeInstanceTypes, WithoutNamesListsEveryTypeOfTheRegion) {
  const auto catalog = small_catalog();
  auto answer = describe_instance_types(catalog, "us-east-1", "r-1", {});
  ASSERT_TRUE(answer);
  EXPECT_EQ(names_in(*answer), (std::vector<std::string>{"m5.large", "m5.xlarge", "c6i.large"}));
}

TEST(DescribeInstanceTypes, InstanceTypeNNarrowsToTheNamedTypes) {
  const auto catalog = small_catalog();
  const aws::QueryParams params{{"InstanceType.1", "m5.large"}};
  auto answer = describe_instance_types(catalog, "us-east-1", "r-1", params);
  ASSERT_TRUE(answer);
  EXPECT_EQ(names_in(*answer), std::vector<std::string>{"m5.large"});

  const aws::QueryParams two{{"InstanceType.2", "m5.large"},
                             {"InstanceType.1", "c6i.large"},
                             {"InstanceType.3", "m5.large"}};
  answer = describe_instance_types(catalog, "us-east-1", "r-2", two);
  ASSERT_TRUE(answer);
  EXPECT_EQ(names_in(*answer), (std::vector<std::string>{"c6i.large", "m5.large"}));
}

TEST(DescribeInstanceTypes, AnUnknownNameRefusesTheCallNamingEveryUnknownType) {
  const auto catalog = small_catalog();
  // c6i.xlarge is sold in eu-west-1 only: unknown in us-east-1, as in EC2.
  const aws::QueryParams params{{"InstanceType.1", "m5.large"},
                                {"InstanceType.2", "m5.nope"},
                                {"InstanceType.3", "c6i.xlarge"}};
  auto answer = describe_instance_types(catalog, "us-east-1", "r-1", params);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, "InvalidInstanceType");
  EXPECT_EQ(answer.error().message,
            "The following supplied instance types do not exist: [m5.nope, c6i.xlarge]");
  EXPECT_TRUE(describe_instance_types(catalog, "eu-west-1", "r-2",
                                      aws::QueryParams{{"InstanceType.1", "c6i.xlarge"}}));
}

}  // namespace
}  // namespace skyd::fakecloud
