#include "providers/skylet_health.hpp"

#include "providers/node_files.hpp"

#include <boost/asio/steady_timer.hpp>

namespace skyd::providers {

Node cloud_node(std::string instance_id, int rank, std::string ip, std::uint16_t port,
                const std::string& ca_pem, const std::string& tls_name) {
  Node node;
  node.instance_id = std::move(instance_id);
  node.rank = rank;
  node.ip = std::move(ip);
  node.skylet.transport = http::Endpoint::Transport::kTls;
  node.skylet.host = node.ip;
  node.skylet.port = port;
  node.skylet.pinned_ca_pem = ca_pem;
  node.skylet.tls_name = tls_name;
  node.workdir = std::string(kCloudWorkdir);
  return node;
}

Task<Result<void>> wait_skylets_healthy(http::Client& client, std::vector<http::Endpoint> skylets,
                                        std::string token, Clock::time_point deadline,
                                        Duration poll_interval) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (const auto& skylet : skylets) {
    for (;;) {
      http::Request health;
      health.target = "/health";
      health.headers.emplace_back("Authorization", "Bearer " + token);
      const http::RequestOptions limit{std::chrono::seconds(5)};
      auto response = co_await client.request(skylet, std::move(health), limit);
      if (!response && is_cancellation(response.error().code)) co_return response.error();
      if (response && response->status == 200) break;
      if (Clock::now() + poll_interval > deadline) {
        co_return make_error(ProviderErrc::kTransient,
                             "skylet at " + skylet.to_string() + " did not answer in time");
      }
      pause.expires_after(poll_interval);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }
  co_return Result<void>{};
}

std::vector<http::Endpoint> add_nodes(Cluster& cluster,
                                      const std::vector<RunningInstance>& instances,
                                      const std::string& tls_name, const SkyletReach& reach) {
  std::vector<http::Endpoint> skylets;
  int rank = static_cast<int>(cluster.nodes.size());
  for (const auto& instance : instances) {
    const bool public_ip = reach.use_public_ip && !instance.public_ip.empty();
    Node node =
        cloud_node(instance.id, rank++, public_ip ? instance.public_ip : instance.private_ip,
                   reach.port, reach.ca_pem, tls_name);
    if (cluster.zone.empty()) cluster.zone = instance.zone;
    skylets.push_back(node.skylet);
    cluster.nodes.push_back(std::move(node));
  }
  return skylets;
}

Task<Result<void>> bring_up_nodes(http::Client& client, Cluster& cluster,
                                  const std::vector<RunningInstance>& instances,
                                  const LaunchRequest& request, const std::string& tls_name,
                                  const SkyletReach& reach, Clock::time_point deadline) {
  std::vector<http::Endpoint> skylets = add_nodes(cluster, instances, tls_name, reach);
  auto healthy = co_await wait_skylets_healthy(client, std::move(skylets), request.skylet_token,
                                               deadline, reach.poll_interval);
  if (!healthy) co_return healthy.error();
  if (auto uploads = uploads_for(request); !uploads.empty()) {
    ShipOptions shipping;
    shipping.scratch_dir = reach.scratch_dir;
    auto shipped = co_await ship_files(client, cluster.nodes, request.skylet_token,
                                       std::move(uploads), shipping);
    if (!shipped) co_return shipped.error();
  }
  co_return Result<void>{};
}

}  // namespace skyd::providers
