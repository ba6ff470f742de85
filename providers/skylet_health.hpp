#pragma once
// Waiting for freshly booted cloud nodes: every skylet must answer `GET /health` (with the
// cluster's bearer token) before the cluster counts as up. Shared by the cloud providers.

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

// Asks each skylet in turn every `poll_interval` until it answers 200. kTransient (ProviderErrc)
// naming the first node still silent at `deadline`; cancellation as it comes.
Task<Result<void>> wait_skylets_healthy(http::Client& client, std::vector<http::Endpoint> skylets,
                                        std::string token, Clock::time_point deadline,
                                        Duration poll_interval);

}  // namespace skyd::providers
