#include "providers/skylet_health.hpp"

#include "providers/provider.hpp"

#include <boost/asio/steady_timer.hpp>

namespace skyd::providers {

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

}  // namespace skyd::providers
