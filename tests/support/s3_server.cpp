#include "tests/support/s3_server.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace skyd::testing {

S3Server::S3Server(const TempDir& dir, std::string access_key, std::string secret_key)
    : access_key_(std::move(access_key)), secret_key_(std::move(secret_key)) {
  const std::string data = dir.file("s3rver-data");
  config_dir_ = dir.file("s3-client");
  std::filesystem::create_directories(data);
  std::filesystem::create_directories(config_dir_);
  std::ofstream(config_dir_ + "/config") << "";
  std::ofstream(config_dir_ + "/credentials") << "";
  const std::string launcher = std::string(SKYD_S3_SERVER_DIR) + "/server.mjs";
  if (!std::filesystem::exists(std::string(SKYD_S3_SERVER_DIR) + "/node_modules/s3rver")) {
    throw std::runtime_error(
        "s3rver is not installed: run scripts/install-deps.sh (it runs npm ci "
        "in tests/s3)");
  }
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  // s3rver makes ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3 keeps in
  // its legacy provider: without it every truncated listing is a 500.
  const std::vector<std::string> argv = {program_on_path("node"),
                                         "--openssl-legacy-provider",
                                         launcher,
                                         "--directory",
                                         data,
                                         "--access-key",
                                         access_key_,
                                         "--secret-key",
                                         secret_key_,
                                         "--ready-fd",
                                         std::to_string(fds[1])};
  child_ = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string>{},
                                          dir.file("s3rver.log"));
  ::close(fds[1]);
  port_ = std::atoi(read_ready_message(fds[0], std::chrono::seconds(20)).c_str());
  if (port_ == 0) {
    throw std::runtime_error("s3rver did not start: " + read_text(dir.file("s3rver.log")));
  }
}

S3Server::~S3Server() = default;

std::map<std::string, std::string> S3Server::client_environment() const {
  return {{"AWS_ACCESS_KEY_ID", access_key_},
          {"AWS_SECRET_ACCESS_KEY", secret_key_},
          {"AWS_ENDPOINT_URL_S3", endpoint()},
          {"AWS_DEFAULT_REGION", "us-east-1"},
          {"AWS_REGION", "us-east-1"},
          {"AWS_CONFIG_FILE", config_dir_ + "/config"},
          {"AWS_SHARED_CREDENTIALS_FILE", config_dir_ + "/credentials"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_PAGER", ""}};
}

}  // namespace skyd::testing
