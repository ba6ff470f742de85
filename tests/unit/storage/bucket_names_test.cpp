#include "providers/storage/bucket_names.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace skyd::providers::storage {
namespace {

bool breaks(std::string_view name, std::string_view rule) {
  const auto problem = s3_bucket_name_problem(name);
  return problem && problem->find(rule) != std::string::npos;
}

TEST(BucketNames, AcceptsValidNames) {
  const std::vector<std::string> names{"abc", "my-ckpt", "data.v2.example", "0bucket9",
                                       std::string(63, 'a')};
  for (const auto& name : names) EXPECT_FALSE(s3_bucket_name_problem(name)) << name;
}

TEST(BucketNames, RefusesLengthOutsideThreeToSixtyThree) {
  EXPECT_TRUE(breaks("ab", "a bucket name has 3 to 63"));
  EXPECT_TRUE(breaks(std::string(64, 'a'), "a bucket name has 3 to 63"));
}

TEST(BucketNames, RefusesUppercaseAndUnderscores) {
  EXPECT_TRUE(breaks("My-Bucket", "holds `M`; a bucket name has only lowercase letters"));
  EXPECT_TRUE(breaks("my_bucket", "holds `_`"));
}

TEST(BucketNames, RefusesEdgesThatAreNotLettersOrDigits) {
  EXPECT_TRUE(breaks("-bucket", "begin and end with a lowercase letter or a digit"));
  EXPECT_TRUE(breaks("bucket.", "begin and end with a lowercase letter or a digit"));
}

TEST(BucketNames, RefusesAdjacentDots) {
  EXPECT_TRUE(breaks("my..bucket", "two adjacent periods"));
}

TEST(BucketNames, RefusesIpAddresses) {
  EXPECT_TRUE(breaks("192.168.5.4", "IP address"));
  EXPECT_FALSE(s3_bucket_name_problem("192.168.5.4.5"));
  EXPECT_FALSE(s3_bucket_name_problem("300.168.5.4"));
}

TEST(BucketNames, RefusesReservedPrefixesAndSuffixes) {
  EXPECT_TRUE(breaks("xn--bucket", "begins with `xn--`"));
  EXPECT_TRUE(breaks("sthree-bucket", "begins with `sthree-`"));
  EXPECT_TRUE(breaks("bucket-s3alias", "ends with `-s3alias`"));
  EXPECT_TRUE(breaks("bucket--ol-s3", "ends with `--ol-s3`"));
}

TEST(BucketUrl, ParsesBucketAndPrefix) {
  const auto parsed = parse_bucket_url("s3://my-data/train/2024");
  ASSERT_TRUE(parsed.url) << parsed.problem;
  EXPECT_EQ(parsed.url->store, "s3");
  EXPECT_EQ(parsed.url->bucket, "my-data");
  EXPECT_EQ(parsed.url->prefix, "train/2024");
  const auto whole = parse_bucket_url("s3://my-data");
  ASSERT_TRUE(whole.url);
  EXPECT_EQ(whole.url->prefix, "");
}

TEST(BucketUrl, RefusesOtherSchemesMissingBucketsAndBadNames) {
  EXPECT_NE(parse_bucket_url("az://bb/x").problem.find("store 'az' is not supported"),
            std::string::npos);
  EXPECT_NE(parse_bucket_url("s3:///x").problem.find("names no bucket"), std::string::npos);
  EXPECT_NE(parse_bucket_url("s3://My_Bucket/x").problem.find("lowercase"), std::string::npos);
  EXPECT_NE(parse_bucket_url("/local/path").problem.find("not a bucket URL"), std::string::npos);
  EXPECT_TRUE(is_bucket_url("s3://x"));
  EXPECT_FALSE(is_bucket_url("/tmp/x"));
}

}  // namespace
}  // namespace skyd::providers::storage
