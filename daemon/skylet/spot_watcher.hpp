#pragma once
// Watches the instance metadata service for notices that the machine is going, and hands each new
// one to the agent at once. EC2 (IMDSv2: a session token from PUT /latest/api/token, then
// /latest/meta-data/spot/instance-action, where 404 means no notice, and the rebalance
// recommendation) is polled. Compute Engine's values are long-polled with wait_for_change:
// instance/preempted turns TRUE 30 seconds before a spot VM goes, and instance/maintenance-event
// says TERMINATE_ON_HOST_MAINTENANCE before a VM that cannot migrate (GPUs) is stopped.

#include "reactor/coro.hpp"
#include "reactor/json.hpp"

#include <functional>
#include <string>

namespace skyd::skylet {

struct SpotWatchOptions {
  enum class Flavor { kEc2, kGce };  // skylet's --metadata-flavor ec2|gce
  std::string metadata_url = "http://169.254.169.254";
  Duration interval = std::chrono::seconds(5);  // EC2's polls; GCE's retries after a failure
  Flavor flavor = Flavor::kEc2;
};

// Watches until cancelled; `on_event` receives {"kind":"spot_notice"|"rebalance"|"maintenance",
// "source":"instance-metadata","detail":...}. A GCE notice's detail carries `grace_ms`.
Task<void> watch_spot_notices(SpotWatchOptions options, std::function<void(Json)> on_event);

}  // namespace skyd::skylet
