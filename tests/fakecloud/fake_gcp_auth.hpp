#pragma once
// fakecloud's Google OAuth 2.0 side, on its main port:
//   POST /token   Google's token endpoint. grant_type jwt-bearer: the assertion's RS256
//                 signature is verified with the public half of a configured service account's
//                 key, and iss, aud, iat, exp and scope are checked; grant_type refresh_token: a
//                 configured authorized user's client (in the form, or in Basic auth) and
//                 refresh token. Answers
//                 {"access_token","expires_in":3599,"token_type":"Bearer"} or Google's
//                 {"error","error_description"} (400; 401 for an unknown client).
//   GET /computeMetadata/v1/instance/service-accounts/default/token and
//   GET /computeMetadata/v1/project/project-id
//                 the metadata server's token and project (Metadata-Flavor: Google, else 403).
//   GET /_admin/gcp/token-info
//                 whom a token (Authorization: Bearer, or ?access_token=) was issued to.
// Tokens come from and are checked against the shared FakeGcpTokens (Compute calls use it too).
// Runs on fakecloud's shard; the handlers keep no state of their own besides counters.

#include "providers/gcp/gcp_auth.hpp"
#include "reactor/http_server.hpp"
#include "tests/fakecloud/fake_gcp_tokens.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skyd::fakecloud {

struct FakeGcpAuthOptions {
  // Accepted JWT signers (only the email, project and the public half of the key are used; the
  // file's token_uri is not: see token()).
  std::vector<providers::gcp::ServiceAccountKey> service_accounts;
  // Accepted refresh_token grants (client_id, client_secret, refresh_token).
  std::vector<providers::gcp::AuthorizedUser> authorized_users;
  // The metadata server's project; empty: the first service account's project_id, else
  // "fakecloud-project".
  std::string project_id;
  Duration token_lifetime = std::chrono::seconds(3599);
};

// The account behind a request's "Authorization: Bearer <token>"; nullopt when the header is
// missing, not Bearer, or the token is unknown or expired.
std::optional<std::string> bearer_account(const http::Request& request,
                                          const FakeGcpTokens& tokens);

class FakeGcpAuth {
 public:
  // Service accounts whose private key does not parse are left out (and logged).
  FakeGcpAuth(FakeGcpTokens& tokens, const FakeGcpAuthOptions& options);

  void add_routes(http::Router& router);

  // POST /token. The assertion's aud must name this endpoint: Google's own URL
  // (https://oauth2.googleapis.com/token, what Google's libraries always put there) or an
  // http(s) URL with path /token on the host the request came to (a key file whose token_uri
  // points at fakecloud).
  http::Response token(const http::Request& request);
  http::Response metadata_token(const http::Request& request);
  http::Response metadata_project_id(const http::Request& request) const;
  http::Response token_info(const http::Request& request) const;

  // The default service account the metadata server speaks for.
  std::string metadata_account() const;

  struct Stats {
    std::int64_t granted = 0;
    std::int64_t refused = 0;
  };
  Stats stats() const { return stats_; }

 private:
  struct Signer {
    providers::gcp::ServiceAccountKey key;
    providers::gcp::RsaKey public_key;
  };
  http::Response jwt_bearer(const http::Request& request, const std::string& assertion);
  http::Response refresh_grant(const std::string& client_id, const std::string& client_secret,
                               const std::string& refresh_token);
  http::Response refuse(int status, std::string_view error, std::string_view description);
  http::Response grant(const std::string& account, bool with_scope);

  FakeGcpTokens& tokens_;
  std::vector<Signer> signers_;
  std::vector<providers::gcp::AuthorizedUser> users_;
  std::string project_id_;
  Duration lifetime_;
  Stats stats_;
};

}  // namespace skyd::fakecloud
