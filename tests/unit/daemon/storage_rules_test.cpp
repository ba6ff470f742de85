// What the controller accepts of a task's buckets before a job exists (bucket_keeper.hpp's
// storage_problem), and the upload a storage mount's `source:` directory needs.
#include "daemon/api_validation.hpp"
#include "daemon/controller/bucket_keeper.hpp"
#include "daemon/spec/names.hpp"
#include "daemon/spec/parser.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

spec::Pipeline pipeline_of(const std::string& yaml) {
  auto parsed = spec::parse_pipeline(yaml, "task.yaml");
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().detail);
  return parsed ? *parsed : spec::Pipeline{};
}

std::string problem(const std::string& mounts, std::string_view store = "s3") {
  return storage_problem(pipeline_of("run: 'true'\nfile_mounts:\n" + mounts), store);
}

TEST(StorageRules, EveryS3FormIsAccepted) {
  EXPECT_EQ(problem("  /ckpt:\n    name: my-ckpt\n    store: s3\n    mode: MOUNT\n"), "");
  EXPECT_EQ(problem("  /data: s3://public-bucket/prefix\n"), "");
  EXPECT_EQ(problem("  /inputs:\n    name: my-inputs\n    source: ~/local/dir\n    mode: COPY\n"),
            "");
  EXPECT_EQ(problem("  /w:\n    source: s3://weights/v2\n    mode: MOUNT_CACHED\n"), "");
  EXPECT_EQ(problem("  /cfg: ./config.yaml\n"), "");  // a local file: not a bucket at all
}

TEST(StorageRules, StoresThisSkydLacksAreRefusedByEntry) {
  EXPECT_CONTAINS(problem("  /d: gs://bucket/x\n"),
                  "file_mounts./d: gs://bucket/x is a GCS bucket, which is not available: this "
                  "skyd keeps buckets in S3 (store: s3, s3://...); GCS needs Google Cloud");
  EXPECT_CONTAINS(problem("  /d:\n    name: bkt1\n    store: gcs\n"),
                  "file_mounts./d: store GCS is not available");
  EXPECT_CONTAINS(problem("  /d: s3://bucket/x\n", "gcs"),
                  "file_mounts./d: s3://bucket/x is an S3 bucket, which is not available");
  EXPECT_CONTAINS(problem("  /d:\n    name: bkt1\n    store: azure\n"),
                  "file_mounts./d: store AZURE is not available");
  // The local provider's directories take any of them (the zero-setup default).
  EXPECT_EQ(problem("  /d: gs://bucket/x\n", "local"), "");
}

std::string problem_in(const std::string& mounts, BucketStores stores) {
  return storage_problem(pipeline_of("run: 'true'\nfile_mounts:\n" + mounts), stores);
}

TEST(StorageRules, S3AndGcsInOneTaskWhenBothAreReachable) {
  const BucketStores both{"s3", {"s3", "gcs"}};
  EXPECT_EQ(problem_in("  /a:\n    name: ckpt-a\n    store: gcs\n    mode: MOUNT\n"
                       "  /b: gs://data-b/train\n"
                       "  /c:\n    name: ckpt-c\n"
                       "  /d: s3://data-d\n",
                       both),
            "");
  EXPECT_EQ(
      store_of(pipeline_of("run: x\nfile_mounts:\n  /a: gs://bkt1/x\n").tasks[0].file_mounts[0],
               "s3"),
      "gcs");
  EXPECT_EQ(
      store_of(pipeline_of("run: x\nfile_mounts:\n  /a: {name: bkt1}\n").tasks[0].file_mounts[0],
               "gcs"),
      "gcs");
}

TEST(StorageRules, AStoreThatContradictsItsUrlIsRefused) {
  const BucketStores both{"s3", {"s3", "gcs"}};
  EXPECT_CONTAINS(problem_in("  /a:\n    source: s3://data-a\n    store: gcs\n", both),
                  "file_mounts./a: store GCS does not match s3://data-a, an S3 bucket");
}

TEST(StorageRules, ADefaultGcsBucketFollowsGcsNames) {
  // The parser checks S3's rules without a store; a GCS default checks Google's too.
  EXPECT_CONTAINS(problem_in("  /a:\n    name: my-google-data\n", BucketStores{"gcs", {"gcs"}}),
                  "bucket name `my-google-data` holds `google`");
}

TEST(StorageRules, ANameAndARemoteSourceAreOneTooMany) {
  EXPECT_CONTAINS(problem("  /d:\n    name: mine\n    source: s3://theirs\n"),
                  "give `name:` for a bucket to make or fill, or `source: s3://theirs`");
  EXPECT_CONTAINS(problem("  /d:\n    source: ~/dir\n"),
                  "a `source:` directory is uploaded into a bucket: give the bucket's `name:`");
  EXPECT_CONTAINS(problem("  /d:\n    name: mine\n    source: [~/a, ~/b]\n"),
                  "filled from one `source:` directory");
}

TEST(StorageRules, ABareBucketUrlIsACopyOfItsPrefix) {
  const auto pipeline = pipeline_of("run: 'true'\nfile_mounts:\n  /data: s3://pub/a/b/\n");
  ASSERT_EQ(pipeline.tasks.size(), 1u);
  const spec::FileMount& mount = pipeline.tasks[0].file_mounts.at(0);
  EXPECT_EQ(mount.mode, spec::MountMode::kCopy);
  EXPECT_EQ(spec::bucket_of_url(mount.sources[0]), "pub");
}

TEST(StorageRules, AStorageSourceDirectoryIsUploadedLikeAnyLocalPath) {
  const std::string task =
      R"({"run":"ls","file_mounts":{"/in":{"name":"my-inputs","source":"/home/a/in","mode":"COPY"}}})";
  const std::string body = R"({"name":"j","pipeline":{"name":"j","tasks":[)" + task + "]}}";
  auto missing = parse_submit_body(body);
  ASSERT_FALSE(missing);
  EXPECT_CONTAINS(missing.error().detail,
                  "pipeline.tasks[0].file_mounts./in: a local path must be uploaded first");
  const std::string digest(64, 'b');
  auto uploaded =
      parse_submit_body(R"({"name":"j","uploads":[{"task":0,"destination":"/in","digest":")" +
                        digest + R"("}],"pipeline":{"name":"j","tasks":[)" + task + "]}}");
  ASSERT_TRUE(uploaded) << uploaded.error().detail;
  EXPECT_EQ(uploaded->uploads.at(0).destination, "/in");
}

}  // namespace
}  // namespace skyd::daemon
