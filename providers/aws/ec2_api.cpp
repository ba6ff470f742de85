#include "providers/aws/ec2_api.hpp"

#include "providers/aws/aws_auth.hpp"
#include "providers/catalog/node_fields.hpp"
#include "reactor/http_types.hpp"
#include "reactor/signals.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

namespace skyd::providers::aws {

// --- form encoding ---

std::string form_encode(const QueryParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(key, false) + "=" + uri_encode(value, false);
  }
  return out;
}

QueryParams form_decode(std::string_view body) {
  QueryParams out;
  auto decode = [](std::string_view text) {
    std::string plus(text);
    std::replace(plus.begin(), plus.end(), '+', ' ');
    return http::percent_decode(plus);
  };
  for (const auto& [key, value] : split_pairs(body)) out.emplace_back(decode(key), decode(value));
  return out;
}

std::optional<std::string> param(const QueryParams& params, std::string_view name) {
  for (const auto& [key, value] : params)
    if (key == name) return value;
  return std::nullopt;
}

std::vector<std::string> param_list(const QueryParams& params, std::string_view prefix) {
  std::vector<std::pair<int, std::string>> indexed;
  const std::string head = std::string(prefix) + ".";
  for (const auto& [key, value] : params) {
    if (!key.starts_with(head)) continue;
    const std::string_view rest = std::string_view(key).substr(head.size());
    int index = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
    if (ec == std::errc() && end == rest.data() + rest.size()) indexed.emplace_back(index, value);
  }
  std::sort(indexed.begin(), indexed.end());
  std::vector<std::string> out;
  for (auto& [index, value] : indexed) out.push_back(std::move(value));
  return out;
}

// --- base64 ---

