#include "providers/catalog/optimizer.hpp"
#include "providers/catalog/catalog.hpp"
#include "providers/catalog/catalog_error.hpp"
#include "providers/catalog/suggest.hpp"

#include <gtest/gtest.h>

namespace skyd::catalog {
namespace {

const Catalog& builtin() {
  return Catalog::builtin();
}

ResourceRequest gpu(std::string name, double count) {
  ResourceRequest request;
  request.accelerator = AcceleratorRequest{std::move(name), count};
  return request;
}

TEST(Catalog, BuiltinHasEveryCloudAndGpuFamily) {
  EXPECT_EQ(builtin().clouds(), (std::vector<std::string>{"aws", "gcp", "local"}));
  const auto accelerators = builtin().accelerators();
  for (const char* name : {"K80", "T4", "V100", "A10G", "L4", "A100", "A100-80GB", "H100"}) {
    EXPECT_NE(std::find(accelerators.begin(), accelerators.end(), name), accelerators.end())
        << name;
  }
  EXPECT_EQ(builtin().regions("local"), std::vector<std::string>{"local"});
}

TEST(Catalog, RejectsBadHeader) {
  Catalog catalog;
  auto added = catalog.add_csv("x", "a,b\n");
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, CatalogErrc::kBadData);
}

TEST(Catalog, RejectsRowWithWrongFieldCount) {
  Catalog catalog;
  auto added = catalog.add_csv(
      "x",
      "instance_type,vcpus,memory_gb,accelerator_name,accelerator_count,accelerator_memory_gb,"
      "region,zone,price,spot_price\nm1,2,4,,,,r,z,1\n");
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().detail.find("line 2"), std::string::npos);
}

