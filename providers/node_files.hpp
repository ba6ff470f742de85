#pragma once
// Ships a task's files to cloud nodes through skylet's upload API (daemon/skylet/uploads.hpp):
// the workdir snapshot and every local-path file_mount. A directory travels as a tar archive made
// once for all nodes, a single file as itself; each goes in chunks by offset, so a dropped
// connection resumes where it stopped, and is unpacked into place only when complete. An upload a
// node already unpacked is skipped, so re-shipping to an adopted cluster changes nothing.

#include "providers/provider.hpp"
#include "reactor/http_client.hpp"

#include <string>
#include <vector>

namespace skyd::providers {

struct NodeUpload {
  std::string name;         // unique on the node: "workdir", "mount-1", ...
  std::string source;       // a file or directory on the controller
  std::string destination;  // on the node: "~/sky_workdir", "/data" or "data" (under home)
};

// The node-side working directory of a task on a cloud node (skylet expands "~").
inline constexpr std::string_view kCloudWorkdir = "~/sky_workdir";

// What a launch asks to ship: its workdir snapshot and its local-path (copy) file_mounts.
std::vector<NodeUpload> uploads_for(const LaunchRequest& request);

struct ShipOptions {
  std::string scratch_dir;  // where directory archives are made (removed after shipping)
  std::size_t chunk_bytes = 4u << 20;
  Duration call_timeout = std::chrono::minutes(2);
  int attempts_per_node = 4;  // a failed transfer resumes from what the node has
};

// Returns the bytes sent over the wire (resumed transfers send only what was missing). Errors:
// kInvalid for a source that cannot be read or a destination the node refuses; kTransient when a
// node stays unreachable or keeps receiving a corrupt copy.
Task<Result<std::uint64_t>> ship_files(http::Client& client, std::vector<Node> nodes,
                                       std::string token, std::vector<NodeUpload> uploads,
                                       ShipOptions options);

}  // namespace skyd::providers
