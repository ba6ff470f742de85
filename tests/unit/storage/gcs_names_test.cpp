#include "providers/storage/bucket_names.hpp"

#include <gtest/gtest.h>

namespace skyd::providers::storage {
namespace {

bool breaks(std::string_view name, std::string_view phrase) {
  const auto problem = gcs_bucket_name_problem(name);
  return problem && problem->find(phrase) != std::string::npos;
}

TEST(GcsBucketName, AcceptsLowercaseDigitsDashesUnderscoresAndDots) {
  EXPECT_FALSE(gcs_bucket_name_problem("my-bucket_01"));
  EXPECT_FALSE(gcs_bucket_name_problem("abc"));
  EXPECT_FALSE(gcs_bucket_name_problem("data.example.com"));
  EXPECT_FALSE(gcs_bucket_name_problem(std::string(63, 'a')));
  // With dots up to 222 characters, each part at most 63.
  EXPECT_FALSE(gcs_bucket_name_problem(std::string(63, 'a') + "." + std::string(63, 'b')));
}

TEST(GcsBucketName, RefusesWhatGoogleRefuses) {
  EXPECT_TRUE(breaks("ab", "3 to 63"));
  EXPECT_TRUE(breaks(std::string(64, 'a'), "3 to 63"));
  EXPECT_TRUE(breaks("My-Bucket", "lowercase"));
  EXPECT_TRUE(breaks("_bucket", "begin and end"));
  EXPECT_TRUE(breaks("bucket-", "begin and end"));
  EXPECT_TRUE(breaks("a..b", "adjacent periods"));
  EXPECT_TRUE(breaks(std::string(64, 'a') + ".b", "longer than 63"));
  EXPECT_TRUE(breaks("192.168.5.4", "IP address"));
  EXPECT_TRUE(breaks("goog-data", "begins with `goog`"));
  EXPECT_TRUE(breaks("my-google-data", "holds `google`"));
}

TEST(GcsBucketName, UnderscoresAreGcsOnly) {
  EXPECT_FALSE(bucket_name_problem_in("gcs", "my_bucket"));
  EXPECT_TRUE(bucket_name_problem_in("s3", "my_bucket"));
}

TEST(GcsBucketUrl, ParsesGsUrlsWithGcsRules) {
  const auto parsed = parse_bucket_url("gs://my_data/train/2024");
  ASSERT_TRUE(parsed.url) << parsed.problem;
  EXPECT_EQ(parsed.url->store, "gcs");
  EXPECT_EQ(parsed.url->bucket, "my_data");
  EXPECT_EQ(parsed.url->prefix, "train/2024");
  EXPECT_TRUE(is_bucket_url("gs://x"));
  EXPECT_NE(parse_bucket_url("gs://my-google-data").problem.find("holds `google`"),
            std::string::npos);
  EXPECT_NE(parse_bucket_url("gs:///x").problem.find("names no bucket (expected gs://"),
            std::string::npos);
}

}  // namespace
}  // namespace skyd::providers::storage