TEST(Catalog, EmptySpotPriceMeansNoSpot) {
  Catalog catalog;
  ASSERT_TRUE(catalog.add_csv(
      "x",
      "instance_type,vcpus,memory_gb,accelerator_name,accelerator_count,accelerator_memory_gb,"
      "region,zone,price,spot_price\nm1,2,4,,,,r,z,1,\n"));
  ResourceRequest request;
  request.cloud = "x";
  request.cpus = Quantity{2, false, false};
  request.use_spot = true;
  auto plan_result = plan(catalog, PlanRequest{{request}, false, 1});
  ASSERT_FALSE(plan_result);
  EXPECT_EQ(plan_result.error().code, CatalogErrc::kInfeasible);
  EXPECT_NE(plan_result.error().detail.find("as spot"), std::string::npos);
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
  auto candidates = plan(builtin(), PlanRequest{{c.request}, false, 1});
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
  auto on_demand = plan(builtin(), PlanRequest{{request}, false, 1});
  request.use_spot = true;
  auto spot = plan(builtin(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(on_demand && spot);
  EXPECT_LT(spot->front().node_price, on_demand->front().node_price);
  EXPECT_TRUE(spot->front().use_spot);
  EXPECT_LE(spot->front().node_price, spot->back().node_price);
}

TEST(Optimizer, CostScalesWithNodes) {
  auto candidates = plan(builtin(), PlanRequest{{gpu("T4", 1)}, false, 4});
  ASSERT_TRUE(candidates);
  EXPECT_DOUBLE_EQ(candidates->front().hourly_cost(), 4 * candidates->front().node_price);
}

TEST(Optimizer, UnorderedOptionsCompeteOnPrice) {
  auto candidates = plan(builtin(), PlanRequest{{gpu("A100", 8), gpu("T4", 1)}, false, 1});
  ASSERT_TRUE(candidates);
  EXPECT_EQ(candidates->front().accelerator_name, "T4");
  EXPECT_EQ(candidates->front().option_index, 1u);
}

TEST(Optimizer, OrderedOptionsKeepUserOrder) {
  auto candidates = plan(builtin(), PlanRequest{{gpu("A100", 8), gpu("T4", 1)}, true, 1});
  ASSERT_TRUE(candidates);
  EXPECT_EQ(candidates->front().accelerator_name, "A100");
  EXPECT_EQ(candidates->back().accelerator_name, "T4");
}

TEST(Optimizer, HonoursRegionAndZone) {
  auto request = gpu("V100", 1);
  request.cloud = "aws";
  request.region = "eu-west-1";
  auto candidates = plan(builtin(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_EQ(c.region, "eu-west-1");
  request.region.reset();
  request.zone = "us-west-2c";
  candidates = plan(builtin(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_EQ(c.zone, "us-west-2c");
}

TEST(Optimizer, LocalIsNotADefaultCloud) {
  auto candidates = plan(builtin(), PlanRequest{{ResourceRequest{}}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_NE(c.cloud, "local");
  EXPECT_EQ(default_clouds(builtin()), (std::vector<std::string>{"aws", "gcp"}));
}

TEST(Optimizer, NoGpuMachinesForCpuRequests) {
  ResourceRequest request;
  request.cpus = Quantity{4, true, false};
  auto candidates = plan(builtin(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(candidates);
  for (const auto& c : *candidates) EXPECT_TRUE(c.accelerator_name.empty()) << c.instance_type;
}

TEST(Optimizer, InfeasibleSaysWhy) {
  auto request = gpu("H100", 16);
  request.cloud = "aws";
  request.region = "us-east-1";
  auto candidates = plan(builtin(), PlanRequest{{request}, false, 1});
  ASSERT_FALSE(candidates);
  EXPECT_EQ(candidates.error().code, CatalogErrc::kInfeasible);
  EXPECT_NE(candidates.error().detail.find("no instance type in aws/us-east-1 has 16×H100"),
            std::string::npos)
      << candidates.error().detail;
}

TEST(Optimizer, UnknownAcceleratorSuggestsName) {
  auto candidates = plan(builtin(), PlanRequest{{gpu("V1000", 1)}, false, 1});
  ASSERT_FALSE(candidates);
  EXPECT_EQ(candidates.error().code, CatalogErrc::kUnknownName);
  EXPECT_NE(candidates.error().detail.find("did you mean `V100`"), std::string::npos);
}

TEST(Optimizer, UnknownRegionIsNamed) {
  ResourceRequest request;
  request.cloud = "aws";
  request.region = "us-central1";
  auto valid = validate_request(builtin(), request);
  ASSERT_FALSE(valid);
  EXPECT_NE(valid.error().detail.find("unknown region `us-central1` in aws"), std::string::npos);
}

TEST(Optimizer, ZoneOutsideRegionIsRejected) {
  ResourceRequest request;
  request.cloud = "aws";
  request.region = "us-east-1";
  request.zone = "us-west-2a";
  EXPECT_FALSE(validate_request(builtin(), request));
}

TEST(Optimizer, BlocklistSkipsZoneRegionAndCloud) {
  auto request = gpu("V100", 1);
  auto all = plan(builtin(), PlanRequest{{request}, false, 1});
  ASSERT_TRUE(all);
  const auto first = all->front();
  auto without_zone =
      plan(builtin(), PlanRequest{{request}, false, 1}, {{first.cloud, first.region, first.zone}});
  ASSERT_TRUE(without_zone);
  for (const auto& c : *without_zone) EXPECT_NE(c.zone, first.zone);
  auto without_region =
      plan(builtin(), PlanRequest{{request}, false, 1}, {{first.cloud, first.region, {}}});
  ASSERT_TRUE(without_region);
  for (const auto& c : *without_region) EXPECT_NE(c.region, first.region);
  auto without_cloud = plan(builtin(), PlanRequest{{request}, false, 1}, {{"gcp", {}, {}}});
  ASSERT_TRUE(without_cloud);
  for (const auto& c : *without_cloud) EXPECT_EQ(c.cloud, "aws");
  auto none = plan(builtin(), PlanRequest{{request}, false, 1}, {{"gcp", {}, {}}, {"aws", {}, {}}});
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
  for (const auto& candidate : *planned) EXPECT_EQ(candidate.cloud, "aws");
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

TEST(NodeFields, PortsWithoutACloudArePlacedOnAwsNotGcp) {
  ResourceRequest option;
  option.cpus = Quantity{2, true};
  option.node_fields.ports = true;
  auto planned = plan(builtin(), one_option(option));
  ASSERT_TRUE(planned) << planned.error().message();
  for (const auto& candidate : *planned) EXPECT_EQ(candidate.cloud, "aws");
  option.cloud = "gcp";
  EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.ports"));
}

TEST(NodeFields, ADockerImageIsRefusedEverywhereNamingTheField) {
  for (const char* cloud : {"aws", "gcp", "local"}) {
    ResourceRequest option;
    option.cloud = cloud;
    option.node_fields.image_id = true;
    option.node_fields.docker_image = true;
    EXPECT_TRUE(refused_naming(plan(builtin(), one_option(option)), "resources.image_id: docker"))
        << cloud;
  }
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
