#include "daemon/skylet/bucket_mount.hpp"
#include "daemon/skylet_client.hpp"

#include <gtest/gtest.h>

namespace skyd::skylet {
namespace {

Json valid_entry() {
  Json json = Json::object();
  json.set("destination", "/checkpoint");
  json.set("mode", "MOUNT_CACHED");
  json.set("store", "s3");
  json.set("bucket", "my-ckpt");
  json.set("prefix", "runs/a");
  json.set("endpoint", "http://127.0.0.1:9000");
  json.set("region", "us-east-1");
  return json;
}

std::string error_of(Json json) {
  auto parsed = bucket_mount_from_json(json, "mounts[0]");
  return parsed ? std::string() : parsed.error().detail;
}

Json with(std::string_view key, std::string value) {
  Json json = valid_entry();
  json.set(key, std::move(value));
  return json;
}

TEST(BucketMount, ReadsEveryField) {
  auto parsed = bucket_mount_from_json(valid_entry(), "mounts[0]");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->destination, "/checkpoint");
  EXPECT_EQ(parsed->mode, MountMode::kMountCached);
  EXPECT_EQ(parsed->store, Store::kS3);
  EXPECT_EQ(parsed->bucket, "my-ckpt");
  EXPECT_EQ(parsed->prefix, "runs/a");
  EXPECT_EQ(parsed->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(parsed->region, "us-east-1");
}

TEST(BucketMount, RoundTripsThroughJson) {
  auto parsed = bucket_mount_from_json(valid_entry(), "m");
  ASSERT_TRUE(parsed);
  auto again = bucket_mount_from_json(to_json(*parsed), "m");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *parsed);
}

TEST(BucketMount, AcceptsEmptyPrefixEndpointAndRegionAndHomeDestinations) {
  Json json = valid_entry();
  json.set("prefix", "");
  json.set("endpoint", "");
  json.set("region", "");
  for (const char* destination : {"~/ckpt", "data", "/a/b/"}) {
    json.set("destination", destination);
    EXPECT_EQ(error_of(json), "") << destination;
  }
}

TEST(BucketMount, RefusesAnUnknownModeByName) {
  EXPECT_EQ(error_of(with("mode", "STREAM")),
            "mounts[0].mode: expected MOUNT, MOUNT_CACHED or COPY, got \"STREAM\"");
}

TEST(BucketMount, RefusesAnUnknownStore) {
  EXPECT_EQ(error_of(with("store", "azure")), "mounts[0].store: expected s3 or gcs, got \"azure\"");
}

TEST(BucketMount, AcceptsGcsWithGcsBucketNames) {
  Json json = valid_entry();
  json.set("store", "gcs");
  json.set("bucket", "my_ckpt");  // an underscore: GCS's rules, not S3's
  json.set("region", "");
  auto mount = bucket_mount_from_json(json, "mounts[0]");
  ASSERT_TRUE(mount) << mount.error().detail;
  EXPECT_EQ(mount->store, Store::kGcs);
  EXPECT_EQ(to_json(*mount).find("store")->as_string(), "gcs");
  json.set("bucket", "goog-ckpt");
  EXPECT_NE(error_of(json).find("mounts[0].bucket: \"goog-ckpt\" begins with `goog`"),
            std::string::npos);
}

TEST(BucketMount, RefusesAnUnknownField) {
  Json json = valid_entry();
  json.set("persistent", "true");
  EXPECT_EQ(error_of(json), "mounts[0].persistent: is not a field of a bucket mount");
}

TEST(BucketMount, RefusesANonStringField) {
  Json json = valid_entry();
  json.set("bucket", 42);
  EXPECT_EQ(error_of(json), "mounts[0].bucket: must be a string");
}

TEST(BucketMount, RefusesBadBucketNames) {
  for (const char* bucket : {"", "ab", "My-Bucket", "a/b", "a..b", "-ab", "192.168.1.1"}) {
    EXPECT_TRUE(error_of(with("bucket", bucket)).starts_with("mounts[0].bucket: ")) << bucket;
  }
}

TEST(BucketMount, RefusesDestinationsThatAreNotAPathOnTheNode) {
  for (const char* destination : {"", "/", "~", "~/", "~root/x", "/a/../b", "a//b", "./x"}) {
    EXPECT_TRUE(error_of(with("destination", destination)).starts_with("mounts[0].destination: "))
        << destination;
  }
}

TEST(BucketMount, RefusesPrefixesWithEmptyOrDotParts) {
  for (const char* prefix : {"/a", "a/", "a//b", "..", "a/./b"}) {
    EXPECT_TRUE(error_of(with("prefix", prefix)).starts_with("mounts[0].prefix: ")) << prefix;
  }
}

TEST(BucketMount, RefusesAnEndpointThatIsNotAnHttpUrl) {
  EXPECT_EQ(error_of(with("endpoint", "ftp://x")),
            "mounts[0].endpoint: is not an http:// or https:// URL");
  EXPECT_TRUE(error_of(with("endpoint", "http://a b")).starts_with("mounts[0].endpoint: "));
}

TEST(BucketMount, RefusesABadRegion) {
  EXPECT_TRUE(error_of(with("region", "US East")).starts_with("mounts[0].region: "));
}

TEST(BucketMount, RefusesANulByte) {
  EXPECT_EQ(error_of(with("prefix", std::string("a\0b", 3))), "mounts[0].prefix: holds a NUL byte");
}

TEST(BucketMounts, ListMissingOrNullIsEmpty) {
  auto none = bucket_mounts_from_json(nullptr);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  Json null;
  auto also_none = bucket_mounts_from_json(&null);
  ASSERT_TRUE(also_none);
  EXPECT_TRUE(also_none->empty());
}

TEST(BucketMounts, RefusesTwoMountsAtOneDestination) {
  Json list = Json::array();
  list.push_back(valid_entry());
  list.push_back(valid_entry());
  auto parsed = bucket_mounts_from_json(&list);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().detail, "mounts[1].destination: duplicate destination /checkpoint");
}

TEST(BucketMounts, NamesTheEntryThatIsWrong) {
  Json list = Json::array();
  list.push_back(valid_entry());
  Json second = valid_entry();
  second.set("destination", "/data");
  second.set("mode", "copy");
  list.push_back(second);
  auto parsed = bucket_mounts_from_json(&list);
  ASSERT_FALSE(parsed);
  EXPECT_TRUE(parsed.error().detail.starts_with("mounts[1].mode: ")) << parsed.error().detail;
}

TEST(AttemptRequestJson, CarriesItsMountsAsSkyletReadsThem) {
  daemon::AttemptRequest request;
  request.attempt_id = "a-1";
  auto mount = bucket_mount_from_json(valid_entry(), "m");
  ASSERT_TRUE(mount);
  request.mounts.push_back(*mount);
  const Json body = daemon::to_json(request);
  auto back = bucket_mounts_from_json(body.find("mounts"));
  ASSERT_TRUE(back) << back.error().detail;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(back->front(), *mount);
}

}  // namespace
}  // namespace skyd::skylet
