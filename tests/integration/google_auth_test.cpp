// Application Default Credentials against a real fakecloud process: skyd's code gets tokens from
// fakecloud's token endpoint with a service-account key file (its JWT verified there with the
// key's public half) and with an authorized-user file, and from its metadata server; fakecloud
// then accepts each token as a bearer. Wrong keys and refresh tokens come back as kAuth carrying
// the token endpoint's own reason.
#include "providers/gcp/gcp_auth.hpp"
#include "providers/provider.hpp"
#include "reactor/http_client.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/gcp_keys.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

namespace skyd::testing {
namespace {

using providers::ProviderErrc;
using providers::gcp::AccessToken;
using providers::gcp::GoogleCredentials;

struct Outcome {
  Result<AccessToken> token = make_error(NetErrc::kClosed, "not asked");
  Result<std::string> project = make_error(NetErrc::kClosed, "not asked");
  std::string description;
};

Task<Outcome> ask(std::map<std::string, std::string> env) {
  const auto executor = co_await asio::this_coro::executor;
  http::Client client(executor);
  auto credentials = GoogleCredentials::application_default(
      client, [env](const char* name) -> std::optional<std::string> {
        auto found = env.find(name);
        return found == env.end() ? std::nullopt : std::optional<std::string>(found->second);
      });
  Outcome outcome;
  if (!credentials) {
    outcome.token = credentials.error();
    co_return outcome;
  }
  outcome.description = (*credentials)->describe();
  auto token = co_await (*credentials)->token();
  auto project = co_await (*credentials)->project_id();
  outcome.token = std::move(token);
  outcome.project = std::move(project);
  co_return outcome;
}

Task<Result<http::Response>> get(std::string url, std::string target,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  const auto executor = co_await asio::this_coro::executor;
  http::Client client(executor);
  http::Request request;
  request.target = std::move(target);
  request.headers = std::move(headers);
  http::Endpoint endpoint = http::Endpoint::parse(url).value();
  co_return co_await client.request(std::move(endpoint), std::move(request));
}

class GoogleAuthOnFakecloud : public ::testing::Test {
 protected:
  void SetUp() override {
    // fakecloud needs only the account's email and key; the clients' copies point at it.
    write_credentials_file(dir_.file("fakecloud-sa.json"), account_.key_file_json());
    write_credentials_file(dir_.file("fakecloud-user.json"), user_.file_json());
    cloud_ = std::make_unique<FakeCloudProcess>(
        dir_, std::vector<std::string>{"--mode", "virtual", "--gcp-service-account",
                                       dir_.file("fakecloud-sa.json"), "--gcp-authorized-user",
                                       dir_.file("fakecloud-user.json")});
    token_uri_ = cloud_->url() + "/token";
    write_credentials_file(dir_.file("sa.json"),
                           account_.with_token_uri(token_uri_).key_file_json());
    TestAuthorizedUser user = user_;
    user.token_uri = token_uri_;
    write_credentials_file(dir_.file("user.json"), user.file_json());
  }

  Outcome ask_with(std::map<std::string, std::string> env) {
    env.emplace("HOME", dir_.path());  // no well-known file there
    return run_co<Outcome>([env] { return ask(env); });
  }

  // Whom fakecloud says the token belongs to, asked with it as a bearer.
  std::string bearer_email(const std::string& token) {
    auto response = run_co<Result<http::Response>>([&] {
      return get(cloud_->url(), "/_admin/gcp/token-info", {{"Authorization", "Bearer " + token}});
    });
    if (!response || response->status != 200) return {};
    auto json = parse_json(response->body);
    const Json* email = json ? json->find("email") : nullptr;
    return email && email->as_string() ? std::string(*email->as_string()) : std::string();
  }

