#include "daemon/skylet/rclone.hpp"

#include "reactor/json.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace skyd::skylet {
namespace {

constexpr std::string_view kRemote = "RCLONE_CONFIG_BUCKET_";

// What rclone may take from skylet's own environment. Never AWS_* (an AWS_CA_BUNDLE there makes
// rclone's S3 client refuse to start) and never another rclone setting.
bool passes_through(std::string_view entry) {
  for (std::string_view key :
       {"PATH=", "SSL_CERT_FILE=", "SSL_CERT_DIR=", "TMPDIR=", "TZ=", "HTTPS_PROXY=", "HTTP_PROXY=",
        "NO_PROXY=", "https_proxy=", "http_proxy=", "no_proxy="}) {
    if (entry.starts_with(key)) return true;
  }
  return false;
}

bool is_timestamp_line(std::string_view line) {
  // "2026/12/02 00:05:08 ..."
  return line.size() > 20 && std::isdigit(static_cast<unsigned char>(line[0])) && line[4] == '/' &&
         line[7] == '/' && line[10] == ' ' && line[13] == ':' && line[16] == ':' && line[19] == ' ';
}

void add_remote(std::vector<std::string>& env, std::string_view key, const std::string& value) {
  env.push_back(std::string(kRemote) + std::string(key) + "=" + value);
}

void add_s3_remote(std::vector<std::string>& env, const BucketMount& mount,
                   const RcloneCredentials& credentials) {
  add_remote(env, "TYPE", "s3");
  add_remote(env, "PROVIDER", mount.endpoint.empty() ? "AWS" : "Other");
  add_remote(env, "ENV_AUTH", "true");
  if (!mount.region.empty()) add_remote(env, "REGION", mount.region);
  if (!mount.endpoint.empty()) {
    add_remote(env, "ENDPOINT", mount.endpoint);
    add_remote(env, "FORCE_PATH_STYLE", "true");
  }
  // The AWS SDK's chain: environment keys (none here), the shared-credentials file, then the
  // instance profile from the metadata service. AWS_CONFIG_FILE is empty so no profile of the
  // machine's user redirects it.
  env.push_back("AWS_CONFIG_FILE=/dev/null");
  env.push_back("AWS_SHARED_CREDENTIALS_FILE=" + (credentials.shared_credentials_file.empty()
                                                      ? std::string("/dev/null")
                                                      : credentials.shared_credentials_file));
  if (credentials.shared_credentials_file.empty() && !credentials.metadata_url.empty())
    env.push_back("AWS_EC2_METADATA_SERVICE_ENDPOINT=" + credentials.metadata_url);
}

void add_gcs_remote(std::vector<std::string>& env, const BucketMount& mount,
                    const RcloneCredentials& credentials) {
  add_remote(env, "TYPE", "google cloud storage");
  // rclone 1.60's endpoint replaces the JSON API's base path (uploads go to /upload/... on the
  // same host), so a custom endpoint carries /storage/v1/.
  if (!mount.endpoint.empty()) {
    std::string base = mount.endpoint;
    while (base.ends_with('/')) base.pop_back();
    add_remote(env, "ENDPOINT", base + "/storage/v1/");
  }
  // Uniform bucket-level access: objects get no ACLs of their own.
  add_remote(env, "BUCKET_POLICY_ONLY", "true");
  if (!credentials.gcs_service_account_file.empty()) {
    add_remote(env, "SERVICE_ACCOUNT_FILE", credentials.gcs_service_account_file);
    return;
  }
  // An expired token whose refresh goes to skylet's relay: rclone (which cannot read the GCE
  // metadata server itself) asks the relay for every token, with the relay's secret as the
  // refresh token. The client id and secret are placeholders the relay ignores.
  Json token = Json::object();
  token.set("access_token", "");
  token.set("token_type", "Bearer");
  token.set("refresh_token", credentials.gcs_refresh_secret);
  token.set("expiry", "2000-01-01T00:00:00Z");
  add_remote(env, "TOKEN", token.dump());
  add_remote(env, "TOKEN_URL", credentials.gcs_token_url);
  add_remote(env, "CLIENT_ID", "skylet");
  add_remote(env, "CLIENT_SECRET", "skylet");
}

}  // namespace

std::vector<std::string> rclone_environment(const BucketMount& mount,
                                            const RcloneCredentials& credentials,
                                            const std::string& config_file,
                                            const std::vector<std::string>& inherited,
                                            const std::optional<RcloneRemoteControl>& control) {
  std::vector<std::string> env;
  for (const auto& entry : inherited)
    if (passes_through(entry)) env.push_back(entry);
  env.push_back("RCLONE_CONFIG=" + config_file);
  switch (mount.store) {
    case Store::kS3:
      add_s3_remote(env, mount, credentials);
      break;
    case Store::kGcs:
      add_gcs_remote(env, mount, credentials);
      break;
  }
  if (control) {
    env.push_back("RCLONE_RC_USER=" + control->user);
    env.push_back("RCLONE_RC_PASS=" + control->password);
  }
  return env;
}

