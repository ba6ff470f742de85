#include "daemon/skylet/gcs_token_relay.hpp"

#include "reactor/crypto.hpp"
#include "reactor/json.hpp"
#include "reactor/log.hpp"

#include <openssl/crypto.h>

namespace skyd::skylet {
namespace {

http::Response oauth_error(int status, std::string_view error, std::string_view description) {
  Json body = Json::object();
  body.set("error", error);
  body.set("error_description", description);
  return http::Response::json(status, body);
}

bool same_secret(const std::string& given, const std::string& secret) {
  return given.size() == secret.size() &&
         CRYPTO_memcmp(given.data(), secret.data(), secret.size()) == 0;
}

}  // namespace

Task<http::Response> relay_token(const http::Request& request, const std::string& secret,
                                 providers::gcp::AccessTokenSource& tokens) {
  // The form body decodes as a query string does.
  const auto form = http::split_target("?" + request.body).second;
  const auto grant = form.find("grant_type");
  const auto refresh = form.find("refresh_token");
  if (grant == form.end() || grant->second != "refresh_token")
    co_return oauth_error(400, "unsupported_grant_type", "only refresh_token is served here");
  if (refresh == form.end() || !same_secret(refresh->second, secret))
    co_return oauth_error(400, "invalid_grant", "the refresh token is not this relay's");
  auto token = co_await tokens.token();
  if (!token) {
    logger("skylet")->warn("gcs token relay failed error=\"{}\"", token.error().message());
    co_return oauth_error(503, "temporarily_unavailable", token.error().detail);
  }
  const auto left =
      std::chrono::duration_cast<std::chrono::seconds>(token->expires_at - Clock::now());
  Json body = Json::object();
  body.set("access_token", token->value);
  body.set("token_type", "Bearer");
  body.set("expires_in", static_cast<long long>(std::max<long long>(left.count(), 60)));
  co_return http::Response::json(200, body);
}

Result<std::unique_ptr<GcsTokenRelay>> GcsTokenRelay::start(asio::any_io_executor executor,
                                                            const std::string& metadata_url) {
  auto metadata = http::Endpoint::parse(metadata_url);
  if (!metadata) return metadata.error();
  std::unique_ptr<GcsTokenRelay> relay(new GcsTokenRelay());
  relay->client_ = std::make_unique<http::Client>(executor);
  relay->tokens_ =
      providers::gcp::GoogleCredentials::from_metadata_server(*relay->client_, *metadata);
  relay->secret_ = random_hex(32);
  http::Router router;
  GcsTokenRelay* self = relay.get();
  router.add("POST", "/token", "rclone's OAuth refresh grant, answered from the metadata server",
             [self](http::Request& request) {
               return relay_token(request, self->secret_, *self->tokens_);
             });
  relay->server_ = std::make_unique<http::Server>(std::vector<asio::any_io_executor>{executor},
                                                  std::move(router));
  if (auto listening = relay->server_->listen_tcp("127.0.0.1", 0); !listening)
    return listening.error();
  relay->server_->start();
  relay->url_ = "http://127.0.0.1:" + std::to_string(relay->server_->tcp_port()) + "/token";
  return relay;
}

GcsTokenRelay::~GcsTokenRelay() = default;

Task<void> GcsTokenRelay::stop() {
  co_await server_->drain(std::chrono::seconds(1));
}

}  // namespace skyd::skylet
