// The task's node settings reach the machine or are refused by name, field by field: image_id,
// disk_size, disk_tier and labels on EC2 (fakecloud records what RunInstances received), ports
// and docker images refused before anything is submitted, and the local provider's choices.
#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"

#include <fstream>
#include <map>
#include <string>

namespace skyd::testing {
namespace {

// The only instance fakecloud made (after the job ran), as /_admin/instances shows it.
Json only_instance(AwsWorld& world) {
  auto instances = parse_json(world.admin("GET", "/_admin/instances"));
  if (!instances || !instances->find("instances")) return Json::object();
  const auto& list = *instances->find("instances")->as_array();
  return list.size() == 1 ? list[0] : Json::object();
}

std::string text(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_string() ? std::string(*value->as_string()) : std::string("<absent>");
}

long long number(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value ? value->as_int().value_or(-1) : -1;
}

// Launches a job and waits for it to end; its exit code.
int run_job(AwsWorld& world, const std::string& name, const std::string& resources) {
  const auto yaml = world.skyd.write_file(
      name + ".yaml", "name: " + name + "\nresources:\n" + resources + "run: echo ok\n");
  const auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  return world.skyd.sky({"jobs", "logs", "1"}).exit_code;
}

// Launches a job that must end FAILED_PRECHECKS; its controller log.
std::string failed_prechecks(AwsWorld& world, const std::string& resources) {
  const auto yaml = world.skyd.write_file(
      "refused.yaml", "name: refused\nresources:\n" + resources + "run: echo never\n");
  const auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(wait_for([&] {
    return contains(world.skyd.sky({"jobs", "queue", "-a"}).out, "FAILED_PRECHECKS");
  })) << world.skyd.sky({"jobs", "queue", "-a"}).out;
  return world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
}

// `sky jobs launch --dryrun`: what the user hears before anything is submitted.
CommandResult dryrun(AwsWorld& world, const std::string& resources) {
  const auto yaml = world.skyd.write_file(
      "dry.yaml", "name: dry\nresources:\n" + resources + "run: echo never\n");
  return world.skyd.sky({"jobs", "launch", "--dryrun", "-y", yaml});
}

TEST(AwsNodeSettings, TheImageIdIsTheInstancesImage) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "image",
                    "  cloud: aws\n  instance_type: m6i.large\n"
                    "  image_id: ami-0f9e8d7c6b5a40312\n"),
            0);
  const Json instance = only_instance(world);
  EXPECT_EQ(text(instance, "image_id"), "ami-0f9e8d7c6b5a40312") << instance.dump();
  EXPECT_EQ(text(instance, "root_device_name"), "/dev/sda1") << instance.dump();
}

TEST(AwsNodeSettings, APerRegionImageIsTheLaunchRegionsOwnAndKeepsTheJobInThoseRegions) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "regional",
                    "  cloud: aws\n  instance_type: m6i.large\n  image_id:\n"
                    "    us-west-2: ami-0c0ffee0c0ffee000\n    eu-west-1: ami-0a1b2c3d4e5f60718\n"),
            0);
  const Json instance = only_instance(world);
  const std::string region = text(instance, "region");
  ASSERT_TRUE(region == "us-west-2" || region == "eu-west-1") << instance.dump();
  EXPECT_EQ(text(instance, "image_id"),
            region == "us-west-2" ? "ami-0c0ffee0c0ffee000" : "ami-0a1b2c3d4e5f60718");
}

TEST(AwsNodeSettings, AnUnknownAmiFailsPrechecksNamingImageId) {
  AwsWorld world;
  const std::string log = failed_prechecks(
      world, "  cloud: aws\n  instance_type: m6i.large\n  image_id: ami-0123456789abcdef1\n");
  EXPECT_TRUE(contains(log, "resources.image_id: ami-0123456789abcdef1 is not an image")) << log;
  EXPECT_TRUE(contains(log, "InvalidAMIID.NotFound")) << log;
  EXPECT_EQ(world.live_instances(), 0);
}

