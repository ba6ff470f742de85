// The Compute Engine API v1 mapping: bulkInsert bodies, paths and filters, instance, list and
// operation JSON in Google's shapes, error envelopes and their classification, instance states.
#include "providers/gcp/gce_api.hpp"
#include "providers/gcp/tpu_api.hpp"

#include "providers/catalog/node_fields.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace skyd::providers::gcp {
namespace {

std::string text_at(const Json& json, std::initializer_list<std::string_view> path) {
  const Json* at = &json;
  for (auto key : path) {
    at = at->find(key);
    if (!at) return "<absent>";
  }
  if (auto text = at->as_string()) return std::string(*text);
  return at->dump();
}

const Json& first(const Json& json, std::string_view key) {
  const Json* array = json.find(key);
  EXPECT_TRUE(array && array->as_array() && !array->as_array()->empty()) << key;
  static const Json kEmpty = Json::object();
  if (!array || !array->as_array() || array->as_array()->empty()) return kEmpty;
  return array->as_array()->front();
}

InstanceSpec spot_t4_spec() {
  InstanceSpec spec;
  spec.zone = "us-central1-a";
  spec.machine_type = "n1-standard-4";
  spec.source_image = "projects/skyd-images/global/images/family/skyd-skylet";
  spec.disk_size_gb = 100;
  spec.disk_type = "pd-balanced";
  spec.spot = true;
  spec.accelerator_type = "nvidia-tesla-t4";
  spec.accelerator_count = 1;
  spec.labels = {{"skyd-cluster", "train-42"}, {"skyd-job", "42"}};
  SkyletBoot boot;
  boot.token = "0123456789abcdef0123";
  boot.port = 46590;
  boot.metadata = MetadataService::kGce;
  spec.startup_script = render_user_data(boot);
  return spec;
}

TEST(GceRequest, BulkInsertIsAllOrNothingWithANamePattern) {
  const Json body = bulk_insert_body(spot_t4_spec(), 3, "train-42-ab12");
  EXPECT_EQ(text_at(body, {"count"}), "3");
  EXPECT_EQ(text_at(body, {"minCount"}), "3");
  EXPECT_EQ(text_at(body, {"namePattern"}), "train-42-ab12-####");
  EXPECT_EQ(text_at(body, {"instanceProperties", "machineType"}), "n1-standard-4");
}

TEST(GceRequest, SpotSchedulingDeletesOnPreemption) {
  const Json properties = instance_properties(spot_t4_spec());
  EXPECT_EQ(text_at(properties, {"scheduling", "provisioningModel"}), "SPOT");
  EXPECT_EQ(text_at(properties, {"scheduling", "instanceTerminationAction"}), "DELETE");
  EXPECT_EQ(text_at(properties, {"scheduling", "automaticRestart"}), "false");
  EXPECT_EQ(text_at(properties, {"scheduling", "onHostMaintenance"}), "TERMINATE");
}

TEST(GceRequest, OnDemandIsStandardAndMigratesWithoutGpus) {
  InstanceSpec spec = spot_t4_spec();
  spec.spot = false;
  spec.accelerator_type.clear();
  spec.accelerator_count = 0;
  const Json properties = instance_properties(spec);
  EXPECT_EQ(text_at(properties, {"scheduling", "provisioningModel"}), "STANDARD");
  EXPECT_EQ(text_at(properties, {"scheduling", "onHostMaintenance"}), "MIGRATE");
  EXPECT_EQ(text_at(properties, {"scheduling", "instanceTerminationAction"}), "<absent>");
  EXPECT_EQ(properties.find("guestAccelerators"), nullptr);
}

TEST(GceRequest, GpusAreGuestAcceleratorsAndStopForMaintenance) {
  InstanceSpec spec = spot_t4_spec();
  spec.spot = false;
  const Json properties = instance_properties(spec);
  const Json& accelerator = first(properties, "guestAccelerators");
  EXPECT_EQ(text_at(accelerator, {"acceleratorType"}), "nvidia-tesla-t4");
  EXPECT_EQ(text_at(accelerator, {"acceleratorCount"}), "1");
  EXPECT_EQ(text_at(properties, {"scheduling", "onHostMaintenance"}), "TERMINATE");
}

TEST(GceRequest, BuiltInGpuMachinesSendNoAcceleratorsButStillTerminate) {
  EXPECT_TRUE(has_builtin_gpus("a2-highgpu-1g"));
  EXPECT_TRUE(has_builtin_gpus("a3-highgpu-8g"));
  EXPECT_TRUE(has_builtin_gpus("g2-standard-4"));
  EXPECT_FALSE(has_builtin_gpus("n1-standard-4"));
  InstanceSpec spec = spot_t4_spec();
  spec.spot = false;
  spec.machine_type = "a2-highgpu-1g";
  spec.accelerator_type.clear();
  spec.accelerator_count = 0;
  const Json properties = instance_properties(spec);
  EXPECT_EQ(properties.find("guestAccelerators"), nullptr);
  EXPECT_EQ(text_at(properties, {"scheduling", "onHostMaintenance"}), "TERMINATE");
}

TEST(GceRequest, BootDiskFromNodeSettings) {
  InstanceSpec spec = spot_t4_spec();
  spec.disk_type = "pd-extreme";
  spec.provisioned_iops = 20000;
  const Json properties = instance_properties(spec);
  const Json& disk = first(properties, "disks");
  EXPECT_EQ(text_at(disk, {"boot"}), "true");
  EXPECT_EQ(text_at(disk, {"autoDelete"}), "true");
  EXPECT_EQ(text_at(disk, {"initializeParams", "diskSizeGb"}), "100");
  EXPECT_EQ(text_at(disk, {"initializeParams", "diskType"}), "pd-extreme");
  EXPECT_EQ(text_at(disk, {"initializeParams", "provisionedIops"}), "20000");
  EXPECT_EQ(text_at(disk, {"initializeParams", "sourceImage"}),
            "projects/skyd-images/global/images/family/skyd-skylet");
}

TEST(GceRequest, DiskWithoutSettingsKeepsTheImagesOwn) {
  InstanceSpec spec = spot_t4_spec();
  spec.disk_size_gb.reset();
  spec.disk_type.clear();
  const Json properties = instance_properties(spec);
  const Json& disk = first(properties, "disks");
  EXPECT_EQ(text_at(disk, {"initializeParams", "diskSizeGb"}), "<absent>");
  EXPECT_EQ(text_at(disk, {"initializeParams", "diskType"}), "<absent>");
}

TEST(GceRequest, StartupScriptBootsSkyletOnGceMetadata) {
  const Json properties = instance_properties(spot_t4_spec());
  const Json& item = first(*properties.find("metadata"), "items");
  EXPECT_EQ(text_at(item, {"key"}), "startup-script");
  auto boot = parse_skylet_boot(text_at(item, {"value"}));
  ASSERT_TRUE(boot);
  EXPECT_EQ(boot->metadata, MetadataService::kGce);
  EXPECT_EQ(boot->port, 46590);
  EXPECT_EQ(boot->token, "0123456789abcdef0123");
}

TEST(GceRequest, LabelsAreSent) {
  const Json properties = instance_properties(spot_t4_spec());
  EXPECT_EQ(text_at(properties, {"labels", "skyd-cluster"}), "train-42");
  EXPECT_EQ(text_at(properties, {"labels", "skyd-job"}), "42");
}

TEST(GceRequest, PublicAddressOnlyWhenWanted) {
  InstanceSpec spec = spot_t4_spec();
  const Json private_properties = instance_properties(spec);
  const Json& private_nic = first(private_properties, "networkInterfaces");
  EXPECT_EQ(text_at(private_nic, {"network"}), "global/networks/default");
  EXPECT_EQ(private_nic.find("accessConfigs"), nullptr);
  spec.public_ip = true;
  const Json properties = instance_properties(spec);
  const Json& nic = first(properties, "networkInterfaces");
  EXPECT_EQ(text_at(first(nic, "accessConfigs"), {"type"}), "ONE_TO_ONE_NAT");
}

TEST(GceRequest, ServiceAccountOnlyWhenConfigured) {
  InstanceSpec spec = spot_t4_spec();
  EXPECT_EQ(instance_properties(spec).find("serviceAccounts"), nullptr);
  spec.service_account = "nodes@p.iam.gserviceaccount.com";
  const Json properties = instance_properties(spec);
  const Json& account = first(properties, "serviceAccounts");
  EXPECT_EQ(text_at(account, {"email"}), "nodes@p.iam.gserviceaccount.com");
  EXPECT_EQ(text_at(first(account, "scopes"), {}),
            "https://www.googleapis.com/auth/cloud-platform");
}

TEST(GceRequest, RequestIdIsAStableUuid) {
  const std::string id = request_id_for("job-7-task-0-attempt-1-seq-1");
  EXPECT_TRUE(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << id;
  EXPECT_EQ(id, request_id_for("job-7-task-0-attempt-1-seq-1"));
  EXPECT_NE(id, request_id_for("job-7-task-0-attempt-1-seq-2"));
}

TEST(GceRequest, NamePrefixIsAValidInstanceNameAndDependsOnTheToken) {
  const std::string prefix = name_prefix_for("Train_Job-42", "token-a");
  EXPECT_TRUE(std::regex_match(prefix + "-0001", std::regex("[a-z]([-a-z0-9]{0,61}[a-z0-9])?")))
      << prefix;
  EXPECT_NE(prefix, name_prefix_for("Train_Job-42", "token-b"));
  const std::string long_prefix = name_prefix_for(std::string(80, 'x'), "t");
  EXPECT_LE(long_prefix.size() + 5, 63u);
  EXPECT_TRUE(name_prefix_for("42-job", "t").starts_with("s42-job-"));
}

TEST(GceRequest, LabelValuesAreCleaned) {
  EXPECT_EQ(label_value("Abc.DEF_1-2"), "abc-def_1-2");
  EXPECT_EQ(label_value(std::string(70, 'a')).size(), 63u);
}

TEST(GceRequest, Paths) {
  EXPECT_EQ(bulk_insert_path("p", "us-central1-a", "uuid"),
            "/projects/p/zones/us-central1-a/instances/bulkInsert?requestId=uuid");
  EXPECT_EQ(instance_path("p", "us-central1-a", "n-0001"),
            "/projects/p/zones/us-central1-a/instances/n-0001");
  EXPECT_EQ(operation_wait_path("p", "z", "operation-1"),
            "/projects/p/zones/z/operations/operation-1/wait");
  EXPECT_EQ(aggregated_list_path("p", "labels.a=b", 500, ""),
            "/projects/p/aggregated/instances?filter=labels.a%3Db&maxResults=500");
  EXPECT_EQ(list_path("p", "z", "", 0, "next"), "/projects/p/zones/z/instances?pageToken=next");
}

TEST(GceRequest, LabelFilterJoinsValuesWithOr) {
  EXPECT_EQ(label_filter({{"skyd-cluster", {"a"}}}), "labels.skyd-cluster=a");
  EXPECT_EQ(label_filter({{"skyd-cluster", {"a", "b"}}, {"skyd-controller", {"c"}}}),
            "(labels.skyd-cluster=a OR labels.skyd-cluster=b) AND labels.skyd-controller=c");
}

TEST(GceRequest, ApiBase) {
  auto plain = parse_api_base("https://compute.googleapis.com");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->origin, "https://compute.googleapis.com");
  EXPECT_EQ(plain->path, "/compute/v1");
  auto full = parse_api_base("http://127.0.0.1:8700/compute/v1/");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->origin, "http://127.0.0.1:8700");
  EXPECT_EQ(full->path, "/compute/v1");
  EXPECT_FALSE(parse_api_base("compute.googleapis.com"));
}

