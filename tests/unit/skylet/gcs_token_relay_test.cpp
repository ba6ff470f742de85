// skylet's loopback token relay answers rclone's refresh grant only for its own secret.
#include "daemon/skylet/gcs_token_relay.hpp"
#include "reactor/json.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

namespace skyd::skylet {
namespace {

http::Response answer(std::string body, std::string secret) {
  return testing::run_co<http::Response>([body, secret]() -> Task<http::Response> {
    providers::gcp::FixedAccessToken tokens("ya29.vm-token");
    http::Request request;
    request.method = "POST";
    request.target = "/token";
    request.body = body;
    co_return co_await relay_token(request, secret, tokens);
  });
}

TEST(GcsTokenRelay, AnswersTheRefreshGrantWithTheVmsToken) {
  const auto response =
      answer("client_id=skylet&client_secret=skylet&grant_type=refresh_token&refresh_token=5ec2e7",
             "5ec2e7");
  ASSERT_EQ(response.status, 200) << response.body;
  auto json = parse_json(response.body);
  ASSERT_TRUE(json);
  EXPECT_EQ(json->find("access_token")->as_string(), "ya29.vm-token");
  EXPECT_EQ(json->find("token_type")->as_string(), "Bearer");
  EXPECT_GE(json->find("expires_in")->as_int().value_or(0), 60);
}

TEST(GcsTokenRelay, RefusesAnotherSecretOrGrant) {
  const auto wrong = answer("grant_type=refresh_token&refresh_token=5ec2e8", "5ec2e7");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("invalid_grant"), std::string::npos);
  EXPECT_EQ(wrong.body.find("ya29"), std::string::npos);
  const auto other = answer("grant_type=client_credentials", "5ec2e7");
  EXPECT_EQ(other.status, 400);
  EXPECT_NE(other.body.find("unsupported_grant_type"), std::string::npos);
}

}  // namespace
}  // namespace skyd::skylet
