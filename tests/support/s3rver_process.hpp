#pragma once
// s3rver (an S3 server from npm, tests/s3/; it checks SigV4 signatures) as a child process on a
// free loopback port, with its data in the test's directory, and the AWS CLI pointed at it to make
// buckets and objects and to look at them, independently of skyd's code.

#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace skyd::testing {

class S3rverProcess {
 public:
  // s3rver's fixed account.
  static constexpr const char* kKey = "S3RVER";
  static constexpr const char* kSecret = "S3RVER";

  static std::string script() { return SKYD_S3RVER_DIR "/node_modules/s3rver/bin/s3rver.js"; }
  // False until scripts/install-deps.sh has installed it.
  static bool installed() { return std::filesystem::exists(script()); }

  explicit S3rverProcess(const TempDir& dir) : dir_(dir) {
    std::filesystem::create_directories(dir.file("s3data"));
    {
      std::ofstream credentials(dir.file("aws-credentials"));
      credentials << "[default]\naws_access_key_id = " << kKey
                  << "\naws_secret_access_key = " << kSecret << "\n";
    }
    std::ofstream(dir.file("aws-config")) << "[default]\nregion = us-east-1\n";
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{program_on_path("node"), script(), "-d", dir.file("s3data"), "-a",
                                 "127.0.0.1", "-p", "0"},
        std::map<std::string, std::string>{}, dir.file("s3rver.log"));
    // It prints "S3rver listening on 127.0.0.1:PORT" once it listens.
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string log = read_text(dir.file("s3rver.log"));
      if (std::regex_search(log, match, listening)) {
        port_ = std::stoi(match[1]);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (port_ == 0) throw std::runtime_error("s3rver did not start (see s3rver.log)");
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // `aws --endpoint-url URL ARGS...` with s3rver's keys in a file of the test's own.
  CommandResult aws(std::vector<std::string> args) const {
    std::vector<std::string> argv = {program_on_path("aws"), "--endpoint-url", url()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, {{"AWS_SHARED_CREDENTIALS_FILE", dir_.file("aws-credentials")},
                              {"AWS_CONFIG_FILE", dir_.file("aws-config")},
                              {"AWS_ACCESS_KEY_ID", ""},
                              {"AWS_SECRET_ACCESS_KEY", ""},
                              {"AWS_CA_BUNDLE", ""},
                              {"AWS_EC2_METADATA_DISABLED", "true"}});
  }
  void make_bucket(const std::string& bucket) const {
    const auto made = aws({"s3", "mb", "s3://" + bucket});
    if (made.exit_code != 0) throw std::runtime_error("aws s3 mb: " + made.err);
  }
  void put(const std::string& bucket, const std::string& key, const std::string& text) const {
    const std::string file = dir_.file("put-body");
    std::ofstream(file, std::ios::trunc) << text;
    const auto put = aws({"s3", "cp", file, "s3://" + bucket + "/" + key});
    if (put.exit_code != 0) throw std::runtime_error("aws s3 cp: " + put.err);
  }
  // The object's text, or nothing when it is not there.
  std::optional<std::string> get(const std::string& bucket, const std::string& key) const {
    const auto got = aws({"s3", "cp", "s3://" + bucket + "/" + key, "-"});
    if (got.exit_code != 0) return std::nullopt;
    return got.out;
  }

 private:
  const TempDir& dir_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

}  // namespace skyd::testing