TEST(GceDiskTier, AsSkyPilotMapsThem) {
  EXPECT_EQ(disk_type_for(DiskTier::kLow, "n2-standard-8"), "pd-standard");
  EXPECT_EQ(disk_type_for(DiskTier::kMedium, "n2-standard-8"), "pd-balanced");
  EXPECT_EQ(disk_type_for(DiskTier::kHigh, "n2-standard-8"), "pd-ssd");
  EXPECT_EQ(disk_type_for(DiskTier::kUltra, "n2-standard-64"), "pd-extreme");
  EXPECT_EQ(disk_type_for(DiskTier::kBest, "n2-standard-80"), "pd-extreme");
  EXPECT_EQ(disk_type_for(DiskTier::kUltra, "n2-standard-8"), "pd-ssd");
  EXPECT_EQ(disk_type_for(DiskTier::kUltra, "n1-standard-4"), "pd-ssd");
  EXPECT_EQ(disk_type_for(DiskTier::kLow, "g2-standard-4"), "pd-balanced");
  EXPECT_EQ(disk_type_for(DiskTier::kUltra, "a3-highgpu-8g"), "hyperdisk-balanced");
  EXPECT_EQ(provisioned_iops_for("pd-extreme"), 20000);
  EXPECT_EQ(provisioned_iops_for("pd-ssd"), std::nullopt);
}