TEST(AwsNodeSettings, DiskSizeAndTierAreTheRootVolumeOfTheImagesRootDevice) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "disk",
                    "  cloud: aws\n  instance_type: m6i.large\n  image_id: ami-0f9e8d7c6b5a40312\n"
                    "  disk_size: 100\n  disk_tier: high\n"),
            0);
  const Json instance = only_instance(world);
  const Json* devices = instance.find("block_devices");
  ASSERT_TRUE(devices && devices->as_array() && devices->as_array()->size() == 1)
      << instance.dump();
  const Json& root = (*devices->as_array())[0];
  EXPECT_EQ(text(root, "device_name"), "/dev/sda1");
  EXPECT_EQ(number(root, "volume_size"), 100);
  EXPECT_EQ(text(root, "volume_type"), "gp3");
  EXPECT_EQ(number(root, "iops"), 7000);
  EXPECT_EQ(number(root, "throughput"), 437);
  EXPECT_EQ(root.find("delete_on_termination")->as_bool(), true);
}

TEST(AwsNodeSettings, ADiskSizeOnTheDefaultImageSizesItsRootDevice) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "size", "  cloud: aws\n  instance_type: m6i.large\n  disk_size: 64\n"),
            0);
  const Json instance = only_instance(world);
  const Json* devices = instance.find("block_devices");
  ASSERT_TRUE(devices && devices->as_array() && devices->as_array()->size() == 1)
      << instance.dump();
  const Json& root = (*devices->as_array())[0];
  EXPECT_EQ(text(root, "device_name"), "/dev/xvda");
  EXPECT_EQ(number(root, "volume_size"), 64);
  EXPECT_EQ(text(root, "volume_type"), "gp3");
  EXPECT_EQ(number(root, "iops"), 3500);
}

TEST(AwsNodeSettings, ADiskTierWithoutACloudIsPlacedOnTheCloudThatHonoursIt) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "tiered", "  cpus: 2+\n  disk_size: 50\n  disk_tier: ultra\n"), 0);
  const Json instance = only_instance(world);
  const Json* devices = instance.find("block_devices");
  ASSERT_TRUE(devices && devices->as_array() && !devices->as_array()->empty()) << instance.dump();
  EXPECT_EQ(text((*devices->as_array())[0], "volume_type"), "io2");
  EXPECT_EQ(number((*devices->as_array())[0], "iops"), 20000);
}

TEST(AwsNodeSettings, LabelsAreTagsOnTheInstanceBesideSkydsOwn) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "labelled",
                    "  cloud: aws\n  instance_type: m6i.large\n"
                    "  labels:\n    team: vision\n    cost-center: \"42\"\n"),
            0);
  const Json instance = only_instance(world);
  const Json* tags = instance.find("tags");
  ASSERT_TRUE(tags) << instance.dump();
  EXPECT_EQ(text(*tags, "team"), "vision");
  EXPECT_EQ(text(*tags, "cost-center"), "42");
  EXPECT_EQ(text(*tags, "skyd-cluster"), "labelled-1");
  EXPECT_EQ(text(*tags, "skyd-job"), "1");
}

TEST(AwsNodeSettings, ALabelOnSkydsOwnTagKeyIsRefusedAtTheDryRunNamingIt) {
  AwsWorld world;
  const auto refused =
      dryrun(world, "  cloud: aws\n  instance_type: m6i.large\n  labels:\n    skyd-job: mine\n");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.out + refused.err, "resources.labels.skyd-job"))
      << refused.out << refused.err;
}

// The security groups fakecloud holds, by "region/name".
std::map<std::string, Json> security_groups(AwsWorld& world) {
  std::map<std::string, Json> out;
  auto groups = parse_json(world.admin("GET", "/_admin/security_groups"));
  if (!groups || !groups->find("security_groups")) return out;
  for (const auto& group : *groups->find("security_groups")->as_array())
    out[text(group, "region") + "/" + text(group, "group_name")] = group;
  return out;
}

