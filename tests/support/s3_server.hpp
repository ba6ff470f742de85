#pragma once
// s3rver (tests/s3: npm's S3 server behind a launcher that checks SigV4 signatures) as a child
// process for tests and benchmarks: loopback, a port the system picks, its own data directory
// inside `dir`, so parallel tests share nothing. Ready when the launcher reports its port on a
// pipe (no polling, no sleeps); killed when the object goes. Throws when it cannot start (a test
// then fails: the install step provides tests/s3/node_modules).

#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <map>
#include <memory>
#include <string>

namespace skyd::testing {

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  // `access_key`/`secret_key`: the one account it serves (a test whose skyd also signs EC2 calls
  // to fakecloud gives fakecloud's keys, as one AWS account would have).
  explicit S3Server(const TempDir& dir, std::string access_key = kAccessKey,
                    std::string secret_key = kSecretKey);
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_ENDPOINT_URL_S3 and a region, plus empty
  // config and credentials files, so a client (skyd's, the aws CLI, rclone) uses only these.
  std::map<std::string, std::string> client_environment() const;

 private:
  std::string access_key_;
  std::string secret_key_;
  std::string config_dir_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

}  // namespace skyd::testing
