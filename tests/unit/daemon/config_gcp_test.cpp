// skyd's GCP settings: parsed, checked by name, and the token never printed.
#include "tests/unit/daemon/config_file.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

TEST(ConfigGcp, SettingsAreRead) {
  auto invocation = with_config(
      "gcp_enabled: true\ngcp_project: p1\ngcp_regions: us-central1,europe-west4\n"
      "gcp_endpoint: http://127.0.0.1:9\ngcp_images: us-central1=projects/p/global/images/a\n"
      "gcp_service_account: n@p.iam.gserviceaccount.com\ngcp_requests_per_second: 5\n"
      "gcp_request_timeout: 3s\ngcp_use_public_ip: true\ngcp_access_token: ya29.secret\n");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  const DaemonConfig& config = invocation->config;
  EXPECT_TRUE(config.gcp_enabled);
  EXPECT_EQ(config.gcp_project, "p1");
  EXPECT_EQ(config.gcp_regions, (std::vector<std::string>{"us-central1", "europe-west4"}));
  EXPECT_EQ(config.gcp_endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(config.gcp_images.at("us-central1"), "projects/p/global/images/a");
  EXPECT_EQ(config.gcp_service_account, "n@p.iam.gserviceaccount.com");
  EXPECT_EQ(config.gcp_requests_per_second, 5);
  EXPECT_EQ(config.gcp_request_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(config.gcp_use_public_ip);
  const std::string printed = config.to_json().dump();
  EXPECT_EQ(printed.find("ya29.secret"), std::string::npos) << printed;
}

TEST(ConfigGcp, EnabledWithoutAProjectIsRefused) {
  auto invocation = with_config("gcp_enabled: true\n");
  ASSERT_FALSE(invocation);
  EXPECT_NE(invocation.error().detail.find("gcp_project"), std::string::npos)
      << invocation.error().detail;
}

TEST(ConfigGcp, ABadImageMapIsRefusedByName) {
  auto invocation = with_config("gcp_images: us-central1\n");
  ASSERT_FALSE(invocation);
  EXPECT_NE(invocation.error().detail.find("'gcp_images': expected REGION=IMAGE"),
            std::string::npos)
      << invocation.error().detail;
}

}  // namespace
}  // namespace skyd::daemon
