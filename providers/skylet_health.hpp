#pragma once
// Bringing freshly booted cloud nodes into a cluster: every skylet must answer `GET /health` (with
// the cluster's bearer token), and the task's files must be on every node, before the cluster
// counts as up. Shared by the cloud providers, which differ only in how instances are made.

#include "providers/provider.hpp"
#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/http_client.hpp"

#include <string>
#include <vector>

namespace skyd::providers {

// A cloud node as the controller reaches it: skylet over TLS at `ip`:`port`, trusting only the
// cluster authority's `ca_pem` and requiring the certificate name `tls_name`; the task's working
// directory is kCloudWorkdir.
Node cloud_node(std::string instance_id, int rank, std::string ip, std::uint16_t port,
                const std::string& ca_pem, const std::string& tls_name);

// How the controller reaches the skylets of one provider's nodes.
struct SkyletReach {
  std::uint16_t port = 0;
  std::string ca_pem;          // the cluster authority's certificate: the only one trusted
  bool use_public_ip = false;  // the node's public address when it has one, else its private one
  std::string scratch_dir;     // where the task's files are packed before they are shipped
  Duration poll_interval{};    // between health checks
};

// A running instance as a provider describes it.
struct RunningInstance {
  std::string id;
  std::string zone;
  std::string public_ip;
  std::string private_ip;
};

// Adds a node per instance (ranks in the given order) to `cluster` and takes the cluster's zone
// from the first instance when it has none; the new nodes' skylets.
std::vector<http::Endpoint> add_nodes(Cluster& cluster,
                                      const std::vector<RunningInstance>& instances,
                                      const std::string& tls_name, const SkyletReach& reach);

// add_nodes, then waits until every skylet answers and ships the request's files. On an error
// the caller discards the instances; the cluster is then not up.
Task<Result<void>> bring_up_nodes(http::Client& client, Cluster& cluster,
                                  const std::vector<RunningInstance>& instances,
                                  const LaunchRequest& request, const std::string& tls_name,
                                  const SkyletReach& reach, Clock::time_point deadline);

// Asks each skylet in turn every `poll_interval` until it answers 200. kTransient (ProviderErrc)
// naming the first node still silent at `deadline`; cancellation as it comes.
Task<Result<void>> wait_skylets_healthy(http::Client& client, std::vector<http::Endpoint> skylets,
                                        std::string token, Clock::time_point deadline,
                                        Duration poll_interval);

}  // namespace skyd::providers
