// Task buckets in S3 end to end (docs/storage.md): skyd makes, fills and deletes them, skylet
// mounts and copies them with rclone, on the local provider's machines and on fakecloud's EC2
// nodes. The S3 server is s3rver (npm), started per test; what landed in a bucket is read back with
// Debian's AWS CLI, a client nobody here wrote.
#include "tests/support/aws_world.hpp"
#include "tests/support/s3_server.hpp"
#include "tests/support/s3_skyd.hpp"
#include "tests/support/skyd_harness.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace skyd::testing {
namespace {

namespace fs = std::filesystem;

std::string task_field(SkydHarness& skyd, long long id, const std::string& field) {
  return sql_value(skyd, "SELECT " + field + " FROM tasks WHERE job_id = " + std::to_string(id) +
                             " AND task_index = 0");
}

// Counts to 12, one step per half second, and saves each step in the bucket mounted at `dir`;
// stops at a spot notice, and a relaunch resumes from the saved step. A run that starts from
// scratch holds at step 6 until its notice, so it cannot finish before the test's preemption
// lands however slow the machine is.
std::string counting_run(const std::string& dir) {
  return "run: |\n"
         "  step=$(cat " +
         dir +
         "/step 2>/dev/null || echo 0)\n"
         "  first=$step\n"
         "  echo \"resuming at step $step\"\n"
         "  while [ \"$step\" -lt 12 ]; do\n"
         "    if [ -s \"$SKYPILOT_SPOT_NOTICE_FILE\" ]; then echo \"notice at $step\"; exit 143; "
         "fi\n"
         "    if [ \"$first\" -eq 0 ] && [ \"$step\" -ge 6 ]; then sleep 0.2; continue; fi\n"
         "    step=$((step + 1)); echo \"step $step\"; echo \"$step\" > " +
         dir +
         "/step\n"
         "    sleep 0.5\n"
         "  done\n"
         "  echo \"done at step $step\"\n";
}

bool wait_for_step(const S3Server& s3, const std::string& bucket, int at_least) {
  return wait_until(
      [&] {
        auto got = aws_s3(s3, {"s3", "cp", "s3://" + bucket + "/step", "-"});
        return got.exit_code == 0 && std::atoi(got.out.c_str()) >= at_least;
      },
      std::chrono::seconds(90));
}

void expect_resumed_from_checkpoint(SkydHarness& skyd, long long id) {
  auto logs = skyd.sky({"jobs", "logs", std::to_string(id)});
  EXPECT_EQ(logs.exit_code, 0) << logs.out << logs.err;
  const auto second = logs.out.find("== attempt 2");
  ASSERT_NE(second, std::string::npos) << logs.out;
  EXPECT_TRUE(contains(logs.out.substr(0, second), "resuming at step 0")) << logs.out;
  EXPECT_FALSE(contains(logs.out.substr(second), "resuming at step 0"))
      << "the relaunched run starts from the checkpoint in the bucket: " << logs.out;
  EXPECT_TRUE(contains(logs.out, "done at step 12")) << logs.out;
}

// A skyd whose buckets live in the test's own S3 server.
class Storage : public ::testing::Test {
 protected:
  TempDir dir;
  S3Server s3{dir};
  SkydHarness skyd{s3_settings(s3), s3_environment(s3)};
};

TEST_F(Storage, ASpotJobResumesFromItsMountedBucketAfterAPreemption) {
  const auto yaml =
      skyd.write_file("ckpt.yaml",
                      "name: ckpt\nresources:\n  infra: local\n  use_spot: true\n"
                      "file_mounts:\n  ~/ckpt:\n    name: local-ckpt\n    mode: MOUNT\n" +
                          counting_run("~/ckpt"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_step(s3, "local-ckpt", 3)) << skyd.sky({"jobs", "logs", "1"}).out;
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"SUCCEEDED"}, std::chrono::seconds(120)))
      << skyd.sky({"jobs", "logs", "--controller", "1"}).out;
  expect_resumed_from_checkpoint(skyd, 1);
  EXPECT_EQ(task_field(skyd, 1, "recovery_count"), "1");
  EXPECT_EQ(object_text(s3, "local-ckpt", "step"), "12\n");
  // Made for the job, kept after it (persistent by default), listed with its owner job.
  const auto listed = skyd.sky({"storage", "ls"});
  EXPECT_TRUE(contains(listed.out, "local-ckpt")) << listed.out;
  EXPECT_TRUE(contains(listed.out, "skyd")) << listed.out;
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST_F(Storage, ACachedMountIsDrainedIntoTheBucketBeforeACancelEnds) {
  const std::string written = dir.file("written");
  const auto yaml =
      skyd.write_file("cached.yaml",
                      "name: cached\nresources:\n  infra: local\n"
                      "file_mounts:\n  ~/out:\n    name: cached-out\n    mode: MOUNT_CACHED\n"
                      "run: |\n"
                      "  head -c 3000000 /dev/urandom | base64 > ~/out/model.txt\n"
                      "  md5sum < ~/out/model.txt | cut -d' ' -f1 > " +
                          written + ".tmp && mv " + written + ".tmp " + written +
                          "\n"
                          "  sleep 600\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(written, std::chrono::seconds(90)));
  ASSERT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}, std::chrono::seconds(120)));
  // The moment the job is CANCELLED, the file written through the cache is in the bucket whole.
  auto object = aws_s3(s3, {"s3", "cp", "s3://cached-out/model.txt", dir.file("model.txt")});
  ASSERT_EQ(object.exit_code, 0) << object.err;
  auto digest = run_command({"/bin/sh", "-c", "md5sum < " + dir.file("model.txt")});
  EXPECT_EQ(digest.out.substr(0, 32), read_text(written).substr(0, 32));
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST_F(Storage, ABucketUrlIsCopiedOnlyForItsPrefixAndAMissingBucketFailsPrechecksByName) {
  make_bucket(s3, "public-data",
              {{"train/a.txt", "alpha\n"}, {"train/b.txt", "beta\n"}, {"eval/c.txt", "gamma\n"}});
  const auto yaml = skyd.write_file(
      "copy.yaml",
      "name: copy\nresources:\n  infra: local\nfile_mounts:\n  ~/data: s3://public-data/train\n"
      "run: ls ~/data | sort | tr '\\n' ' '; echo; cat ~/data/a.txt\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "a.txt b.txt \n")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "alpha")) << launched.out;
  EXPECT_FALSE(contains(launched.out, "c.txt")) << launched.out;

  const auto missing = skyd.write_file(
      "missing.yaml",
      "name: missing\nresources:\n  infra: local\nfile_mounts:\n  ~/data: s3://no-such-bucket-x\n"
      "run: echo never\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", missing}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(2, {"FAILED_PRECHECKS"}));
  EXPECT_TRUE(contains(skyd.job_json(2), "bucket no-such-bucket-x does not exist"))
      << skyd.job_json(2);
  EXPECT_FALSE(bucket_exists(s3, "no-such-bucket-x")) << "a bucket URL is never made";
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST_F(Storage, AStoreThisSkydLacksIsRefusedAtSubmitNamingTheEntry) {
  const auto yaml = skyd.write_file(
      "gcs.yaml",
      "name: gcs\nresources:\n  infra: local\nfile_mounts:\n  /data: gs://bucket-x/train\n"
      "  /out:\n    name: results-x\n    store: gcs\nrun: echo never\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  EXPECT_EQ(launched.exit_code, 1) << launched.out;
  EXPECT_TRUE(contains(launched.err,
                       "file_mounts./data: gs://bucket-x/train is a GCS bucket, which is not "
                       "available: this skyd keeps buckets in S3"))
      << launched.err;
  EXPECT_TRUE(contains(skyd.sky({"jobs", "queue", "-a"}).out, "No in-progress managed jobs"));
  EXPECT_EQ(sql_value(skyd, "SELECT count(*) FROM jobs"), "0");
  EXPECT_EQ(sql_value(skyd, "SELECT count(*) FROM buckets"), "0");
}

TEST_F(Storage, ANonPersistentBucketGoesWithItsJobAndOneSkydDidNotMakeNeverDoes) {
  make_bucket(s3, "team-results", {{"old.txt", "from before\n"}});
  const std::string inputs = dir.file("inputs");
  fs::create_directories(inputs + "/sub");
  std::ofstream(inputs + "/sub/config.txt") << "lr=0.1\n";
  const auto yaml = skyd.write_file(
      "scratch.yaml",
      "name: scratch\nresources:\n  infra: local\nfile_mounts:\n"
      "  ~/scratch:\n    name: job-scratch\n    source: " +
          inputs +
          "\n    mode: MOUNT\n    persistent: false\n"
          "  ~/results:\n    name: team-results\n    mode: MOUNT\n    persistent: false\n"
          "run: cat ~/scratch/sub/config.txt; echo done > ~/results/new.txt\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "lr=0.1")) << launched.out;
  // The bucket skyd made for the job went with it; the one that was there stays, with both files.
  EXPECT_TRUE(
      wait_until([&] { return !bucket_exists(s3, "job-scratch"); }, std::chrono::seconds(30)))
      << read_text(skyd.log_file());
  EXPECT_EQ(object_text(s3, "team-results", "old.txt"), "from before\n");
  EXPECT_EQ(object_text(s3, "team-results", "new.txt"), "done\n");
  EXPECT_EQ(sql_value(skyd, "SELECT state FROM buckets WHERE name = 'job-scratch'"), "deleted");
  EXPECT_EQ(sql_value(skyd, "SELECT created_by_skyd FROM buckets WHERE name = 'team-results'"),
            "f");

  // `sky storage delete` of a bucket skyd did not make only forgets it.
  auto deleted = skyd.sky({"storage", "delete", "-y", "team-results"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(contains(deleted.out, "Forgot storage team-results")) << deleted.out;
  EXPECT_TRUE(bucket_exists(s3, "team-results"));
  EXPECT_FALSE(contains(skyd.sky({"storage", "ls"}).out, "team-results"));
  EXPECT_TRUE(skyd.no_machines_left());
}

TEST_F(Storage, StorageDeleteRefusesABucketAnOpenJobUsesAndDeletesItAfter) {
  const std::string started = dir.file("started");
  const auto yaml =
      skyd.write_file("hold.yaml",
                      "name: hold\nresources:\n  infra: local\nfile_mounts:\n  ~/b:\n"
                      "    name: held-bucket\n    mode: MOUNT\nrun: echo x > ~/b/x; touch " +
                          started + "; sleep 600\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_file(started, std::chrono::seconds(90)));
  auto refused = skyd.sky({"storage", "delete", "-y", "held-bucket"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.err, "in use by open job 1")) << refused.err;
  EXPECT_TRUE(bucket_exists(s3, "held-bucket"));
  ASSERT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}, std::chrono::seconds(60)));
  auto deleted = skyd.sky({"storage", "delete", "-y", "held-bucket"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(contains(deleted.out, "Deleted storage held-bucket")) << deleted.out;
  EXPECT_FALSE(bucket_exists(s3, "held-bucket"));
  EXPECT_TRUE(contains(skyd.sky({"storage", "ls"}).out, "No existing storage"));
}

// The seed's checkpoint example on EC2: nodes mount the bucket with their instance profile's
// credentials (fakecloud's metadata service hands them out), a spot preemption moves the job to a
// new node, and the run resumes from the checkpoint the first node wrote.
TEST(StorageOnEc2, TheCheckpointInAnS3BucketSurvivesASpotPreemption) {
  TempDir dir;
  S3Server s3(dir, kAccessKey, kSecret);  // one account: fakecloud's and the bucket's
  AwsWorld world(
      {"--instance-profile-keys", std::string(kAccessKey) + ":" + kSecret, "--private-node-roots"},
      kSecret, s3_settings(s3, {{"aws_instance_profile", "skyd-nodes"}}));
  const auto yaml = world.skyd.write_file(
      "bert.yaml",
      "name: bert\nresources:\n  cloud: aws\n  instance_type: m6i.large\n  use_spot: true\n"
      "file_mounts:\n  /checkpoint:\n    name: bert-ckpt\n    mode: MOUNT\n" +
          counting_run("/checkpoint"));
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(wait_for_step(s3, "bert-ckpt", 3))
      << world.skyd.sky({"jobs", "logs", "--controller", "1"}).out;
  world.admin("POST", "/_admin/preempt?cluster=bert-1&grace_ms=2000");
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED"}, std::chrono::seconds(150)))
      << world.skyd.sky({"jobs", "logs", "--controller", "1"}).out;
  expect_resumed_from_checkpoint(world.skyd, 1);
  EXPECT_EQ(task_field(world.skyd, 1, "recovery_count"), "1");
  EXPECT_EQ(object_text(s3, "bert-ckpt", "step"), "12\n");
  EXPECT_TRUE(wait_for([&] { return world.live_instances() == 0; }));
}

}  // namespace
}  // namespace skyd::testing
