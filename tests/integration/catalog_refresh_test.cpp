// `sky catalog refresh` against fakecloud: the AWS catalog rebuilt from DescribeInstanceTypes,
// DescribeInstanceTypeOfferings, DescribeSpotPriceHistory and the Price List's GetProducts (signed,
// paginated, in their real wire shapes), written in SkyPilot's vms.csv format, and then planned
// with by `sky` through the catalog directory.
#include "providers/catalog/catalog_dir.hpp"
#include "tests/support/aws_world.hpp"
#include "tests/support/fakecloud_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace skyd::testing {
namespace {

std::map<std::string, std::string> aws_keys() {
  return {{"AWS_ACCESS_KEY_ID", kAccessKey},
          {"AWS_SECRET_ACCESS_KEY", kSecret},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"HOME", "/nonexistent"}};
}

CommandResult refresh(const FakeCloudProcess& cloud, const std::string& dir,
                      const std::string& regions) {
  return run_command({binary_path("sky"), "catalog", "refresh", "--dir", dir, "--regions", regions,
                      "--endpoint", cloud.url(), "--pricing-endpoint", cloud.url()},
                     aws_keys(), std::chrono::seconds(120));
}

long long calls_of(const FakeCloudProcess& cloud, const std::string& action) {
  auto stats = parse_json(run_command({"/usr/bin/curl", "-s", cloud.url() + "/_admin/stats"}).out);
  const Json* calls = stats ? stats->find("calls") : nullptr;
  const Json* count = calls ? calls->find(action) : nullptr;
  return count ? count->as_int().value_or(0) : 0;
}

const catalog::Offering* find(const catalog::Catalog& catalog, const std::string& type,
                              const std::string& zone) {
  for (const auto& o : catalog.offerings()) {
    if (o.cloud == "aws" && o.instance_type == type && o.zone == zone) return &o;
  }
  return nullptr;
}

TEST(CatalogRefresh, PricesAndShapesComeFromTheApisIntoVmsCsv) {
  TempDir dir;
  FakeCloudProcess cloud(dir, {"--catalog", SKYD_FAKECLOUD_CATALOG_DIR});
  const std::string out_dir = dir.file("catalog");
  const auto run = refresh(cloud, out_dir, "us-east-1,eu-west-1");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("aws/vms.csv"), std::string::npos) << run.out;

  auto loaded = catalog::load_catalog_dir(out_dir);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  auto regions = loaded->regions("aws");
  std::sort(regions.begin(), regions.end());
  EXPECT_EQ(regions, (std::vector<std::string>{"eu-west-1", "us-east-1"})) << "only those asked";
  // The fake account's prices (tests/fakecloud/catalog/aws/vms.csv): on demand from GetProducts
  // (Linux, not the Windows product it also lists), spot from the zone's spot price history.
  const catalog::Offering* m6i = find(*loaded, "m6i.large", "us-east-1a");
  ASSERT_NE(m6i, nullptr);
  EXPECT_DOUBLE_EQ(m6i->price.value_or(-1), 0.096);
  EXPECT_DOUBLE_EQ(m6i->spot_price.value_or(-1), 0.0365);
  EXPECT_EQ(m6i->vcpus, 2);
  EXPECT_EQ(m6i->memory_gb, 8);
  const catalog::Offering* a100 = find(*loaded, "p4de.24xlarge", "us-east-1a");
  ASSERT_NE(a100, nullptr);
  EXPECT_EQ(a100->accelerator_name, "A100-80GB") << "EC2's A100 with 80 GB, named as SkyPilot";
  EXPECT_EQ(a100->accelerator_count, 8);
  EXPECT_DOUBLE_EQ(a100->accelerator_memory_gb, 80);
  const catalog::Provenance* provenance = loaded->provenance("aws");
  ASSERT_NE(provenance, nullptr);
  EXPECT_NE(provenance->source.find("AWS APIs"), std::string::npos) << provenance->source;
  EXPECT_EQ(provenance->date.size(), 10u);
  for (const char* action : {"DescribeInstanceTypes", "DescribeInstanceTypeOfferings",
                             "DescribeSpotPriceHistory", "AWSPriceListService.GetProducts"}) {
    EXPECT_GE(calls_of(cloud, action), 2) << action << ": one call per region at least";
  }

  // sky plans with the refreshed directory and says where its prices come from.
  auto env = aws_keys();
  env["SKYD_CATALOG_DIR"] = out_dir;
  const auto gpus =
      run_command({binary_path("sky"), "show-gpus", "A100-80GB", "--cloud", "aws"}, env);
  ASSERT_EQ(gpus.exit_code, 0) << gpus.out << gpus.err;
  EXPECT_NE(gpus.out.find("p4de.24xlarge"), std::string::npos) << gpus.out;
  EXPECT_NE(gpus.out.find("AWS APIs"), std::string::npos) << gpus.out;
}

