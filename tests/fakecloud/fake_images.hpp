#pragma once
// fakecloud's images and root volumes: the AMIs it knows (an unknown one is
// InvalidAMIID.NotFound, as in EC2), RunInstances' BlockDeviceMapping.N checked against EC2's
// limits per volume type, DescribeImages, and the XML an instance's volumes show in
// DescribeInstances. Pure functions; fake_cloud.cpp keeps the state.

#include "providers/aws/ec2_api.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyd::fakecloud {

namespace aws = providers::aws;

struct FakeImage {
  std::string root_device_name;
  int size_gb = 8;  // its root snapshot's size: a root volume may not be smaller
};

// A new id in EC2's form: the prefix ("vol-", "sg-") and 17 hex digits.
std::string resource_id(std::string_view prefix);

// The AMIs every fakecloud knows in every region (tests/fakecloud/README.md lists them).
std::map<std::string, FakeImage> default_images();

// An EC2 error: its code and message (HTTP 400).
struct ApiError {
  std::string code;
  std::string message;
};

// The image an ImageId names: a known AMI, or the one an SSM parameter (resolve:ssm:…) resolves
// to; InvalidAMIID.Malformed / InvalidAMIID.NotFound otherwise.
std::optional<ApiError> find_image(const std::map<std::string, FakeImage>& images,
                                   const std::string& image_id, FakeImage& found);

struct BlockDevice {
  std::string device_name;
  int size_gb = 0;
  std::string volume_type;
  std::optional<int> iops;
  std::optional<int> throughput;
  bool delete_on_termination = true;
  std::string volume_id;
};

// The instance's volumes: BlockDeviceMapping.N from the request over the image's root volume,
// checked as EC2 checks them (types, IOPS and throughput ranges, 500 IOPS per GiB, a root
// volume not smaller than the image).
std::optional<ApiError> block_devices(const aws::QueryParams& params, const FakeImage& image,
                                      std::vector<BlockDevice>& out);

// <rootDeviceName> and <blockDeviceMapping> of an instance item in DescribeInstances.
void append_block_devices(std::string& xml, const std::string& root_device_name,
                          const std::vector<BlockDevice>& devices, const std::string& attach_time);
// An <item> of DescribeVolumes' volumeSet: the volume attached to `instance_id`.
void append_volume(std::string& xml, const BlockDevice& device, const std::string& instance_id,
                   const std::string& zone, const std::string& attach_time);
// An <item> of DescribeImages' imagesSet.
void append_image(std::string& xml, const std::string& image_id, const FakeImage& image);

}  // namespace skyd::fakecloud