namespace {
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += kBase64[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += rest == 2 ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const auto value = kBase64.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

// --- requests ---

namespace {
QueryParams start(std::string_view action) {
  return {{"Action", std::string(action)}, {"Version", std::string(kEc2ApiVersion)}};
}
// As EC2 documents for EFA on multi-card types (and SkyPilot attaches them): the primary
// interface on card 0 as device 0, one more EFA interface on each further card as device 1.
void append_efa_interfaces(QueryParams& out, int count, const std::vector<std::string>& groups) {
  for (int card = 0; card < count; ++card) {
    const std::string prefix = "NetworkInterface." + std::to_string(card + 1) + ".";
    out.emplace_back(prefix + "DeviceIndex", card == 0 ? "0" : "1");
    out.emplace_back(prefix + "NetworkCardIndex", std::to_string(card));
    out.emplace_back(prefix + "InterfaceType", "efa");
    out.emplace_back(prefix + "DeleteOnTermination", "true");
    int group = 1;
    for (const auto& id : groups)
      out.emplace_back(prefix + "SecurityGroupId." + std::to_string(group++), id);
  }
}

}  // namespace

bool is_zone_id(std::string_view zone) {
  // A name is the region and a letter (us-east-1a, us-west-2-lax-1a); an id ends in `-az` and a
  // number (use1-az1, usw2-lax1-az1), the same zone in every account.
  const std::size_t at = zone.rfind("-az");
  if (at == std::string_view::npos || at + 3 == zone.size()) return false;
  return std::all_of(zone.begin() + static_cast<std::ptrdiff_t>(at + 3), zone.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

QueryParams build_run_instances(const RunInstancesInput& input) {
  QueryParams out = start("RunInstances");
  out.emplace_back("ImageId", input.image_id);
  out.emplace_back("InstanceType", input.instance_type);
  out.emplace_back("MinCount", std::to_string(input.count));
  out.emplace_back("MaxCount", std::to_string(input.count));
  if (!input.zone.empty()) {
    out.emplace_back(
        is_zone_id(input.zone) ? "Placement.AvailabilityZoneId" : "Placement.AvailabilityZone",
        input.zone);
  }
  if (!input.client_token.empty()) out.emplace_back("ClientToken", input.client_token);
  if (!input.user_data.empty()) out.emplace_back("UserData", base64_encode(input.user_data));
  if (!input.instance_profile.empty()) {
    const bool arn = input.instance_profile.starts_with("arn:");
    out.emplace_back(arn ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name",
                     input.instance_profile);
  }
  if (input.efa_interfaces > 0) {
    append_efa_interfaces(out, input.efa_interfaces, input.security_group_ids);
  } else {
    int group = 1;
    for (const auto& id : input.security_group_ids)
      out.emplace_back("SecurityGroupId." + std::to_string(group++), id);
  }
  if (input.spot) {
    out.emplace_back("InstanceMarketOptions.MarketType", "spot");
    out.emplace_back("InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time");
    out.emplace_back("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior", "terminate");
  }
  if (input.root_disk) {
    const EbsVolume& volume = input.root_disk->volume;
    out.emplace_back("BlockDeviceMapping.1.DeviceName", input.root_disk->device_name);
    if (volume.size_gb)
      out.emplace_back("BlockDeviceMapping.1.Ebs.VolumeSize", std::to_string(*volume.size_gb));
    out.emplace_back("BlockDeviceMapping.1.Ebs.VolumeType", volume.volume_type);
    if (volume.iops)
      out.emplace_back("BlockDeviceMapping.1.Ebs.Iops", std::to_string(*volume.iops));
    if (volume.throughput_mibps) {
      out.emplace_back("BlockDeviceMapping.1.Ebs.Throughput",
                       std::to_string(*volume.throughput_mibps));
    }
    out.emplace_back("BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
  }
  if (!input.tags.empty()) {
    out.emplace_back("TagSpecification.1.ResourceType", "instance");
    int n = 1;
    for (const auto& [key, value] : input.tags) {
      const std::string prefix = "TagSpecification.1.Tag." + std::to_string(n++);
      out.emplace_back(prefix + ".Key", key);
      out.emplace_back(prefix + ".Value", value);
    }
  }
  return out;
}

EbsVolume ebs_volume_for(DiskTier tier) {
  switch (tier) {
    case DiskTier::kLow:
      return {std::nullopt, "standard", std::nullopt, std::nullopt};
    case DiskTier::kMedium:
      return {std::nullopt, "gp3", 3500, 3500 / 16};
    case DiskTier::kHigh:
      return {std::nullopt, "gp3", 7000, 7000 / 16};
    case DiskTier::kUltra:
    case DiskTier::kBest:
      return {std::nullopt, "io2", 20000, std::nullopt};
  }
  return {};
}

Result<EbsVolume> root_volume_for(const NodeSettings& settings) {
  EbsVolume volume = ebs_volume_for(settings.disk_tier.value_or(DiskTier::kMedium));
  volume.size_gb = settings.disk_size_gb;
  // EC2's limits per volume type: size, and at most 500 provisioned IOPS per GiB.
  const int largest = volume.volume_type == "standard" ? 1024
                      : volume.volume_type == "io2"    ? 65536
                                                       : 16384;
  if (volume.size_gb && (*volume.size_gb < 1 || *volume.size_gb > largest)) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.disk_size: " + std::to_string(*volume.size_gb) +
                          " GB is outside what an EC2 " + volume.volume_type +
                          " volume can be (1 to " + std::to_string(largest) + " GB)");
  }
  if (volume.iops && volume.size_gb && *volume.iops > 500 * *volume.size_gb) {
    const int needed = (*volume.iops + 499) / 500;
    return make_error(ProviderErrc::kInvalid,
                      "resources.disk_tier: " +
                          std::string(to_string(settings.disk_tier.value_or(DiskTier::kMedium))) +
                          " is " + volume.volume_type + " at " + std::to_string(*volume.iops) +
                          " IOPS, which EC2 gives only to volumes of at least " +
                          std::to_string(needed) + " GB (disk_size is " +
                          std::to_string(*volume.size_gb) + ")");
  }
  return volume;
}

Result<void> check_labels(const std::map<std::string, std::string>& labels) {
  if (auto refused = catalog::ec2_label_refusal(labels))
    return make_error(ProviderErrc::kInvalid, *refused);
  return {};
}

Result<void> check_node_settings(const NodeSettings& settings) {
  for (const auto& range : settings.ports) {
    if (range.first < 1 || range.last > 65535 || range.first > range.last) {
      return make_error(ProviderErrc::kInvalid, "resources.ports: " + std::to_string(range.first) +
                                                    "-" + std::to_string(range.last) +
                                                    " is not a range of TCP ports");
    }
  }
  // A container image runs on the configured AMI (the boot installs a runtime if need be).
  const std::string image = machine_image(settings);
  if (!image.empty() && !image.starts_with("ami-") && !image.starts_with("resolve:ssm:")) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.image_id: `" + image +
                          "` is neither an AMI id (ami-…) nor an SSM parameter (resolve:ssm:…)");
  }
  if (settings.best_network && settings.efa_interfaces < 1) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.network_tier: best asks for EFA, and the catalog knows no EFA "
                      "interfaces for this instance type");
  }
  return check_labels(settings.labels);
}

