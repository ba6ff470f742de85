#pragma once
// A skyd whose task buckets live in a test's s3rver (tests/support/s3_server.hpp), and the AWS CLI
// pointed at that server to make buckets and look into them, independently of skyd's code.

#include "tests/support/process.hpp"
#include "tests/support/s3_server.hpp"
#include "tests/support/skyd_harness.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace skyd::testing {

// skyd's settings and environment for buckets in `s3`, its keys the server's.
inline std::map<std::string, std::string> s3_settings(
    const S3Server& s3, std::map<std::string, std::string> extra = {}) {
  extra.insert({{"bucket_store", "s3"}, {"s3_endpoint", s3.endpoint()}});
  return extra;
}

inline SkydHarness::Environment s3_environment(const S3Server& s3) {
  auto env = s3.client_environment();
  env.erase("AWS_ENDPOINT_URL_S3");  // skyd's own setting says where S3 is
  return SkydHarness::Environment{env};
}

// The AWS CLI against the test's server.
inline CommandResult aws_s3(const S3Server& s3, std::vector<std::string> args,
                            std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  std::vector<std::string> argv{program_on_path("aws"), "--endpoint-url", s3.endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, s3.client_environment(), limit);
}

// The object's text, or nothing when it is not there.
inline std::optional<std::string> get_object(const S3Server& s3, const std::string& bucket,
                                             const std::string& key) {
  auto got = aws_s3(s3, {"s3", "cp", "s3://" + bucket + "/" + key, "-"});
  if (got.exit_code != 0) return std::nullopt;
  return got.out;
}

inline std::string object_text(const S3Server& s3, const std::string& bucket,
                               const std::string& key) {
  return get_object(s3, bucket, key).value_or("<missing>");
}

inline bool bucket_exists(const S3Server& s3, const std::string& bucket) {
  return aws_s3(s3, {"s3api", "head-bucket", "--bucket", bucket}).exit_code == 0;
}

inline void put_object(const S3Server& s3, const std::string& bucket, const std::string& key,
                       const std::string& text) {
  const TempDir scratch;
  const std::string file = scratch.file("object");
  std::ofstream(file) << text;
  ASSERT_EQ(aws_s3(s3, {"s3", "cp", file, "s3://" + bucket + "/" + key}).exit_code, 0);
}

inline void make_bucket(const S3Server& s3, const std::string& bucket,
                        const std::map<std::string, std::string>& objects = {}) {
  ASSERT_EQ(aws_s3(s3, {"s3", "mb", "s3://" + bucket}).exit_code, 0);
  for (const auto& [key, text] : objects) put_object(s3, bucket, key, text);
}

// One value of a query, without psql's line end.
inline std::string sql_value(SkydHarness& skyd, const std::string& query) {
  std::string value = skyd.sql(query);
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

}  // namespace skyd::testing
