// SkyPilot's vms.csv format: reading (header by name, quoted GpuInfo, unknown prices, errors that
// name the file and line), writing, and catalog directories that replace the built-in files.
#include "providers/catalog/vms_csv.hpp"
#include "providers/catalog/catalog_dir.hpp"
#include "providers/catalog/catalog_error.hpp"
#include "providers/catalog/optimizer.hpp"
#include "reactor/small_files.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

namespace skyd::catalog {
namespace {

constexpr const char* kHeader =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone\n";

// A row as SkyPilot's maintained AWS file writes it (floats, a quoted Python-literal GpuInfo).
constexpr const char* kSkyPilotRow =
    "p4d.24xlarge,A100,8.0,96.0,1152.0,\"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', "
    "'Count': 8, 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}\","
    "32.7726,6.791500,us-east-1,use1-az1\n";

struct TempDirectory {
  std::filesystem::path path;
  TempDirectory() {
    path = std::filesystem::temp_directory_path() /
           ("skyd-vms-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path);
  }
  ~TempDirectory() { std::filesystem::remove_all(path); }
};

TEST(VmsCsv, ReadsSkyPilotRowsWithQuotedGpuInfo) {
  auto parsed = parse_vms_csv("aws", std::string(kHeader) + kSkyPilotRow, "aws/vms.csv");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  ASSERT_EQ(parsed->offerings.size(), 1u);
  const Offering& o = parsed->offerings[0];
  EXPECT_EQ(o.instance_type, "p4d.24xlarge");
  EXPECT_EQ(o.accelerator_name, "A100");
  EXPECT_EQ(o.accelerator_count, 8);
  EXPECT_EQ(o.vcpus, 96);
  EXPECT_EQ(o.memory_gb, 1152);
  EXPECT_DOUBLE_EQ(o.accelerator_memory_gb, 40);
  ASSERT_TRUE(o.price);
  EXPECT_DOUBLE_EQ(*o.price, 32.7726);
  EXPECT_TRUE(o.spot);
  ASSERT_TRUE(o.spot_price);
  EXPECT_DOUBLE_EQ(*o.spot_price, 6.7915);
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.zone, "use1-az1");
  EXPECT_FALSE(o.efa_supported());
}

TEST(VmsCsv, FindsColumnsByNameAndIgnoresOthers) {
  const std::string text =
      "Region,AvailabilityZone,Generation,InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
      "MemoryGiB,GpuInfo,Price,SpotPrice\n"
      "us-east-2,us-east-2a,current,m5.large,,,2,8,,0.096,0.03\n";
  auto parsed = parse_vms_csv("aws", text, "f");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->offerings.at(0).instance_type, "m5.large");
  EXPECT_EQ(parsed->offerings.at(0).zone, "us-east-2a");
}

TEST(VmsCsv, UnknownPricesStayUnknown) {
  const std::string text = std::string(kHeader) +
                           "a.large,,,2,8,,,,r,z1\n"            // SkyPilot: no price, no spot
                           "b.large,,,2,8,,nan,unknown,r,z1\n"  // unknown, spot sold unknown
                           "c.large,,,2,8,,unknown,0.02,r,z1\n";
  auto parsed = parse_vms_csv("aws", text, "f");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  const auto& rows = parsed->offerings;
  EXPECT_FALSE(rows[0].price);
  EXPECT_FALSE(rows[0].spot);
  EXPECT_FALSE(rows[1].price);
  EXPECT_TRUE(rows[1].spot);
  EXPECT_FALSE(rows[1].spot_price);
  EXPECT_FALSE(rows[2].price);
  EXPECT_DOUBLE_EQ(rows[2].spot_price.value_or(-1), 0.02);
}

TEST(VmsCsv, MalformedLinesNameFileLineAndColumn) {
  auto bad_number = parse_vms_csv("aws", std::string(kHeader) + "m5.large,,,two,8,,1,,r,z\n",
                                  "/etc/skyd/catalog/aws/vms.csv");
  ASSERT_FALSE(bad_number);
  EXPECT_EQ(bad_number.error().code, CatalogErrc::kBadData);
  EXPECT_EQ(bad_number.error().detail,
            "/etc/skyd/catalog/aws/vms.csv line 2: column vCPUs: expected a number, got `two`");

  auto short_line = parse_vms_csv("aws", std::string(kHeader) + "\nm5.large,,,2,8\n", "v.csv");
  ASSERT_FALSE(short_line);
  EXPECT_NE(short_line.error().detail.find("v.csv line 3: expected at least 10 fields"),
            std::string::npos)
      << short_line.error().detail;

  auto open_quote = parse_vms_csv("aws", std::string(kHeader) + "m,,,2,8,\"{,1,,r,z\n", "v.csv");
  ASSERT_FALSE(open_quote);
  EXPECT_NE(open_quote.error().detail.find("line 2: unterminated quoted field"), std::string::npos);

  auto no_zone = parse_vms_csv("aws",
                               "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
                               "MemoryGiB,GpuInfo,Price,SpotPrice,Region\n",
                               "v.csv");
  ASSERT_FALSE(no_zone);
  EXPECT_NE(no_zone.error().detail.find("v.csv line 1: the header lacks column AvailabilityZone"),
            std::string::npos);

  auto bad_efa = parse_vms_csv(
      "aws",
      std::string("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
                  "Price,SpotPrice,Region,AvailabilityZone,EfaSupported\n") +
          "m,,,2,8,,1,,r,z,maybe\n",
      "v.csv");
  ASSERT_FALSE(bad_efa);
  EXPECT_NE(bad_efa.error().detail.find("line 2: column EfaSupported"), std::string::npos);
}

TEST(VmsCsv, RowsWithoutInstanceTypeAreCountedNotUsed) {
  // SkyPilot's GCP file lists GPUs attachable to N1 machines with an empty InstanceType.
  auto parsed = parse_vms_csv(
      "gcp", std::string(kHeader) + ",T4,1,,,T4,0.35,0.14,us-central1,us-central1-a\n",
      "gcp/vms.csv");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_TRUE(parsed->offerings.empty());
  EXPECT_EQ(parsed->rows_skipped, 1u);
}

// An AWS machine of this shape in `zone` of us-east-2, without prices.
Offering machine(std::string type, double vcpus, double memory_gb, std::string zone) {
  Offering offering;
  offering.cloud = "aws";
  offering.instance_type = std::move(type);
  offering.vcpus = vcpus;
  offering.memory_gb = memory_gb;
  offering.region = "us-east-2";
  offering.zone = std::move(zone);
  return offering;
}

TEST(VmsCsv, WritesWhatItReads) {
  Offering gpu = machine("p5.48xlarge", 192, 2048, "us-east-2a");
  gpu.accelerator_name = "H100";
  gpu.accelerator_count = 8;
  gpu.accelerator_memory_gb = 80;
  gpu.price = 98.32;
  gpu.spot = true;
  gpu.max_efa_interfaces = 4;
  Offering cpu = machine("m5.large", 2, 8, "us-east-2b");
  cpu.spot = true;
  cpu.spot_price = 0.0345;
  const std::string text = write_vms_csv({gpu, cpu});
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
            "Region,AvailabilityZone,EfaSupported,MaxEfaInterfaces");
  EXPECT_NE(text.find("m5.large,,,2,8,,unknown,0.0345,us-east-2,us-east-2b,False,\n"),
            std::string::npos)
      << text;
  auto back = parse_vms_csv("aws", text, "written");
  ASSERT_TRUE(back) << back.error().detail;
  ASSERT_EQ(back->offerings.size(), 2u);
  const Offering& read = back->offerings[0];
  EXPECT_EQ(read.accelerator_name, "H100");
  EXPECT_DOUBLE_EQ(read.accelerator_memory_gb, 80);
  EXPECT_DOUBLE_EQ(read.price.value_or(0), 98.32);
  EXPECT_TRUE(read.spot);
  EXPECT_FALSE(read.spot_price);
  EXPECT_EQ(read.max_efa_interfaces, 4);
  EXPECT_FALSE(back->offerings[1].price);
}