namespace {
// Filter.N.Name and Filter.N.Value.M, as every Describe call takes them.
void append_filters(QueryParams& out, const std::vector<Ec2Filter>& filters) {
  int f = 1;
  for (const auto& filter : filters) {
    const std::string prefix = "Filter." + std::to_string(f++);
    out.emplace_back(prefix + ".Name", filter.name);
    int v = 1;
    for (const auto& value : filter.values)
      out.emplace_back(prefix + ".Value." + std::to_string(v++), value);
  }
}
}  // namespace

std::string ports_group_name(const std::string& cluster_name) {
  return "skyd-ports-" + cluster_name;
}

QueryParams build_create_security_group(const std::string& name, const std::string& description,
                                        const std::map<std::string, std::string>& tags) {
  QueryParams out = start("CreateSecurityGroup");
  out.emplace_back("GroupName", name);
  out.emplace_back("GroupDescription", description);
  out.emplace_back("TagSpecification.1.ResourceType", "security-group");
  int n = 1;
  for (const auto& [key, value] : tags) {
    const std::string prefix = "TagSpecification.1.Tag." + std::to_string(n++);
    out.emplace_back(prefix + ".Key", key);
    out.emplace_back(prefix + ".Value", value);
  }
  return out;
}

QueryParams build_authorize_ingress(const std::string& group_id,
                                    const std::vector<PortRange>& ports, const std::string& cidr) {
  QueryParams out = start("AuthorizeSecurityGroupIngress");
  out.emplace_back("GroupId", group_id);
  int n = 1;
  for (const auto& range : ports) {
    const std::string prefix = "IpPermissions." + std::to_string(n++);
    out.emplace_back(prefix + ".IpProtocol", "tcp");
    out.emplace_back(prefix + ".FromPort", std::to_string(range.first));
    out.emplace_back(prefix + ".ToPort", std::to_string(range.last));
    out.emplace_back(prefix + ".IpRanges.1.CidrIp", cidr);
  }
  return out;
}

QueryParams build_describe_security_groups(const std::vector<Ec2Filter>& filters) {
  QueryParams out = start("DescribeSecurityGroups");
  append_filters(out, filters);
  return out;
}

QueryParams build_delete_security_group(const std::string& group_id) {
  QueryParams out = start("DeleteSecurityGroup");
  out.emplace_back("GroupId", group_id);
  return out;
}

QueryParams build_describe_images(const std::string& image_id) {
  QueryParams out = start("DescribeImages");
  out.emplace_back("ImageId.1", image_id);
  return out;
}

QueryParams build_describe_instances(const DescribeInstancesInput& input) {
  QueryParams out = start("DescribeInstances");
  append_filters(out, input.filters);
  int i = 1;
  for (const auto& id : input.instance_ids)
    out.emplace_back("InstanceId." + std::to_string(i++), id);
  if (input.max_results > 0) out.emplace_back("MaxResults", std::to_string(input.max_results));
  if (!input.next_token.empty()) out.emplace_back("NextToken", input.next_token);
  return out;
}

namespace {

QueryParams build_instances_call(std::string_view action,
                                 const std::vector<std::string>& instance_ids) {
  QueryParams out = start(action);
  int i = 1;
  for (const auto& id : instance_ids) out.emplace_back("InstanceId." + std::to_string(i++), id);
  return out;
}

}  // namespace

QueryParams build_terminate_instances(const std::vector<std::string>& instance_ids) {
  return build_instances_call("TerminateInstances", instance_ids);
}

QueryParams build_stop_instances(const std::vector<std::string>& instance_ids) {
  return build_instances_call("StopInstances", instance_ids);
}

QueryParams build_start_instances(const std::vector<std::string>& instance_ids) {
  return build_instances_call("StartInstances", instance_ids);
}

// --- XML ---

const XmlNode* XmlNode::child(std::string_view child_name) const {
  for (const auto& node : children)
    if (node.name == child_name) return &node;
  return nullptr;
}

