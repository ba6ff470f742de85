// fakecloud's Compute Engine shapes without a server: filters, name patterns, the instance
// resource check, the JSON an instance, an operation and an error answer with, the chaos section.
#include "tests/fakecloud/fake_gce_api.hpp"
#include "tests/fakecloud/fake_gce_chaos.hpp"
#include "tests/fakecloud/fake_gce_firewalls.hpp"

#include <gtest/gtest.h>

namespace skyd::fakecloud {
namespace {

GceInstance labelled(std::map<std::string, std::string> labels) {
  GceInstance instance;
  instance.project = "p";
  instance.zone = "us-central1-a";
  instance.name = "node-1";
  instance.id = "1234567890123456789";
  instance.machine_type = "n2-standard-8";
  instance.labels = std::move(labels);
  return instance;
}

Json parsed(std::string_view text) {
  auto json = parse_json(text);
  EXPECT_TRUE(json) << text;
  return json ? *json : Json();
}

TEST(GceFilter, ParsesTermsJoinedByAndSpacesAndParentheses) {
  auto terms = parse_gce_filter(R"((labels.skyd-cluster = "c1") AND status=RUNNING labels.x:*)");
  ASSERT_TRUE(terms) << terms.error().detail;
  ASSERT_EQ(terms->size(), 3u);
  EXPECT_EQ((*terms)[0].field, "labels.skyd-cluster");
  EXPECT_EQ((*terms)[0].value, "c1");
  EXPECT_EQ((*terms)[1].field, "status");
  EXPECT_EQ((*terms)[1].value, "RUNNING");
  EXPECT_EQ((*terms)[2].op, GceFilterTerm::Op::kHas);
  EXPECT_EQ((*terms)[2].value, "*");
}

TEST(GceFilter, RefusesOrAndTermsWithoutAnOperator) {
  auto with_or = parse_gce_filter("labels.a=b OR labels.a=c");
  ASSERT_FALSE(with_or);
  EXPECT_NE(with_or.error().detail.find("OR"), std::string::npos);
  EXPECT_FALSE(parse_gce_filter("labels.a"));
  EXPECT_FALSE(parse_gce_filter("name=\"open"));
}

TEST(GceFilter, MatchesLabelsStatusAndPresence) {
  const GceInstance instance = labelled({{"skyd-cluster", "c1"}, {"skyd-job", "7"}});
  auto match = [&](std::string_view filter, std::string_view status = "RUNNING") {
    auto terms = parse_gce_filter(filter);
    EXPECT_TRUE(terms) << filter;
    return terms && gce_filter_matches(*terms, instance, status);
  };
  EXPECT_TRUE(match("labels.skyd-cluster=c1"));
  EXPECT_FALSE(match("labels.skyd-cluster=c2"));
  EXPECT_TRUE(match("labels.skyd-cluster=c1 AND status=RUNNING"));
  EXPECT_FALSE(match("labels.skyd-cluster=c1 AND status=RUNNING", "TERMINATED"));
  EXPECT_TRUE(match("labels.skyd-job:*"));
  EXPECT_FALSE(match("labels.skyd-task:*"));
  EXPECT_TRUE(match("status!=TERMINATED"));
  EXPECT_TRUE(match("name=node-*"));
  EXPECT_TRUE(match("zone=https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a"));
  EXPECT_TRUE(match(""));
}

TEST(GceNamePattern, PadsTheNumberToTheRunOfHashes) {
  EXPECT_EQ(name_from_pattern("node-####", 1), "node-0001");
  EXPECT_EQ(name_from_pattern("node-##-x", 12), "node-12-x");
  EXPECT_EQ(name_from_pattern("n#", 123), "n123");
  EXPECT_FALSE(name_from_pattern("node", 1));
  EXPECT_FALSE(name_from_pattern("a#b#", 1)) << "two runs of '#'";
}

TEST(GceResource, ChecksNamesLabelsAndMachineTypeZone) {
  const Json good = parsed(R"({
    "name": "c1-head", "machineType": "zones/us-central1-a/machineTypes/n2-standard-8",
    "labels": {"skyd-cluster": "c1"},
    "metadata": {"items": [{"key": "startup-script", "value": "#!/bin/sh"}]},
    "scheduling": {"provisioningModel": "SPOT", "instanceTerminationAction": "DELETE"},
    "disks": [{"boot": true, "autoDelete": true, "initializeParams": {"diskSizeGb": "50",
      "diskType": "zones/us-central1-a/diskTypes/pd-balanced",
      "sourceImage": "projects/debian-cloud/global/images/family/debian-12"}}],
    "guestAccelerators": [{"acceleratorType":
      "zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4", "acceleratorCount": 1}],
    "networkInterfaces": [{"accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]}]})");
  auto resource = parse_instance_resource(good, "p", "us-central1-a", false);
  ASSERT_TRUE(resource) << resource.error().detail;
  EXPECT_EQ(resource->machine_type, "n2-standard-8");
  EXPECT_TRUE(resource->scheduling.spot());
  EXPECT_EQ(resource->scheduling.on_host_maintenance, "TERMINATE") << "spot VMs never migrate";
  EXPECT_EQ(resource->disks.at(0).size_gb, 50);
  EXPECT_EQ(resource->disks.at(0).disk_type, "pd-balanced");
  EXPECT_EQ(resource->accelerators.at(0).type, "nvidia-tesla-t4");
  EXPECT_TRUE(resource->external_ip);
  ASSERT_NE(resource->metadata_value("startup-script"), nullptr);

  auto refused = [&](std::string_view body) {
    auto result = parse_instance_resource(parsed(body), "p", "us-central1-a", false);
    return result ? std::string() : result.error().detail;
  };
  EXPECT_NE(refused(R"({"name":"Bad_Name","machineType":"zones/us-central1-a/machineTypes/e2"})")
                .find("resource.name"),
            std::string::npos);
  EXPECT_NE(refused(R"({"name":"a","machineType":"zones/us-east1-b/machineTypes/e2"})")
                .find("machineType"),
            std::string::npos);
  EXPECT_NE(refused(R"({"name":"a","machineType":"zones/us-central1-a/machineTypes/e2",
                        "labels":{"Cluster":"x"}})")
                .find("labels"),
            std::string::npos);
  EXPECT_NE(refused(R"({"name":"a","machineType":"zones/us-central1-a/machineTypes/e2",
                        "bogusField":1})")
                .find("Unknown name \"bogusField\""),
            std::string::npos);
  EXPECT_NE(refused(R"({"name":"a","machineType":"zones/us-central1-a/machineTypes/e2",
                        "scheduling":{"instanceTerminationAction":"DELETE"}})")
                .find("instanceTerminationAction"),
            std::string::npos)
      << "only spot VMs take a termination action";
}

TEST(GceJson, InstanceCarriesLinksStatusAndAddresses) {
  GceInstance instance = labelled({{"skyd-cluster", "c1"}});
  instance.external_ip = true;
  instance.disks.push_back(GceDisk{true, true, "", 20, "pd-balanced", "img"});
  const Json json = gce_instance_json(instance, "RUNNING", "127.100.1.2");
  EXPECT_EQ(json.find("kind")->as_string(), "compute#instance");
  EXPECT_EQ(json.find("status")->as_string(), "RUNNING");
  EXPECT_EQ(json.find("id")->as_string(), "1234567890123456789") << "ids are decimal strings";
  EXPECT_EQ(json.find("machineType")->as_string(),
            "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/machineTypes/"
            "n2-standard-8");
  const Json& nic = (*json.find("networkInterfaces")->as_array())[0];
  EXPECT_EQ(nic.find("networkIP")->as_string(), "127.100.1.2");
  EXPECT_EQ((*nic.find("accessConfigs")->as_array())[0].find("natIP")->as_string(), "127.100.1.2");
  EXPECT_EQ(json.find("labels")->find("skyd-cluster")->as_string(), "c1");
  const Json& disk = (*json.find("disks")->as_array())[0];
  EXPECT_EQ(disk.find("initializeParams")->find("diskType")->as_string(),
            "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/diskTypes/"
            "pd-balanced");
}

TEST(GceJson, FailedOperationCarriesItsErrorCode) {
  GceOperation operation;
  operation.id = "1";
  operation.name = "operation-1";
  operation.project = "p";
  operation.zone = "us-central1-a";
  operation.operation_type = "insert";
  operation.status = "DONE";
  operation.error_code = "ZONE_RESOURCE_POOL_EXHAUSTED";
  operation.error_message = "no room";
  operation.http_error_status = 503;
  const Json json = gce_operation_json(operation);
  EXPECT_EQ(json.find("kind")->as_string(), "compute#operation");
  const Json& error = (*json.find("error")->find("errors")->as_array())[0];
  EXPECT_EQ(error.find("code")->as_string(), "ZONE_RESOURCE_POOL_EXHAUSTED");
  EXPECT_EQ(json.find("httpErrorStatusCode")->as_int(), 503);
  EXPECT_EQ(json.find("selfLink")->as_string(),
            "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/operations/"
            "operation-1");
}

TEST(GceJson, ErrorEnvelopeIsGoogles) {
  const Json body = gce_error_body(409, "alreadyExists", "it exists");
  const Json& error = *body.find("error");
  EXPECT_EQ(error.find("code")->as_int(), 409);
  EXPECT_EQ(error.find("status")->as_string(), "ALREADY_EXISTS");
  EXPECT_EQ((*error.find("errors")->as_array())[0].find("reason")->as_string(), "alreadyExists");
  EXPECT_EQ(gce_error_body(401, "authError", "x").find("error")->find("status")->as_string(),
            "UNAUTHENTICATED");
  EXPECT_EQ(
      gce_error_body(403, "rateLimitExceeded", "x").find("error")->find("status")->as_string(),
      "RESOURCE_EXHAUSTED");
}

TEST(GceFirewallResource, ChecksPortsProtocolsAndTags) {
  const auto parse = [](std::string body) {
    return parse_firewall_resource(*parse_json(body), "p");
  };
  auto rule = parse(R"({"name":"skyd-ports-a","network":"global/networks/default",
    "allowed":[{"IPProtocol":"tcp","ports":["8080","9000-9010"]}],"targetTags":["skyd-ports-a"]})");
  ASSERT_TRUE(rule) << rule.error().detail;
  EXPECT_EQ(rule->direction, "INGRESS");
  EXPECT_EQ(rule->priority, 1000);
  EXPECT_EQ(rule->source_ranges, (std::vector<std::string>{"0.0.0.0/0"})) << "GCE's default";
  const Json json = gce_firewall_json(*rule);
  EXPECT_EQ(json.find("allowed")->dump(), R"([{"IPProtocol":"tcp","ports":["8080","9000-9010"]}])");
  EXPECT_EQ(json.find("selfLink")->as_string(),
            "https://www.googleapis.com/compute/v1/projects/p/global/firewalls/skyd-ports-a");

