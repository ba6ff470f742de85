#include "providers/aws/aws_auth.hpp"
#include "providers/aws/instance_metadata.hpp"

#include "providers/provider.hpp"
#include "reactor/crypto.hpp"
#include "reactor/http_client.hpp"
#include "reactor/json.hpp"
#include "reactor/log.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

namespace skyd::providers::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// Trims and collapses inner runs of white space into one space (SigV4 header value rule).
std::string canonical_header_value(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string date_part(std::string_view amz_date) {
  return std::string(amz_date.substr(0, 8));
}

}  // namespace

std::string Credentials::describe() const {
  const std::string shown =
      access_key_id.size() > 4 ? access_key_id.substr(0, 4) + "…" : std::string("…");
  return shown + " (" + source + (session_token.empty() ? "" : ", session") + ")";
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return uri_encode(http::percent_decode(path), true);
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(uri_encode(http::percent_decode(segment), false));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i) out += '/';
    out += segments[i];
  }
  // A path that names a directory keeps its trailing slash ("//example//" -> "/example/").
  if (!segments.empty() && path.back() == '/') out += '/';
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [key, value] : split_pairs(query)) {
    params.emplace_back(uri_encode(http::percent_decode(key), false),
                        uri_encode(http::percent_decode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += key + "=" + value;
  }
  return out;
}

std::string derive_signing_key(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service) {
  const std::string k_date = hmac_sha256("AWS4" + std::string(secret), date);
  const std::string k_region = hmac_sha256(k_date, region);
  const std::string k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

Signature compute_signature(const SignableRequest& request, const Credentials& credentials,
                            const SigningParams& params) {
  const auto question = request.target.find('?');
  const std::string_view path = std::string_view(request.target).substr(0, question);
  const std::string_view query = question == std::string::npos
                                     ? std::string_view()
                                     : std::string_view(request.target).substr(question + 1);

  // Same-name headers join in the order they came, by commas; names sort.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto [it, fresh] = headers.try_emplace(lower(name), canonical_header_value(value));
    if (!fresh) it->second += "," + canonical_header_value(value);
  }
  Signature out;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  out.canonical_request =
      request.method + "\n" + canonical_uri(path, params.normalize_path) + "\n" +
      canonical_query(query) + "\n" + canonical_headers + "\n" + out.signed_headers + "\n" +
      (request.payload_hash.empty() ? sha256_hex(request.body) : request.payload_hash);
  const std::string date = date_part(params.amz_date);
  const std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + "\n" + params.amz_date + "\n" + scope + "\n" +
                       sha256_hex(out.canonical_request);
  const std::string key =
      derive_signing_key(credentials.secret_access_key, date, params.region, params.service);
  out.signature = hmac_sha256_hex(key, out.string_to_sign);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      scope + ", SignedHeaders=" + out.signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

Signature sign_request(SignableRequest& request, const Credentials& credentials,
                       const SigningParams& params) {
  request.headers.emplace_back("X-Amz-Date", params.amz_date);
  const bool token = !credentials.session_token.empty();
  if (token && params.sign_security_token)
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  Signature signature = compute_signature(request, credentials, params);
  if (token && !params.sign_security_token)
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  request.headers.emplace_back("Authorization", signature.authorization);
  return signature;
}

namespace {
std::string format_utc(std::chrono::system_clock::time_point time, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, format, &utc);
  return buffer;
}
}  // namespace

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  return format_utc(time, "%Y%m%dT%H%M%SZ");
}

std::string format_iso8601(std::chrono::system_clock::time_point time) {
  return format_utc(time, "%Y-%m-%dT%H:%M:%SZ");
}

std::vector<std::pair<std::string_view, std::string_view>> split_pairs(std::string_view text) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    const std::string_view pair = text.substr(start, amp - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out.emplace_back(pair.substr(0, eq),
                       eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    start = amp + 1;
  }
  return out;
}

std::string amz_date_now() {
  return format_amz_date(std::chrono::system_clock::now());
}

Result<ParsedAuthorization> parse_authorization(std::string_view header) {
  auto bad = [&](std::string why) {
    return make_error(ProviderErrc::kAuth, "malformed Authorization header: " + why);
  };
  if (!header.starts_with(kAlgorithm)) return bad("not " + std::string(kAlgorithm));
  header.remove_prefix(kAlgorithm.size());
  ParsedAuthorization out;
  std::string credential, signed_headers;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view part = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "Credential") credential = value;
    if (key == "SignedHeaders") signed_headers = value;
    if (key == "Signature") out.signature = value;
  }
  // AKID/20150830/us-east-1/service/aws4_request
  std::vector<std::string> scope;
  std::stringstream parts(credential);
  for (std::string piece; std::getline(parts, piece, '/');) scope.push_back(piece);
  if (scope.size() != 5 || scope[4] != "aws4_request") return bad("bad Credential scope");
  out.access_key_id = scope[0];
  out.date = scope[1];
  out.region = scope[2];
  out.service = scope[3];
  std::stringstream names(signed_headers);
  for (std::string name; std::getline(names, name, ';');) out.signed_headers.push_back(name);
  if (out.signed_headers.empty() || out.signature.empty())
    return bad("missing SignedHeaders or Signature");
  return out;
}

// --- credential chain ---

EnvLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

std::optional<Credentials> credentials_from_environment(const EnvLookup& env) {
  auto key = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (!key || !secret) return std::nullopt;
  Credentials out{*key, *secret, env("AWS_SESSION_TOKEN").value_or(""), "environment", {}};
  return out;
}

