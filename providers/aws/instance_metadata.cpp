#include "providers/aws/instance_metadata.hpp"

#include "providers/provider.hpp"
#include "reactor/http_client.hpp"

#include <algorithm>
#include <cctype>

namespace skyd::providers::aws {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

Task<Result<std::string>> metadata_value(http::Client& client, http::Endpoint metadata,
                                         std::string token, std::string path, Duration timeout) {
  http::Request request;
  request.target = "/latest/meta-data/" + path;
  request.headers.emplace_back("X-aws-ec2-metadata-token", token);
  auto answer = co_await client.request(metadata, std::move(request), {timeout});
  if (!answer) co_return answer.error();
  if (answer->status != 200 || trimmed(answer->body).empty()) {
    co_return make_error(ProviderErrc::kInvalid,
                         "instance metadata " + path + ": HTTP " + std::to_string(answer->status));
  }
  co_return trimmed(answer->body);
}

}  // namespace

std::optional<std::string> metadata_service_url(const EnvLookup& env) {
  if (lower(env("AWS_EC2_METADATA_DISABLED").value_or("")) == "true") return std::nullopt;
  return env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
}

Task<Result<InstanceIdentity>> instance_identity(http::Client& client, http::Endpoint metadata,
                                                 Duration timeout) {
  http::Request token_request;
  token_request.method = "PUT";
  token_request.target = "/latest/api/token";
  token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "300");
  auto token = co_await client.request(metadata, std::move(token_request), {timeout});
  if (!token) co_return token.error();
  if (token->status != 200) {
    co_return make_error(
        ProviderErrc::kInvalid,
        "instance metadata refused a session token (HTTP " + std::to_string(token->status) + ")");
  }
  InstanceIdentity identity;
  auto id = co_await metadata_value(client, metadata, token->body, "instance-id", timeout);
  if (!id) co_return id.error();
  identity.instance_id = std::move(*id);
  auto region = co_await metadata_value(client, metadata, token->body, "placement/region", timeout);
  if (!region) co_return region.error();
  identity.region = std::move(*region);
  auto zone = co_await metadata_value(client, metadata, token->body, "placement/availability-zone",
                                      timeout);
  if (!zone) co_return zone.error();
  identity.zone = std::move(*zone);
  co_return identity;
}

}  // namespace skyd::providers::aws