  for (const char* refused :
       {R"({"name":"a","allowed":[{"IPProtocol":"tcp","ports":["65536"]}]})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcp","ports":["20-10"]}]})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcp","ports":["80,81"]}]})",
        R"({"name":"a","allowed":[{"IPProtocol":"icmp","ports":["80"]}]})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcpx"}]})", R"({"name":"a"})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcp"}],"denied":[{"IPProtocol":"udp"}]})",
        R"({"name":"A","allowed":[{"IPProtocol":"tcp"}]})",
        R"({"name":"a","direction":"IN","allowed":[{"IPProtocol":"tcp"}]})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcp"}],"targetTags":["Bad_Tag"]})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcp"}],"sourceRanges":["10.0.0.0/33"]})",
        R"({"name":"a","allowed":[{"IPProtocol":"tcp"}],"color":"red"})"}) {
    EXPECT_FALSE(parse(refused)) << refused;
  }
  auto message = parse(R"({"name":"a","allowed":[{"IPProtocol":"tcp","ports":["1-2","9-8"]}]})");
  ASSERT_FALSE(message);
  EXPECT_NE(message.error().detail.find("'resource.allowed[0].ports[1]': '9-8'"), std::string::npos)
      << message.error().detail;
}

TEST(GceChaosConfig, ReadsFaultsAndRefusesUnknownKeys) {
  auto chaos = GceChaos::from_json(parsed(R"({
    "faults": [{"action": "insert", "zone": "us-central1-a",
                "code": "ZONE_RESOURCE_POOL_EXHAUSTED", "count": 2},
               {"code": "rateLimitExceeded", "rate": 0.5}],
    "zone_capacity": {"us-east1-b": 3}, "operation_ms": 50, "preemption_grace_ms": 1000})"));
  ASSERT_TRUE(chaos) << chaos.error().detail;
  ASSERT_EQ(chaos->faults.size(), 2u);
  EXPECT_TRUE(chaos->faults[0].in_operation());
  EXPECT_EQ(chaos->faults[0].remaining, 2);
  EXPECT_FALSE(chaos->faults[1].in_operation());
  EXPECT_EQ(chaos->faults[1].status, 403);
  EXPECT_EQ(chaos->zone_capacity.at("us-east1-b"), 3);
  EXPECT_EQ(chaos->operation_time, std::chrono::milliseconds(50));
  auto unknown = GceChaos::from_json(parsed(R"({"operation_secs": 1})"));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().detail.find("gcp.operation_secs"), std::string::npos);
  EXPECT_FALSE(GceChaos::from_json(parsed(R"({"faults":[{"zone":"x"}]})"))) << "no code";
}

}  // namespace
}  // namespace skyd::fakecloud