TEST(GceAccelerators, CatalogNamesBecomeAcceleratorTypes) {
  EXPECT_EQ(accelerator_type_for("T4"), "nvidia-tesla-t4");
  EXPECT_EQ(accelerator_type_for("V100"), "nvidia-tesla-v100");
  EXPECT_EQ(accelerator_type_for("L4"), "nvidia-l4");
  EXPECT_EQ(accelerator_type_for("Gaudi"), std::nullopt);
}

TEST(GceNodeSettings, RefusedByName) {
  NodeSettings ports;
  ports.ports = {{8080, 8080}, {9000, 9010}};
  EXPECT_TRUE(check_node_settings(ports));
  ports.ports = {{9010, 9000}};
  auto refused = check_node_settings(ports);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("resources.ports"), std::string::npos);
  ports.ports = {{0, 80}};
  EXPECT_FALSE(check_node_settings(ports));

  NodeSettings docker;
  docker.image_id = "docker:ubuntu";
  EXPECT_TRUE(check_node_settings(docker)) << "a container runs on the default boot image";

  NodeSettings ami;
  ami.image_id = "ami-0123";
  EXPECT_FALSE(check_node_settings(ami));

  NodeSettings tiny;
  tiny.disk_size_gb = 5;
  refused = check_node_settings(tiny);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("resources.disk_size"), std::string::npos);

  NodeSettings fine;
  fine.image_id = "projects/p/global/images/family/skyd-skylet";
  fine.disk_size_gb = 100;
  fine.disk_tier = DiskTier::kHigh;
  fine.labels = {{"team", "ml_infra"}, {"cost-center", ""}};
  EXPECT_TRUE(check_node_settings(fine));
}

