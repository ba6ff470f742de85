// The task's node settings on EC2: disk tiers as EBS volumes (SkyPilot's mapping), the root
// device's BlockDeviceMapping, labels as tags, DescribeImages, and each refusal by field name.
#include "providers/aws/ec2_api.hpp"

#include <gtest/gtest.h>

namespace skyd::providers::aws {
namespace {

std::string field(const QueryParams& params, std::string_view name) {
  return param(params, name).value_or("<absent>");
}

bool names(const Result<void>& result, std::string_view what) {
  return !result && result.error().message().find(what) != std::string::npos;
}

TEST(Ec2DiskTier, EachTierIsSkyPilotsVolumeTypeIopsAndThroughput) {
  const EbsVolume low = ebs_volume_for(DiskTier::kLow);
  EXPECT_EQ(low.volume_type, "standard");
  EXPECT_FALSE(low.iops);
  EXPECT_FALSE(low.throughput_mibps);
  const EbsVolume medium = ebs_volume_for(DiskTier::kMedium);
  EXPECT_EQ(medium.volume_type, "gp3");
  EXPECT_EQ(medium.iops, 3500);
  EXPECT_EQ(medium.throughput_mibps, 218);
  const EbsVolume high = ebs_volume_for(DiskTier::kHigh);
  EXPECT_EQ(high.volume_type, "gp3");
  EXPECT_EQ(high.iops, 7000);
  EXPECT_EQ(high.throughput_mibps, 437);
  for (DiskTier tier : {DiskTier::kUltra, DiskTier::kBest}) {
    const EbsVolume ultra = ebs_volume_for(tier);
    EXPECT_EQ(ultra.volume_type, "io2") << to_string(tier);
    EXPECT_EQ(ultra.iops, 20000) << to_string(tier);
    EXPECT_FALSE(ultra.throughput_mibps) << to_string(tier);
  }
}

TEST(Ec2DiskTier, ADiskSizeAloneIsAMediumVolumeOfThatSize) {
  NodeSettings settings;
  settings.disk_size_gb = 256;
  auto volume = root_volume_for(settings);
  ASSERT_TRUE(volume);
  EXPECT_EQ(volume->size_gb, 256);
  EXPECT_EQ(volume->volume_type, "gp3");
  EXPECT_EQ(volume->iops, 3500);
}

TEST(Ec2DiskTier, ASizeTooSmallForTheTiersIopsIsRefusedNamingDiskTier) {
  NodeSettings settings;
  settings.disk_size_gb = 20;
  settings.disk_tier = DiskTier::kUltra;  // 20,000 IOPS needs 40 GB
  auto volume = root_volume_for(settings);
  ASSERT_FALSE(volume);
  EXPECT_NE(volume.error().message().find("resources.disk_tier"), std::string::npos);
  EXPECT_NE(volume.error().message().find("at least 40 GB"), std::string::npos);
}

TEST(Ec2DiskTier, ASizeBeyondTheVolumeTypeIsRefusedNamingDiskSize) {
  NodeSettings settings;
  settings.disk_size_gb = 2000;
  settings.disk_tier = DiskTier::kLow;  // magnetic: at most 1 TiB
  auto volume = root_volume_for(settings);
  ASSERT_FALSE(volume);
  EXPECT_NE(volume.error().message().find("resources.disk_size"), std::string::npos);
}

TEST(Ec2Request, TheRootDiskIsOneBlockDeviceMappingDeletedWithTheInstance) {
  RunInstancesInput input;
  input.image_id = "ami-0a1b2c3d4e5f60718";
  input.instance_type = "m6i.large";
  input.root_disk = BlockDeviceMapping{"/dev/xvda", {100, "gp3", 7000, 437}};
  const QueryParams params = build_run_instances(input);
  EXPECT_EQ(field(params, "BlockDeviceMapping.1.DeviceName"), "/dev/xvda");
  EXPECT_EQ(field(params, "BlockDeviceMapping.1.Ebs.VolumeSize"), "100");
  EXPECT_EQ(field(params, "BlockDeviceMapping.1.Ebs.VolumeType"), "gp3");
  EXPECT_EQ(field(params, "BlockDeviceMapping.1.Ebs.Iops"), "7000");
  EXPECT_EQ(field(params, "BlockDeviceMapping.1.Ebs.Throughput"), "437");
  EXPECT_EQ(field(params, "BlockDeviceMapping.1.Ebs.DeleteOnTermination"), "true");
  EXPECT_EQ(field(params, "BlockDeviceMapping.2.DeviceName"), "<absent>");

  input.root_disk.reset();
  EXPECT_EQ(field(build_run_instances(input), "BlockDeviceMapping.1.DeviceName"), "<absent>");
}

TEST(Ec2Request, DescribeImagesAsksForOneImageAndReadsItsRootDevice) {
  const QueryParams params = build_describe_images("ami-0f9e8d7c6b5a40312");
  EXPECT_EQ(field(params, "Action"), "DescribeImages");
  EXPECT_EQ(field(params, "ImageId.1"), "ami-0f9e8d7c6b5a40312");
  // A recorded answer's shape (trimmed).
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <imagesSet><item><imageId>ami-0f9e8d7c6b5a40312</imageId><imageState>available</imageState>
    <rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName>
    <blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><volumeSize>16</volumeSize>
    </ebs></item></blockDeviceMapping></item></imagesSet>
</DescribeImagesResponse>)";
  auto images = parse_describe_images(xml);
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ(images->front().image_id, "ami-0f9e8d7c6b5a40312");
  EXPECT_EQ(images->front().state, "available");
  EXPECT_EQ(images->front().root_device_name, "/dev/sda1");
}

TEST(Ec2Labels, LabelsWithinEc2sLimitsAreAccepted) {
  EXPECT_TRUE(check_labels(
      {{"team", "vision"}, {"cost-center", std::string(256, 'x')}, {std::string(128, 'k'), "v"}}));
}

TEST(Ec2Labels, ALabelOnSkydsOwnTagKeyIsRefusedByName) {
  EXPECT_TRUE(names(check_labels({{"skyd-job", "1"}}), "resources.labels.skyd-job"));
  EXPECT_TRUE(names(check_labels({{"skyd-cluster", "x"}}), "reserved"));
  EXPECT_TRUE(names(check_labels({{"Name", "mine"}}), "resources.labels.Name"));
}

TEST(Ec2Labels, AwsPrefixedAndOverlongLabelsAreRefusedByName) {
  EXPECT_TRUE(names(check_labels({{"AWS:owner", "me"}}), "resources.labels.AWS:owner"));
  EXPECT_TRUE(names(check_labels({{std::string(129, 'k'), "v"}}), "128"));
  EXPECT_TRUE(names(check_labels({{"team", std::string(257, 'v')}}), "256"));
}

TEST(Ec2NodeSettings, APortRangeThatIsNoTcpRangeIsRefusedByName) {
  NodeSettings settings;
  settings.ports = {{8080, 8080}, {9000, 9010}};
  EXPECT_TRUE(check_node_settings(settings));
  settings.ports = {{0, 80}};
  EXPECT_TRUE(names(check_node_settings(settings), "resources.ports"));
}

TEST(Ec2Request, PortsAreTcpIngressFromAnywhereOnTheClustersOwnGroup) {
  EXPECT_EQ(ports_group_name("web-3"), "skyd-ports-web-3");
  const QueryParams created =
      build_create_security_group("skyd-ports-web-3", "ports", {{"skyd-cluster", "web-3"}});
  EXPECT_EQ(field(created, "Action"), "CreateSecurityGroup");
  EXPECT_EQ(field(created, "GroupName"), "skyd-ports-web-3");
  EXPECT_EQ(field(created, "TagSpecification.1.ResourceType"), "security-group");
  EXPECT_EQ(field(created, "TagSpecification.1.Tag.1.Key"), "skyd-cluster");
  const QueryParams ingress = build_authorize_ingress("sg-0123", {{8080, 8080}, {9000, 9010}});
  EXPECT_EQ(field(ingress, "GroupId"), "sg-0123");
  EXPECT_EQ(field(ingress, "IpPermissions.1.IpProtocol"), "tcp");
  EXPECT_EQ(field(ingress, "IpPermissions.1.FromPort"), "8080");
  EXPECT_EQ(field(ingress, "IpPermissions.1.ToPort"), "8080");
  EXPECT_EQ(field(ingress, "IpPermissions.1.IpRanges.1.CidrIp"), "0.0.0.0/0");
  EXPECT_EQ(field(ingress, "IpPermissions.2.FromPort"), "9000");
  EXPECT_EQ(field(ingress, "IpPermissions.2.ToPort"), "9010");
}

TEST(Ec2Response, SecurityGroupsAreReadWithTheirTags) {
  auto created = parse_create_security_group(
      R"(<CreateSecurityGroupResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><return>true</return>
  <groupId>sg-0a1b2c3d4e5f60718</groupId></CreateSecurityGroupResponse>)");
  ASSERT_TRUE(created);
  EXPECT_EQ(*created, "sg-0a1b2c3d4e5f60718");
  auto groups = parse_describe_security_groups(
      R"(<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><securityGroupInfo><item>
  <ownerId>123456789012</ownerId><groupId>sg-0a1b2c3d4e5f60718</groupId>
  <groupName>skyd-ports-web-3</groupName><groupDescription>ports</groupDescription>
  <ipPermissions/><tagSet><item><key>skyd-cluster</key><value>web-3</value></item></tagSet>
  </item></securityGroupInfo></DescribeSecurityGroupsResponse>)");
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->front().group_id, "sg-0a1b2c3d4e5f60718");
  EXPECT_EQ(groups->front().group_name, "skyd-ports-web-3");
  EXPECT_EQ(groups->front().tags.at("skyd-cluster"), "web-3");
}

TEST(Ec2NodeSettings, ADockerImageRunsOnTheConfiguredAmi) {
  NodeSettings settings;
  settings.image_id = "docker:ubuntu:22.04";
  EXPECT_TRUE(check_node_settings(settings));
  EXPECT_TRUE(wants_container(settings));
  EXPECT_EQ(machine_image(settings), "");
  settings.image_id = "ami-0123";
  EXPECT_FALSE(wants_container(settings));
  EXPECT_EQ(machine_image(settings), "ami-0123");
}

TEST(Ec2NodeSettings, AnImageIdThatIsNoAmiIsRefusedByName) {
  NodeSettings settings;
  settings.image_id = "skypilot:gpu-ubuntu-2204";
  EXPECT_TRUE(names(check_node_settings(settings), "resources.image_id"));
  settings.image_id = "ami-0a1b2c3d4e5f60718";
  EXPECT_TRUE(check_node_settings(settings));
  settings.image_id = "resolve:ssm:/aws/service/debian/release/12/latest/amd64";
  EXPECT_TRUE(check_node_settings(settings));
}

}  // namespace
}  // namespace skyd::providers::aws
