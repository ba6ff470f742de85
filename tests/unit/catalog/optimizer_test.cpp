#include "providers/catalog/optimizer.hpp"
#include "providers/catalog/catalog.hpp"
#include "providers/catalog/catalog_error.hpp"
#include "providers/catalog/suggest.hpp"
#include "providers/catalog/tpu.hpp"

#include <gtest/gtest.h>

#include <set>

#include <map>
#include <tuple>

namespace skyd::catalog {
namespace {

const Catalog& builtin() {
  return Catalog::builtin();
}

constexpr const char* kHeader =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone\n";

// A small catalog with known prices (the built-in one leaves most prices unknown), so the ranking
// tests do not move when the shipped data is regenerated.
const Catalog& priced() {
  static const Catalog catalog = [] {
    Catalog built;
    std::string aws = kHeader;
    for (const char* zone : {"us-east-1a", "us-east-1b"}) {
      const std::string z = std::string(",us-east-1,") + zone + "\n";
      aws += "m6i.2xlarge,,,8,32,,0.384,0.15" + z;
      aws += "m6i.4xlarge,,,16,64,,0.768,0.3" + z;
      aws += "c6i.xlarge,,,4,8,,0.17,0.07" + z;
      aws += "c6i.4xlarge,,,16,32,,0.68,0.27" + z;
      aws += "r6i.2xlarge,,,8,64,,0.504,0.2" + z;
      aws += "p3.2xlarge,V100,1,8,61,,3.06,0.95" + z;
      aws += "g4dn.xlarge,T4,1,4,16,,0.526,0.2" + z;
      aws += "g5.xlarge,A10G,1,4,16,,1.006,0.4" + z;
      aws += "p4d.24xlarge,A100,8,96,1152,,32.77,12" + z;
      aws += "p5.48xlarge,H100,8,192,2048,,98.32,30" + z;
      aws += "m5.large,,,2,8,,unknown,unknown" + z;
      aws += "m5.24xlarge,,,96,384,,unknown," + z;
    }
    aws += "p3.2xlarge,V100,1,8,61,,3.305,1.1,eu-west-1,eu-west-1a\n";
    aws += "p3.2xlarge,V100,1,8,61,,3.06,0.9,us-west-2,us-west-2c\n";
    std::string gcp = kHeader;
    for (const char* zone : {"us-central1-a", "us-central1-b"}) {
      const std::string z = std::string(",us-central1,") + zone + "\n";
      gcp += "n2-standard-8,,,8,32,,0.39,0.09" + z;
      gcp += "n1-standard-4,,,4,15,,0.19,0.04" + z;
      gcp += "n1-standard-8,V100,1,8,30,,2.86,0.89" + z;
      gcp += "a2-highgpu-8g,A100,8,96,680,,29.39,8.8" + z;
    }
    const std::string local = std::string(kHeader) + "local-small,,,2,4,,0,0,local,local-a\n" +
                              "local-medium,,,4,8,,0,0,local,local-a\n";
    if (!built.set_cloud("aws", aws, "test aws", {}) ||
        !built.set_cloud("gcp", gcp, "test gcp", {}) ||
        !built.set_cloud("local", local, "test local", {})) {
      std::abort();
    }
    return built;
  }();
  return catalog;
}

ResourceRequest gpu(std::string name, double count) {
  ResourceRequest request;
  request.accelerator = AcceleratorRequest{std::move(name), count};
  return request;
}

TEST(Catalog, BuiltinHasEveryCloudAndGpuFamily) {
  EXPECT_EQ(builtin().clouds(), (std::vector<std::string>{"aws", "gcp", "local"}));
  const auto accelerators = builtin().accelerators();
  for (const char* name : {"K80", "T4", "V100", "A10G", "L4", "A100", "A100-80GB", "H100", "H200",
                           "L40S", "Inferentia", "Trainium"}) {
    EXPECT_NE(std::find(accelerators.begin(), accelerators.end(), name), accelerators.end())
        << name;
  }
  EXPECT_EQ(builtin().regions("local"), std::vector<std::string>{"local"});
}

TEST(Catalog, BuiltinCarriesEveryEc2RegionAndCommonTypes) {
  const auto& regions = builtin().regions("aws");
  for (const char* region : {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-south-1"}) {
    EXPECT_NE(std::find(regions.begin(), regions.end(), region), regions.end()) << region;
  }
  EXPECT_GE(regions.size(), 25u);
  const auto& types = builtin().instance_types("aws");
  EXPECT_GE(types.size(), 800u);
  for (const char* type : {"m5.large", "m5.2xlarge", "p5.4xlarge", "p5e.48xlarge", "g6e.xlarge"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << type;
  }
}

TEST(Catalog, BuiltinResolvesRequestsTheOldCatalogLacked) {
  ResourceRequest m5;
  m5.cloud = "aws";
  m5.region = "us-east-2";
  m5.instance_type = "m5.large";
  auto planned = plan(builtin(), PlanRequest{{m5}, false, 1});
  ASSERT_TRUE(planned) << planned.error().detail;
  EXPECT_EQ(planned->front().region, "us-east-2");
  ASSERT_TRUE(planned->front().node_price) << "m5.large's us-east-2 price is carried";
  EXPECT_DOUBLE_EQ(*planned->front().node_price, 0.096);
  for (auto [name, count, type] : {std::tuple{"H100", 1.0, "p5.4xlarge"},
                                   std::tuple{"H200", 8.0, ""}, std::tuple{"L40S", 1.0, ""}}) {
    auto request = gpu(name, count);
    request.cloud = "aws";
    auto candidates = plan(builtin(), PlanRequest{{request}, false, 1});
    ASSERT_TRUE(candidates) << name << ": " << candidates.error().detail;
    if (*type) {
      EXPECT_EQ(candidates->front().instance_type, type);
    }
    EXPECT_EQ(candidates->front().accelerator_name, name);
  }
  auto h100_2 = gpu("H100", 2);
  h100_2.cloud = "gcp";
  auto two = plan(builtin(), PlanRequest{{h100_2}, false, 1});
  ASSERT_TRUE(two) << two.error().detail;
  EXPECT_EQ(two->front().instance_type, "a3-highgpu-2g");
}

TEST(Catalog, BuiltinKnowsEfaSupport) {
  bool p5 = false, m5 = false;
  for (const auto& o : builtin().offerings()) {
    if (o.instance_type == "p5.48xlarge") p5 = o.max_efa_interfaces == 32;
    if (o.instance_type == "m5.large") m5 = m5 || o.efa_supported();
  }
  EXPECT_TRUE(p5);
  EXPECT_FALSE(m5);
}

TEST(Catalog, BuiltinNamesAcceleratorsAsSkyPilotDoes) {
  std::map<std::string, std::string> seen;
  for (const auto& o : builtin().offerings()) {
    if (o.cloud == "aws" && o.has_accelerator()) seen[o.instance_type] = o.accelerator_name;
  }
  EXPECT_EQ(seen["p4de.24xlarge"], "A100-80GB");
  EXPECT_EQ(seen["p4d.24xlarge"], "A100");
  EXPECT_EQ(seen["p3dn.24xlarge"], "V100-32GB");
  EXPECT_EQ(seen["inf2.xlarge"], "Inferentia2");
  EXPECT_EQ(seen["trn1.2xlarge"], "Trainium");
  EXPECT_EQ(seen["g6e.xlarge"], "L40S");
}

// The built-in GCP row of `type` with `accelerator` in `zone`; nullptr when there is none.
const Offering* gcp_row(const std::string& type, const std::string& accelerator,
                        const std::string& zone) {
  for (const auto& o : builtin().offerings()) {
    if (o.cloud == "gcp" && o.instance_type == type && o.accelerator_name == accelerator &&
        o.zone == zone) {
      return &o;
    }
  }
  return nullptr;
}

TEST(Catalog, BuiltinPricesGcpGpuMachinesAsHostPlusAccelerators) {
  // SkyPilot's catalog v7 lists host and GPUs separately; a machine costs their sum.
  struct Case {
    const char* type;
    const char* accelerator;
    const char* zone;
    double price, spot;
  };
  for (const auto& c : {
           Case{"n1-standard-4", "T4", "us-central1-a", 0.19 + 0.35, 0.04815 + 0.14},
           Case{"n1-standard-8", "V100", "europe-west4-c", 0.41834 + 2.604, 0.15564 + 0.7148},
           Case{"g2-standard-4", "L4", "us-central1-a", 0.14679 + 0.56004, 0.05874 + 0.2231},
           Case{"g2-standard-96", "L4", "europe-west4-b", 3.70286 + 4.70434, 1.48166 + 1.6848},
           Case{"a3-highgpu-8g", "H100", "us-central1-b", 9.46006 + 33.60609, 2.17547 + 18.024},
       }) {
    const Offering* row = gcp_row(c.type, c.accelerator, c.zone);
    ASSERT_NE(row, nullptr) << c.type << " in " << c.zone;
    ASSERT_TRUE(row->price && row->spot_price) << c.type << " in " << c.zone;
    EXPECT_NEAR(*row->price, c.price, 1e-9) << c.type << " in " << c.zone;
    EXPECT_NEAR(*row->spot_price, c.spot, 1e-9) << c.type << " in " << c.zone;
  }
  // Zones SkyPilot does not list for a machine are not sold; what it does not price stays unknown.
  EXPECT_EQ(gcp_row("a3-highgpu-8g", "H100", "us-central1-f"), nullptr);
  EXPECT_EQ(gcp_row("n1-standard-4", "T4", "europe-west4-c")->price.has_value(), true);
  const Offering* k80 = gcp_row("n1-standard-4", "K80", "us-central1-a");
  ASSERT_NE(k80, nullptr);
  EXPECT_FALSE(k80->price);
}

TEST(Catalog, EmptySpotPriceMeansNoSpot) {
  Catalog catalog;
  ASSERT_TRUE(catalog.set_cloud("x", std::string(kHeader) + "m1,,,2,4,,1,,r,z\n", "x", {}));
  ResourceRequest request;
  request.cloud = "x";
  request.cpus = Quantity{2, false, false};
  request.use_spot = true;
  auto plan_result = plan(catalog, PlanRequest{{request}, false, 1});
  ASSERT_FALSE(plan_result);
  EXPECT_EQ(plan_result.error().code, CatalogErrc::kInfeasible);
  EXPECT_NE(plan_result.error().detail.find("as spot"), std::string::npos);
}

TEST(Optimizer, UnknownPricesRankAfterEveryKnownOne) {
  ResourceRequest request;
  request.cloud = "aws";
  request.cpus = Quantity{2, true, false};
  auto candidates = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  bool unknown_seen = false;
  for (const auto& c : *candidates) {
    if (!c.node_price) unknown_seen = true;
    EXPECT_FALSE(unknown_seen && c.node_price) << c.instance_type << " ranked after an unknown";
  }
  EXPECT_TRUE(unknown_seen);
  // m5.large is the smallest match, but its price is unknown: the cheapest priced one wins.
  EXPECT_EQ(candidates->front().instance_type, "c6i.xlarge");
  // Among unknown prices the smaller machine comes first; none is given a made-up price.
  EXPECT_EQ(candidates->back().instance_type, "m5.24xlarge");
  EXPECT_FALSE(candidates->back().hourly_cost());
}

TEST(Optimizer, SpotSoldAtAnUnknownPriceIsACandidate) {
  ResourceRequest request;
  request.instance_type = "m5.large";
  request.use_spot = true;
  auto candidates = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates) << candidates.error().detail;
  EXPECT_TRUE(candidates->front().use_spot);
  EXPECT_FALSE(candidates->front().node_price);
}

struct ChoiceCase {
  const char* label;
  ResourceRequest request;
  const char* cloud;
  const char* instance_type;
};

class OptimizerChoice : public testing::TestWithParam<ChoiceCase> {};

TEST_P(OptimizerChoice, PicksCheapestFittingInstance) {
  const auto& c = GetParam();
  auto candidates = plan(priced(), PlanRequest{{c.request}, false, 1});
  ASSERT_TRUE(candidates) << candidates.error().detail;
  EXPECT_EQ(candidates->front().cloud, c.cloud);
  EXPECT_EQ(candidates->front().instance_type, c.instance_type);
}

ResourceRequest with(ResourceRequest request, auto change) {
  change(request);
  return request;
}

INSTANTIATE_TEST_SUITE_P(
    Table, OptimizerChoice,
    testing::Values(
        ChoiceCase{"default_shape", {}, "aws", "m6i.2xlarge"},
        ChoiceCase{"gcp_default", with({}, [](auto& r) { r.cloud = "gcp"; }), "gcp",
                   "n2-standard-8"},
        ChoiceCase{"v100", gpu("V100", 1), "gcp", "n1-standard-8"},
        ChoiceCase{"v100_on_aws", with(gpu("V100", 1), [](auto& r) { r.cloud = "aws"; }), "aws",
                   "p3.2xlarge"},
        ChoiceCase{"a100_8", gpu("A100", 8), "gcp", "a2-highgpu-8g"},
        ChoiceCase{"h100_8_aws", with(gpu("H100", 8), [](auto& r) { r.cloud = "aws"; }), "aws",
                   "p5.48xlarge"},
        ChoiceCase{"t4", gpu("T4", 1), "aws", "g4dn.xlarge"},
        ChoiceCase{"a10g", gpu("A10G", 1), "aws", "g5.xlarge"},
        ChoiceCase{"cpus_at_least_4",
                   with({},
                        [](auto& r) {
                          r.cpus = Quantity{4, true, false};
                        }),
                   "aws", "c6i.xlarge"},
        ChoiceCase{"cpus_exact_16",
                   with({},
                        [](auto& r) {
                          r.cpus = Quantity{16, false, false};
                        }),
                   "aws", "c6i.4xlarge"},
        ChoiceCase{"cpus_on_gcp",
                   with({},
                        [](auto& r) {
                          r.cloud = "gcp";
                          r.cpus = Quantity{4, true, false};
                        }),
                   "gcp", "n1-standard-4"},
        ChoiceCase{"memory_64_plus",
                   with({},
                        [](auto& r) {
                          r.memory = Quantity{64, true, false};
                        }),
                   "aws", "r6i.2xlarge"},
        ChoiceCase{"memory_per_cpu",
                   with({},
                        [](auto& r) {
                          r.cpus = Quantity{8, false, false};
                          r.memory = Quantity{8, false, true};
                        }),
                   "aws", "r6i.2xlarge"},
        ChoiceCase{"instance_type", with({}, [](auto& r) { r.instance_type = "p3.2xlarge"; }),
                   "aws", "p3.2xlarge"},
        ChoiceCase{"local", with({}, [](auto& r) { r.cloud = "local"; }), "local", "local-small"},
        ChoiceCase{"local_cpus",
                   with({},
                        [](auto& r) {
                          r.cloud = "local";
                          r.cpus = Quantity{3, true, false};
                        }),
                   "local", "local-medium"}),
    [](const testing::TestParamInfo<ChoiceCase>& info) { return info.param.label; });

TEST(Optimizer, SpotIsCheaperAndPricedPerZone) {
  auto request = gpu("V100", 1);
  request.cloud = "aws";
  auto on_demand = plan(priced(), PlanRequest{{request}, false, 1});
  request.use_spot = true;
  auto spot = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(on_demand && spot);
  EXPECT_LT(*spot->front().node_price, *on_demand->front().node_price);
  EXPECT_TRUE(spot->front().use_spot);
  EXPECT_LE(*spot->front().node_price, *spot->back().node_price);
}

TEST(Optimizer, CostScalesWithNodes) {
  auto candidates = plan(priced(), PlanRequest{{gpu("T4", 1)}, false, 4});
  ASSERT_TRUE(candidates);
  EXPECT_DOUBLE_EQ(*candidates->front().hourly_cost(), 4 * *candidates->front().node_price);
}

TEST(Optimizer, UnorderedOptionsCompeteOnPrice) {
  auto candidates = plan(priced(), PlanRequest{{gpu("A100", 8), gpu("T4", 1)}, false, 1});
  ASSERT_TRUE(candidates);
  EXPECT_EQ(candidates->front().accelerator_name, "T4");
  EXPECT_EQ(candidates->front().option_index, 1u);
}

TEST(Optimizer, OrderedOptionsKeepUserOrder) {
  auto candidates = plan(priced(), PlanRequest{{gpu("A100", 8), gpu("T4", 1)}, true, 1});
  ASSERT_TRUE(candidates);
  EXPECT_EQ(candidates->front().accelerator_name, "A100");
  EXPECT_EQ(candidates->back().accelerator_name, "T4");
}

TEST(Optimizer, HonoursRegionAndZone) {
  auto request = gpu("V100", 1);
  request.cloud = "aws";
  request.region = "eu-west-1";
  auto candidates = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_EQ(c.region, "eu-west-1");
  request.region.reset();
  request.zone = "us-west-2c";
  candidates = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_EQ(c.zone, "us-west-2c");
}

TEST(Optimizer, LocalIsNotADefaultCloud) {
  auto candidates = plan(priced(), PlanRequest{{ResourceRequest{}}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_NE(c.cloud, "local");
  EXPECT_EQ(default_clouds(priced()), (std::vector<std::string>{"aws", "gcp"}));
}

TEST(Optimizer, NoGpuMachinesForCpuRequests) {
  ResourceRequest request;
  request.cpus = Quantity{4, true, false};
  auto candidates = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_TRUE(c.accelerator_name.empty()) << c.instance_type;
}

TEST(Optimizer, InfeasibleSaysWhy) {
  auto request = gpu("H100", 16);
  request.cloud = "aws";
  request.region = "us-east-1";
  auto candidates = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_FALSE(candidates);
  EXPECT_EQ(candidates.error().code, CatalogErrc::kInfeasible);
  EXPECT_NE(candidates.error().detail.find("no instance type in aws/us-east-1 has 16×H100"),
            std::string::npos)
      << candidates.error().detail;
}

TEST(Optimizer, UnknownAcceleratorSuggestsName) {
  auto candidates = plan(priced(), PlanRequest{{gpu("V1000", 1)}, false, 1});
  ASSERT_FALSE(candidates);
  EXPECT_EQ(candidates.error().code, CatalogErrc::kUnknownName);
  EXPECT_NE(candidates.error().detail.find("did you mean `V100`"), std::string::npos);
}

TEST(Optimizer, UnknownRegionIsNamed) {
  ResourceRequest request;
  request.cloud = "aws";
  request.region = "us-central1";
  auto valid = validate_request(priced(), request);
  ASSERT_FALSE(valid);
  EXPECT_NE(valid.error().detail.find("unknown region `us-central1` in aws"), std::string::npos);
}

TEST(Optimizer, ZoneOutsideRegionIsRejected) {
  ResourceRequest request;
  request.cloud = "aws";
  request.region = "us-east-1";
  request.zone = "us-west-2a";
  EXPECT_FALSE(validate_request(priced(), request));
}

TEST(Optimizer, BlocklistSkipsZoneRegionAndCloud) {
  auto request = gpu("V100", 1);
  auto all = plan(priced(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(all);
  const auto first = all->front();
  auto without_zone =
      plan(priced(), PlanRequest{{request}, false, 1}, {{first.cloud, first.region, first.zone}});
  ASSERT_TRUE(without_zone);
  for (const auto& c : *without_zone) EXPECT_NE(c.zone, first.zone);
  auto without_region =
      plan(priced(), PlanRequest{{request}, false, 1}, {{first.cloud, first.region, {}}});
  ASSERT_TRUE(without_region);
  for (const auto& c : *without_region) EXPECT_NE(c.region, first.region);
  auto without_cloud = plan(priced(), PlanRequest{{request}, false, 1}, {{"gcp", {}, {}}});
  ASSERT_TRUE(without_cloud);
  for (const auto& c : *without_cloud) EXPECT_EQ(c.cloud, "aws");
  auto none = plan(priced(), PlanRequest{{request}, false, 1}, {{"gcp", {}, {}}, {"aws", {}, {}}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, CatalogErrc::kAllBlocked);
}

TEST(Suggest, FindsCloseWordsOnly) {
  EXPECT_EQ(closest_match("num_node", {"name", "num_nodes", "run"}), "num_nodes");
  EXPECT_FALSE(closest_match("completely", {"name", "run"}));
  EXPECT_EQ(edit_distance("abc", "ABD"), 1u);
}

}  // namespace
}  // namespace skyd::catalog

namespace skyd::catalog {
namespace {

bool refused_naming(const Result<std::vector<Candidate>>& planned, std::string_view what) {
  return !planned && planned.error().message().find(what) != std::string::npos;
}

PlanRequest one_option(ResourceRequest option) {
  PlanRequest request;
  request.options.push_back(std::move(option));
  return request;
}

TEST(NodeFields, ADiskTierWithoutACloudIsPlacedOnlyWhereItIsHonoured) {
  ResourceRequest option;
  option.cpus = Quantity{2, true};
  option.node_fields.disk_tier = true;
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  // EC2 and Compute Engine honour it; a local machine's disk speed is this host's.
  for (const auto& candidate : *planned) EXPECT_NE(candidate.cloud, "local");
}

TEST(NodeFields, ADiskTierOnLocalIsRefusedNamingTheField) {
  ResourceRequest option;
  option.cloud = "local";
  option.node_fields.disk_tier = true;
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.disk_tier"));
}

TEST(NodeFields, AnImageOrLabelsOnLocalAreRefusedNamingTheField) {
  ResourceRequest option;
  option.cloud = "local";
  option.node_fields.image_id = true;
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.image_id"));
  option.node_fields = {};
  option.node_fields.labels = {{"team", "vision"}};
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.labels"));
}

TEST(NodeFields, PortsAndADiskSizeOnLocalArePlaced) {
  ResourceRequest option;
  option.cloud = "local";
  option.node_fields.ports = true;
  option.node_fields.disk_size = true;
  EXPECT_TRUE(plan(builtin(), one_option(option)));
}

TEST(NodeFields, ALabelEc2CannotCarryIsRefusedNamingTheLabel) {
  ResourceRequest option;
  option.cloud = "aws";
  option.node_fields.labels = {{"skyd-job", "mine"}};
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.labels.skyd-job"));
  option.node_fields.labels = {{"team", "vision"}};
  EXPECT_TRUE(plan(builtin(), one_option(option)));
}

TEST(NodeFields, PortsWithoutACloudArePlacedOnAwsAndGcp) {
  ResourceRequest option;
  option.cpus = Quantity{2, true};
  option.node_fields.ports = true;
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  std::set<std::string> clouds;
  for (const auto& candidate : *planned) clouds.insert(candidate.cloud);
  EXPECT_TRUE(clouds.contains("aws"));
  EXPECT_TRUE(clouds.contains("gcp"));  // a firewall rule opens them there
  option.cloud = "gcp";
  planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) EXPECT_EQ(candidate.cloud, "gcp");
}

TEST(NodeFields, TheBestNetworkIsPlacedOnlyOnEc2TypesWithEfaAndAttachesAllTheirInterfaces) {
  ResourceRequest option;
  option.accelerator = AcceleratorRequest{"A100", 8};
  option.node_fields.best_network = true;
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) {
    EXPECT_EQ(candidate.cloud, "aws");
    EXPECT_EQ(candidate.instance_type, "p4d.24xlarge") << "the only A100:8 type with EFA";
    EXPECT_EQ(candidate.efa_interfaces, 4);
  }
  option.node_fields.best_network = false;
  planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned);
  EXPECT_EQ(planned->front().efa_interfaces, 0) << "standard networking attaches no EFA";
}

TEST(NodeFields, TheBestNetworkWhereNoFittingTypeHasEfaIsRefusedNamingTheField) {
  ResourceRequest option;
  option.cloud = "aws";
  option.instance_type = "m5.large";
  option.node_fields.best_network = true;
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)),
                             "resources.network_tier: best needs an instance type with EFA"));
  option = {};
  option.cloud = "local";
  option.node_fields.best_network = true;
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.network_tier"));
}

TEST(NodeFields, TheBestNetworkOnGcpIsTier1OnLargeN2N2dC2C2dAndC3Machines) {
  ResourceRequest option;
  option.cloud = "gcp";
  option.node_fields.best_network = true;
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) {
    EXPECT_GE(candidate.vcpus, 30) << candidate.instance_type;
    EXPECT_TRUE(gce_tier1_capable(candidate.instance_type, candidate.vcpus))
        << candidate.instance_type;
  }
  option.instance_type = "a3-highgpu-8g";
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)),
                             "resources.network_tier: best on gcp is Tier_1 networking"));
  EXPECT_FALSE(gce_tier1_capable("n2-standard-16", 16));
  EXPECT_TRUE(gce_tier1_capable("c2d-standard-32", 32));
  EXPECT_FALSE(gce_tier1_capable("e2-standard-32", 32));
}

