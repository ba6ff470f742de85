#pragma once
// Google's Application Default Credentials (ADC): where skyd's GCP calls get their OAuth 2.0
// access tokens, found as Google's own client libraries find them:
//   1. GOOGLE_APPLICATION_CREDENTIALS names a key file (it must exist and be valid);
//   2. else the well-known file gcloud writes, $CLOUDSDK_CONFIG or ~/.config/gcloud, then
//      /application_default_credentials.json, when it exists;
//   3. else the metadata server of the Compute Engine VM skyd runs on (GCE_METADATA_HOST
//      overrides metadata.google.internal).
// A file is a service-account key (an RS256 JWT traded at its token_uri, RFC 7523) or an
// authorized user (a refresh_token grant). Parsing and request building are pure functions;
// GoogleCredentials does the I/O through the reactor's HTTP client and caches the token.
// Secrets (private keys, refresh tokens, client secrets, access tokens) never reach a log or an
// error message: errors name the file, the field, the step and the server's reason.

#include "providers/gcp/access_token.hpp"
#include "providers/gcp/jwt.hpp"
#include "reactor/http_types.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace skyd::http {
class Client;
}

namespace skyd::providers::gcp {

inline constexpr std::string_view kCloudPlatformScope =
    "https://www.googleapis.com/auth/cloud-platform";
inline constexpr std::string_view kGoogleTokenUri = "https://oauth2.googleapis.com/token";
inline constexpr std::string_view kMetadataHost = "metadata.google.internal";
// A credentials file larger than this is refused unread (a real one is about 2.4 KB).
inline constexpr std::size_t kMaxCredentialsFileBytes = 64u << 10;

using EnvLookup = std::function<std::optional<std::string>(const char*)>;
// The process environment (an empty value counts as unset).
EnvLookup process_environment();

// {"type":"service_account",...}: the key Google's console downloads.
struct ServiceAccountKey {
  std::string project_id;
  std::string private_key_id;
  std::string private_key;  // PEM; secret
  std::string client_email;
  std::string token_uri;
};

// {"type":"authorized_user",...}: what `gcloud auth application-default login` writes.
struct AuthorizedUser {
  std::string client_id;
  std::string client_secret;  // secret
  std::string refresh_token;  // secret
  std::string token_uri;      // the file's token_uri, else Google's
  std::string quota_project_id;
};

using CredentialsFile = std::variant<ServiceAccountKey, AuthorizedUser>;

// Parses a credentials file's JSON. Errors (kAuth) name `path` and the field: "FILE: field
// 'client_email' is missing", "... must be a string", "FILE: type 'external_account' is not
// supported (service_account or authorized_user)"; a service account's private_key must be an
// RSA key OpenSSL can read.
Result<CredentialsFile> parse_credentials_file(std::string_view text, const std::string& path);
// Reads at most kMaxCredentialsFileBytes (a bounded read: fine on a shard) and parses it. Errors
// (kAuth) name the file and why it cannot be read.
Result<CredentialsFile> read_credentials_file(const std::string& path);

// The assertion a service account sends: RS256, kid = private_key_id, iss = client_email,
// scope, aud = token_uri, iat = now, exp = now + 1 h.
Result<std::string> service_account_assertion(const ServiceAccountKey& key, const RsaKey& rsa,
                                              std::chrono::system_clock::time_point now,
                                              std::string_view scope = kCloudPlatformScope);

// application/x-www-form-urlencoded bodies of the two grants.
std::string jwt_bearer_form(std::string_view assertion);
std::string refresh_token_form(const AuthorizedUser& user);

// What a token endpoint or the metadata server hands out.
struct TokenGrant {
  std::string access_token;  // secret
  std::chrono::seconds expires_in{0};
};
// Reads {"access_token","expires_in","token_type":"Bearer"}. A refusal becomes kAuth carrying
// Google's reason ("invalid_grant: Invalid JWT Signature."), HTTP 429 and 5xx kTransient; each
// message starts with `step` ("the token endpoint http://…/token").
Result<TokenGrant> parse_token_response(const http::Response& response, std::string_view step);

// Where ADC finds credentials, decided without the network.
struct CredentialsLocation {
  enum class Kind { kFile, kMetadataServer };
  Kind kind = Kind::kMetadataServer;
  std::string path;         // kFile
  std::string why;          // "GOOGLE_APPLICATION_CREDENTIALS" or "the gcloud well-known file"
  http::Endpoint metadata;  // kMetadataServer
};
// Steps 1-3 above; kAuth when GOOGLE_APPLICATION_CREDENTIALS names nothing readable, or
// GCE_METADATA_HOST is not a host[:port].
Result<CredentialsLocation> locate_application_default_credentials(const EnvLookup& env);

struct GcpAuthOptions {
  std::string scope = std::string(kCloudPlatformScope);
  Duration token_timeout = std::chrono::seconds(10);    // one token endpoint exchange
  Duration metadata_timeout = std::chrono::seconds(3);  // one metadata server request
  // A cached token is replaced this long before it expires.
  Duration refresh_margin = std::chrono::minutes(5);
};

// An AccessTokenSource over one credential (a service account key, an authorized user, or the
// metadata server). Belongs to one shard, with the http::Client it was given: call it only
// there. Tokens are cached until `refresh_margin` before they expire; callers that arrive while a
// refresh is under way wait for that one instead of starting their own; invalidate() makes the
// next call fetch a new token. A caller's cancellation ends its own wait (operation_aborted); a
// refresh whose caller was cancelled is retried by the next caller, never reported as a failure.
class GoogleCredentials final : public AccessTokenSource {
 public:
  // Application Default Credentials from the environment (the order above). Files are read
  // now; nothing touches the network until token() or project_id(). Errors are kAuth and name
  // the file and field, or the variable.
  static Result<std::unique_ptr<GoogleCredentials>> application_default(
      http::Client& client, EnvLookup env, GcpAuthOptions options = {});
  // One credential, as a file or the metadata server would give it. `origin` names where it came
  // from in messages ("key file /path").
  static Result<std::unique_ptr<GoogleCredentials>> from_file(http::Client& client,
                                                              CredentialsFile file,
                                                              std::string origin,
                                                              GcpAuthOptions options = {});
  static std::unique_ptr<GoogleCredentials> from_metadata_server(http::Client& client,
                                                                 http::Endpoint metadata,
                                                                 GcpAuthOptions options = {});
  ~GoogleCredentials() override;