TEST(GceLabels, GoogleRulesRefuseByName) {
  const auto refusal = [](std::string key, std::string value) {
    return catalog::gce_label_refusal({{key, value}}).value_or("");
  };
  EXPECT_NE(refusal("Team", "a").find("resources.labels.Team"), std::string::npos);
  EXPECT_NE(refusal("team", "ML").find("resources.labels.team"), std::string::npos);
  EXPECT_NE(refusal("1team", "a").find("resources.labels.1team"), std::string::npos);
  EXPECT_NE(refusal("skyd-cluster", "x").find("skyd"), std::string::npos);
  EXPECT_NE(refusal("google-x", "x").find("goog"), std::string::npos);
  EXPECT_NE(refusal("team", std::string(64, 'a')).find("63"), std::string::npos);
  EXPECT_EQ(refusal("team", "ml-infra_2"), "");
  std::map<std::string, std::string> many;
  for (int i = 0; i < 59; ++i) many["l" + std::to_string(i)] = "v";
  EXPECT_TRUE(catalog::gce_label_refusal(many));
  catalog::NodeFields ports;
  ports.ports = true;
  EXPECT_FALSE(catalog::node_fields_refusal("gcp", ports));  // a firewall rule opens them
}

TEST(GceFirewall, RuleOpensTcpRangesFromAnywhereToTheClustersTag) {
  const std::string name = ports_rule_name("train-42");
  EXPECT_EQ(name, "skyd-ports-train-42");
  const Json body = firewall_body(name, kDefaultNetwork, {{9000, 9010}, {8080, 8080}},
                                  ports_rule_description("c1", "train-42"));
  EXPECT_EQ(text_at(body, {"name"}), "skyd-ports-train-42");
  EXPECT_EQ(text_at(body, {"network"}), "global/networks/default");
  EXPECT_EQ(text_at(body, {"direction"}), "INGRESS");
  EXPECT_EQ(body.find("allowed")->dump(), R"([{"IPProtocol":"tcp","ports":["8080","9000-9010"]}])");
  EXPECT_EQ(body.find("sourceRanges")->dump(), R"(["0.0.0.0/0"])");
  EXPECT_EQ(body.find("targetTags")->dump(), R"(["skyd-ports-train-42"])");
  EXPECT_EQ(cluster_of_ports_rule(text_at(body, {"description"}), "c1"), "train-42");
  EXPECT_EQ(cluster_of_ports_rule(text_at(body, {"description"}), "c2"), "");
  EXPECT_EQ(cluster_of_ports_rule("a rule of someone else", "c1"), "");
}

TEST(GceFirewall, OverlappingAndAdjacentRangesMerge) {
  const Json body =
      firewall_body("r", kDefaultNetwork, {{100, 200}, {150, 300}, {301, 301}, {22, 22}}, "");
  EXPECT_EQ(first(body, "allowed").find("ports")->dump(), R"(["22","100-301"])");
}

