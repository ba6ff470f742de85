#pragma once
// AWS Signature Version 4 and the credential chain (environment, shared credentials file,
// instance role through IMDSv2). Signing is pure and tested against AWS's published vectors; the
// chain's file and environment steps are pure too, only the instance-role step does I/O.
// Secrets never reach a log line: Credentials has no printer, only `describe()`.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/http_types.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::http {
class Client;
}

namespace skyd::providers::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::string source;         // "environment", "shared-file:<profile>", "instance-role:<role>"
  std::optional<std::chrono::system_clock::time_point> expiration;

  // "AKID…(source)": the key id's first characters and where it came from, never the secret.
  std::string describe() const;
};

// A request as the signer sees it. `target` is the path plus an optional "?query", as it goes on
// the request line (raw or percent-encoded: the signer canonicalises either).
struct SignableRequest {
  std::string method = "POST";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // every one is signed
  std::string body;
  // The hex SHA-256 of the payload when the caller has it already (S3 sends it as
  // x-amz-content-sha256, hashed off the reactor for large parts); empty: `body` is hashed.
  std::string payload_hash;
};

struct SigningParams {
  std::string region;
  std::string service;
  std::string amz_date;             // YYYYMMDDTHHMMSSZ
  bool normalize_path = true;       // false only for S3
  bool sign_security_token = true;  // X-Amz-Security-Token inside the signature (EC2 does)
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the Authorization header value
};

// The SigV4 steps, exposed one by one for the vectors.
std::string canonical_uri(std::string_view path, bool normalize);
std::string canonical_query(std::string_view query);
std::string uri_encode(std::string_view text, bool keep_slash);
std::string derive_signing_key(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service);

// Signs `request` as it is (its headers must already include Host and X-Amz-Date; when the
// credentials carry a session token and `sign_security_token` is set, X-Amz-Security-Token too).
Signature compute_signature(const SignableRequest& request, const Credentials& credentials,
                            const SigningParams& params);

// Adds X-Amz-Date, X-Amz-Security-Token (when the credentials have one) and Authorization to
// `request` and returns what was signed. `host` is what the Host header will carry.
Signature sign_request(SignableRequest& request, const Credentials& credentials,
                       const SigningParams& params);

// The current UTC time as YYYYMMDDTHHMMSSZ.
std::string amz_date_now();
std::string format_amz_date(std::chrono::system_clock::time_point time);
// UTC as YYYY-MM-DDTHH:MM:SSZ (IMDS documents, EC2 launch times).
std::string format_iso8601(std::chrono::system_clock::time_point time);

// The name=value pairs of a query string or form body, split on '&' and the first '=', not
// decoded; empty pieces are skipped.
std::vector<std::pair<std::string_view, std::string_view>> split_pairs(std::string_view text);

// The parts of an Authorization header, for a server that checks signatures.
struct ParsedAuthorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
Result<ParsedAuthorization> parse_authorization(std::string_view header);

// --- credential chain ---

using EnvLookup = std::function<std::optional<std::string>(const char*)>;
EnvLookup process_environment();

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN); nothing when unset.
std::optional<Credentials> credentials_from_environment(const EnvLookup& env);
// One profile of a credentials file's text (INI: [profile] then key = value lines). Nothing when
// the profile is absent; kAuth when it is there but lacks a key.
Result<std::optional<Credentials>> credentials_from_ini(std::string_view text,
                                                        std::string_view profile);
// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or "default".
Result<std::optional<Credentials>> credentials_from_shared_file(const EnvLookup& env);

// The instance role's temporary credentials through IMDSv2: PUT /latest/api/token, then
// GET /latest/meta-data/iam/security-credentials/ (the role name) and .../<role>.
// Errors: kAuth when there is no role, NetErrc codes when the service does not answer.
Task<Result<Credentials>> credentials_from_instance_role(http::Client& client,
                                                         http::Endpoint metadata, Duration timeout);

// Parses the IMDS role document {"Code":"Success","AccessKeyId":...,"Expiration":...}.
Result<Credentials> parse_role_credentials(std::string_view json, std::string role);

// Environment, then the shared file, then the instance role (unless AWS_EC2_METADATA_DISABLED is
// true; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides http://169.254.169.254). Role credentials
// are cached and refreshed five minutes before they expire. Belongs to one shard.
class CredentialChain {
 public:
  CredentialChain(http::Client& client, EnvLookup env,
                  Duration metadata_timeout = std::chrono::seconds(2));
  // kAuth with every step's reason when none yields credentials.
  Task<Result<Credentials>> get();
  // Forgets the cache (after an auth error, the next call looks again).
  void invalidate() { cached_.reset(); }

 private:
  http::Client& client_;
  EnvLookup env_;
  Duration metadata_timeout_;
  std::optional<Credentials> cached_;
};

}  // namespace skyd::providers::aws