  // A cached or new token. Errors: kAuth naming the step and the server's reason (a refused
  // grant, no credentials at all), kTransient for a token endpoint that failed for now (5xx,
  // 429, unreachable, timed out).
  Task<Result<AccessToken>> token() override;
  void invalidate() override;

  // The project calls go to by default: GOOGLE_CLOUD_PROJECT (application_default only), else the
  // key file's project_id, else the metadata server's project/project-id (asked once). kAuth when
  // none says (an authorized user without a quota_project_id, say).
  Task<Result<std::string>> project_id();

  // "service account NAME@PROJECT.iam.gserviceaccount.com (key file /path)", "authorized user
  // (client 3250…) (…)", "the metadata server metadata.google.internal:80": never a secret.
  const std::string& describe() const { return description_; }
  // How many tokens this source has fetched (tests of the cache).
  std::uint64_t refreshes() const { return refreshes_; }

 private:
  struct Source;
  struct Refresh;
  GoogleCredentials(http::Client& client, std::unique_ptr<Source> source, GcpAuthOptions options);
  Task<Result<TokenGrant>> fetch();
  Task<Result<TokenGrant>> fetch_with_assertion();
  Task<Result<TokenGrant>> fetch_with_refresh_token();
  Task<Result<TokenGrant>> fetch_from_metadata();
  // GET with Metadata-Flavor: Google on the metadata server.
  Task<Result<http::Response>> metadata_get(std::string target);
  // POSTs a grant's form to the token endpoint.
  Task<Result<TokenGrant>> exchange(std::string form);
  Task<Result<AccessToken>> refresh_now();

  http::Client& client_;
  std::unique_ptr<Source> source_;
  GcpAuthOptions options_;
  std::string description_;
  std::optional<std::string> project_override_;  // GOOGLE_CLOUD_PROJECT
  std::optional<AccessToken> cached_;
  std::shared_ptr<Refresh> in_flight_;
  std::optional<std::string> project_;
  bool metadata_answered_ = false;  // once it has, a later failure is passing, not "not on GCE"
  std::uint64_t refreshes_ = 0;
};

}  // namespace skyd::providers::gcp
