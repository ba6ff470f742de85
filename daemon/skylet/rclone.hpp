#pragma once
// How skylet drives rclone (Debian's, 1.60) for a bucket mount: its environment, its command lines,
// and what it answers. Pure functions: nothing here starts a process.
//
// The remote is configured by environment variables (RCLONE_CONFIG_BUCKET_*), never by a command
// line. S3 credentials reach it only through the AWS SDK's own environment (a shared-credentials
// file, or the instance metadata service); GCS credentials as a service-account key file, or as
// OAuth tokens from skylet's loopback token relay (gcs_token_relay.hpp), which refreshes them from
// the GCE metadata server. No key or token is ever an argument or a log line.

#include "daemon/skylet/bucket_mount.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::skylet {

struct RcloneCredentials {
  // An AWS shared-credentials file (skylet's --storage-credentials); empty: the instance profile.
  std::string shared_credentials_file;
  // The instance metadata service (skylet's --metadata-url); empty: the SDK's own 169.254.169.254.
  std::string metadata_url;
  // GCS: a service-account key file (skylet's --gcs-credentials); else the token relay's URL and
  // the refresh token it takes (a secret). Neither: GCS mounts are refused.
  std::string gcs_service_account_file;
  std::string gcs_token_url;
  std::string gcs_refresh_secret;

  bool has_gcs() const { return !gcs_service_account_file.empty() || !gcs_token_url.empty(); }
};

struct RcloneRemoteControl {
  std::string user;
  std::string password;
};

// rclone's whole environment: PATH and TLS trust from `inherited` ("KEY=value" entries), the
// remote's configuration, where credentials come from, an empty config file at `config_file` (so
// no rclone.conf of the machine's user interferes), and the remote control's login if any.
std::vector<std::string> rclone_environment(const BucketMount& mount,
                                            const RcloneCredentials& credentials,
                                            const std::string& config_file,
                                            const std::vector<std::string>& inherited,
                                            const std::optional<RcloneRemoteControl>& control);

// "bucket:NAME" or "bucket:NAME/PREFIX".
std::string remote_path(const BucketMount& mount);

// Checks that the bucket answers with these credentials (HeadBucket-like, cheap).
std::vector<std::string> check_argv(const std::string& rclone, const BucketMount& mount);

// COPY: the objects under the prefix into `destination`.
std::vector<std::string> copy_argv(const std::string& rclone, const BucketMount& mount,
                                   const std::string& destination);

struct MountOwner {
  uid_t uid = 0;
  gid_t gid = 0;
  bool other_than_rclone = false;  // the task runs as another user than rclone: --allow-other
};

// MOUNT streams writes (--vfs-cache-mode off); MOUNT_CACHED keeps a write-back cache in
// `cache_dir` and serves the remote control on a loopback port it prints (rc_port_in).
// `over_mount_point`: the mount point is itself a mount (a private root's bind for this
// destination), which rclone refuses unless told to mount over it.
std::vector<std::string> mount_argv(const std::string& rclone, const BucketMount& mount,
                                    const std::string& mountpoint, const MountOwner& owner,
                                    const std::string& cache_dir, bool over_mount_point);

// The port of "Serving remote control on http://127.0.0.1:PORT/" in rclone's output.
std::optional<std::uint16_t> rc_port_in(std::string_view output);

// What vfs/stats says is not yet in the bucket.
struct PendingUploads {
  std::int64_t queued = 0;
  std::int64_t in_progress = 0;
  std::int64_t errored = 0;
  bool none() const { return queued == 0 && in_progress == 0; }
};
std::optional<PendingUploads> parse_vfs_stats(std::string_view body);

// "Basic base64(user:password)".
std::string basic_authorization(const RcloneRemoteControl& control);

// /proc/self/mountinfo escapes a space, tab, newline and backslash in a mount point as \ooo.
std::string mountinfo_escape(std::string_view path);
// Whether `mountinfo` (the text of /proc/self/mountinfo) has a mount at `path` whose file system
// type starts with `type` (any type when empty).
bool has_mount(std::string_view mountinfo, std::string_view path, std::string_view type = {});
// An rclone FUSE mount at `path`.
inline bool has_rclone_mount(std::string_view mountinfo, std::string_view path) {
  return has_mount(mountinfo, path, "fuse.rclone ");
}

// The last non-empty line of rclone's output, without its timestamp: the reason it gives.
std::string last_reason(std::string_view output);

}  // namespace skyd::skylet
