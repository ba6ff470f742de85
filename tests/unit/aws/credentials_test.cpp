// The credential chain's pure steps: environment, shared file with profiles, the IMDS document.
#include "providers/aws/aws_auth.hpp"
#include "providers/provider.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace skyd::providers::aws {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

constexpr const char* kFile = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[ci]
aws_access_key_id=AKIDCI
aws_secret_access_key=secret-ci
aws_session_token = token-ci

[broken]
aws_access_key_id = AKIDBROKEN
)";

TEST(Credentials, EnvironmentWithSessionToken) {
  auto credentials = credentials_from_environment(fake_env({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                            {"AWS_SECRET_ACCESS_KEY", "s"},
                                                            {"AWS_SESSION_TOKEN", "t"}}));
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->access_key_id, "AKIDENV");
  EXPECT_EQ(credentials->session_token, "t");
  EXPECT_EQ(credentials->source, "environment");
}

TEST(Credentials, EnvironmentNeedsBothKeys) {
  EXPECT_FALSE(credentials_from_environment(fake_env({{"AWS_ACCESS_KEY_ID", "AKIDENV"}})));
}

TEST(Credentials, IniDefaultProfile) {
  auto credentials = credentials_from_ini(kFile, "default");
  ASSERT_TRUE(credentials && *credentials);
  EXPECT_EQ((*credentials)->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ((*credentials)->secret_access_key, "secret-default");
  EXPECT_TRUE((*credentials)->session_token.empty());
}

TEST(Credentials, IniNamedProfileWithToken) {
  auto credentials = credentials_from_ini(kFile, "ci");
  ASSERT_TRUE(credentials && *credentials);
  EXPECT_EQ((*credentials)->access_key_id, "AKIDCI");
  EXPECT_EQ((*credentials)->session_token, "token-ci");
  EXPECT_EQ((*credentials)->source, "shared-file:ci");
}

TEST(Credentials, IniMissingProfileIsNothing) {
  auto credentials = credentials_from_ini(kFile, "absent");
  ASSERT_TRUE(credentials);
  EXPECT_FALSE(*credentials);
}

TEST(Credentials, IniIncompleteProfileIsAuthError) {
  auto credentials = credentials_from_ini(kFile, "broken");
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code, make_error_code(ProviderErrc::kAuth));
}

TEST(Credentials, SharedFileHonoursPathAndProfileVariables) {
  testing::TempDir dir;
  std::ofstream(dir.file("creds")) << kFile;
  auto credentials = credentials_from_shared_file(
      fake_env({{"AWS_SHARED_CREDENTIALS_FILE", dir.file("creds")}, {"AWS_PROFILE", "ci"}}));
  ASSERT_TRUE(credentials && *credentials);
  EXPECT_EQ((*credentials)->access_key_id, "AKIDCI");
}

TEST(Credentials, SharedFileDefaultsToHomeDotAws) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.file(".aws"));
  std::ofstream(dir.file(".aws/credentials")) << kFile;
  auto credentials = credentials_from_shared_file(fake_env({{"HOME", dir.path()}}));
  ASSERT_TRUE(credentials && *credentials);
  EXPECT_EQ((*credentials)->access_key_id, "AKIDDEFAULT");
}

TEST(Credentials, RoleDocument) {
  auto credentials = parse_role_credentials(
      R"({"Code":"Success","LastUpdated":"2024-01-01T00:00:00Z","Type":"AWS-HMAC",)"
      R"("AccessKeyId":"ASIAROLE","SecretAccessKey":"rs","Token":"rt",)"
      R"("Expiration":"2030-01-01T06:00:00Z"})",
      "skyd-node");
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->access_key_id, "ASIAROLE");
  EXPECT_EQ(credentials->session_token, "rt");
  ASSERT_TRUE(credentials->expiration);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*credentials->expiration), 1893477600);
}

TEST(Credentials, RoleDocumentWithFailureCode) {
  auto credentials = parse_role_credentials(R"({"Code":"AssumeRoleUnauthorizedAccess"})", "r");
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code, make_error_code(ProviderErrc::kAuth));
}

TEST(Credentials, DescribeNeverShowsTheSecret) {
  Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI", "session-secret", "environment", {}};
  const std::string shown = credentials.describe();
  EXPECT_EQ(shown.find("wJalrXUtnFEMI"), std::string::npos);
  EXPECT_EQ(shown.find("session-secret"), std::string::npos);
  EXPECT_EQ(shown.find("AKIDEXAMPLE"), std::string::npos);
  EXPECT_NE(shown.find("environment"), std::string::npos);
}

}  // namespace
}  // namespace skyd::providers::aws
