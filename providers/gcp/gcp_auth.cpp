#include "providers/gcp/gcp_auth.hpp"

#include "providers/provider.hpp"
#include "reactor/event.hpp"
#include "reactor/http_client.hpp"
#include "reactor/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace skyd::providers::gcp {
namespace {

Error auth_error(std::string detail) {
  return make_error(ProviderErrc::kAuth, std::move(detail));
}

// A string member of a credentials file: missing and wrong-typed fields are named.
Result<std::string> string_field(const Json& json, const char* name, const std::string& path,
                                 bool required) {
  const Json* value = json.find(name);
  if (!value || value->is_null()) {
    if (!required) return std::string();
    return auth_error("GCP credentials file " + path + ": field '" + name + "' is missing");
  }
  const auto text = value->as_string();
  if (!text)
    return auth_error("GCP credentials file " + path + ": field '" + name + "' must be a string");
  if (required && text->empty())
    return auth_error("GCP credentials file " + path + ": field '" + name + "' is empty");
  return std::string(*text);
}

// One string field of a credentials file and where it goes.
struct Field {
  const char* name;
  std::string* into;
  bool required;
};

Result<void> read_fields(const Json& json, const std::string& path,
                         std::initializer_list<Field> fields) {
  for (const Field& field : fields) {
    auto value = string_field(json, field.name, path, field.required);
    if (!value) return value.error();
    *field.into = std::move(*value);
  }
  return {};
}

Result<CredentialsFile> parse_service_account(const Json& json, const std::string& path) {
  ServiceAccountKey key;
  auto read = read_fields(json, path,
                          {{"client_email", &key.client_email, true},
                           {"private_key", &key.private_key, true},
                           {"token_uri", &key.token_uri, true},
                           {"private_key_id", &key.private_key_id, false},
                           {"project_id", &key.project_id, false}});
  if (!read) return read.error();
  if (auto rsa = RsaKey::from_private_pem(key.private_key); !rsa)
    return auth_error("GCP credentials file " + path +
                      ": field 'private_key': " + rsa.error().detail);
  return CredentialsFile(std::move(key));
}

Result<CredentialsFile> parse_authorized_user(const Json& json, const std::string& path) {
  AuthorizedUser user;
  auto read = read_fields(json, path,
                          {{"client_id", &user.client_id, true},
                           {"client_secret", &user.client_secret, true},
                           {"refresh_token", &user.refresh_token, true},
                           {"token_uri", &user.token_uri, false},
                           {"quota_project_id", &user.quota_project_id, false}});
  if (!read) return read.error();
  if (user.token_uri.empty()) user.token_uri = kGoogleTokenUri;
  return CredentialsFile(std::move(user));
}

std::string form_encode(
    std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out += http::percent_encode(name) + "=" + http::percent_encode(value);
  }
  return out;
}

// Google's error shapes: {"error":"invalid_grant","error_description":"..."} (OAuth) and
// {"error":{"code":...,"message":...}} (APIs); anything else is quoted, shortened.
std::string refusal_reason(const http::Response& response) {
  if (auto json = parse_json(response.body); json && json->is_object()) {
    const Json* error = json->find("error");
    if (error && error->as_string()) {
      std::string reason(*error->as_string());
      const Json* description = json->find("error_description");
      if (description && description->as_string() && !description->as_string()->empty())
        reason += ": " + std::string(*description->as_string());
      return reason;
    }
    if (error && error->is_object()) return http::error_message_of(response);
  }
  std::string body = response.body.substr(0, 200);
  for (char& c : body)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return body.empty() ? "no reason given" : body;
}

// "http://host:port/path?query" -> "/path?query" ("/" when there is none).
std::string target_of(std::string_view url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
}

std::string shown_client_id(const std::string& client_id) {
  return client_id.size() > 8 ? client_id.substr(0, 8) + "…" : client_id;
}

