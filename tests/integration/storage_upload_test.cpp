// A task's `source:` directory of 200 MiB goes into its bucket once, even when skyd is killed in
// the middle: the restarted skyd sends only the files the bucket does not hold yet (each object
// carries its content digest). Serial: it moves 400 MiB through the machine's disk.
#include "tests/support/s3_server.hpp"
#include "tests/support/s3_skyd.hpp"
#include "tests/support/skyd_harness.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

namespace skyd::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kFiles = 40;  // of 5 MiB: 200 MiB

// Objects s3rver has stored whole in a bucket: it writes an object's metadata
// (NAME._S3rver_metadata.json) once its body has arrived, and never for a body cut short.
int stored_objects(const TempDir& dir, const std::string& bucket) {
  int count = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir.file("s3rver-data/" + bucket), ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->path().string().ends_with("._S3rver_metadata.json")) ++count;
  }
  return count;
}

TEST(StorageUpload, A200MiBSourceIsUploadedOnceAcrossAKillOfSkyd) {
  TempDir dir;
  S3Server s3(dir);
  const std::string inputs = dir.file("inputs");
  fs::create_directories(inputs);
  ASSERT_EQ(run_command({"/bin/sh", "-c",
                         "for i in $(seq 1 " + std::to_string(kFiles) +
                             "); do head -c 5242880 "
                             "/dev/urandom > " +
                             inputs + "/part-$i.bin || exit 1; done"})
                .exit_code,
            0);
  const std::string digest_of_inputs =
      run_command({"/bin/sh", "-c", "cd " + inputs + " && cat $(ls | sort) | md5sum"}).out;
  SkydHarness skyd(s3_settings(s3), s3_environment(s3));
  const auto yaml =
      skyd.write_file("big.yaml",
                      "name: big\nresources:\n  infra: local\nfile_mounts:\n  ~/in:\n"
                      "    name: big-inputs\n    source: " +
                          inputs +
                          "\n    mode: COPY\n"
                          "run: cd ~/in && ls | wc -l && cat $(ls | sort) | md5sum\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}, std::chrono::minutes(3)).exit_code, 0);
  // Killed once a few files are in the bucket, before all of them are.
  ASSERT_TRUE(wait_until([&] { return stored_objects(dir, "big-inputs") >= 3; },
                         std::chrono::seconds(120)));
  skyd.kill();
  const int stored_before_restart = stored_objects(dir, "big-inputs");
  ASSERT_LT(stored_before_restart, kFiles) << "the upload ended before the kill";
  skyd.restart();
  ASSERT_TRUE(skyd.wait_for_status(1, {"SUCCEEDED"}, std::chrono::minutes(4)))
      << skyd.sky({"jobs", "logs", "--controller", "1"}).out;
  const auto logs = skyd.sky({"jobs", "logs", "1"}).out;
  EXPECT_TRUE(contains(logs, std::to_string(kFiles) + "\n")) << logs;
  EXPECT_TRUE(contains(logs, digest_of_inputs.substr(0, 32))) << logs;
  EXPECT_EQ(stored_objects(dir, "big-inputs"), kFiles);
  // The restarted skyd's fill skipped what the bucket already held.
  const std::string log = read_text(skyd.log_file());
  std::smatch filled;
  std::string last;
  const std::regex fill_line("bucket filled [^\n]*");
  for (std::sregex_iterator it(log.begin(), log.end(), fill_line), end; it != end; ++it)
    last = it->str();
  ASSERT_TRUE(std::regex_search(last, filled, std::regex("files=(\\d+) skipped=(\\d+)"))) << log;
  EXPECT_GE(std::stoi(filled[2]), stored_before_restart) << last;
  EXPECT_EQ(std::stoi(filled[1]) + std::stoi(filled[2]), kFiles) << last;
  EXPECT_EQ(sql_value(skyd,
                      "SELECT uploaded_digest IS NOT NULL FROM buckets WHERE name = "
                      "'big-inputs'"),
            "t");
  EXPECT_TRUE(skyd.no_machines_left());
}

}  // namespace
}  // namespace skyd::testing