TEST(VmsCsv, AnEfaTypeWithoutItsInterfaceCountTakesOne) {
  // SkyPilot's files say only EfaSupported; ours also say how many interfaces.
  const std::string header =
      "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
      "Region,AvailabilityZone,EfaSupported";
  auto skypilot = parse_vms_csv(
      "aws", header + "\nc5n.18xlarge,,,72,192,,3.888,,us-east-1,us-east-1a,True\n", "vms.csv");
  ASSERT_TRUE(skypilot) << skypilot.error().detail;
  EXPECT_EQ(skypilot->offerings[0].max_efa_interfaces, 1);
  auto odd = parse_vms_csv(
      "aws",
      header + ",MaxEfaInterfaces\np5.48xlarge,,,192,2048,,98,,us-east-1,us-east-1a,True,0\n",
      "vms.csv");
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().detail.find("MaxEfaInterfaces"), std::string::npos) << odd.error().detail;
}

TEST(CatalogDir, ReplacesOnlyTheCloudsItHolds) {
  TempDirectory dir;
  std::filesystem::create_directories(dir.path / "aws");
  ASSERT_TRUE(write_small_file((dir.path / "aws" / "vms.csv").string(),
                               std::string(kHeader) + kSkyPilotRow));
  auto loaded = load_catalog_dir(dir.path.string());
  ASSERT_TRUE(loaded) << loaded.error().detail;
  EXPECT_EQ(loaded->instance_types("aws"), std::vector<std::string>{"p4d.24xlarge"});
  EXPECT_EQ(loaded->instance_types("gcp"), Catalog::builtin().instance_types("gcp"));
  const Provenance* provenance = loaded->provenance("aws");
  ASSERT_NE(provenance, nullptr);
  EXPECT_EQ(provenance->source, (dir.path / "aws" / "vms.csv").string());
  EXPECT_EQ(provenance->date.size(), 10u) << "the file's date: " << provenance->date;
}

