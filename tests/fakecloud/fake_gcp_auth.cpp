#include "tests/fakecloud/fake_gcp_auth.hpp"

#include "providers/aws/ec2_api.hpp"
#include "reactor/log.hpp"

#include <chrono>
#include <sstream>

namespace skyd::fakecloud {
namespace gcp = providers::gcp;
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr std::string_view kScopePrefix = "https://www.googleapis.com/auth/";
// How far iat may lie in the future (clock skew) before a JWT is refused.
constexpr std::int64_t kAllowedSkewSeconds = 300;

Task<http::Response> ready(http::Response response) {
  co_return response;
}

std::string query_value(const http::Request& request, std::string_view name) {
  auto value = request.query_param(name);
  return value ? std::string(*value) : std::string();
}

// The host of "scheme://host[:port]/path" and its path; empty host when it is not such a URL.
std::pair<std::string, std::string> host_and_path(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (const auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']') == std::string_view::npos)
    authority = authority.substr(0, colon);
  return {std::string(authority), path};
}

std::string host_without_port(std::string_view host) {
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos)
    host = host.substr(0, colon);
  return std::string(host);
}

std::optional<std::int64_t> int_claim(const Json& claims, const char* name) {
  const Json* value = claims.find(name);
  if (!value) return std::nullopt;
  if (auto whole = value->as_int()) return whole;
  if (auto number = value->as_double()) return static_cast<std::int64_t>(*number);
  return std::nullopt;
}

std::string string_claim(const Json& json, const char* name) {
  const Json* value = json.find(name);
  return value && value->as_string() ? std::string(*value->as_string()) : std::string();
}

// "Authorization: Basic base64(urlencode(id):urlencode(secret))", as RFC 6749 2.3.1 has clients
// send their credentials; empty when the header is not that.
std::pair<std::string, std::string> basic_credentials(const http::Request& request) {
  const std::string* authorization = request.header("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!authorization || !authorization->starts_with(kBasic)) return {};
  auto decoded =
      providers::aws::base64_decode(std::string_view(*authorization).substr(kBasic.size()));
  if (!decoded) return {};
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return {};
  return {http::percent_decode(decoded->substr(0, colon)),
          http::percent_decode(decoded->substr(colon + 1))};
}

bool scopes_are_google_scopes(const std::string& scope) {
  std::istringstream words(scope);
  bool any = false;
  for (std::string word; words >> word;) {
    if (!word.starts_with(kScopePrefix)) return false;
    any = true;
  }
  return any;
}

}  // namespace

std::optional<std::string> bearer_account(const http::Request& request,
                                          const FakeGcpTokens& tokens) {
  const std::string* authorization = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer)) return std::nullopt;
  return tokens.account_of(std::string_view(*authorization).substr(kBearer.size()));
}

FakeGcpAuth::FakeGcpAuth(FakeGcpTokens& tokens, const FakeGcpAuthOptions& options)
    : tokens_(tokens),
      users_(options.authorized_users),
      project_id_(options.project_id),
      lifetime_(options.token_lifetime) {
  for (const auto& key : options.service_accounts) {
    auto rsa = gcp::RsaKey::from_private_pem(key.private_key);
    auto public_key = rsa ? gcp::RsaKey::from_public_pem(rsa->public_pem()) : rsa;
    if (!public_key) {
      logger("fakecloud")
          ->error("gcp service account left out email={} reason=\"{}\"", key.client_email,
                  public_key.error().detail);
      continue;
    }
    signers_.push_back(Signer{key, std::move(*public_key)});
    // Nothing else needs the private half: only the public key stays.
    signers_.back().key.private_key.clear();
  }
  if (project_id_.empty())
    project_id_ = signers_.empty() || signers_.front().key.project_id.empty()
                      ? "fakecloud-project"
                      : signers_.front().key.project_id;
}

void FakeGcpAuth::add_routes(http::Router& router) {
  router.add("POST", "/token", "Google OAuth 2.0 token endpoint",
             [this](http::Request& request) { return ready(token(request)); });
  router.add("GET", "/computeMetadata/v1/instance/service-accounts/default/token",
             "GCE metadata: the default service account's token",
             [this](http::Request& request) { return ready(metadata_token(request)); });
  router.add("GET", "/computeMetadata/v1/project/project-id", "GCE metadata: the project",
             [this](http::Request& request) { return ready(metadata_project_id(request)); });
  router.add("GET", "/_admin/gcp/token-info", "whom a Google access token was issued to",
             [this](http::Request& request) { return ready(token_info(request)); });
}

std::string FakeGcpAuth::metadata_account() const {
  return signers_.empty() ? project_id_ + "-compute@developer.gserviceaccount.com"
                          : signers_.front().key.client_email;
}

http::Response FakeGcpAuth::refuse(int status, std::string_view error,
                                   std::string_view description) {
  ++stats_.refused;
  logger("fakecloud")->info("gcp token refused error={} description=\"{}\"", error, description);
  Json body = Json::object();
  body.set("error", error);
  body.set("error_description", description);
  return http::Response::json(status, body);
}

http::Response FakeGcpAuth::grant(const std::string& account, bool with_scope) {
  ++stats_.granted;
  Json body = Json::object();
  body.set("access_token", tokens_.issue(account, lifetime_));
  body.set("expires_in", static_cast<long long>(
                             std::chrono::duration_cast<std::chrono::seconds>(lifetime_).count()));
  if (with_scope) body.set("scope", std::string(gcp::kCloudPlatformScope));
  body.set("token_type", "Bearer");
  return http::Response::json(200, body);
}