  TempDir dir_;
  TestServiceAccount account_ = make_test_service_account();
  TestAuthorizedUser user_;
  std::unique_ptr<FakeCloudProcess> cloud_;
  std::string token_uri_;
};

TEST_F(GoogleAuthOnFakecloud, ServiceAccountKeyFileGetsATokenFakecloudAccepts) {
  auto outcome = ask_with({{"GOOGLE_APPLICATION_CREDENTIALS", dir_.file("sa.json")}});
  ASSERT_TRUE(outcome.token) << outcome.token.error().message();
  EXPECT_TRUE(outcome.token->value.starts_with("ya29.fake-")) << "not fakecloud's";
  EXPECT_GT(outcome.token->expires_at, Clock::now() + std::chrono::minutes(55));
  EXPECT_EQ(bearer_email(outcome.token->value), account_.client_email);
  ASSERT_TRUE(outcome.project);
  EXPECT_EQ(*outcome.project, "skyd-test-project");
  EXPECT_EQ(bearer_email("ya29.made-up"), "");
}

TEST_F(GoogleAuthOnFakecloud, AuthorizedUserFileGetsATokenFakecloudAccepts) {
  auto outcome = ask_with({{"GOOGLE_APPLICATION_CREDENTIALS", dir_.file("user.json")},
                           {"GOOGLE_CLOUD_PROJECT", "user-project"}});
  ASSERT_TRUE(outcome.token) << outcome.token.error().message();
  EXPECT_EQ(bearer_email(outcome.token->value), "user:" + user_.client_id);
  ASSERT_TRUE(outcome.project);
  EXPECT_EQ(*outcome.project, "user-project");
}

TEST_F(GoogleAuthOnFakecloud, WellKnownFileIsUsedWhenNoVariableNamesOne) {
  std::filesystem::create_directories(dir_.file("gcloud"));
  std::filesystem::copy_file(dir_.file("user.json"),
                             dir_.file("gcloud/application_default_credentials.json"));
  auto outcome = ask_with({{"CLOUDSDK_CONFIG", dir_.file("gcloud")}});
  ASSERT_TRUE(outcome.token) << outcome.token.error().message();
  EXPECT_EQ(bearer_email(outcome.token->value), "user:" + user_.client_id);
}

TEST_F(GoogleAuthOnFakecloud, MetadataServerGivesTheDefaultServiceAccountsToken) {
  auto outcome = ask_with({{"GCE_METADATA_HOST", "127.0.0.1:" + std::to_string(cloud_->port())}});
  ASSERT_TRUE(outcome.token) << outcome.token.error().message();
  EXPECT_EQ(outcome.description, "the metadata server 127.0.0.1:" + std::to_string(cloud_->port()));
  EXPECT_EQ(bearer_email(outcome.token->value), account_.client_email);
  ASSERT_TRUE(outcome.project) << outcome.project.error().message();
  EXPECT_EQ(*outcome.project, "skyd-test-project");
}

TEST_F(GoogleAuthOnFakecloud, MetadataServerRefusesRequestsWithoutTheFlavorHeader) {
  const std::string target = "/computeMetadata/v1/instance/service-accounts/default/token";
  auto bare = run_co<Result<http::Response>>([&] { return get(cloud_->url(), target, {}); });
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 403);
  auto flavored = run_co<Result<http::Response>>([&] {
    return get(cloud_->url(), target, {{"Metadata-Flavor", "Google"}});
  });
  ASSERT_TRUE(flavored);
  EXPECT_EQ(flavored->status, 200);
  ASSERT_TRUE(flavored->header("Metadata-Flavor"));
  EXPECT_EQ(*flavored->header("Metadata-Flavor"), "Google");
}

TEST_F(GoogleAuthOnFakecloud, AWrongKeyIsRefusedWithTheTokenEndpointsReason) {
  // Same account, another key: the signature cannot verify with the account's public key.
  TestServiceAccount impostor = make_test_service_account(account_.client_email);
  impostor.private_key_id = account_.private_key_id;
  write_credentials_file(dir_.file("wrong.json"),
                         impostor.with_token_uri(token_uri_).key_file_json());
  auto outcome = ask_with({{"GOOGLE_APPLICATION_CREDENTIALS", dir_.file("wrong.json")}});
  ASSERT_FALSE(outcome.token);
  EXPECT_EQ(outcome.token.error().code, make_error_code(ProviderErrc::kAuth));
  const std::string& detail = outcome.token.error().detail;
  EXPECT_TRUE(contains(detail, "the token endpoint " + token_uri_ + ": HTTP 400")) << detail;
  EXPECT_TRUE(contains(detail, "invalid_grant: Invalid JWT Signature.")) << detail;
  EXPECT_TRUE(contains(detail, dir_.file("wrong.json"))) << detail;
  EXPECT_FALSE(contains(detail, "PRIVATE KEY")) << detail;
}

TEST_F(GoogleAuthOnFakecloud, AnUnknownAccountIsRefused) {
  TestServiceAccount stranger =
      make_test_service_account("stranger@elsewhere.iam.gserviceaccount.com");
  write_credentials_file(dir_.file("stranger.json"),
                         stranger.with_token_uri(token_uri_).key_file_json());
  auto outcome = ask_with({{"GOOGLE_APPLICATION_CREDENTIALS", dir_.file("stranger.json")}});
  ASSERT_FALSE(outcome.token);
  EXPECT_EQ(outcome.token.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_TRUE(
      contains(outcome.token.error().detail, "invalid_grant: Invalid grant: account not found"))
      << outcome.token.error().detail;
}

TEST_F(GoogleAuthOnFakecloud, ARevokedRefreshTokenIsRefused) {
  TestAuthorizedUser revoked = user_;
  revoked.refresh_token = "1//not-this-one";
  revoked.token_uri = token_uri_;
  write_credentials_file(dir_.file("revoked.json"), revoked.file_json());
  auto outcome = ask_with({{"GOOGLE_APPLICATION_CREDENTIALS", dir_.file("revoked.json")}});
  ASSERT_FALSE(outcome.token);
  EXPECT_EQ(outcome.token.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_TRUE(
      contains(outcome.token.error().detail, "invalid_grant: Token has been expired or revoked."))
      << outcome.token.error().detail;
  EXPECT_FALSE(contains(outcome.token.error().detail, "1//not-this-one"));
}

}  // namespace
}  // namespace skyd::testing
