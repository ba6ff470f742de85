// Task buckets in Google Cloud Storage end to end (docs/storage.md), on fakecloud's Compute Engine
// and Cloud Storage: skyd makes a `store: gcs` bucket, skylet mounts it on the node with rclone's
// GCS backend (tokens from skylet's relay, fed by the instance's metadata server) and copies a
// `gs://` prefix down; what the task wrote is read back with curl, a client nobody here wrote.
#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"
#include "tests/support/s3_server.hpp"
#include "tests/support/s3_skyd.hpp"

#include <string>

namespace skyd::testing {
namespace {

constexpr const char* kProject = "skyd-gcs-project";
constexpr const char* kSkydAccount = "skyd@skyd-gcs-project.iam.gserviceaccount.com";
constexpr const char* kNodeAccount = "nodes@skyd-gcs-project.iam.gserviceaccount.com";

std::string curl(const FakeCloudProcess& cloud, std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/curl", "-s"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.back() = cloud.url() + argv.back();
  return run_command(argv).out;
}

std::string mint(const FakeCloudProcess& cloud, const std::string& account) {
  auto reply = parse_json(
      curl(cloud, {"-X", "POST", "/_admin/gcp/tokens?lifetime_s=7200&account=" + account}));
  const Json* token = reply ? reply->find("access_token") : nullptr;
  return token && token->as_string() ? std::string(*token->as_string()) : "no-token";
}

// skyd on fakecloud's Compute Engine, its buckets in fakecloud's Cloud Storage.
std::map<std::string, std::string> gcs_settings(const FakeCloudProcess& cloud) {
  return {{"gcp_enabled", "true"},
          {"gcp_project", kProject},
          {"gcp_endpoint", cloud.url()},
          {"gcp_access_token", mint(cloud, kSkydAccount)},
          {"gcp_service_account", kNodeAccount},
          {"gcs_endpoint", cloud.url()},
          {"catalog_dir", SKYD_FAKECLOUD_CATALOG_DIR}};
}

struct GcsWorld {
  GcsWorld()
      : cloud(dir, {"--private-node-roots"}),
        token(mint(cloud, kSkydAccount)),
        skyd(gcs_settings(cloud)) {}
  // S3 (a test's s3rver) as the default store, GCS beside it.
  explicit GcsWorld(const S3Server& s3)
      : cloud(dir, {"--private-node-roots"}),
        token(mint(cloud, kSkydAccount)),
        skyd(s3_settings(s3, gcs_settings(cloud)), s3_environment(s3)) {}
  ~GcsWorld() {
    skyd.sky({"jobs", "cancel", "-u", "-y"});
    skyd.no_machines_left();
  }
  std::string api(const std::string& method, const std::string& target,
                  std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"-X", method, "-H", "Authorization: Bearer " + token};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(target);
    return curl(cloud, args);
  }
  // An object's bytes as Cloud Storage holds them, through curl.
  std::string object(const std::string& bucket, const std::string& escaped_name) {
    return api("GET", "/storage/v1/b/" + bucket + "/o/" + escaped_name + "?alt=media");
  }

