#include "tests/fakecloud/fake_images.hpp"

#include <charconv>
#include <random>
#include <regex>

namespace skyd::fakecloud {
namespace {

std::optional<int> int_param(const aws::QueryParams& params, const std::string& name, bool& bad) {
  auto text = aws::param(params, name);
  if (!text) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) bad = true;
  return value;
}

std::string volume_id() {
  return resource_id("vol-");
}

std::optional<ApiError> check_volume(const BlockDevice& device) {
  const std::string& type = device.volume_type;
  struct Limits {
    int min_size, max_size, min_iops, max_iops;
    bool takes_iops, needs_iops, takes_throughput;
  };
  static const std::map<std::string, Limits> kTypes{
      {"standard", {1, 1024, 0, 0, false, false, false}},
      {"gp2", {1, 16384, 0, 0, false, false, false}},
      {"gp3", {1, 16384, 3000, 16000, true, false, true}},
      {"io1", {4, 16384, 100, 64000, true, true, false}},
      {"io2", {4, 65536, 100, 256000, true, true, false}},
      {"st1", {125, 16384, 0, 0, false, false, false}},
      {"sc1", {125, 16384, 0, 0, false, false, false}},
  };
  const auto limits = kTypes.find(type);
  if (limits == kTypes.end()) {
    return ApiError{"InvalidParameterValue",
                    "Value (" + type + ") for parameter volumeType is invalid."};
  }
  const Limits& l = limits->second;
  if (device.size_gb < l.min_size || device.size_gb > l.max_size) {
    return ApiError{"InvalidParameterValue", "Volume of " + std::to_string(device.size_gb) +
                                                 "GiB is outside the " + type + " range of " +
                                                 std::to_string(l.min_size) + "-" +
                                                 std::to_string(l.max_size) + "GiB."};
  }
  if (device.iops && !l.takes_iops) {
    return ApiError{"InvalidParameterCombination",
                    "The parameter iops is not supported for " + type + " volumes."};
  }
  if (!device.iops && l.needs_iops) {
    return ApiError{"InvalidParameterCombination",
                    "The parameter iops must be specified for " + type + " volumes."};
  }
  if (device.iops) {
    if (*device.iops < l.min_iops || *device.iops > l.max_iops) {
      return ApiError{"InvalidParameterValue", "Iops " + std::to_string(*device.iops) +
                                                   " is outside the " + type + " range of " +
                                                   std::to_string(l.min_iops) + "-" +
                                                   std::to_string(l.max_iops) + "."};
    }
    if (*device.iops > 500 * device.size_gb) {
      return ApiError{"InvalidParameterValue", "Iops to volume size ratio of " +
                                                   std::to_string(*device.iops / device.size_gb) +
                                                   " is too high; maximum is 500."};
    }
  }
  if (device.throughput) {
    if (!l.takes_throughput) {
      return ApiError{"InvalidParameterCombination",
                      "The parameter throughput is not supported for " + type + " volumes."};
    }
    const int iops = device.iops.value_or(3000);
    if (*device.throughput < 125 || *device.throughput > 1000 || *device.throughput * 4 > iops) {
      return ApiError{"InvalidParameterValue",
                      "Throughput " + std::to_string(*device.throughput) +
                          " MiB/s must be 125-1000 and at most a quarter of the volume's IOPS."};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string resource_id(std::string_view prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(prefix);
  for (int i = 0; i < 17; ++i) out += kHex[random() % 16];
  return out;
}

std::map<std::string, FakeImage> default_images() {
  return {
      {"ami-0a1b2c3d4e5f60718", {"/dev/xvda", 8}},   // a Debian-style image
      {"ami-0f9e8d7c6b5a40312", {"/dev/sda1", 16}},  // an Ubuntu-style image
      {"ami-0c0ffee0c0ffee000", {"/dev/xvda", 8}},   // another, for per-region maps
  };
}

std::optional<ApiError> find_image(const std::map<std::string, FakeImage>& images,
                                   const std::string& image_id, FakeImage& found) {
  if (image_id.starts_with("resolve:ssm:")) {
    found = FakeImage{"/dev/xvda", 8};  // every parameter names a Debian-style image here
    return std::nullopt;
  }
  if (auto it = images.find(image_id); it != images.end()) {
    found = it->second;
    return std::nullopt;
  }
  static const std::regex kAmi("ami-([0-9a-f]{8}|[0-9a-f]{17})");
  if (!std::regex_match(image_id, kAmi))
    return ApiError{"InvalidAMIID.Malformed", "Invalid id: \"" + image_id + "\""};
  return ApiError{"InvalidAMIID.NotFound", "The image id '[" + image_id + "]' does not exist"};
}

std::optional<ApiError> block_devices(const aws::QueryParams& params, const FakeImage& image,
                                      std::vector<BlockDevice>& out) {
  out.clear();
  bool root_given = false;
  for (int n = 1;; ++n) {
    const std::string prefix = "BlockDeviceMapping." + std::to_string(n);
    auto name = aws::param(params, prefix + ".DeviceName");
    if (!name) break;
    BlockDevice device;
    device.device_name = *name;
    const bool root = *name == image.root_device_name;
    bool bad = false;
    device.size_gb = int_param(params, prefix + ".Ebs.VolumeSize", bad).value_or(image.size_gb);
    device.volume_type = aws::param(params, prefix + ".Ebs.VolumeType").value_or("gp2");
    device.iops = int_param(params, prefix + ".Ebs.Iops", bad);
    device.throughput = int_param(params, prefix + ".Ebs.Throughput", bad);
    device.delete_on_termination =
        aws::param(params, prefix + ".Ebs.DeleteOnTermination").value_or(root ? "true" : "false") ==
        "true";
    if (bad) {
      return ApiError{"InvalidParameterValue",
                      "Invalid integer in the block device mapping for " + *name};
    }
    if (root && device.size_gb < image.size_gb) {
      return ApiError{"InvalidBlockDeviceMapping",
                      "Volume of size " + std::to_string(device.size_gb) +
                          "GB is smaller than snapshot, expect size >= " +
                          std::to_string(image.size_gb) + "GB"};
    }
    if (auto error = check_volume(device)) return error;
    device.volume_id = volume_id();
    root_given = root_given || root;
    out.push_back(std::move(device));
  }
  if (!root_given) {
    BlockDevice root{image.root_device_name, image.size_gb, "gp2",      std::nullopt,
                     std::nullopt,           true,          volume_id()};
    out.insert(out.begin(), std::move(root));
  }
  return std::nullopt;
}

void append_block_devices(std::string& xml, const std::string& root_device_name,
                          const std::vector<BlockDevice>& devices, const std::string& attach_time) {
  xml += "<rootDeviceName>" + aws::xml_escape(root_device_name) + "</rootDeviceName>";
  xml += "<blockDeviceMapping>";
  for (const auto& device : devices) {
    xml += "<item><deviceName>" + aws::xml_escape(device.device_name) +
           "</deviceName><ebs><volumeId>" + device.volume_id +
           "</volumeId><status>attached</status><attachTime>" + attach_time +
           "</attachTime><deleteOnTermination>" +
           (device.delete_on_termination ? "true" : "false") +
           "</deleteOnTermination></ebs></item>";
  }
  xml += "</blockDeviceMapping>";
}

void append_volume(std::string& xml, const BlockDevice& device, const std::string& instance_id,
                   const std::string& zone, const std::string& attach_time) {
  xml += "<item><volumeId>" + device.volume_id + "</volumeId><size>" +
         std::to_string(device.size_gb) + "</size><snapshotId/><availabilityZone>" +
         aws::xml_escape(zone) + "</availabilityZone><status>in-use</status><createTime>" +
         attach_time + "</createTime><attachmentSet><item><volumeId>" + device.volume_id +
         "</volumeId><instanceId>" + instance_id + "</instanceId><device>" +
         aws::xml_escape(device.device_name) + "</device><status>attached</status><attachTime>" +
         attach_time + "</attachTime><deleteOnTermination>" +
         (device.delete_on_termination ? "true" : "false") +
         "</deleteOnTermination></item></attachmentSet><volumeType>" +
         aws::xml_escape(device.volume_type) + "</volumeType>";
  if (device.iops) xml += "<iops>" + std::to_string(*device.iops) + "</iops>";
  if (device.throughput)
    xml += "<throughput>" + std::to_string(*device.throughput) + "</throughput>";
  xml += "<encrypted>false</encrypted><multiAttachEnabled>false</multiAttachEnabled></item>";
}

void append_image(std::string& xml, const std::string& image_id, const FakeImage& image) {
  xml += "<item><imageId>" + aws::xml_escape(image_id) +
         "</imageId><imageState>available</imageState><ownerId>123456789012</ownerId>"
         "<architecture>x86_64</architecture><imageType>machine</imageType>"
         "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>" +
         aws::xml_escape(image.root_device_name) +
         "</rootDeviceName><blockDeviceMapping><item><deviceName>" +
         aws::xml_escape(image.root_device_name) +
         "</deviceName><ebs><snapshotId>snap-0123456789abcdef0</snapshotId><volumeSize>" +
         std::to_string(image.size_gb) +
         "</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp2"
         "</volumeType></ebs></item></blockDeviceMapping><virtualizationType>hvm"
         "</virtualizationType><hypervisor>xen</hypervisor></item>";
}

}  // namespace skyd::fakecloud