TEST(AwsNodeSettings, PortsOpenTheClustersOwnSecurityGroupWhichGoesWithTheCluster) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file(
      "web.yaml",
      "name: web\nresources:\n  cloud: aws\n  region: us-east-1\n  instance_type: m6i.large\n"
      "  ports: [8080, 9000-9001]\nrun: |\n  touch " +
          world.dir.file("serving") + "\n  while [ ! -e " + world.dir.file("stop") +
          " ]; do sleep 0.1; done\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("serving")));

  auto groups = security_groups(world);
  ASSERT_TRUE(groups.contains("us-east-1/skyd-ports-web-1"))
      << world.admin("GET", "/_admin/security_groups");
  const Json& group = groups["us-east-1/skyd-ports-web-1"];
  EXPECT_EQ(group.find("ingress")->dump(),
            R"([{"protocol":"tcp","from_port":8080,"to_port":8080,"cidr":"0.0.0.0/0"},)"
            R"({"protocol":"tcp","from_port":9000,"to_port":9001,"cidr":"0.0.0.0/0"}])");
  EXPECT_EQ(text(*group.find("tags"), "skyd-cluster"), "web-1");
  // The node is in the VPC's default group (skyd reaches skylet through it) and the cluster's.
  const Json instance = only_instance(world);
  const Json* member_of = instance.find("security_groups");
  ASSERT_TRUE(member_of && member_of->as_array()) << instance.dump();
  ASSERT_EQ(member_of->as_array()->size(), 2u) << instance.dump();
  EXPECT_EQ((*member_of->as_array())[0].as_string(), text(groups["us-east-1/default"], "group_id"));
  EXPECT_EQ((*member_of->as_array())[1].as_string(), text(group, "group_id"));

  std::ofstream(world.dir.file("stop")) << "stop\n";
  EXPECT_EQ(world.skyd.sky({"jobs", "logs", "1"}).exit_code, 0);
  EXPECT_TRUE(wait_for([&] {
    return !security_groups(world).contains("us-east-1/skyd-ports-web-1");
  })) << "the group is deleted once the cluster is terminated";
  EXPECT_TRUE(security_groups(world).contains("us-east-1/default"));
}

TEST(AwsNodeSettings, AGroupLeftBehindByAStoppedSkydIsSwept) {
  AwsWorld world;
  const std::string mine = installation_of(world.skyd);
  // A ports group of this installation whose cluster has no machines (skyd stopped between the
  // terminate and the delete).
  const auto made = world.signed_call(
      "CreateSecurityGroup",
      "GroupName=skyd-ports-gone-7&GroupDescription=left"
      "&TagSpecification.1.ResourceType=security-group"
      "&TagSpecification.1.Tag.1.Key=skyd-cluster&TagSpecification.1.Tag.1.Value=gone-7"
      "&TagSpecification.1.Tag.2.Key=skyd-controller&TagSpecification.1.Tag.2.Value=" +
          mine);
  ASSERT_TRUE(contains(made.out, "<groupId>")) << made.out << made.err;
  world.skyd.stop();
  world.skyd.restart();  // the startup sweep
  EXPECT_TRUE(wait_for([&] {
    return !security_groups(world).contains("us-east-1/skyd-ports-gone-7");
  })) << world.admin("GET", "/_admin/security_groups");
}

TEST(AwsNodeSettings, TheBestNetworkGivesEachNodeItsTypesEfaInterfaces) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "fabric",
                    "  cloud: aws\n  region: us-east-1\n  accelerators: A100:8\n"
                    "  network_tier: best\n"),
            0);
  const Json instance = only_instance(world);
  EXPECT_EQ(text(instance, "instance_type"), "p4d.24xlarge") << instance.dump();
  const Json* interfaces = instance.find("network_interfaces");
  ASSERT_TRUE(interfaces && interfaces->as_array()) << instance.dump();
  ASSERT_EQ(interfaces->as_array()->size(), 4u) << instance.dump();
  for (const auto& interface : *interfaces->as_array())
    EXPECT_EQ(text(interface, "type"), "efa") << instance.dump();
  EXPECT_EQ(number((*interfaces->as_array())[3], "card"), 3);
}

