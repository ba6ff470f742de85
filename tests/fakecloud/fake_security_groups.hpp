#pragma once
// fakecloud's security groups: CreateSecurityGroup (a name once per region:
// InvalidGroup.Duplicate), AuthorizeSecurityGroupIngress (InvalidPermission.Duplicate for a rule
// it has), DescribeSecurityGroups (filters group-name, group-id, tag:KEY, tag-key) and
// DeleteSecurityGroup (DependencyViolation while an instance that is not terminated uses it).
// Every region has its `default` group. State only; fake_cloud.cpp answers the calls.

#include "providers/aws/ec2_api.hpp"
#include "reactor/json.hpp"
#include "tests/fakecloud/fake_images.hpp"

#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace skyd::fakecloud {

struct IngressRule {
  std::string protocol;
  int from_port = 0;
  int to_port = 0;
  std::string cidr;

  friend bool operator==(const IngressRule&, const IngressRule&) = default;
};

struct SecurityGroup {
  std::string id;
  std::string name;
  std::string description;
  std::string region;
  std::map<std::string, std::string> tags;
  std::vector<IngressRule> ingress;
};

class SecurityGroups {
 public:
  // Each call returns the response body (HTTP 200) or the EC2 error to answer with.
  using Answer = std::variant<std::string, ApiError>;
  Answer create(const std::string& region, const std::string& request_id,
                const aws::QueryParams& params);
  Answer authorize(const std::string& region, const std::string& request_id,
                   const aws::QueryParams& params);
  Answer describe(const std::string& region, const std::string& request_id,
                  const aws::QueryParams& params);
  // `in_use` tells whether a live instance holds the group.
  Answer remove(const std::string& region, const std::string& request_id,
                const aws::QueryParams& params,
                const std::function<bool(const std::string& group_id)>& in_use);
  Json to_json() const;  // every group, for /_admin/security_groups
  void clear() { groups_.clear(); }

 private:
  void ensure_default(const std::string& region);
  std::map<std::string, SecurityGroup> groups_;  // by id
};

}  // namespace skyd::fakecloud