std::string remote_path(const BucketMount& mount) {
  return "bucket:" + mount.bucket + (mount.prefix.empty() ? std::string() : "/" + mount.prefix);
}

std::vector<std::string> check_argv(const std::string& rclone, const BucketMount& mount) {
  return {rclone, "lsjson",    "--stat", "--low-level-retries",
          "2",    "--retries", "1",      "bucket:" + mount.bucket};
}

std::vector<std::string> copy_argv(const std::string& rclone, const BucketMount& mount,
                                   const std::string& destination) {
  return {rclone, "copy", "--retries", "3", remote_path(mount), destination};
}

std::vector<std::string> mount_argv(const std::string& rclone, const BucketMount& mount,
                                    const std::string& mountpoint, const MountOwner& owner,
                                    const std::string& cache_dir, bool over_mount_point) {
  std::vector<std::string> argv = {rclone, "mount", remote_path(mount), mountpoint, "--uid",
                                   std::to_string(owner.uid), "--gid", std::to_string(owner.gid),
                                   "--umask", "077",
                                   // The kernel checks the modes: only the owner (and root) in.
                                   "--default-permissions",
                                   // Another attempt's writes show within seconds.
                                   "--dir-cache-time", "5s"};
  if (owner.other_than_rclone) argv.push_back("--allow-other");
  if (over_mount_point) argv.push_back("--allow-non-empty");
  if (mount.mode == MountMode::kMountCached) {
    argv.insert(argv.end(), {"--vfs-cache-mode", "full", "--vfs-write-back", "1s", "--cache-dir",
                             cache_dir, "--rc", "--rc-addr", "127.0.0.1:0"});
  } else {
    argv.insert(argv.end(), {"--vfs-cache-mode", "off"});
  }
  return argv;
}

std::optional<std::uint16_t> rc_port_in(std::string_view output) {
  constexpr std::string_view kServing = "Serving remote control on http://127.0.0.1:";
  const auto at = output.find(kServing);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + kServing.size();
  unsigned port = 0;
  std::size_t digits = 0;
  while (i < output.size() && std::isdigit(static_cast<unsigned char>(output[i])) && digits < 6) {
    port = port * 10 + static_cast<unsigned>(output[i++] - '0');
    ++digits;
  }
  if (digits == 0 || port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

std::optional<PendingUploads> parse_vfs_stats(std::string_view body) {
  auto json = parse_json(body);
  if (!json) return std::nullopt;
  const Json* cache = json->find("diskCache");
  if (!cache) return std::nullopt;
  const Json* queued = cache->find("uploadsQueued");
  const Json* in_progress = cache->find("uploadsInProgress");
  if (!queued || !in_progress || !queued->as_int() || !in_progress->as_int()) return std::nullopt;
  PendingUploads pending{*queued->as_int(), *in_progress->as_int(), 0};
  if (const Json* errored = cache->find("erroredFiles"); errored && errored->as_int())
    pending.errored = *errored->as_int();
  return pending;
}

std::string basic_authorization(const RcloneRemoteControl& control) {
  const std::string login = control.user + ":" + control.password;
  std::string encoded(4 * ((login.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(login.data()),
                                static_cast<int>(login.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

std::string mountinfo_escape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      const auto u = static_cast<unsigned char>(c);
      out += '\\';
      out += static_cast<char>('0' + ((u >> 6) & 7));
      out += static_cast<char>('0' + ((u >> 3) & 7));
      out += static_cast<char>('0' + (u & 7));
    } else {
      out += c;
    }
  }
  return out;
}

bool has_mount(std::string_view mountinfo, std::string_view path, std::string_view type) {
  // "36 35 0:40 / /mnt/point rw,nosuid - fuse.rclone bucket:x rw,..."
  const std::string wanted = mountinfo_escape(path);
  std::size_t start = 0;
  while (start < mountinfo.size()) {
    auto end = mountinfo.find('\n', start);
    if (end == std::string_view::npos) end = mountinfo.size();
    const std::string_view line = mountinfo.substr(start, end - start);
    start = end + 1;
    std::size_t field = 0, at = 0;
    std::string_view mount_point;
    while (at < line.size() && field < 5) {
      auto space = line.find(' ', at);
      if (space == std::string_view::npos) space = line.size();
      if (field == 4) mount_point = line.substr(at, space - at);
      at = space + 1;
      ++field;
    }
    if (mount_point != wanted) continue;
    const auto dash = line.find(" - ");
    if (dash != std::string_view::npos && line.substr(dash + 3).starts_with(type)) return true;
  }
  return false;
}

std::string last_reason(std::string_view output) {
  std::string_view reason;
  std::string_view last_line;
  std::size_t start = 0;
  while (start < output.size()) {
    auto end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.empty()) continue;
    last_line = line;
    if (is_timestamp_line(line)) reason = line.substr(20);
  }
  if (reason.empty()) reason = last_line;
  for (std::string_view level : {"CRITICAL: ", "ERROR : ", "NOTICE: "}) {
    if (reason.starts_with(level)) reason.remove_prefix(level.size());
  }
  return std::string(reason);
}

}  // namespace skyd::skylet