TEST(GceFirewall, RuleNamesAreValidAndDistinct) {
  const std::regex valid("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
  const std::vector<std::string> clusters = {
      "train-42", "Train_42", "train_42", "x-", std::string(80, 'a'), std::string(80, 'a') + "b",
      "9lives"};
  for (const auto& cluster : clusters) {
    const std::string name = ports_rule_name(cluster);
    EXPECT_TRUE(std::regex_match(name, valid)) << cluster << " -> " << name;
    EXPECT_EQ(name, ports_rule_name(cluster));
  }
  EXPECT_NE(ports_rule_name("Train_42"), ports_rule_name("train-42"));
  EXPECT_NE(ports_rule_name("train_42"), ports_rule_name("train-42"));
  EXPECT_NE(ports_rule_name(std::string(80, 'a')), ports_rule_name(std::string(80, 'a') + "b"));
}

TEST(GceFirewall, InstancesCarryTheRulesTag) {
  InstanceSpec spec = spot_t4_spec();
  EXPECT_EQ(instance_properties(spec).find("tags"), nullptr);
  spec.network_tags = {"skyd-ports-train-42"};
  const Json properties = instance_properties(spec);
  ASSERT_NE(properties.find("tags"), nullptr);
  EXPECT_EQ(properties.find("tags")->dump(), R"({"items":["skyd-ports-train-42"]})");
}

TEST(GceFirewall, PathsAndAnswers) {
  EXPECT_EQ(firewalls_path("p"), "/projects/p/global/firewalls");
  EXPECT_EQ(firewall_path("p", "skyd-ports-a"), "/projects/p/global/firewalls/skyd-ports-a");
  EXPECT_EQ(global_operation_wait_path("p", "operation-1"),
            "/projects/p/global/operations/operation-1/wait");
  EXPECT_EQ(firewall_list_path("p", "", "t1"), "/projects/p/global/firewalls?pageToken=t1");
  auto rule = parse_firewall(R"({"kind":"compute#firewall","name":"skyd-ports-a",
    "description":"d","network":"https://www.googleapis.com/compute/v1/projects/p/global/networks/default",
    "direction":"INGRESS","allowed":[{"IPProtocol":"udp","ports":["53"]},
    {"IPProtocol":"tcp","ports":["8080","9000-9010"]}],"targetTags":["skyd-ports-a"]})");
  ASSERT_TRUE(rule) << rule.error().message();
  EXPECT_EQ(rule->tcp_ports, (std::vector<std::string>{"8080", "9000-9010"}));
  EXPECT_EQ(rule->target_tags, (std::vector<std::string>{"skyd-ports-a"}));
  auto page = parse_firewall_list(R"({"kind":"compute#firewallList","items":[{"name":"a"},
    {"name":"b"}],"nextPageToken":"n"})");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->firewalls.size(), 2u);
  EXPECT_EQ(page->next_page_token, "n");
  EXPECT_FALSE(parse_firewall("{}"));
}

constexpr const char* kInstance = R"({
  "kind": "compute#instance",
  "id": "4567890123456789012",
  "creationTimestamp": "2026-12-02T03:00:00.000-08:00",
  "name": "train-42-ab12-0002",
  "machineType": "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/machineTypes/n1-standard-4",
  "status": "RUNNING",
  "zone": "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a",
  "networkInterfaces": [{"network": "https://www.googleapis.com/compute/v1/projects/p/global/networks/default",
    "networkIP": "10.128.0.7", "name": "nic0",
    "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": "34.1.2.3"}]}],
  "labels": {"skyd-cluster": "train-42", "skyd-controller": "c1"},
  "scheduling": {"provisioningModel": "SPOT", "instanceTerminationAction": "DELETE",
    "onHostMaintenance": "TERMINATE", "automaticRestart": false}
})";

TEST(GceResponse, ParsesAnInstance) {
  auto instance = parse_instance(kInstance);
  ASSERT_TRUE(instance) << instance.error().message();
  EXPECT_EQ(instance->name, "train-42-ab12-0002");
  EXPECT_EQ(instance->id, "4567890123456789012");
  EXPECT_EQ(instance->zone, "us-central1-a");
  EXPECT_EQ(instance->machine_type, "n1-standard-4");
  EXPECT_EQ(instance->status, "RUNNING");
  EXPECT_EQ(instance->private_ip, "10.128.0.7");
  EXPECT_EQ(instance->public_ip, "34.1.2.3");
  EXPECT_EQ(instance->provisioning_model, "SPOT");
  EXPECT_EQ(instance->label("skyd-cluster"), "train-42");
}