TEST(AwsNodeSettings, TheBestNetworkOnATypeWithoutEfaIsRefusedAtTheDryRunNamingIt) {
  AwsWorld world;
  const auto refused =
      dryrun(world, "  cloud: aws\n  instance_type: m6i.large\n  network_tier: best\n");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.out + refused.err, "resources.network_tier: best needs"))
      << refused.out << refused.err;
  // EC2 itself refuses EFA on such a type, and groups beside interfaces.
  const std::string run =
      "ImageId=ami-0a1b2c3d4e5f60718&MinCount=1&MaxCount=1&NetworkInterface.1.DeviceIndex=0"
      "&NetworkInterface.1.InterfaceType=efa&InstanceType=";
  EXPECT_TRUE(contains(world.signed_call("RunInstances", run + "m6i.large").out,
                       "<Code>InvalidParameterCombination</Code>"));
  EXPECT_TRUE(contains(
      world.signed_call("RunInstances", run + "p4d.24xlarge&SecurityGroupId.1=sg-0123").out,
      "<Code>InvalidParameterCombination</Code>"));
  EXPECT_EQ(run_job(world, "plain",
                    "  cloud: aws\n  instance_type: m6i.large\n  network_tier: standard\n"),
            0);
  const Json instance = only_instance(world);
  const Json* interfaces = instance.find("network_interfaces");
  ASSERT_TRUE(interfaces && interfaces->as_array() && interfaces->as_array()->size() == 1)
      << instance.dump();
  EXPECT_EQ(text((*interfaces->as_array())[0], "type"), "interface");
}

// It runs on the configured AMI (the job itself: cloud_container_jobs_test.cpp).
TEST(AwsNodeSettings, ADockerImagePlansAtTheDryRunOnEc2) {
  AwsWorld world;
  const auto planned = dryrun(world, "  cloud: aws\n  image_id: docker:ubuntu:22.04\n");
  EXPECT_EQ(planned.exit_code, 0) << planned.out << planned.err;
  EXPECT_TRUE(contains(planned.out, "aws")) << planned.out;
}

TEST(LocalNodeSettings, AnImageDiskTierOrLabelsOnLocalAreRefusedAtTheDryRunByName) {
  AwsWorld world;
  for (const auto& [field, line] :
       {std::pair{"resources.image_id", "  image_id: ami-0f9e8d7c6b5a40312\n"},
        {"resources.disk_tier", "  disk_tier: high\n"},
        {"resources.network_tier", "  network_tier: best\n"},
        {"resources.labels", "  labels:\n    team: vision\n"}}) {
    const auto refused = dryrun(world, "  cloud: local\n" + std::string(line));
    EXPECT_NE(refused.exit_code, 0) << field;
    EXPECT_TRUE(contains(refused.out + refused.err, field)) << refused.out << refused.err;
  }
}

TEST(LocalNodeSettings, ADiskSizeLargerThanTheFreeSpaceFailsPrechecksNamingIt) {
  AwsWorld world;
  const std::string log = failed_prechecks(world, "  cloud: local\n  disk_size: 1000000\n");
  EXPECT_TRUE(contains(log, "resources.disk_size: 1000000 GB")) << log;
}

TEST(LocalNodeSettings, PortsAndADiskSizeThatFitsRunOnLocal) {
  AwsWorld world;
  EXPECT_EQ(run_job(world, "local", "  cloud: local\n  ports: 8080\n  disk_size: 1\n"), 0);
}

}  // namespace
}  // namespace skyd::testing