TEST(Tpu, SlicesHaveTheirHostsAndAliases) {
  auto v4 = tpu_slice("tpu-v4-32");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->chips, 16);
  EXPECT_EQ(v4->hosts, 4);
  EXPECT_EQ(v4->accelerator_type, "v4-32");
  EXPECT_EQ(tpu_slice("tpu-v5litepod-8")->hosts, 1);
  EXPECT_EQ(tpu_slice("tpu-v5litepod-16")->hosts, 4);
  EXPECT_EQ(tpu_slice("tpu-v6e-32")->hosts, 8);
  EXPECT_EQ(tpu_slice("tpu-v2-8")->hosts, 1);
  EXPECT_FALSE(tpu_slice("tpu-v9-8"));
  EXPECT_FALSE(tpu_slice("A100"));
  EXPECT_EQ(tpu_alias("tpu-v5e-16", 1), "tpu-v5litepod-16");
  EXPECT_EQ(tpu_alias("tpu-v5-lite-podslice", 4), "tpu-v5litepod-4");
  EXPECT_EQ(default_tpu_runtime_version(*tpu_slice("tpu-v6e-8")), "v2-alpha-tpuv6e");
  EXPECT_EQ(default_tpu_runtime_version(*tpu_slice("tpu-v2-8")), "tpu-vm-base");
}

