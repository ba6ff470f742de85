#pragma once
// The EC2 Query API (version 2016-11-15) as pure functions: build the form-encoded body of a
// call, read the XML that comes back, and classify errors. No sockets here, so every mapping is
// unit-tested against recorded payloads; aws_provider.cpp does the I/O.

#include "providers/node_boot.hpp"
#include "providers/provider.hpp"
#include "reactor/certs.hpp"
#include "reactor/error.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::providers::aws {

inline constexpr std::string_view kEc2ApiVersion = "2016-11-15";
// Tags the provider puts on every instance it makes.
inline constexpr std::string_view kClusterTag = "skyd-cluster";
inline constexpr std::string_view kControllerTag = "skyd-controller";
inline constexpr std::string_view kNameTag = "Name";
// The tag (value kControllerVmRole) `sky controller up` puts on the instance skyd itself runs on:
// skyd's autostop is on by default only there.
inline constexpr std::string_view kRoleTag = "skyd-role";
inline constexpr std::string_view kControllerVmRole = "controller";

// An ordered list of form fields ("Action", "Version", "Filter.1.Name", ...).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded with RFC 3986 encoding (what the AWS SDKs send).
std::string form_encode(const QueryParams& params);
// The reverse: '+' is a space, %XX decoded. Order kept.
QueryParams form_decode(std::string_view body);
// The first value of `name`, if present.
std::optional<std::string> param(const QueryParams& params, std::string_view name);
// The values of a flattened list: Name.1, Name.2, ... in index order.
std::vector<std::string> param_list(const QueryParams& params, std::string_view prefix);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// The user data is providers/node_boot.hpp's script (shared with the other clouds).
using providers::parse_skylet_boot;
using providers::render_user_data;
using providers::SkyletBoot;

// The root disk's EBS volume for a `disk_tier`, as SkyPilot maps tiers on AWS: low is magnetic
// (`standard`), medium and high are gp3 with 3,500 / 7,000 IOPS and IOPS/16 MiB/s, ultra (and
// best) io2 with 20,000 IOPS.
struct EbsVolume {
  std::optional<int> size_gb;  // unset: the image's own size
  std::string volume_type;
  std::optional<int> iops;
  std::optional<int> throughput_mibps;  // gp3 only
};
EbsVolume ebs_volume_for(DiskTier tier);
// `disk_size` and `disk_tier` as the root device's volume (tier unset: medium, as SkyPilot), or
// a reason naming the field when EC2 would refuse them (a size the tier's IOPS cannot have).
Result<EbsVolume> root_volume_for(const NodeSettings& settings);
// A reason naming the label when `labels` cannot be tags on an instance
// (catalog::ec2_label_refusal, which the optimizer applies too).
Result<void> check_labels(const std::map<std::string, std::string>& labels);
// What EC2 nodes cannot do, refused by the field's name: a port range that is not one of TCP
// ports, an image id that is neither an AMI (`ami-…`) nor an SSM parameter (`resolve:ssm:…`) nor
// a container (`docker:…`, run on the configured AMI); and labels check_labels refuses.
Result<void> check_node_settings(const NodeSettings& settings);

struct BlockDeviceMapping {
  std::string device_name;  // the image's root device: /dev/xvda, /dev/sda1, ...
  EbsVolume volume;         // always DeleteOnTermination=true: the disk goes with the machine
};

struct RunInstancesInput {
  std::string image_id;
  std::string instance_type;
  int count = 1;  // MinCount = MaxCount: all or nothing
  // A zone name (us-east-1a) or a zone id (use1-az1, as SkyPilot's catalog names zones); an id
  // is sent as Placement.AvailabilityZoneId.
  std::string zone;
  bool spot = false;
  std::map<std::string, std::string> tags;
  std::string user_data;  // raw; base64-encoded into the request
  std::string client_token;
  std::vector<std::string> security_group_ids;  // empty: the VPC's default group
  std::optional<BlockDeviceMapping> root_disk;  // unset: the image's own root volume
  // An instance profile's name, or its ARN ("arn:aws:iam::..."): the nodes' role for their own
  // cloud calls (bucket mounts). Empty: none.
  std::string instance_profile;
  // network_tier: best: this many EFA interfaces, one per network card. The security groups then
  // belong to the interfaces (EC2 refuses instance-level groups beside interfaces).
  int efa_interfaces = 0;
};
QueryParams build_run_instances(const RunInstancesInput& input);
// A zone id (use1-az1, usw2-lax1-az1) rather than a zone name (us-east-1a).
bool is_zone_id(std::string_view zone);

// DescribeImages for one image: its root device name (what a BlockDeviceMapping must name).
QueryParams build_describe_images(const std::string& image_id);
struct Ec2Image {
  std::string image_id;
  std::string state;
  std::string root_device_name;
};
// The images of the answer (empty when none matched).
Result<std::vector<Ec2Image>> parse_describe_images(std::string_view xml);