const XmlNode* XmlNode::at(std::string_view path) const {
  const XmlNode* node = this;
  while (node && !path.empty()) {
    const auto slash = path.find('/');
    node = node->child(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return node;
}

std::string XmlNode::text_at(std::string_view path) const {
  const XmlNode* node = at(path);
  return node ? node->text : std::string();
}

namespace {

constexpr std::size_t kMaxXmlBytes = 16u << 20;
constexpr int kMaxXmlDepth = 64;

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class XmlParser {
 public:
  explicit XmlParser(std::string_view text) : s_(text) {}

  Result<XmlNode> document() {
    if (s_.size() > kMaxXmlBytes) return fail("document larger than 16 MiB");
    if (!skip_misc()) return fail(error_);
    if (at_end() || s_[i_] != '<') return fail("no root element");
    XmlNode root;
    if (!element(root, 0)) return fail(error_);
    if (!skip_misc() || !at_end()) return fail(error_.empty() ? "content after the root" : error_);
    return root;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  bool starts(std::string_view what) const { return s_.substr(i_).starts_with(what); }
  Error fail(std::string why) const {
    return make_error(ProviderErrc::kTransient,
                      "malformed XML at byte " + std::to_string(i_) + ": " + why);
  }
  bool error(std::string why) {
    error_ = std::move(why);
    return false;
  }
  bool skip_until(std::string_view end) {
    const auto found = s_.find(end, i_);
    if (found == std::string_view::npos) return error("unterminated " + std::string(end));
    i_ = found + end.size();
    return true;
  }
  // White space, the declaration, comments and processing instructions around the root.
  bool skip_misc() {
    for (;;) {
      while (!at_end() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (starts("<?")) {
        if (!skip_until("?>")) return false;
      } else if (starts("<!--")) {
        if (!skip_until("-->")) return false;
      } else if (starts("<!")) {
        return error("DOCTYPE and entity declarations are not accepted");
      } else {
        return true;
      }
    }
  }
  // An element's local name (any "prefix:" removed), read in place; nullopt when empty.
  std::optional<std::string_view> name() {
    const auto begin = i_;
    while (!at_end() && !std::isspace(static_cast<unsigned char>(s_[i_])) && s_[i_] != '>' &&
           s_[i_] != '/' && s_[i_] != '=')
      ++i_;
    if (i_ == begin) {
      error("empty element name");
      return std::nullopt;
    }
    std::string_view full = s_.substr(begin, i_ - begin);
    if (const auto colon = full.find(':'); colon != std::string_view::npos)
      full.remove_prefix(colon + 1);
    return full;
  }
  bool entity(std::string& out) {
    const auto end = s_.find(';', i_);
    if (end == std::string_view::npos || end - i_ > 12) return error("bad entity");
    const std::string_view body = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    if (body == "lt")
      out += '<';
    else if (body == "gt")
      out += '>';
    else if (body == "amp")
      out += '&';
    else if (body == "quot")
      out += '"';
    else if (body == "apos")
      out += '\'';
    else if (body.starts_with('#')) {
      const bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
      const std::string_view digits = body.substr(hex ? 2 : 1);
      unsigned long cp = 0;
      const auto [ptr, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec != std::errc() || ptr != digits.data() + digits.size() || cp > 0x10FFFF || cp == 0)
        return error("bad character reference");
      append_utf8(out, cp);
    } else {
      return error("unknown entity &" + std::string(body) + ";");
    }
    return true;
  }
  bool element(XmlNode& node, int depth) {
    if (depth > kMaxXmlDepth) return error("nesting deeper than 64");
    ++i_;  // '<'
    const auto start_name = name();
    if (!start_name) return false;
    node.name = *start_name;
    // Attributes are skipped (values may hold '>' inside quotes).
    for (;;) {
      if (at_end()) return error("unterminated start tag");
      const char c = s_[i_];
      if (c == '"' || c == '\'') {
        const auto close = s_.find(c, i_ + 1);
        if (close == std::string_view::npos) return error("unterminated attribute");
        i_ = close + 1;
      } else if (c == '/' && starts("/>")) {
        i_ += 2;
        return true;
      } else if (c == '>') {
        ++i_;
        break;
      } else {
        ++i_;
      }
    }
    for (;;) {
      if (at_end()) return error("unterminated element <" + node.name + ">");
      const char c = s_[i_];
      if (c == '&') {
        if (!entity(node.text)) return false;
      } else if (c != '<') {
        // The run of text up to the next markup or entity, in one append.
        const auto run_end = std::min(s_.find_first_of("<&", i_), s_.size());
        node.text.append(s_.substr(i_, run_end - i_));
        i_ = run_end;
      } else if (starts("</")) {
        i_ += 2;
        const auto end_name = name();
        if (!end_name) return false;
        while (!at_end() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
        if (at_end() || s_[i_] != '>') return error("bad end tag");
        ++i_;
        if (*end_name != node.name)
          return error("</" + std::string(*end_name) + "> closes <" + node.name + ">");
        if (!node.children.empty()) {  // mixed content: keep the text only when it is not layout
          const bool blank = std::all_of(node.text.begin(), node.text.end(), [](char ch) {
            return std::isspace(static_cast<unsigned char>(ch));
          });
          if (blank) node.text.clear();
        }
        return true;
      } else if (starts("<!--")) {
        if (!skip_until("-->")) return false;
      } else if (starts("<![CDATA[")) {
        const auto begin = i_ + 9;
        const auto end = s_.find("]]>", begin);
        if (end == std::string_view::npos) return error("unterminated CDATA");
        node.text.append(s_.substr(begin, end - begin));
        i_ = end + 3;
      } else if (starts("<?")) {
        if (!skip_until("?>")) return false;
      } else if (starts("<!")) {
        return error("declarations are not accepted inside elements");
      } else {
        node.children.emplace_back();
        if (!element(node.children.back(), depth + 1)) return false;
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace

Result<XmlNode> parse_xml(std::string_view document) {
  return XmlParser(document).document();
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// --- states ---

std::string_view to_string(Ec2State state) {
  switch (state) {
    case Ec2State::kPending:
      return "pending";
    case Ec2State::kRunning:
      return "running";
    case Ec2State::kShuttingDown:
      return "shutting-down";
    case Ec2State::kTerminated:
      return "terminated";
    case Ec2State::kStopping:
      return "stopping";
    case Ec2State::kStopped:
      return "stopped";
  }
  return "unknown";
}

int ec2_state_code(Ec2State state) {
  switch (state) {
    case Ec2State::kPending:
      return 0;
    case Ec2State::kRunning:
      return 16;
    case Ec2State::kShuttingDown:
      return 32;
    case Ec2State::kTerminated:
      return 48;
    case Ec2State::kStopping:
      return 64;
    case Ec2State::kStopped:
      return 80;
  }
  return 0;
}

std::optional<Ec2State> ec2_state_from_name(std::string_view name) {
  for (Ec2State state : {Ec2State::kPending, Ec2State::kRunning, Ec2State::kShuttingDown,
                         Ec2State::kTerminated, Ec2State::kStopping, Ec2State::kStopped})
    if (to_string(state) == name) return state;
  return std::nullopt;
}

std::string Ec2Instance::tag(std::string_view key) const {
  const auto it = tags.find(std::string(key));
  return it == tags.end() ? std::string() : it->second;
}

// --- responses ---

namespace {

// An item's <tagSet>.
std::map<std::string, std::string> tags_of(const XmlNode& item) {
  std::map<std::string, std::string> tags;
  if (const XmlNode* set = item.child("tagSet")) {
    for (const auto& tag : set->children)
      if (tag.name == "item") tags[tag.text_at("key")] = tag.text_at("value");
  }
  return tags;
}

Result<Ec2Instance> instance_from(const XmlNode& item) {
  Ec2Instance out;
  out.instance_id = item.text_at("instanceId");
  if (out.instance_id.empty())
    return make_error(ProviderErrc::kTransient, "an instance item without instanceId");
  out.image_id = item.text_at("imageId");
  out.instance_type = item.text_at("instanceType");
  const std::string state = item.text_at("instanceState/name");
  auto parsed = ec2_state_from_name(state);
  if (!parsed) {
    return make_error(ProviderErrc::kTransient,
                      "instance " + out.instance_id + " has unknown state '" + state + "'");
  }
  out.state = *parsed;
  out.private_ip = item.text_at("privateIpAddress");
  out.public_ip = item.text_at("ipAddress");
  out.zone = item.text_at("placement/availabilityZone");
  out.state_reason_code = item.text_at("stateReason/code");
  out.state_reason_message = item.text_at("stateReason/message");
  out.lifecycle = item.text_at("instanceLifecycle");
  out.client_token = item.text_at("clientToken");
  out.launch_index = std::atoi(item.text_at("amiLaunchIndex").c_str());
  out.tags = tags_of(item);
  return out;
}

// Converts every <item> of `parent`'s child `set` (an absent set is empty), stopping at the
// first item that does not convert.
template <typename T, typename Convert>
Result<void> collect_items(const XmlNode& parent, std::string_view set, Convert convert,
                           std::vector<T>& out) {
  const XmlNode* list = parent.child(set);
  if (!list) return {};
  for (const auto& item : list->children) {
    if (item.name != "item") continue;
    Result<T> converted = convert(item);
    if (!converted) return converted.error();
    out.push_back(std::move(*converted));
  }
  return {};
}

Result<Reservation> reservation_from(const XmlNode& node) {
  Reservation out;
  out.reservation_id = node.text_at("reservationId");
  if (auto ok = collect_items(node, "instancesSet", instance_from, out.instances); !ok)
    return ok.error();
  return out;
}

}  // namespace

Result<XmlNode> root_named(std::string_view xml, std::string_view expected) {
  auto root = parse_xml(xml);
  if (!root) return root.error();
  if (root->name != expected) {
    return make_error(ProviderErrc::kTransient,
                      "expected <" + std::string(expected) + ">, got <" + root->name + ">");
  }
  return root;
}

Result<Reservation> parse_run_instances(std::string_view xml) {
  auto root = root_named(xml, "RunInstancesResponse");
  if (!root) return root.error();
  return reservation_from(*root);
}

Result<DescribeInstancesOutput> parse_describe_instances(std::string_view xml) {
  auto root = root_named(xml, "DescribeInstancesResponse");
  if (!root) return root.error();
  DescribeInstancesOutput out;
  out.next_token = root->text_at("nextToken");
  if (auto ok = collect_items(*root, "reservationSet", reservation_from, out.reservations); !ok)
    return ok.error();
  return out;
}

Result<std::string> parse_create_security_group(std::string_view xml) {
  auto root = root_named(xml, "CreateSecurityGroupResponse");
  if (!root) return root.error();
  std::string id = root->text_at("groupId");
  if (id.empty())
    return make_error(ProviderErrc::kTransient, "CreateSecurityGroup without groupId");
  return id;
}

Result<std::vector<Ec2SecurityGroup>> parse_describe_security_groups(std::string_view xml) {
  auto root = root_named(xml, "DescribeSecurityGroupsResponse");
  if (!root) return root.error();
  std::vector<Ec2SecurityGroup> out;
  auto group_from = [](const XmlNode& item) -> Result<Ec2SecurityGroup> {
    return Ec2SecurityGroup{item.text_at("groupId"), item.text_at("groupName"), tags_of(item)};
  };
  if (auto ok = collect_items(*root, "securityGroupInfo", group_from, out); !ok) return ok.error();
  return out;
}

Result<std::vector<Ec2Image>> parse_describe_images(std::string_view xml) {
  auto root = root_named(xml, "DescribeImagesResponse");
  if (!root) return root.error();
  std::vector<Ec2Image> out;
  auto image_from = [](const XmlNode& item) -> Result<Ec2Image> {
    return Ec2Image{item.text_at("imageId"), item.text_at("imageState"),
                    item.text_at("rootDeviceName")};
  };
  if (auto ok = collect_items(*root, "imagesSet", image_from, out); !ok) return ok.error();
  return out;
}

namespace {

Result<std::vector<InstanceStateChange>> parse_state_changes(std::string_view xml,
                                                             std::string_view root_name) {
  auto root = root_named(xml, root_name);
  if (!root) return root.error();
  std::vector<InstanceStateChange> out;
  if (const XmlNode* set = root->child("instancesSet")) {
    for (const auto& item : set->children) {
      if (item.name != "item") continue;
      InstanceStateChange change;
      change.instance_id = item.text_at("instanceId");
      change.current =
          ec2_state_from_name(item.text_at("currentState/name")).value_or(Ec2State::kShuttingDown);
      change.previous =
          ec2_state_from_name(item.text_at("previousState/name")).value_or(Ec2State::kRunning);
      out.push_back(std::move(change));
    }
  }
  return out;
}

}  // namespace

Result<std::vector<InstanceStateChange>> parse_terminate_instances(std::string_view xml) {
  return parse_state_changes(xml, "TerminateInstancesResponse");
}

Result<std::vector<InstanceStateChange>> parse_stop_instances(std::string_view xml) {
  return parse_state_changes(xml, "StopInstancesResponse");
}

Result<std::vector<InstanceStateChange>> parse_start_instances(std::string_view xml) {
  return parse_state_changes(xml, "StartInstancesResponse");
}

Ec2Error parse_error(int http_status, std::string_view body) {
  Ec2Error out;
  out.http_status = http_status;
  if (auto root = parse_xml(body); root && root->name == "Response") {
    out.code = root->text_at("Errors/Error/Code");
    out.message = root->text_at("Errors/Error/Message");
    out.request_id = root->text_at("RequestID");
    if (out.request_id.empty()) out.request_id = root->text_at("RequestId");
  }
  if (out.code.empty()) {
    out.code = "HttpStatus" + std::to_string(http_status);
    out.message = std::string(body.substr(0, 200));
  }
  return out;
}

ProviderErrc classify_error(int http_status, std::string_view code) {
  static const std::set<std::string_view> kCapacity = {"InsufficientInstanceCapacity",
                                                       "InsufficientHostCapacity",
                                                       "InsufficientReservedInstanceCapacity",
                                                       "Unsupported",
                                                       "SpotMaxPriceTooLow",
                                                       "UnfulfillableCapacity",
                                                       "InsufficientCapacity"};
  static const std::set<std::string_view> kQuotaCodes = {
      "MaxSpotInstanceCountExceeded", "VcpuLimitExceeded", "InstanceLimitExceeded"};
  static const std::set<std::string_view> kThrottle = {"RequestLimitExceeded", "Throttling",
                                                       "ThrottlingException"};
  static const std::set<std::string_view> kAuthCodes = {
      "AuthFailure",          "UnauthorizedOperation",
      "InvalidClientTokenId", "SignatureDoesNotMatch",
      "IncompleteSignature",  "MissingAuthenticationToken",
      "OptInRequired",        "Blocked",
      "ExpiredToken"};
  static const std::set<std::string_view> kTransientCodes = {
      "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestExpired"};
  if (kCapacity.contains(code)) return ProviderErrc::kNoCapacity;
  if (kQuotaCodes.contains(code)) return ProviderErrc::kQuota;
  if (kThrottle.contains(code) || http_status == 429) return ProviderErrc::kThrottled;
  if (kAuthCodes.contains(code)) return ProviderErrc::kAuth;
  if (code.ends_with(".NotFound")) return ProviderErrc::kNotFound;
  if (kTransientCodes.contains(code) || http_status >= 500) return ProviderErrc::kTransient;
  if (code.starts_with("Invalid") || code.starts_with("Missing") || code.starts_with("Unknown") ||
      code == "IdempotentParameterMismatch" || code == "ValidationError")
    return ProviderErrc::kInvalid;
  return http_status >= 400 ? ProviderErrc::kInvalid : ProviderErrc::kTransient;
}

std::string api_error_detail(std::string_view action, std::string_view code,
                             std::string_view message, int http_status,
                             std::string_view request_id) {
  std::string detail = std::string(action) + ": " + std::string(code);
  if (!message.empty()) detail += ": " + std::string(message);
  detail += " (HTTP " + std::to_string(http_status);
  if (!request_id.empty()) detail += ", request " + std::string(request_id);
  return detail + ")";
}

Error to_error(const Ec2Error& error, std::string_view action) {
  return make_error(
      classify_error(error.http_status, error.code),
      api_error_detail(action, error.code, error.message, error.http_status, error.request_id));
}

InstanceStatus to_instance_status(const Ec2Instance& instance) {
  InstanceStatus out;
  out.instance_id = instance.instance_id;
  out.cluster_name = instance.tag(kClusterTag);
  switch (instance.state) {
    case Ec2State::kPending:
      out.state = InstanceState::kPending;
      break;
    case Ec2State::kRunning:
      out.state = InstanceState::kRunning;
      break;
    case Ec2State::kShuttingDown:
    case Ec2State::kStopping:
      out.state = InstanceState::kShuttingDown;
      break;
    case Ec2State::kTerminated:
    case Ec2State::kStopped:
      out.state = InstanceState::kTerminated;
      break;
  }
  const bool going =
      out.state == InstanceState::kShuttingDown || out.state == InstanceState::kTerminated;
  out.preempted = going && (instance.state_reason_code == "Server.SpotInstanceTermination" ||
                            instance.state_reason_code == "Server.SpotInstanceShutdown");
  out.reason = instance.state_reason_code;
  if (!instance.state_reason_message.empty()) out.reason += ": " + instance.state_reason_message;
  return out;
}

}  // namespace skyd::providers::aws