TEST(CatalogDir, BadFileIsNamedWithItsPath) {
  TempDirectory dir;
  std::filesystem::create_directories(dir.path / "gcp");
  const auto file = (dir.path / "gcp" / "vms.csv").string();
  ASSERT_TRUE(write_small_file(file, std::string(kHeader) + "n1,,,x,1,,1,,r,z\n"));
  auto loaded = load_catalog_dir(dir.path.string());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().detail.find(file + " line 2: column vCPUs"), std::string::npos)
      << loaded.error().detail;
}

TEST(CatalogDir, WrittenFilesLoadWithTheirProvenance) {
  TempDirectory dir;
  Offering offering = machine("m5.large", 2, 8, "us-east-2a");
  offering.price = 0.096;
  ASSERT_TRUE(write_catalog_file(dir.path.string(), "aws", {offering},
                                 Provenance{"AWS APIs (sky catalog refresh)", "2026-12-01", 0}));
  auto loaded = load_catalog_dir(dir.path.string());
  ASSERT_TRUE(loaded) << loaded.error().detail;
  const Provenance* provenance = loaded->provenance("aws");
  ASSERT_NE(provenance, nullptr);
  EXPECT_NE(provenance->source.find("AWS APIs (sky catalog refresh)"), std::string::npos);
  EXPECT_EQ(provenance->date, "2026-12-01");
  ASSERT_EQ(loaded->offerings().front().cloud, "gcp") << "aws rows were replaced, so come last";
  EXPECT_EQ(loaded->instance_types("aws"), std::vector<std::string>{"m5.large"});
  const auto permissions = std::filesystem::status(dir.path / "aws" / "vms.csv").permissions();
  EXPECT_NE(permissions & std::filesystem::perms::others_read, std::filesystem::perms::none);
}

TEST(CatalogDir, MissingDirectoryIsAnError) {
  auto loaded = load_catalog_dir("/nonexistent/catalog");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().detail.find("/nonexistent/catalog is not a directory"),
            std::string::npos);
}

TEST(CatalogLoad, BuiltinLoadsQuickly) {
  // The whole shipped catalog (every EC2 type in every zone) is parsed at first use by sky and
  // skyd; keep it well under a second even in a Debug build.
  const auto started = std::chrono::steady_clock::now();
  Catalog catalog;
  for (const auto& csv : embedded_catalog_csv()) {
    ASSERT_TRUE(catalog.set_cloud(csv.cloud, csv.text, csv.cloud, {}));
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GT(catalog.offerings().size(), 50000u);
  EXPECT_LT(took, std::chrono::seconds(2));
  std::printf(
      "built-in catalog: %zu offerings parsed in %lld ms\n", catalog.offerings().size(),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

TEST(CatalogLoad, RankingTheWholeBuiltinCatalogIsQuick) {
  // The default shape (8+ vCPUs, 4 GB per vCPU) on every cloud matches thousands of offerings.
  const Catalog& catalog = Catalog::builtin();
  const auto started = std::chrono::steady_clock::now();
  auto candidates = plan(catalog, PlanRequest{{ResourceRequest{}}, false, 1});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(candidates) << candidates.error().detail;
  EXPECT_GT(candidates->size(), 1000u);
  EXPECT_LT(took, std::chrono::seconds(1));
  std::printf(
      "default request: %zu candidates ranked in %lld ms\n", candidates->size(),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

}  // namespace
}  // namespace skyd::catalog
