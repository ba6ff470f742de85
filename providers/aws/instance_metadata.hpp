#pragma once
// What an EC2 instance learns about itself from its instance metadata service (IMDSv2): its id,
// region and zone. skyd's autostop asks, to stop its own instance. The service's address follows
// the AWS SDKs: AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254, and none when
// AWS_EC2_METADATA_DISABLED is true.

#include "providers/aws/aws_auth.hpp"
#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/http_types.hpp"

#include <optional>
#include <string>

namespace skyd::http {
class Client;
}

namespace skyd::providers::aws {

// The metadata service's URL, or nothing when it is disabled.
std::optional<std::string> metadata_service_url(const EnvLookup& env);

struct InstanceIdentity {
  std::string instance_id;
  std::string region;
  std::string zone;
};

// PUT /latest/api/token, then instance-id, placement/region and placement/availability-zone.
// Errors: NetErrc codes when nothing answers in `timeout` (not on EC2), kInvalid when the service
// answers without an identity.
Task<Result<InstanceIdentity>> instance_identity(http::Client& client, http::Endpoint metadata,
                                                 Duration timeout);

}  // namespace skyd::providers::aws