Result<std::optional<Credentials>> credentials_from_ini(std::string_view text,
                                                        std::string_view profile) {
  std::map<std::string, std::string> values;
  bool in_profile = false, found = false;
  std::istringstream lines{std::string(text)};
  for (std::string raw; std::getline(lines, raw);) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string_view name = trim(line.substr(1, line.size() - 2));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    values[lower(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
  }
  if (!found) return std::optional<Credentials>();
  const auto key = values.find("aws_access_key_id");
  const auto secret = values.find("aws_secret_access_key");
  if (key == values.end() || secret == values.end()) {
    return make_error(ProviderErrc::kAuth, "profile " + std::string(profile) +
                                               " lacks aws_access_key_id or aws_secret_access_key");
  }
  Credentials out{key->second, secret->second, "", "shared-file:" + std::string(profile), {}};
  if (auto token = values.find("aws_session_token"); token != values.end())
    out.session_token = token->second;
  return std::optional<Credentials>(std::move(out));
}

Result<std::optional<Credentials>> credentials_from_shared_file(const EnvLookup& env) {
  std::string path;
  if (auto explicit_path = env("AWS_SHARED_CREDENTIALS_FILE")) {
    path = *explicit_path;
  } else if (auto home = env("HOME")) {
    path = *home + "/.aws/credentials";
  } else {
    return std::optional<Credentials>();
  }
  std::ifstream in(path);
  if (!in) return std::optional<Credentials>();
  std::stringstream text;
  text << in.rdbuf();
  return credentials_from_ini(text.str(), env("AWS_PROFILE").value_or("default"));
}

namespace {

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::tm tm{};
  std::istringstream in{std::string(text)};
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string string_member(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_string() ? std::string(*value->as_string()) : std::string();
}

}  // namespace

Result<Credentials> parse_role_credentials(std::string_view text, std::string role) {
  auto json = parse_json(text);
  if (!json) return make_error(ProviderErrc::kAuth, "unreadable role credentials document");
  if (string_member(*json, "Code") != "Success") {
    return make_error(
        ProviderErrc::kAuth,
        "instance role " + role + " credentials not available: " + string_member(*json, "Code"));
  }
  Credentials out{string_member(*json, "AccessKeyId"),
                  string_member(*json, "SecretAccessKey"),
                  string_member(*json, "Token"),
                  "instance-role:" + role,
                  {}};
  out.expiration = parse_iso8601(string_member(*json, "Expiration"));
  if (out.access_key_id.empty() || out.secret_access_key.empty())
    return make_error(ProviderErrc::kAuth, "instance role " + role + " document lacks keys");
  return out;
}

Task<Result<Credentials>> credentials_from_instance_role(http::Client& client,
                                                         http::Endpoint metadata,
                                                         Duration timeout) {
  const http::RequestOptions limit{timeout};
  http::Request token_request;
  token_request.method = "PUT";
  token_request.target = "/latest/api/token";
  token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  auto token = co_await client.request(metadata, token_request, limit);
  if (!token) co_return token.error();
  if (token->status != 200) {
    co_return make_error(ProviderErrc::kAuth, "instance metadata refused a session token (HTTP " +
                                                  std::to_string(token->status) + ")");
  }
  http::Request list;
  list.target = "/latest/meta-data/iam/security-credentials/";
  list.headers.emplace_back("X-aws-ec2-metadata-token", token->body);
  auto roles = co_await client.request(metadata, list, limit);
  if (!roles) co_return roles.error();
  const std::string role(trim(roles->body.substr(0, roles->body.find('\n'))));
  if (roles->status != 200 || role.empty())
    co_return make_error(ProviderErrc::kAuth, "this instance has no IAM role");
  http::Request fetch;
  fetch.target = "/latest/meta-data/iam/security-credentials/" + role;
  fetch.headers.emplace_back("X-aws-ec2-metadata-token", token->body);
  auto document = co_await client.request(metadata, fetch, limit);
  if (!document) co_return document.error();
  if (document->status != 200) {
    co_return make_error(ProviderErrc::kAuth, "instance role " + role + " credentials: HTTP " +
                                                  std::to_string(document->status));
  }
  co_return parse_role_credentials(document->body, role);
}

CredentialChain::CredentialChain(http::Client& client, EnvLookup env, Duration metadata_timeout)
    : client_(client), env_(std::move(env)), metadata_timeout_(metadata_timeout) {}

Task<Result<Credentials>> CredentialChain::get() {
  if (cached_ && (!cached_->expiration || *cached_->expiration - std::chrono::minutes(5) >
                                              std::chrono::system_clock::now()))
    co_return *cached_;
  if (auto from_env = credentials_from_environment(env_)) {
    cached_ = std::move(*from_env);
    co_return *cached_;
  }
  auto from_file = credentials_from_shared_file(env_);
  if (!from_file) co_return from_file.error();
  if (*from_file) {
    cached_ = std::move(**from_file);
    co_return *cached_;
  }
  const auto metadata = metadata_service_url(env_);
  if (!metadata) {
    co_return make_error(ProviderErrc::kAuth,
                         "no AWS credentials: not in the environment, not in the shared "
                         "credentials file, and instance metadata is disabled");
  }
  auto endpoint = http::Endpoint::parse(*metadata);
  if (!endpoint) co_return make_error(ProviderErrc::kAuth, endpoint.error().message());
  auto from_role = co_await credentials_from_instance_role(client_, *endpoint, metadata_timeout_);
  if (!from_role) {
    co_return make_error(ProviderErrc::kAuth,
                         "no AWS credentials: not in the environment, not in the shared "
                         "credentials file, and not from an instance role (" +
                             from_role.error().message() + ")");
  }
  logger("aws")->info("credentials loaded from={}", from_role->describe());
  cached_ = std::move(*from_role);
  co_return *cached_;
}

}  // namespace skyd::providers::aws
