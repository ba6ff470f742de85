#pragma once
// The script that boots skylet on a cloud node: EC2 runs it as user data, Compute Engine as the
// `startup-script` metadata value. It writes the cluster's token and TLS certificate to root-only
// files and starts skylet on `port`, watching the cloud's metadata service for preemption
// notices, and with the container runtime a task's image needs. fakecloud reads the same values
// back with parse_skylet_boot.

#include "reactor/certs.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skyd::providers {

// Which metadata service skylet watches for notices: EC2's IMDSv2 at 169.254.169.254 or Compute
// Engine's at metadata.google.internal (`Metadata-Flavor: Google`).
enum class MetadataService { kEc2, kGce };
std::string_view to_string(MetadataService service);  // "ec2", "gce": skylet's --metadata-flavor
std::optional<MetadataService> parse_metadata_service(std::string_view name);

struct SkyletBoot {
  std::string token;
  std::uint16_t port = 0;
  CertifiedKey certificate;   // skylet's server certificate; empty: plain HTTP
  std::string notice_signal;  // TERM, INT, HUP, USR1 or USR2 sent to tasks on a spot notice
  MetadataService metadata = MetadataService::kEc2;
  // The task runs in a container image (`image_id: docker:IMAGE`): the boot makes sure the node
  // has a container runtime and starts skylet with it (container_boot.hpp); with `gpus` (the node
  // has accelerators) the containers get them.
  bool container = false;
  bool gpus = false;
};
std::string render_user_data(const SkyletBoot& boot);
// The name a cluster's skylet certificate carries (and the controller verifies):
// "<cluster>.skylet.internal", or a hash of a name too long for a certificate's common name.
std::string skylet_tls_name(const std::string& cluster_name);
std::optional<SkyletBoot> parse_skylet_boot(std::string_view user_data);

}  // namespace skyd::providers