TEST(GceResponse, ParsesAZoneListWithItsPageToken) {
  const std::string list = std::string(R"({"kind":"compute#instanceList","items":[)") + kInstance +
                           R"(],"nextPageToken":"page-2"})";
  auto page = parse_instance_list(list);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->instances.size(), 1u);
  EXPECT_EQ(page->next_page_token, "page-2");
  auto empty = parse_instance_list(R"({"kind":"compute#instanceList"})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->instances.empty());
}

TEST(GceResponse, ParsesAnAggregatedListAcrossZones) {
  const std::string list = std::string(R"({"kind":"compute#instanceAggregatedList","items":{
      "zones/us-central1-a":{"instances":[)") +
                           kInstance + R"(]},
      "zones/us-west1-b":{"warning":{"code":"NO_RESULTS_ON_PAGE","message":"none"}},
      "zones/europe-west4-a":{"instances":[{"name":"x-0001","zone":"zones/europe-west4-a","status":"STAGING"}]}}})";
  auto page = parse_aggregated_list(list);
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->instances.size(), 2u);
  EXPECT_EQ(page->instances[1].zone, "europe-west4-a");
  EXPECT_EQ(page->next_page_token, "");
}

TEST(GceResponse, ParsesAFailedOperation) {
  auto operation = parse_operation(R"({"kind":"compute#operation","id":"123",
      "name":"operation-1-bulk","zone":"https://x/zones/us-central1-a","operationType":"bulkInsert",
      "status":"DONE","progress":100,"httpErrorStatusCode":503,
      "error":{"errors":[{"code":"ZONE_RESOURCE_POOL_EXHAUSTED",
        "message":"The zone does not have enough resources available."}]}})");
  ASSERT_TRUE(operation);
  EXPECT_TRUE(operation->done());
  EXPECT_EQ(operation->zone, "us-central1-a");
  ASSERT_EQ(operation->errors.size(), 1u);
  const Error error = operation_error(*operation);
  EXPECT_EQ(error.code, make_error_code(ProviderErrc::kNoCapacity));
  EXPECT_NE(error.detail.find("ZONE_RESOURCE_POOL_EXHAUSTED"), std::string::npos);
}

TEST(GceResponse, OperationQuotaOutranksCapacity) {
  GceOperation operation;
  operation.name = "op";
  operation.status = "DONE";
  operation.errors = {{"ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", "a"}, {"QUOTA_EXCEEDED", "b"}};
  EXPECT_EQ(operation_error(operation).code, make_error_code(ProviderErrc::kQuota));
}

TEST(GceResponse, ParsesPreemptionOperations) {
  auto page = parse_operation_list(R"({"items":[{"name":"systemevent-1",
      "operationType":"compute.instances.preempted","status":"DONE",
      "targetLink":"https://x/projects/p/zones/z/instances/train-42-ab12-0001",
      "statusMessage":"Instance was preempted."}]})");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->operations.size(), 1u);
  EXPECT_EQ(last_segment(page->operations[0].target_link), "train-42-ab12-0001");
}

TEST(GceResponse, MalformedAnswersAreTransient) {
  auto bad = parse_operation("<html>");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(ProviderErrc::kTransient));
}

ProviderErrc classify_body(int status, std::string_view body) {
  const GceError error = parse_error(status, body);
  return classify_error(error.http_status, error.reason, error.status);
}

std::string envelope(int code, std::string_view reason, std::string_view status) {
  return R"({"error":{"code":)" + std::to_string(code) +
         R"(,"message":"m","errors":[{"domain":"global","reason":")" + std::string(reason) +
         R"(","message":"m"}],"status":")" + std::string(status) + R"("}})";
}