TEST(Tpu, EveryCatalogSliceIsKnownOnGcpOnlyAndUnknownPricesRankLast) {
  std::size_t rows = 0;
  for (const auto& offering : builtin().offerings()) {
    if (!is_tpu_name(offering.accelerator_name)) continue;
    ++rows;
    EXPECT_EQ(offering.cloud, "gcp");
    EXPECT_EQ(offering.instance_type, "TPU-VM");
    EXPECT_TRUE(tpu_slice(offering.accelerator_name)) << offering.accelerator_name;
  }
  EXPECT_GT(rows, 100u);
  ResourceRequest option;
  option.accelerator = AcceleratorRequest{"tpu-v5litepod-8", 1};
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  ASSERT_TRUE(planned->front().node_price);
  EXPECT_DOUBLE_EQ(*planned->front().node_price, 9.6);  // 8 chips at $1.20 per chip-hour
  EXPECT_FALSE(planned->back().node_price) << "europe-west4's price is not known";
}

TEST(MaxHourlyCost, OnlyInstancesAtOrBelowTheCapAreCandidates) {
  ResourceRequest option;
  option.accelerator = AcceleratorRequest{"V100", 1};
  option.max_hourly_cost = 3.06;  // at the cap is fine; eu-west-1's 3.305 is not
  auto planned = plan(priced(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) {
    EXPECT_LE(*candidate.node_price, 3.06) << candidate.region;
    EXPECT_NE(candidate.region, "eu-west-1");
  }
  option.max_hourly_cost = 1.0;
  EXPECT_TRUE(
      refused_naming(plan(priced(), one_option(option)),
                     "resources.max_hourly_cost: every fitting instance costs more than $1/h"));
}

TEST(MaxHourlyCost, WithSpotTheCapIsOnSpotPricesAndAnUnknownPriceNeverFits) {
  ResourceRequest option;
  option.accelerator = AcceleratorRequest{"V100", 1};
  option.use_spot = true;
  option.max_hourly_cost = 1.0;  // spot V100s at 0.89..0.95 fit, eu-west-1's 1.1 does not
  auto planned = plan(priced(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) EXPECT_LE(*candidate.node_price, 1.0);
  option = {};
  option.instance_type = "m5.large";  // its prices are unknown
  option.max_hourly_cost = 100;
  EXPECT_TRUE(refused_naming(plan(priced(), one_option(option)),
                             "no fitting instance has a known on-demand price"));
}

TEST(NodeFields, DiskSettingsAndLabelsArePlacedOnGcpToo) {
  ResourceRequest option;
  option.cpus = Quantity{2, true};
  option.node_fields.disk_size = true;
  option.node_fields.disk_tier = true;
  option.node_fields.labels = {{"team", "ml"}};
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  bool gcp = false;
  for (const auto& candidate : *planned) gcp = gcp || candidate.cloud == "gcp";
  EXPECT_TRUE(gcp) << "the GCP provider honours disk_size, disk_tier and labels";
  option.cloud = "gcp";
  option.node_fields.labels = {{"Team", "ml"}};
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.labels.Team"));
}

TEST(NodeFields, ADockerImagePlansOnLocalMachinesEc2AndComputeEngine) {
  // skylet runs it with the host's docker or podman, or the one a cloud node's boot makes sure of.
  for (const char* cloud : {"aws", "gcp"}) {
    ResourceRequest option;
    option.cloud = cloud;
    option.node_fields.image_id = true;
    option.node_fields.docker_image = true;
    auto planned = plan(builtin(), one_option(option));
    ASSERT_TRUE(planned) << cloud << ": " << planned.error().message();
    EXPECT_EQ(planned->front().cloud, cloud);
  }
  ResourceRequest option;
  option.cloud = "local";
  option.node_fields.image_id = true;
  option.node_fields.docker_image = true;
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  EXPECT_EQ(planned->front().cloud, "local");
  // A per-region map still names machine images, which local machines do not boot.
  option.node_fields.image_regions = {"us-east-1"};
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.image_id"));
}

TEST(NodeFields, APerRegionImageMapKeepsCandidatesInItsRegions) {
  ResourceRequest option;
  option.cloud = "aws";
  option.cpus = Quantity{2, true};
  option.node_fields.image_id = true;
  option.node_fields.image_regions = {"us-west-2"};
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) EXPECT_EQ(candidate.region, "us-west-2");
}

TEST(NodeFields, ARegionTheImageMapLacksIsRefusedNamingImageId) {
  ResourceRequest option;
  option.cloud = "aws";
  option.region = "us-east-1";
  option.node_fields.image_id = true;
  option.node_fields.image_regions = {"us-west-2"};
  auto planned = plan(builtin(), one_option(option));
  EXPECT_TRUE(refused_naming(planned,
                             "resources.image_id has no image for region us-east-1 (it names "
                             "us-west-2)"));
}

}  // namespace
}  // namespace skyd::catalog
