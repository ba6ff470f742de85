// skyd's bucket settings: where task buckets live by default, and the refusal of a store it lacks.
#include "daemon/config.hpp"
#include "reactor/small_files.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace skyd::daemon {
namespace {

Result<Invocation> with_config(const std::string& text) {
  const std::string path = std::filesystem::temp_directory_path().string() + "/skyd-storage-" +
                           std::to_string(::getpid()) + "-" +
                           std::to_string(std::hash<std::string>{}(text)) + ".yaml";
  EXPECT_TRUE(write_small_file(path, text));
  auto invocation = parse_command_line({"--config", path, "--state-dir", "/tmp/x"});
  std::filesystem::remove(path);
  return invocation;
}

std::string store_of(const std::string& text) {
  auto invocation = with_config(text);
  EXPECT_TRUE(invocation) << invocation.error().detail;
  return invocation ? invocation->config.effective_bucket_store() : "";
}

TEST(ConfigStorage, BucketsLiveInS3OnlyWhereS3IsKnown) {
  EXPECT_EQ(store_of(""), "local");                  // zero setup: the local provider's directories
  EXPECT_EQ(store_of("aws_enabled: true\n"), "s3");  // AWS's own EC2, AWS's own S3
  // An EC2 endpoint elsewhere (a test cloud) says nothing about S3: never AWS's S3 by default.
  EXPECT_EQ(store_of("aws_enabled: true\naws_endpoint: http://127.0.0.1:9\n"), "local");
  EXPECT_EQ(store_of("s3_endpoint: http://127.0.0.1:9000\n"), "s3");
  EXPECT_EQ(store_of("aws_enabled: true\nbucket_store: local\n"), "local");
  auto invocation = with_config("aws_instance_profile: skyd-nodes\ns3_region: eu-west-1\n");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.aws_instance_profile, "skyd-nodes");
  EXPECT_EQ(invocation->config.s3_region, "eu-west-1");
}

TEST(ConfigStorage, AnUnknownBucketStoreIsRefusedByName) {
  auto invocation = with_config("bucket_store: gcs\n");
  ASSERT_FALSE(invocation);
  EXPECT_NE(invocation.error().detail.find("'bucket_store': expected s3 or local"),
            std::string::npos)
      << invocation.error().detail;
}

}  // namespace
}  // namespace skyd::daemon