TEST(GceErrors, Classified) {
  EXPECT_EQ(classify_body(403, envelope(403, "rateLimitExceeded", "PERMISSION_DENIED")),
            ProviderErrc::kThrottled);
  EXPECT_EQ(classify_body(429, envelope(429, "", "RESOURCE_EXHAUSTED")), ProviderErrc::kThrottled);
  EXPECT_EQ(classify_body(403, envelope(403, "quotaExceeded", "PERMISSION_DENIED")),
            ProviderErrc::kQuota);
  EXPECT_EQ(classify_body(401, envelope(401, "authError", "UNAUTHENTICATED")), ProviderErrc::kAuth);
  EXPECT_EQ(classify_body(403, envelope(403, "forbidden", "PERMISSION_DENIED")),
            ProviderErrc::kAuth);
  EXPECT_EQ(classify_body(404, envelope(404, "notFound", "NOT_FOUND")), ProviderErrc::kNotFound);
  EXPECT_EQ(classify_body(400, envelope(400, "invalid", "INVALID_ARGUMENT")),
            ProviderErrc::kInvalid);
  EXPECT_EQ(classify_body(409, envelope(409, "alreadyExists", "ALREADY_EXISTS")),
            ProviderErrc::kInvalid);
  EXPECT_EQ(classify_body(503, envelope(503, "backendError", "UNAVAILABLE")),
            ProviderErrc::kTransient);
  EXPECT_EQ(classify_body(502, "<html>Bad Gateway</html>"), ProviderErrc::kTransient);
  EXPECT_EQ(classify_error(0, "STOCKOUT", ""), ProviderErrc::kNoCapacity);
  EXPECT_EQ(classify_error(0, "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", ""),
            ProviderErrc::kNoCapacity);
  EXPECT_EQ(classify_error(0, "QUOTA_EXCEEDED", ""), ProviderErrc::kQuota);
}

TEST(GceErrors, DetailNamesTheActionAndReason) {
  const Error error =
      to_error(parse_error(403, envelope(403, "quotaExceeded", "PERMISSION_DENIED")), "POST x");
  EXPECT_EQ(error.code, make_error_code(ProviderErrc::kQuota));
  EXPECT_NE(error.detail.find("POST x: quotaExceeded"), std::string::npos);
  EXPECT_NE(error.detail.find("HTTP 403"), std::string::npos);
}

TEST(GceStatus, StatesAndPreemption) {
  EXPECT_EQ(instance_state_of("PROVISIONING"), InstanceState::kPending);
  EXPECT_EQ(instance_state_of("STAGING"), InstanceState::kPending);
  EXPECT_EQ(instance_state_of("RUNNING"), InstanceState::kRunning);
  EXPECT_EQ(instance_state_of("STOPPING"), InstanceState::kShuttingDown);
  EXPECT_EQ(instance_state_of("TERMINATED"), InstanceState::kTerminated);
  EXPECT_EQ(instance_state_of("SUSPENDED"), InstanceState::kTerminated);

  GceInstance instance;
  instance.name = "n-0001";
  instance.labels = {{"skyd-cluster", "c"}};
  instance.provisioning_model = "SPOT";
  instance.status = "STOPPING";
  instance.status_message = "Instance was preempted.";
  auto status = to_instance_status(instance);
  EXPECT_EQ(status.instance_id, "n-0001");
  EXPECT_EQ(status.cluster_name, "c");
  EXPECT_TRUE(status.preempted);
  instance.status_message = "Instance was stopped by the user.";
  EXPECT_FALSE(to_instance_status(instance).preempted);
  instance.provisioning_model = "STANDARD";
  instance.status_message = "preempted";
  EXPECT_FALSE(to_instance_status(instance).preempted);
}

TEST(GceRequest, BestNetworkIsTier1WithAGvnic) {
  InstanceSpec spec = spot_t4_spec();
  EXPECT_EQ(text_at(instance_properties(spec), {"networkPerformanceConfig"}), "<absent>");
  spec.machine_type = "n2-standard-32";
  spec.tier1_network = true;
  const Json properties = instance_properties(spec);
  EXPECT_EQ(text_at(properties, {"networkPerformanceConfig", "totalEgressBandwidthTier"}),
            "TIER_1");
  EXPECT_EQ(text_at(first(properties, "networkInterfaces"), {"nicType"}), "GVNIC");
}

TEST(TpuRequest, ANodeCarriesItsTypeRuntimeSpotLabelsAndStartupScript) {
  TpuNodeSpec spec;
  spec.accelerator_type = "v5litepod-16";
  spec.runtime_version = "v2-alpha-tpuv5-lite";
  spec.spot = true;
  spec.labels = {{"skyd-cluster", "train-1"}};
  spec.startup_script = "#!/bin/sh\necho boot\n";
  const Json body = tpu_node_body(spec);
  EXPECT_EQ(text_at(body, {"acceleratorType"}), "v5litepod-16");
  EXPECT_EQ(text_at(body, {"runtimeVersion"}), "v2-alpha-tpuv5-lite");
  EXPECT_EQ(text_at(body, {"schedulingConfig", "spot"}), "true");
  EXPECT_EQ(text_at(body, {"labels", "skyd-cluster"}), "train-1");
  EXPECT_EQ(text_at(body, {"metadata", "startup-script"}), spec.startup_script);
  EXPECT_EQ(text_at(body, {"networkConfig", "network"}), "global/networks/default");
  spec.spot = false;
  EXPECT_EQ(text_at(tpu_node_body(spec), {"schedulingConfig"}), "<absent>");
}

