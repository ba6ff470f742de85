#include "daemon/skylet/rclone.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace skyd::skylet {
namespace {

BucketMount s3rver_mount(MountMode mode) {
  BucketMount mount;
  mount.destination = "/checkpoint";
  mount.mode = mode;
  mount.bucket = "my-ckpt";
  mount.prefix = "run/1";
  mount.endpoint = "http://127.0.0.1:9000";
  mount.region = "us-east-1";
  return mount;
}

RcloneCredentials aws_credentials(std::string file, std::string metadata_url) {
  RcloneCredentials credentials;
  credentials.shared_credentials_file = std::move(file);
  credentials.metadata_url = std::move(metadata_url);
  return credentials;
}

BucketMount gcs_mount() {
  BucketMount mount = s3rver_mount(MountMode::kMount);
  mount.store = Store::kGcs;
  mount.endpoint = "http://127.0.0.1:4443";
  mount.region.clear();
  return mount;
}

bool has(const std::vector<std::string>& list, const std::string& entry) {
  return std::find(list.begin(), list.end(), entry) != list.end();
}

TEST(Rclone, ConfiguresACustomEndpointWithPathStyleAndEnvAuth) {
  const auto env =
      rclone_environment(s3rver_mount(MountMode::kMount), aws_credentials("/etc/skylet/keys", ""),
                         "/w/rclone.conf", {"PATH=/usr/bin"}, std::nullopt);
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_TYPE=s3"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_PROVIDER=Other"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_ENDPOINT=http://127.0.0.1:9000"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_FORCE_PATH_STYLE=true"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_ENV_AUTH=true"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_REGION=us-east-1"));
  EXPECT_TRUE(has(env, "AWS_SHARED_CREDENTIALS_FILE=/etc/skylet/keys"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG=/w/rclone.conf"));
  EXPECT_TRUE(has(env, "PATH=/usr/bin"));
}

TEST(Rclone, AwsItselfNeedsNoEndpoint) {
  BucketMount mount = s3rver_mount(MountMode::kMount);
  mount.endpoint.clear();
  const auto env = rclone_environment(mount, {}, "/w/rclone.conf", {}, std::nullopt);
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_PROVIDER=AWS"));
  for (const auto& entry : env) EXPECT_FALSE(entry.starts_with("RCLONE_CONFIG_BUCKET_ENDPOINT="));
}

TEST(Rclone, WithoutAFileTheInstanceProfileComesFromSkyletsMetadataService) {
  const auto env =
      rclone_environment(s3rver_mount(MountMode::kMount),
                         aws_credentials("", "http://127.0.0.9:8111"), "/w/c", {}, std::nullopt);
  EXPECT_TRUE(has(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.9:8111"));
  EXPECT_TRUE(has(env, "AWS_SHARED_CREDENTIALS_FILE=/dev/null"));
}

TEST(Rclone, GcsUsesTheGoogleBackendWithTheJsonApisBasePath) {
  RcloneCredentials credentials;
  credentials.gcs_service_account_file = "/etc/skylet/gcs-key.json";
  const auto env = rclone_environment(gcs_mount(), credentials, "/w/c", {}, std::nullopt);
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_TYPE=google cloud storage"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_ENDPOINT=http://127.0.0.1:4443/storage/v1/"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_BUCKET_POLICY_ONLY=true"));
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_SERVICE_ACCOUNT_FILE=/etc/skylet/gcs-key.json"));
  for (const auto& entry : env) {
    EXPECT_FALSE(entry.starts_with("AWS_")) << entry;
    EXPECT_FALSE(entry.starts_with("RCLONE_CONFIG_BUCKET_TOKEN")) << entry;
  }
  BucketMount google = gcs_mount();
  google.endpoint.clear();
  for (const auto& entry : rclone_environment(google, credentials, "/w/c", {}, std::nullopt))
    EXPECT_FALSE(entry.starts_with("RCLONE_CONFIG_BUCKET_ENDPOINT=")) << entry;
}

TEST(Rclone, WithoutAKeyFileGcsTokensComeFromSkyletsRelay) {
  RcloneCredentials credentials;
  credentials.gcs_token_url = "http://127.0.0.1:4100/token";
  credentials.gcs_refresh_secret = "f00d";
  const auto env = rclone_environment(gcs_mount(), credentials, "/w/c", {}, std::nullopt);
  EXPECT_TRUE(has(env, "RCLONE_CONFIG_BUCKET_TOKEN_URL=http://127.0.0.1:4100/token"));
  // An expired token: rclone's first call is the refresh grant, carrying the relay's secret.
  EXPECT_TRUE(has(env, R"(RCLONE_CONFIG_BUCKET_TOKEN={"access_token":"","token_type":"Bearer",)"
                       R"("refresh_token":"f00d","expiry":"2000-01-01T00:00:00Z"})"));
  EXPECT_TRUE(credentials.has_gcs());
  EXPECT_FALSE(RcloneCredentials{}.has_gcs());
}

TEST(Rclone, TakesNoAwsVariableFromSkylet) {
  const auto env = rclone_environment(
      s3rver_mount(MountMode::kMount), {}, "/w/c",
      {"AWS_ACCESS_KEY_ID=AKIA", "AWS_CA_BUNDLE=/x.pem", "RCLONE_CONFIG_BUCKET_TYPE=local", "A=1"},
      std::nullopt);
  for (const auto& entry : env) {
    EXPECT_FALSE(entry.starts_with("AWS_ACCESS_KEY_ID")) << entry;
    EXPECT_FALSE(entry.starts_with("AWS_CA_BUNDLE")) << entry;
    EXPECT_NE(entry, "RCLONE_CONFIG_BUCKET_TYPE=local");
    EXPECT_NE(entry, "A=1");
  }
}

TEST(Rclone, NoCredentialIsEverAnArgument) {
  MountOwner owner{1000, 1000, true};
  for (auto mode : {MountMode::kMount, MountMode::kMountCached}) {
    const auto argv =
        mount_argv("/usr/bin/rclone", s3rver_mount(mode), "/m", owner, "/w/cache", false);
    for (const auto& arg : argv) {
      EXPECT_FALSE(arg.find("secret") != std::string::npos ||
                   arg.find("AKIA") != std::string::npos);
    }
    EXPECT_EQ(argv[2], "bucket:my-ckpt/run/1");
    EXPECT_EQ(argv[3], "/m");
    EXPECT_TRUE(has(argv, "--allow-other"));
    EXPECT_TRUE(has(argv, "--default-permissions"));
  }
}

TEST(Rclone, MountStreamsAndMountCachedWritesBack) {
  MountOwner owner{0, 0, false};
  const auto plain =
      mount_argv("rclone", s3rver_mount(MountMode::kMount), "/m", owner, "/w/cache", false);
  EXPECT_TRUE(has(plain, "off"));
  EXPECT_FALSE(has(plain, "--rc"));
  EXPECT_FALSE(has(plain, "--allow-other"));
  const auto cached =
      mount_argv("rclone", s3rver_mount(MountMode::kMountCached), "/m", owner, "/w/cache", false);
  EXPECT_TRUE(has(cached, "full"));
  EXPECT_TRUE(has(cached, "/w/cache"));
  EXPECT_TRUE(has(cached, "127.0.0.1:0"));
}

TEST(Rclone, MountsOverAMountPointOnlyWhenAskedTo) {
  MountOwner owner;
  const auto plain =
      mount_argv("rclone", s3rver_mount(MountMode::kMount), "/m", owner, "/w/cache", false);
  EXPECT_FALSE(has(plain, "--allow-non-empty"));
  const auto over =
      mount_argv("rclone", s3rver_mount(MountMode::kMount), "/m", owner, "/w/cache", true);
  EXPECT_TRUE(has(over, "--allow-non-empty"));
}

TEST(Rclone, FindsTheRemoteControlPort) {
  EXPECT_EQ(rc_port_in("2026/12/02 00:05:18 NOTICE: Serving remote control on "
                       "http://127.0.0.1:46447/\n"),
            std::optional<std::uint16_t>(46447));
  EXPECT_EQ(rc_port_in("nothing yet"), std::nullopt);
  EXPECT_EQ(rc_port_in("Serving remote control on http://127.0.0.1:99999/"), std::nullopt);
}

TEST(Rclone, ReadsPendingUploadsFromVfsStats) {
  auto busy = parse_vfs_stats(
      R"({"diskCache":{"uploadsInProgress":1,"uploadsQueued":2,"erroredFiles":0},"fs":"b"})");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->queued, 2);
  EXPECT_EQ(busy->in_progress, 1);
  EXPECT_FALSE(busy->none());
  auto idle = parse_vfs_stats(R"({"diskCache":{"uploadsInProgress":0,"uploadsQueued":0}})");
  ASSERT_TRUE(idle);
  EXPECT_TRUE(idle->none());
  EXPECT_FALSE(parse_vfs_stats(R"({"fs":"b"})"));
}

TEST(Rclone, BasicAuthorizationIsBase64OfUserAndPassword) {
  EXPECT_EQ(basic_authorization({"u", "p"}), "Basic dTpw");
  EXPECT_EQ(basic_authorization({"skylet", "pw"}), "Basic c2t5bGV0OnB3");
}

TEST(Rclone, FindsItsMountInMountinfo) {
  const std::string mountinfo =
      "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
      "45 27 0:40 / /tmp/a\\040b rw,nosuid,nodev - fuse.rclone bucket{X}:ckpt rw,user_id=0\n"
      "46 27 0:41 / /tmp/other rw - tmpfs tmpfs rw\n";
  EXPECT_TRUE(has_rclone_mount(mountinfo, "/tmp/a b"));
  EXPECT_FALSE(has_rclone_mount(mountinfo, "/tmp/other"));
  EXPECT_FALSE(has_rclone_mount(mountinfo, "/tmp/a"));
  EXPECT_TRUE(has_mount(mountinfo, "/tmp/other"));
}

TEST(Rclone, GivesTheReasonFromItsLastLogLine) {
  EXPECT_EQ(last_reason("2026/12/02 00:06:15 Failed to lsjson: InvalidAccessKeyId: The AWS Access "
                        "Key Id you provided does not exist in our records.\n\tstatus code: 403, "
                        "request id: , host id: \n"),
            "Failed to lsjson: InvalidAccessKeyId: The AWS Access Key Id you provided does not "
            "exist in our records.");
  EXPECT_EQ(last_reason("2026/12/02 00:05:08 ERROR : directory not found\n"),
            "directory not found");
  EXPECT_EQ(last_reason("plain\n\n"), "plain");
}

}  // namespace
}  // namespace skyd::skylet
