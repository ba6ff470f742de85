#include "tests/fakecloud/fake_security_groups.hpp"

#include "tests/fakecloud/query_fields.hpp"

#include <random>
#include <set>

namespace skyd::fakecloud {
namespace {

constexpr std::string_view kXmlns = " xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"";
constexpr std::string_view kOwner = "123456789012";

std::string group_id() {
  return resource_id("sg-");
}

std::string head(std::string_view action, const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + std::string(action) + "Response" +
         std::string(kXmlns) + "><requestId>" + request_id + "</requestId>";
}

std::optional<int> port(const aws::QueryParams& params, const std::string& name) {
  auto text = aws::param(params, name);
  if (!text) return std::nullopt;
  try {
    return std::stoi(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

void SecurityGroups::ensure_default(const std::string& region) {
  for (const auto& [id, group] : groups_)
    if (group.region == region && group.name == "default") return;
  SecurityGroup group{group_id(), "default", "default VPC security group", region, {}, {}};
  groups_[group.id] = std::move(group);
}

SecurityGroups::Answer SecurityGroups::create(const std::string& region,
                                              const std::string& request_id,
                                              const aws::QueryParams& params) {
  ensure_default(region);
  const std::string name = aws::param(params, "GroupName").value_or("");
  const std::string description = aws::param(params, "GroupDescription").value_or("");
  if (name.empty() || description.empty()) {
    return ApiError{"MissingParameter",
                    "The request must contain the parameters GroupName and GroupDescription"};
  }
  for (const auto& [id, group] : groups_) {
    if (group.region == region && group.name == name) {
      return ApiError{"InvalidGroup.Duplicate",
                      "The security group '" + name + "' already exists for VPC 'vpc-0fake'"};
    }
  }
  SecurityGroup group{group_id(), name, description, region, {}, {}};
  group.tags = tag_specification(params, "security-group");
  const std::string id = group.id;
  groups_[id] = std::move(group);
  return head("CreateSecurityGroup", request_id) + "<return>true</return><groupId>" + id +
         "</groupId></CreateSecurityGroupResponse>";
}

SecurityGroups::Answer SecurityGroups::authorize(const std::string& region,
                                                 const std::string& request_id,
                                                 const aws::QueryParams& params) {
  const std::string id = aws::param(params, "GroupId").value_or("");
  auto found = groups_.find(id);
  if (found == groups_.end() || found->second.region != region)
    return ApiError{"InvalidGroup.NotFound", "The security group '" + id + "' does not exist"};
  std::vector<IngressRule> rules;
  for (int n = 1;; ++n) {
    const std::string prefix = "IpPermissions." + std::to_string(n);
    auto protocol = aws::param(params, prefix + ".IpProtocol");
    if (!protocol) break;
    auto from = port(params, prefix + ".FromPort");
    auto to = port(params, prefix + ".ToPort");
    if (*protocol != "tcp" && *protocol != "udp" && *protocol != "-1")
      return ApiError{"InvalidParameterValue", "Invalid value '" + *protocol + "' for IP protocol"};
    if (!from || !to || *from < 0 || *to > 65535 || *from > *to) {
      return ApiError{"InvalidParameterValue", "Invalid port range for " + prefix +
                                                   ": FromPort and ToPort are 0-65535, "
                                                   "FromPort not above ToPort"};
    }
    for (int r = 1;; ++r) {
      auto cidr = aws::param(params, prefix + ".IpRanges." + std::to_string(r) + ".CidrIp");
      if (!cidr) break;
      rules.push_back({*protocol, *from, *to, *cidr});
    }
  }
  if (rules.empty())
    return ApiError{"MissingParameter", "The request must contain the parameter IpPermissions"};
  for (const auto& rule : rules) {
    for (const auto& have : found->second.ingress) {
      if (have == rule) {
        return ApiError{"InvalidPermission.Duplicate",
                        "the specified rule \"peer: " + rule.cidr +
                            ", TCP, from port: " + std::to_string(rule.from_port) + ", to port: " +
                            std::to_string(rule.to_port) + ", ALLOW\" already exists"};
      }
    }
  }
  for (auto& rule : rules) found->second.ingress.push_back(std::move(rule));
  return head("AuthorizeSecurityGroupIngress", request_id) +
         "<return>true</return></AuthorizeSecurityGroupIngressResponse>";
}

SecurityGroups::Answer SecurityGroups::describe(const std::string& region,
                                                const std::string& request_id,
                                                const aws::QueryParams& params) {
  ensure_default(region);
  const std::vector<QueryFilter> filters = query_filters(params);
  for (const auto& filter : filters) {
    const std::string& name = filter.name;
    if (name != "group-name" && name != "group-id" && name != "tag-key" &&
        !name.starts_with("tag:"))
      return ApiError{"InvalidParameterValue", "The filter '" + name + "' is invalid"};
  }
  const auto ids = aws::param_list(params, "GroupId");
  std::string body = head("DescribeSecurityGroups", request_id) + "<securityGroupInfo>";
  for (const auto& [id, group] : groups_) {
    if (group.region != region) continue;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    bool matches = true;
    for (const auto& filter : filters) {
      if (filter.name == "group-name") {
        matches = matches && filter.values.contains(group.name);
      } else if (filter.name == "group-id") {
        matches = matches && filter.values.contains(id);
      } else if (filter.name == "tag-key") {
        bool any = false;
        for (const auto& [key, value] : group.tags) any = any || filter.values.contains(key);
        matches = matches && any;
      } else {
        const auto tag = group.tags.find(filter.name.substr(4));
        matches = matches && tag != group.tags.end() && filter.values.contains(tag->second);
      }
    }
    if (!matches) continue;
    body += "<item><ownerId>" + std::string(kOwner) + "</ownerId><groupId>" + id +
            "</groupId><groupName>" + aws::xml_escape(group.name) +
            "</groupName><groupDescription>" + aws::xml_escape(group.description) +
            "</groupDescription><vpcId>vpc-0fake</vpcId><ipPermissions>";
    for (const auto& rule : group.ingress) {
      body += "<item><ipProtocol>" + rule.protocol + "</ipProtocol><fromPort>" +
              std::to_string(rule.from_port) + "</fromPort><toPort>" +
              std::to_string(rule.to_port) + "</toPort><groups/><ipRanges><item><cidrIp>" +
              aws::xml_escape(rule.cidr) +
              "</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>";
    }
    body += "</ipPermissions><ipPermissionsEgress/><tagSet>";
    for (const auto& [key, value] : group.tags) {
      body += "<item><key>" + aws::xml_escape(key) + "</key><value>" + aws::xml_escape(value) +
              "</value></item>";
    }
    body += "</tagSet></item>";
  }
  return body + "</securityGroupInfo></DescribeSecurityGroupsResponse>";
}

SecurityGroups::Answer SecurityGroups::remove(
    const std::string& region, const std::string& request_id, const aws::QueryParams& params,
    const std::function<bool(const std::string& group_id)>& in_use) {
  const std::string id = aws::param(params, "GroupId").value_or("");
  auto found = groups_.find(id);
  if (found == groups_.end() || found->second.region != region)
    return ApiError{"InvalidGroup.NotFound", "The security group '" + id + "' does not exist"};
  if (found->second.name == "default")
    return ApiError{"CannotDelete", "the specified group: \"" + id +
                                        "\" name: \"default\" cannot be deleted by a user"};
  if (in_use(id)) {
    return ApiError{"DependencyViolation", "resource " + id + " has a dependent object"};
  }
  groups_.erase(found);
  return head("DeleteSecurityGroup", request_id) + "<return>true</return><groupId>" + id +
         "</groupId></DeleteSecurityGroupResponse>";
}

Json SecurityGroups::to_json() const {
  Json list = Json::array();
  for (const auto& [id, group] : groups_) {
    Json item = Json::object();
    item.set("group_id", id);
    item.set("group_name", group.name);
    item.set("region", group.region);
    Json tags = Json::object();
    for (const auto& [key, value] : group.tags) tags.set(key, value);
    item.set("tags", std::move(tags));
    Json ingress = Json::array();
    for (const auto& rule : group.ingress) {
      Json r = Json::object();
      r.set("protocol", rule.protocol);
      r.set("from_port", static_cast<long long>(rule.from_port));
      r.set("to_port", static_cast<long long>(rule.to_port));
      r.set("cidr", rule.cidr);
      ingress.push_back(std::move(r));
    }
    item.set("ingress", std::move(ingress));
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace skyd::fakecloud