http::Response FakeGcpAuth::token(const http::Request& request) {
  // The form body, decoded the way a query string is.
  const auto form = http::split_target("/?" + request.body).second;
  auto field = [&](const char* name) {
    auto found = form.find(name);
    return found == form.end() ? std::string() : found->second;
  };
  const std::string grant_type = field("grant_type");
  if (grant_type.empty())
    return refuse(400, "invalid_request", "Missing required parameter: grant_type");
  if (grant_type == kJwtBearer) {
    const std::string assertion = field("assertion");
    if (assertion.empty())
      return refuse(400, "invalid_request", "Missing required parameter: assertion");
    return jwt_bearer(request, assertion);
  }
  if (grant_type == "refresh_token") {
    auto [client_id, client_secret] = basic_credentials(request);
    // The form's client wins; OAuth 2.0 clients send it there or in Basic auth (RFC 6749 2.3.1).
    if (!field("client_id").empty()) {
      client_id = field("client_id");
      client_secret = field("client_secret");
    }
    return refresh_grant(client_id, client_secret, field("refresh_token"));
  }
  return refuse(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type);
}

http::Response FakeGcpAuth::jwt_bearer(const http::Request& request, const std::string& assertion) {
  auto jwt = gcp::decode_jwt(assertion);
  if (!jwt) return refuse(400, "invalid_grant", "Invalid JWT: " + jwt.error().detail);
  const std::string issuer = string_claim(jwt->claims, "iss");
  const Signer* signer = nullptr;
  for (const Signer& candidate : signers_)
    if (candidate.key.client_email == issuer) signer = &candidate;
  if (!signer) return refuse(400, "invalid_grant", "Invalid grant: account not found");
  // A kid names one of the account's keys; fakecloud knows one per account.
  const std::string kid = string_claim(jwt->header, "kid");
  if ((!kid.empty() && kid != signer->key.private_key_id) ||
      !gcp::verify_jwt_signature(*jwt, signer->public_key))
    return refuse(400, "invalid_grant", "Invalid JWT Signature.");
  const auto [aud_host, aud_path] = host_and_path(string_claim(jwt->claims, "aud"));
  const std::string* host = request.header("Host");
  const bool google_audience = string_claim(jwt->claims, "aud") == gcp::kGoogleTokenUri;
  const bool this_endpoint =
      aud_path == "/token" && host && !aud_host.empty() && aud_host == host_without_port(*host);
  if (!google_audience && !this_endpoint)
    return refuse(400, "invalid_grant",
                  "Invalid JWT: Failed audience check. The right audience is " +
                      std::string(gcp::kGoogleTokenUri));
  const auto iat = int_claim(jwt->claims, "iat");
  const auto exp = int_claim(jwt->claims, "exp");
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  if (!iat || !exp || *exp <= *iat || *exp - *iat > 3600 || *iat > now + kAllowedSkewSeconds ||
      *exp <= now)
    return refuse(400, "invalid_grant",
                  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                  "timeframe. Check your iat and exp values in the JWT claim.");
  if (!scopes_are_google_scopes(string_claim(jwt->claims, "scope")))
    return refuse(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  return grant(issuer, false);
}

http::Response FakeGcpAuth::refresh_grant(const std::string& client_id,
                                          const std::string& client_secret,
                                          const std::string& refresh_token) {
  if (client_id.empty())
    return refuse(400, "invalid_request", "Missing required parameter: client_id");
  const gcp::AuthorizedUser* client = nullptr;
  for (const auto& user : users_)
    if (user.client_id == client_id) client = &user;
  if (!client) return refuse(401, "invalid_client", "The OAuth client was not found.");
  if (client->client_secret != client_secret) return refuse(401, "invalid_client", "Unauthorized");
  if (refresh_token.empty())
    return refuse(400, "invalid_request", "Missing required parameter: refresh_token");
  if (client->refresh_token != refresh_token)
    return refuse(400, "invalid_grant", "Token has been expired or revoked.");
  return grant("user:" + client_id, true);
}

http::Response FakeGcpAuth::metadata_token(const http::Request& request) {
  const std::string* flavor = request.header("Metadata-Flavor");
  // The real server also refuses anything that looks proxied.
  if (!flavor || *flavor != "Google" || request.header("X-Forwarded-For"))
    return http::Response::text(403, "Missing required header \"Metadata-Flavor\": \"Google\"\n");
  http::Response response = grant(metadata_account(), false);
  response.set_header("Metadata-Flavor", "Google");
  return response;
}

http::Response FakeGcpAuth::metadata_project_id(const http::Request& request) const {
  const std::string* flavor = request.header("Metadata-Flavor");
  if (!flavor || *flavor != "Google" || request.header("X-Forwarded-For"))
    return http::Response::text(403, "Missing required header \"Metadata-Flavor\": \"Google\"\n");
  http::Response response = http::Response::text(200, project_id_, "application/text");
  response.set_header("Metadata-Flavor", "Google");
  return response;
}

http::Response FakeGcpAuth::token_info(const http::Request& request) const {
  std::optional<std::string> account;
  if (const std::string token = query_value(request, "access_token"); !token.empty())
    account = tokens_.account_of(token);
  else
    account = bearer_account(request, tokens_);
  if (!account) {
    Json body = Json::object();
    body.set("error", "invalid_token");
    body.set("error_description", "Invalid Value");
    return http::Response::json(400, body);
  }
  Json body = Json::object();
  body.set("email", *account);
  return http::Response::json(200, body);
}

}  // namespace skyd::fakecloud