  TempDir dir;
  FakeCloudProcess cloud;
  std::string token;
  SkydHarness skyd;
};

TEST(GcsJobs, AJobOnComputeEngineMountsAGcsBucketAndCopiesAGsPrefix) {
  GcsWorld world;
  // A bucket that exists before the job, filled by another client: the job copies a prefix.
  world.api("POST", std::string("/storage/v1/b?project=") + kProject,
            {"-H", "Content-Type: application/json", "-d", R"({"name":"gcs-inputs"})"});
  world.api("POST", "/upload/storage/v1/b/gcs-inputs/o?uploadType=media&name=train%2Fa.txt",
            {"-H", "Content-Type: text/plain", "--data-binary", "tokens of the corpus"});
  const auto yaml = world.skyd.write_file(
      "gcs.yaml",
      "name: gcs-job\nresources:\n  cloud: gcp\n  instance_type: n2-standard-8\n"
      "file_mounts:\n"
      "  /checkpoint:\n    name: gcs-ckpt\n    store: gcs\n    mode: MOUNT\n"
      "  /inputs: gs://gcs-inputs/train\n"
      "run: |\n"
      "  cat /inputs/a.txt > /checkpoint/copied.txt\n"
      "  mkdir -p /checkpoint/step && echo 12 > /checkpoint/step/last\n"
      // Larger than rclone's 16 MiB chunk: a resumable upload through the mount.
      "  head -c 20971520 /dev/zero | tr '\\0' 'z' > /checkpoint/big.bin\n"
      "  ls /checkpoint\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED")
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  auto logs = world.skyd.sky({"jobs", "logs", "--no-follow", "1"});
  EXPECT_TRUE(contains(logs.out, "copied.txt")) << logs.out;
  // What the task wrote through the mount is in the bucket skyd made in its project.
  EXPECT_EQ(world.object("gcs-ckpt", "copied.txt"), "tokens of the corpus");
  EXPECT_EQ(world.object("gcs-ckpt", "step%2Flast"), "12\n");
  const std::string big = world.object("gcs-ckpt", "big.bin");
  EXPECT_EQ(big.size(), 20971520u);
  EXPECT_EQ(big.find_first_not_of('z'), std::string::npos);
  const std::string buckets = curl(world.cloud, {"/_admin/gcs/buckets"});
  EXPECT_TRUE(contains(buckets, "gcs-ckpt")) << buckets;
  EXPECT_TRUE(contains(buckets, kProject)) << buckets;
  // skyd records it as a GCS bucket it made; the copied one as one it did not.
  EXPECT_EQ(sql_value(world.skyd,
                      "SELECT store || ':' || created_by_skyd FROM buckets WHERE "
                      "name = 'gcs-ckpt'"),
            "gcs:true");
  EXPECT_EQ(sql_value(world.skyd,
                      "SELECT store || ':' || created_by_skyd FROM buckets WHERE "
                      "name = 'gcs-inputs'"),
            "gcs:false");
  EXPECT_TRUE(contains(world.skyd.sky({"storage", "ls"}).out, "gcs-ckpt"));
  // `sky storage delete` empties and deletes the GCS bucket skyd made, and only forgets the other.
  auto deleted = world.skyd.sky({"storage", "delete", "-y", "gcs-ckpt"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  auto forgotten = world.skyd.sky({"storage", "delete", "-y", "gcs-inputs"});
  EXPECT_EQ(forgotten.exit_code, 0) << forgotten.out << forgotten.err;
  const std::string left = curl(world.cloud, {"/_admin/gcs/buckets"});
  EXPECT_FALSE(contains(left, "gcs-ckpt")) << left;
  EXPECT_TRUE(contains(left, "gcs-inputs")) << left;
}

TEST(GcsJobs, OneJobKeepsAnS3BucketAndAGcsBucket) {
  TempDir s3_dir;
  S3Server s3(s3_dir);
  GcsWorld world(s3);
  const auto yaml = world.skyd.write_file(
      "both.yaml",
      "name: both\n---\n"
      "name: on-local\nresources:\n  infra: local\n"
      "file_mounts:\n  ~/s3out:\n    name: mixed-s3\n    mode: MOUNT\n"
      "run: echo from local > ~/s3out/local.txt\n---\n"
      "name: on-gce\nresources:\n  cloud: gcp\n  instance_type: n2-standard-8\n"
      "file_mounts:\n  /gcsout:\n    name: mixed-gcs\n    store: gcs\n    mode: MOUNT\n"
      "run: echo from gce > /gcsout/gce.txt\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED")
      << world.skyd.sky({"jobs", "logs", "--controller", "--no-follow", "1"}).out;
  // The entry without `store:` went to the default store (S3), the other to GCS.
  EXPECT_EQ(get_object(s3, "mixed-s3", "local.txt").value_or("missing"), "from local\n");
  EXPECT_EQ(world.object("mixed-gcs", "gce.txt"), "from gce\n");
  EXPECT_EQ(sql_value(world.skyd,
                      "SELECT string_agg(store || ':' || name, ',' ORDER BY name) "
                      "FROM buckets"),
            "gcs:mixed-gcs,s3:mixed-s3");
}

TEST(GcsJobs, ABucketOfAnotherProjectEndsTheTaskBeforeAnyMachine) {
  GcsWorld world;
  const std::string theirs = mint(world.cloud, "other@other-project.iam.gserviceaccount.com");
  curl(world.cloud, {"-X", "POST", "-H", "Authorization: Bearer " + theirs, "-H",
                     "Content-Type: application/json", "-d", R"({"name":"taken-ckpt"})",
                     "/storage/v1/b?project=other-project"});
  const auto yaml = world.skyd.write_file(
      "taken.yaml",
      "name: taken\nresources:\n  cloud: gcp\n  instance_type: n2-standard-8\n"
      "file_mounts:\n  /checkpoint:\n    name: taken-ckpt\n    store: gcs\nrun: echo never\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"FAILED_PRECHECKS"}));
  EXPECT_TRUE(contains(world.skyd.job_json(1), "taken-ckpt exists but belongs to another account"))
      << world.skyd.job_json(1);
  EXPECT_EQ(curl(world.cloud, {"/_admin/gcp/stats"}).find("\"running\":1"), std::string::npos);
}

}  // namespace
}  // namespace skyd::testing