TEST(TpuRequest, PathsAndNodeIds) {
  EXPECT_EQ(tpu_create_path("p", "us-central1-b", "train-1-ab", "r-1"),
            "/projects/p/locations/us-central1-b/nodes?nodeId=train-1-ab&requestId=r-1");
  EXPECT_EQ(tpu_list_path("p", "-", 100, ""), "/projects/p/locations/-/nodes?pageSize=100");
  EXPECT_EQ(tpu_operation_path("projects/p/locations/z/operations/operation-1"),
            "/projects/p/locations/z/operations/operation-1");
  const std::string id = tpu_node_id_for("Train_Job-1", "token", "");
  EXPECT_TRUE(std::regex_match(id, std::regex("train-job-1-[0-9a-f]{8}"))) << id;
  EXPECT_NE(id, tpu_node_id_for("Train_Job-1", "other token", ""));
  EXPECT_EQ(tpu_node_id_for("x", "token", "my-tpu"), "my-tpu");
  auto base = parse_tpu_api_base("http://127.0.0.1:8080");
  ASSERT_TRUE(base);
  EXPECT_EQ(base->path, "/v2");
  EXPECT_EQ(parse_tpu_api_base("https://tpu.googleapis.com/v2/")->path, "/v2");
}

TEST(TpuResponse, ANodeWithItsHostsInWorkerOrder) {
  auto node = parse_tpu_node(R"({
    "name": "projects/p/locations/us-central2-b/nodes/pod-1a2b",
    "acceleratorType": "v4-16", "state": "READY", "health": "HEALTHY",
    "schedulingConfig": {"preemptible": true},
    "labels": {"skyd-cluster": "pod-1"},
    "networkEndpoints": [
      {"ipAddress": "10.0.0.2", "port": 8470, "accessConfig": {"externalIp": "34.1.1.1"}},
      {"ipAddress": "10.0.0.3", "port": 8470}]})");
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_EQ(node->id, "pod-1a2b");
  EXPECT_EQ(node->zone, "us-central2-b");
  EXPECT_TRUE(node->spot);
  ASSERT_EQ(node->endpoints.size(), 2u);
  EXPECT_EQ(node->endpoints[0].external_ip, "34.1.1.1");
  EXPECT_EQ(node->endpoints[1].ip, "10.0.0.3");
  const auto statuses = to_instance_statuses(*node);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[1].instance_id, "pod-1a2b/w-1");
  EXPECT_EQ(statuses[1].cluster_name, "pod-1");
  EXPECT_EQ(statuses[1].state, InstanceState::kRunning);
  node->state = "PREEMPTED";
  EXPECT_TRUE(to_instance_statuses(*node)[0].preempted);
  EXPECT_EQ(to_instance_statuses(*node)[0].state, InstanceState::kTerminated);
}

TEST(TpuResponse, ErrorsAreClassified) {
  EXPECT_TRUE(tpu_error(429,
                        R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":)"
                        R"("Quota limit 'TPUV2sPreemptiblePodPerProjectPerZoneForTPUAPI' )"
                        R"(has been exceeded."}})",
                        "create")
                  .code == make_error_code(ProviderErrc::kQuota));
  EXPECT_TRUE(
      tpu_error(404, R"({"error":{"code":404,"status":"NOT_FOUND","message":"x"}})", "get").code ==
      make_error_code(ProviderErrc::kNotFound));
  EXPECT_TRUE(
      tpu_error(409, R"({"error":{"code":409,"status":"ALREADY_EXISTS","message":"x"}})", "create")
          .code == make_error_code(ProviderErrc::kInvalid));
  auto operation = parse_tpu_operation(
      R"({"name":"projects/p/locations/z/operations/o-1","done":true,)"
      R"("error":{"code":8,"message":"There is no more capacity in the zone"}})");
  ASSERT_TRUE(operation);
  EXPECT_TRUE(tpu_operation_error(*operation).code == make_error_code(ProviderErrc::kNoCapacity));
}

}  // namespace
}  // namespace skyd::providers::gcp
