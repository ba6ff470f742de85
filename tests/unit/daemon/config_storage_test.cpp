// skyd's bucket settings: where task buckets live by default, and the refusal of a store it lacks.
#include "tests/unit/daemon/config_file.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace skyd::daemon {
namespace {

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
  auto invocation = with_config("bucket_store: azure\n");
  ASSERT_FALSE(invocation);
  EXPECT_NE(invocation.error().detail.find("'bucket_store': expected s3, gcs or local"),
            std::string::npos)
      << invocation.error().detail;
}

std::vector<std::string> stores_of(const std::string& text) {
  auto invocation = with_config(text);
  EXPECT_TRUE(invocation) << invocation.error().detail;
  return invocation ? invocation->config.bucket_stores() : std::vector<std::string>{};
}

TEST(ConfigStorage, GcsGoesWithGooglesOwnComputeEngineOrAGcsEndpoint) {
  EXPECT_EQ(store_of("gcp_enabled: true\ngcp_project: p1\n"), "gcs");
  // A Compute Engine elsewhere (a test cloud) says nothing about where Cloud Storage is.
  EXPECT_EQ(store_of("gcp_enabled: true\ngcp_project: p1\ngcp_endpoint: http://127.0.0.1:9\n"),
            "local");
  EXPECT_EQ(store_of("gcs_endpoint: http://127.0.0.1:9\ngcp_project: p1\n"), "gcs");
  auto invocation = with_config("bucket_store: gcs\ngcp_project: p1\n");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_EQ(invocation->config.effective_gcs_endpoint(), "https://storage.googleapis.com");
}

TEST(ConfigStorage, S3AndGcsTogetherTheDefaultFirst) {
  EXPECT_EQ(stores_of("s3_endpoint: http://127.0.0.1:9000\ngcs_endpoint: http://127.0.0.1:9\n"
                      "gcp_project: p1\n"),
            (std::vector<std::string>{"s3", "gcs"}));
  EXPECT_EQ(stores_of("bucket_store: gcs\ns3_endpoint: http://127.0.0.1:9000\ngcp_project: p1\n"),
            (std::vector<std::string>{"gcs", "s3"}));
  EXPECT_EQ(stores_of("s3_endpoint: http://127.0.0.1:9000\n"), (std::vector<std::string>{"s3"}));
  EXPECT_TRUE(stores_of("bucket_store: local\ngcs_endpoint: http://127.0.0.1:9\ngcp_project: "
                        "p1\n")
                  .empty());
}

TEST(ConfigStorage, GcsBucketsNeedAProject) {
  auto invocation = with_config("bucket_store: gcs\n");
  ASSERT_FALSE(invocation);
  EXPECT_NE(invocation.error().detail.find("need gcp_project"), std::string::npos)
      << invocation.error().detail;
}

}  // namespace
}  // namespace skyd::daemon