struct Ec2Filter {
  std::string name;  // "tag:skyd-cluster", "instance-state-name", ...
  std::vector<std::string> values;
};
struct DescribeInstancesInput {
  std::vector<Ec2Filter> filters;
  std::vector<std::string> instance_ids;
  int max_results = 0;  // 0: the service default (must be 5..1000 and without instance ids)
  std::string next_token;
};
QueryParams build_describe_instances(const DescribeInstancesInput& input);
QueryParams build_terminate_instances(const std::vector<std::string>& instance_ids);
// StopInstances and StartInstances (an on-demand instance with an EBS root: a controller VM).
QueryParams build_stop_instances(const std::vector<std::string>& instance_ids);
QueryParams build_start_instances(const std::vector<std::string>& instance_ids);

// --- a cluster's own security group, for `ports` ---
// Its name is made from the cluster's, so a call whose answer was lost is resolved by looking the
// name up (as a ClientToken is for instances); its tags say whose it is, for the sweep.
std::string ports_group_name(const std::string& cluster_name);
QueryParams build_create_security_group(const std::string& name, const std::string& description,
                                        const std::map<std::string, std::string>& tags);
// TCP ingress for each range from `cidr` (default: anywhere).
QueryParams build_authorize_ingress(const std::string& group_id,
                                    const std::vector<PortRange>& ports,
                                    const std::string& cidr = "0.0.0.0/0");
QueryParams build_describe_security_groups(const std::vector<Ec2Filter>& filters);
QueryParams build_delete_security_group(const std::string& group_id);
struct Ec2SecurityGroup {
  std::string group_id;
  std::string group_name;
  std::map<std::string, std::string> tags;
};
Result<std::string> parse_create_security_group(std::string_view xml);  // the new group's id
Result<std::vector<Ec2SecurityGroup>> parse_describe_security_groups(std::string_view xml);

// --- a small XML reader for EC2's response shapes ---

// One element: its local name (any "prefix:" removed), its text, its child elements. Attributes
// are skipped. Limits: 16 MiB of input, 64 levels of nesting.
struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  const XmlNode* child(std::string_view child_name) const;
  // The text of the element at a slash-separated path below this one ("instanceState/name").
  std::string text_at(std::string_view path) const;
  const XmlNode* at(std::string_view path) const;
};
Result<XmlNode> parse_xml(std::string_view document);
// The document's root element, which must be `expected` (else kTransient: not EC2's answer).
Result<XmlNode> root_named(std::string_view xml, std::string_view expected);
std::string xml_escape(std::string_view text);

// --- parsed responses ---

enum class Ec2State { kPending, kRunning, kShuttingDown, kTerminated, kStopping, kStopped };
std::string_view to_string(Ec2State state);
std::optional<Ec2State> ec2_state_from_name(std::string_view name);
int ec2_state_code(Ec2State state);

struct Ec2Instance {
  std::string instance_id;
  std::string image_id;
  std::string instance_type;
  Ec2State state = Ec2State::kPending;
  std::string private_ip;
  std::string public_ip;
  std::string zone;
  std::string state_reason_code;
  std::string state_reason_message;
  std::string lifecycle;     // "spot" or empty
  std::string client_token;  // the RunInstances ClientToken that made it
  int launch_index = 0;      // its place in that call's answer (amiLaunchIndex)
  std::map<std::string, std::string> tags;

  std::string tag(std::string_view key) const;
};

struct Reservation {
  std::string reservation_id;
  std::vector<Ec2Instance> instances;
};

struct DescribeInstancesOutput {
  std::vector<Reservation> reservations;
  std::string next_token;
};

struct InstanceStateChange {
  std::string instance_id;
  Ec2State current = Ec2State::kShuttingDown;
  Ec2State previous = Ec2State::kRunning;
};

Result<Reservation> parse_run_instances(std::string_view xml);
Result<DescribeInstancesOutput> parse_describe_instances(std::string_view xml);
Result<std::vector<InstanceStateChange>> parse_terminate_instances(std::string_view xml);
// The answer of StopInstances or StartInstances (the same shape under their own root element).
Result<std::vector<InstanceStateChange>> parse_stop_instances(std::string_view xml);
Result<std::vector<InstanceStateChange>> parse_start_instances(std::string_view xml);

struct Ec2Error {
  int http_status = 0;
  std::string code;
  std::string message;
  std::string request_id;
};
// The error of a non-2xx response: the XML envelope's first error, or a synthetic
// "HttpStatus<N>" code when the body is not an envelope (a proxy's 502 page).
Ec2Error parse_error(int http_status, std::string_view body);

// The one place EC2 error codes become ProviderErrc.
ProviderErrc classify_error(int http_status, std::string_view code);
using providers::is_retryable;
// How a cloud API's error reads in an Error's detail (EC2's and S3's alike):
// "action: Code: message (HTTP n, request id)".
std::string api_error_detail(std::string_view action, std::string_view code,
                             std::string_view message, int http_status,
                             std::string_view request_id);
// The Error carrying classify_error's code and "Code: message (request id)".
Error to_error(const Ec2Error& error, std::string_view action);

// The provider's view of an instance: state, and whether the cloud took it back (spot).
InstanceStatus to_instance_status(const Ec2Instance& instance);

}  // namespace skyd::providers::aws