TEST(CatalogRefresh, FollowsEveryPageOfEachApi) {
  TempDir dir;
  FakeCloudProcess cloud(dir);  // the built-in catalog: hundreds of types in us-east-2
  const std::string out_dir = dir.file("catalog");
  const auto run = refresh(cloud, out_dir, "us-east-2");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto loaded = catalog::load_catalog_dir(out_dir);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  std::size_t expected = 0;
  for (const auto& o : catalog::Catalog::builtin().offerings()) {
    expected += o.cloud == "aws" && o.region == "us-east-2";
  }
  std::size_t got = 0;
  for (const auto& o : loaded->offerings()) got += o.cloud == "aws";
  EXPECT_EQ(got, expected);
  EXPECT_GT(calls_of(cloud, "DescribeInstanceTypes"), 1) << "100 types a page";
  EXPECT_GT(calls_of(cloud, "DescribeInstanceTypeOfferings"), 1) << "1000 offerings a page";
  // m5.large's us-east-2 price is in the built-in catalog, so the fake sells at it.
  const catalog::Offering* m5 = find(*loaded, "m5.large", "us-east-2a");
  ASSERT_NE(m5, nullptr);
  EXPECT_DOUBLE_EQ(m5->price.value_or(-1), 0.096);
  EXPECT_TRUE(m5->spot) << "sold as spot, at a price the fake does not know";
  EXPECT_FALSE(m5->spot_price);
}

TEST(CatalogRefresh, WrongKeysFailAndLeaveTheDirectoryAlone) {
  TempDir dir;
  FakeCloudProcess cloud(dir, {"--catalog", SKYD_FAKECLOUD_CATALOG_DIR});
  const std::string out_dir = dir.file("catalog");
  auto env = aws_keys();
  env["AWS_SECRET_ACCESS_KEY"] = "wrong";
  const auto run =
      run_command({binary_path("sky"), "catalog", "refresh", "--dir", out_dir, "--regions",
                   "us-east-1", "--endpoint", cloud.url(), "--pricing-endpoint", cloud.url()},
                  env);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("catalog refresh failed: us-east-1: "), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(out_dir + "/aws/vms.csv"));
}

TEST(CatalogRefresh, SkydRefreshesItsCatalogDirAndPlansWithIt) {
  TempDir scratch;
  const std::string catalog_dir = scratch.file("catalog");
  // aws_regions (us-east-1, us-west-2, eu-west-1) are the regions refreshed.
  AwsWorld world({}, kSecret,
                 {{"catalog_dir", catalog_dir},
                  {"catalog_refresh", "true"},
                  {"catalog_refresh_interval", "1h"}});
  const std::string file = catalog_dir + "/aws/vms.csv";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(catalog_dir + "/aws/provenance") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a file has no event to await
  }
  ASSERT_TRUE(std::filesystem::exists(file)) << "skyd refreshes a missing file at start";
  auto loaded = catalog::load_catalog_dir(catalog_dir);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  auto regions = loaded->regions("aws");
  std::sort(regions.begin(), regions.end());
  EXPECT_EQ(regions, (std::vector<std::string>{"eu-west-1", "us-east-1", "us-west-2"}));
  EXPECT_NE(loaded->provenance("aws")->source.find("daily refresh"), std::string::npos);

  // skyd plans with the refreshed catalog: us-east-2 was not refreshed, so it is unknown there.
  const auto yaml = world.skyd.write_file(
      "east2.yaml",
      "resources:\n  cloud: aws\n  region: us-east-2\n  instance_type: m5.large\n"
      "run: true\n");
  const auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  EXPECT_NE(launched.exit_code, 0);
  EXPECT_NE((launched.out + launched.err).find("unknown region `us-east-2` in aws"),
            std::string::npos)
      << launched.out << launched.err;
}

}  // namespace
}  // namespace skyd::testing
