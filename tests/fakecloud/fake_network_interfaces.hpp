#pragma once
// RunInstances' NetworkInterface.N, as EC2 checks them: interfaces and instance-level security
// groups exclude each other, EFA only on the types that take it and no more EFA interfaces than
// the type has, one interface per (network card, device index). Pure functions; fake_cloud.cpp
// keeps the instances.

#include "tests/fakecloud/fake_images.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::fakecloud {

struct NetworkInterface {
  std::string id;                  // eni-…
  int card = 0;                    // NetworkCardIndex
  int device = 0;                  // DeviceIndex
  std::string type = "interface";  // interface | efa
  std::vector<std::string> groups;
};

// The instance's interfaces: NetworkInterface.N when the request has them, else one plain
// interface in the instance-level groups. `max_efa_interfaces` is the type's (0: no EFA).
std::optional<ApiError> network_interfaces(const aws::QueryParams& params,
                                           const std::vector<std::string>& instance_groups,
                                           const std::string& instance_type, int max_efa_interfaces,
                                           std::vector<NetworkInterface>& out);

// <networkInterfaceSet> of an instance item in DescribeInstances.
void append_network_interfaces(std::string& xml, const std::vector<NetworkInterface>& interfaces);

}  // namespace skyd::fakecloud