Result<std::string> bounded_read(const std::string& path) {
  auto unreadable = [&](int error) {
    return auth_error("GCP credentials file " + path + " cannot be read: " + std::strerror(error));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return unreadable(errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return unreadable(error);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return auth_error("GCP credentials file " + path + " is not a regular file");
  }
  std::string text(kMaxCredentialsFileBytes + 1, '\0');
  std::size_t size = 0;
  while (size < text.size()) {
    const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return unreadable(error);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (size > kMaxCredentialsFileBytes)
    return auth_error("GCP credentials file " + path + " is larger than " +
                      std::to_string(kMaxCredentialsFileBytes) + " bytes");
  text.resize(size);
  return text;
}

}  // namespace

EnvLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

Result<CredentialsFile> parse_credentials_file(std::string_view text, const std::string& path) {
  auto json = parse_json(text);
  if (!json)
    return auth_error("GCP credentials file " + path + " is not JSON: " + json.error().detail);
  if (!json->is_object())
    return auth_error("GCP credentials file " + path + " is not a JSON object");
  auto type = string_field(*json, "type", path, true);
  if (!type) return type.error();
  if (*type == "service_account") return parse_service_account(*json, path);
  if (*type == "authorized_user") return parse_authorized_user(*json, path);
  return auth_error("GCP credentials file " + path + ": type '" + *type +
                    "' is not supported (service_account or authorized_user)");
}

Result<CredentialsFile> read_credentials_file(const std::string& path) {
  auto text = bounded_read(path);
  if (!text) return text.error();
  return parse_credentials_file(*text, path);
}

Result<std::string> service_account_assertion(const ServiceAccountKey& key, const RsaKey& rsa,
                                              std::chrono::system_clock::time_point now,
                                              std::string_view scope) {
  JwtClaims claims;
  claims.iss = key.client_email;
  claims.scope = scope;
  claims.aud = key.token_uri;
  claims.iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  claims.exp = claims.iat + 3600;
  return sign_jwt(claims, rsa, key.private_key_id);
}

std::string jwt_bearer_form(std::string_view assertion) {
  return form_encode(
      {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", assertion}});
}

std::string refresh_token_form(const AuthorizedUser& user) {
  return form_encode({{"grant_type", "refresh_token"},
                      {"client_id", user.client_id},
                      {"client_secret", user.client_secret},
                      {"refresh_token", user.refresh_token}});
}

Result<TokenGrant> parse_token_response(const http::Response& response, std::string_view step) {
  const std::string where(step);
  if (response.status != 200) {
    const bool passing = response.status == 429 || response.status >= 500;
    return make_error(
        passing ? ProviderErrc::kTransient : ProviderErrc::kAuth,
        where + ": HTTP " + std::to_string(response.status) + ": " + refusal_reason(response));
  }
  auto json = parse_json(response.body);
  if (!json || !json->is_object()) return auth_error(where + ": the answer is not a JSON object");
  const Json* token = json->find("access_token");
  if (!token || !token->as_string() || token->as_string()->empty())
    return auth_error(where + ": the answer has no access_token");
  const Json* type = json->find("token_type");
  if (type && type->as_string() && *type->as_string() != "Bearer")
    return auth_error(where + ": token_type '" + std::string(*type->as_string()) +
                      "' is not Bearer");
  const Json* expires = json->find("expires_in");
  const auto seconds = expires ? expires->as_double() : std::nullopt;
  if (!seconds || *seconds <= 0)
    return auth_error(where + ": the answer has no positive expires_in");
  return TokenGrant{std::string(*token->as_string()),
                    std::chrono::seconds(static_cast<std::int64_t>(*seconds))};
}

Result<CredentialsLocation> locate_application_default_credentials(const EnvLookup& env) {
  CredentialsLocation out;
  if (auto path = env("GOOGLE_APPLICATION_CREDENTIALS")) {
    out.kind = CredentialsLocation::Kind::kFile;
    out.path = *path;
    out.why = "GOOGLE_APPLICATION_CREDENTIALS";
    return out;
  }
  std::string directory;
  if (auto config = env("CLOUDSDK_CONFIG"))
    directory = *config;
  else if (auto home = env("HOME"))
    directory = *home + "/.config/gcloud";
  if (!directory.empty()) {
    const std::string well_known = directory + "/application_default_credentials.json";
    struct stat info {};
    if (::stat(well_known.c_str(), &info) == 0) {
      out.kind = CredentialsLocation::Kind::kFile;
      out.path = well_known;
      out.why = "the gcloud well-known file";
      return out;
    }
    out.why = "GOOGLE_APPLICATION_CREDENTIALS is not set and there is no " + well_known;
  } else {
    out.why = "GOOGLE_APPLICATION_CREDENTIALS is not set and HOME is unknown";
  }
  // GCE_METADATA_HOST is host[:port], as Google's libraries take it.
  const std::string host = env("GCE_METADATA_HOST").value_or(std::string(kMetadataHost));
  auto metadata =
      http::Endpoint::parse(host.find("://") == std::string::npos ? "http://" + host : host);
  if (!metadata || metadata->transport != http::Endpoint::Transport::kTcp)
    return auth_error("GCE_METADATA_HOST '" + host + "' is not a host[:port]");
  out.kind = CredentialsLocation::Kind::kMetadataServer;
  out.metadata = *metadata;
  return out;
}

// --- GoogleCredentials ---

struct GoogleCredentials::Source {
  std::optional<ServiceAccountKey> service_account;
  std::optional<RsaKey> rsa;
  std::optional<AuthorizedUser> user;
  http::Endpoint endpoint;  // the token endpoint, or the metadata server
  std::string target;       // the token endpoint's path
  std::string step;         // "the token endpoint https://…/token" for messages
  bool metadata = false;
  std::string metadata_note;  // why ADC ended at the metadata server
};

struct GoogleCredentials::Refresh {
  explicit Refresh(asio::any_io_executor executor) : done(std::move(executor)) {}
  Event done;
  std::optional<Result<AccessToken>> result;
};

GoogleCredentials::GoogleCredentials(http::Client& client, std::unique_ptr<Source> source,
                                     GcpAuthOptions options)
    : client_(client), source_(std::move(source)), options_(std::move(options)) {}

GoogleCredentials::~GoogleCredentials() = default;

Result<std::unique_ptr<GoogleCredentials>> GoogleCredentials::from_file(http::Client& client,
                                                                        CredentialsFile file,
                                                                        std::string origin,
                                                                        GcpAuthOptions options) {
  auto source = std::make_unique<Source>();
  std::string token_uri, description;
  if (auto* key = std::get_if<ServiceAccountKey>(&file)) {
    auto rsa = RsaKey::from_private_pem(key->private_key);
    if (!rsa) return auth_error(origin + ": field 'private_key': " + rsa.error().detail);
    source->rsa = std::move(*rsa);
    token_uri = key->token_uri;
    description = "service account " + key->client_email + " (" + origin + ")";
    source->service_account = std::move(*key);
  } else {
    auto& user = std::get<AuthorizedUser>(file);
    token_uri = user.token_uri;
    description =
        "authorized user (client " + shown_client_id(user.client_id) + ") (" + origin + ")";
    source->user = std::move(user);
  }
  auto endpoint = http::Endpoint::parse(token_uri);
  if (!endpoint || (endpoint->transport != http::Endpoint::Transport::kTcp &&
                    endpoint->transport != http::Endpoint::Transport::kTls))
    return auth_error(origin + ": field 'token_uri' is not an http(s) URL: '" + token_uri + "'");
  source->endpoint = std::move(*endpoint);
  source->target = target_of(token_uri);
  source->step = "the token endpoint " + token_uri;
  auto credentials = std::unique_ptr<GoogleCredentials>(
      new GoogleCredentials(client, std::move(source), std::move(options)));
  credentials->description_ = std::move(description);
  return credentials;
}

std::unique_ptr<GoogleCredentials> GoogleCredentials::from_metadata_server(http::Client& client,
                                                                           http::Endpoint metadata,
                                                                           GcpAuthOptions options) {
  auto source = std::make_unique<Source>();
  source->metadata = true;
  source->endpoint = std::move(metadata);
  source->step =
      "the metadata server " + source->endpoint.host + ":" + std::to_string(source->endpoint.port);
  auto credentials = std::unique_ptr<GoogleCredentials>(
      new GoogleCredentials(client, std::move(source), std::move(options)));
  credentials->description_ = credentials->source_->step;
  return credentials;
}

Result<std::unique_ptr<GoogleCredentials>> GoogleCredentials::application_default(
    http::Client& client, EnvLookup env, GcpAuthOptions options) {
  auto location = locate_application_default_credentials(env);
  if (!location) return location.error();
  std::unique_ptr<GoogleCredentials> credentials;
  if (location->kind == CredentialsLocation::Kind::kFile) {
    auto file = read_credentials_file(location->path);
    if (!file) return auth_error(file.error().detail + " (named by " + location->why + ")");
    auto made =
        from_file(client, std::move(*file), "key file " + location->path, std::move(options));
    if (!made) return made.error();
    credentials = std::move(*made);
  } else {
    credentials = from_metadata_server(client, location->metadata, std::move(options));
    credentials->source_->metadata_note = location->why;
  }
  auto project = env("GOOGLE_CLOUD_PROJECT");
  if (!project) project = env("GCLOUD_PROJECT");
  credentials->project_override_ = std::move(project);
  return credentials;
}

void GoogleCredentials::invalidate() {
  cached_.reset();
}

Task<Result<AccessToken>> GoogleCredentials::token() {
  for (;;) {
    if (cached_ && Clock::now() + options_.refresh_margin < cached_->expires_at) co_return *cached_;
    if (in_flight_) {
      // Someone on this shard is refreshing: wait for that answer rather than asking again.
      const std::shared_ptr<Refresh> refresh = in_flight_;
      co_await refresh->done.wait();
      const Result<AccessToken>& result = *refresh->result;
      if (result || !is_cancellation(result.error().code)) co_return result;
      continue;  // its caller was cancelled, not this one: refresh here
    }
    const auto executor = co_await asio::this_coro::executor;
    const auto refresh = std::make_shared<Refresh>(executor);
    in_flight_ = refresh;
    std::exception_ptr failure;
    try {
      auto result = co_await refresh_now();
      refresh->result.emplace(std::move(result));
    } catch (...) {
      failure = std::current_exception();
      refresh->result.emplace(make_error(NetErrc::kCancelled, "the refreshing caller stopped"));
    }
    in_flight_.reset();
    if (*refresh->result) cached_ = **refresh->result;
    refresh->done.set();
    if (failure) std::rethrow_exception(failure);
    co_return *refresh->result;
  }
}

Task<Result<AccessToken>> GoogleCredentials::refresh_now() {
  const auto asked_at = Clock::now();
  auto grant = co_await fetch();
  if (!grant) co_return grant.error();
  ++refreshes_;
  logger("gcp")->info("gcp access token obtained source=\"{}\" expires_in={}s", description_,
                      grant->expires_in.count());
  // Timed from the question, not the answer: the token cannot outlive what we think it does.
  co_return AccessToken{std::move(grant->access_token), asked_at + grant->expires_in};
}

Task<Result<TokenGrant>> GoogleCredentials::fetch() {
  if (source_->service_account) co_return co_await fetch_with_assertion();
  if (source_->user) co_return co_await fetch_with_refresh_token();
  co_return co_await fetch_from_metadata();
}

Task<Result<TokenGrant>> GoogleCredentials::fetch_with_assertion() {
  auto assertion = service_account_assertion(*source_->service_account, *source_->rsa,
                                             std::chrono::system_clock::now(), options_.scope);
  if (!assertion) co_return auth_error(description_ + ": " + assertion.error().detail);
  // Named, not built in the co_await expression: g++ 12 destroys such temporaries twice.
  std::string form = jwt_bearer_form(*assertion);
  co_return co_await exchange(std::move(form));
}

Task<Result<TokenGrant>> GoogleCredentials::fetch_with_refresh_token() {
  std::string form = refresh_token_form(*source_->user);
  co_return co_await exchange(std::move(form));
}

Task<Result<TokenGrant>> GoogleCredentials::exchange(std::string form) {
  http::Request request;
  request.method = "POST";
  request.target = source_->target;
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.headers.emplace_back("Accept", "application/json");
  request.body = std::move(form);
  const http::RequestOptions limit{options_.token_timeout};
  auto response = co_await client_.request(source_->endpoint, std::move(request), limit);
  if (!response) {
    if (is_cancellation(response.error().code)) co_return response.error();
    co_return make_error(
        ProviderErrc::kTransient,
        description_ + ": " + source_->step + " did not answer: " + response.error().message());
  }
  auto grant = parse_token_response(*response, source_->step);
  if (!grant) co_return Error{grant.error().code, description_ + ": " + grant.error().detail};
  co_return grant;
}

Task<Result<http::Response>> GoogleCredentials::metadata_get(std::string target) {
  http::Request request;
  request.target = std::move(target);
  request.headers.emplace_back("Metadata-Flavor", "Google");
  const http::RequestOptions limit{options_.metadata_timeout};
  auto response = co_await client_.request(source_->endpoint, std::move(request), limit);
  if (response) metadata_answered_ = true;
  co_return response;
}

Task<Result<TokenGrant>> GoogleCredentials::fetch_from_metadata() {
  const bool answered_before = metadata_answered_;
  std::string target = "/computeMetadata/v1/instance/service-accounts/default/token";
  auto response = co_await metadata_get(std::move(target));
  if (!response) {
    if (is_cancellation(response.error().code)) co_return response.error();
    // Never answered: this is not a Compute Engine VM, and ADC has nothing left to try.
    if (!answered_before) {
      const std::string note =
          source_->metadata_note.empty() ? std::string() : source_->metadata_note + ", and ";
      co_return auth_error("no GCP credentials: " + note + source_->step + " did not answer (" +
                           response.error().message() + ")");
    }
    co_return make_error(ProviderErrc::kTransient,
                         source_->step + " did not answer: " + response.error().message());
  }
  co_return parse_token_response(*response, source_->step);
}

Task<Result<std::string>> GoogleCredentials::project_id() {
  if (project_override_) co_return *project_override_;
  if (source_->service_account && !source_->service_account->project_id.empty())
    co_return source_->service_account->project_id;
  if (project_) co_return *project_;
  if (!source_->metadata) {
    co_return auth_error("GCP project unknown: " + description_ +
                         " names none; set GOOGLE_CLOUD_PROJECT or the provider's project");
  }
  std::string target = "/computeMetadata/v1/project/project-id";
  auto response = co_await metadata_get(std::move(target));
  if (!response) {
    if (is_cancellation(response.error().code)) co_return response.error();
    co_return auth_error("GCP project unknown: " + source_->step + " did not answer (" +
                         response.error().message() + ")");
  }
  if (response->status != 200 || response->body.empty())
    co_return auth_error("GCP project unknown: " + source_->step + " answered HTTP " +
                         std::to_string(response->status) + " for project/project-id");
  project_ = response->body;
  co_return *project_;
}

}  // namespace skyd::providers::gcp
