#pragma once
// Lists in the Query API's flattened form as fakecloud's handlers read them: the
// Filter.N.Name / Filter.N.Value.M of a Describe call (each handler checks the names it knows)
// and the tags TagSpecification.N gives one resource type.

#include "providers/aws/ec2_api.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace skyd::fakecloud {

struct QueryFilter {
  std::string name;
  std::set<std::string> values;
  std::size_t value_count = 0;  // as sent, before duplicates fold
};

inline std::vector<QueryFilter> query_filters(const providers::aws::QueryParams& params) {
  std::vector<QueryFilter> filters;
  for (int n = 1;; ++n) {
    const std::string prefix = "Filter." + std::to_string(n);
    auto name = providers::aws::param(params, prefix + ".Name");
    if (!name) break;
    const auto values = providers::aws::param_list(params, prefix + ".Value");
    filters.push_back({*name, {values.begin(), values.end()}, values.size()});
  }
  return filters;
}

// The tags of the TagSpecification.N whose ResourceType is `resource_type` ("instance", ...).
inline std::map<std::string, std::string> tag_specification(
    const providers::aws::QueryParams& params, const std::string& resource_type) {
  using providers::aws::param;
  std::map<std::string, std::string> tags;
  for (int spec = 1;; ++spec) {
    const std::string prefix = "TagSpecification." + std::to_string(spec);
    auto resource = param(params, prefix + ".ResourceType");
    if (!resource) break;
    if (*resource != resource_type) continue;
    for (int n = 1;; ++n) {
      const std::string tag = prefix + ".Tag." + std::to_string(n);
      auto key = param(params, tag + ".Key");
      if (!key) break;
      tags[*key] = param(params, tag + ".Value").value_or("");
    }
  }
  return tags;
}

}  // namespace skyd::fakecloud
