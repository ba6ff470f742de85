// fakecloud's token endpoint, called in process with hand-made assertions: each claim it checks
// (signature and kid, iss, aud, iat/exp, scope) is refused on its own with Google's error shape,
// and the metadata server's header rules.
#include "tests/fakecloud/fake_gcp_auth.hpp"
#include "providers/gcp/gcp_auth.hpp"
#include "providers/gcp/jwt.hpp"
#include "tests/support/gcp_keys.hpp"

#include <gtest/gtest.h>

namespace skyd::fakecloud {
namespace {

namespace gcp = providers::gcp;

const testing::TestServiceAccount& account() {
  static const testing::TestServiceAccount made = testing::make_test_service_account();
  return made;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FakeTokenEndpoint : public ::testing::Test {
 protected:
  FakeTokenEndpoint() : auth_(tokens_, options()) {}

  static FakeGcpAuthOptions options() {
    FakeGcpAuthOptions options;
    options.service_accounts.push_back(gcp::ServiceAccountKey{
        account().project_id, account().private_key_id, account().private_key_pem,
        account().client_email, account().token_uri});
    testing::TestAuthorizedUser user;
    options.authorized_users.push_back(
        gcp::AuthorizedUser{user.client_id, user.client_secret, user.refresh_token, "", ""});
    return options;
  }

  gcp::JwtClaims good_claims() const {
    const std::int64_t now = now_seconds();
    return gcp::JwtClaims{account().client_email,
                          "",
                          std::string(gcp::kCloudPlatformScope),
                          std::string(gcp::kGoogleTokenUri),
                          now,
                          now + 3600};
  }

  http::Response post(const gcp::JwtClaims& claims, std::string kid = "",
                      std::string host = "127.0.0.1") {
    auto rsa = gcp::RsaKey::from_private_pem(account().private_key_pem);
    auto jwt = gcp::sign_jwt(claims, *rsa, kid.empty() ? account().private_key_id : kid);
    return post_form(gcp::jwt_bearer_form(*jwt), std::move(host));
  }

  http::Response post_form(std::string form, std::string host = "127.0.0.1") {
    http::Request request;
    request.method = "POST";
    request.target = "/token";
    request.headers.emplace_back("Host", std::move(host));
    request.body = std::move(form);
    return auth_.token(request);
  }

  // "error: error_description" of a refusal, or the granted token's account.
  std::string outcome(const http::Response& response) {
    auto json = parse_json(response.body).value();
    if (response.status == 200)
      return "granted to " + tokens_.account_of(*json.find("access_token")->as_string()).value();
    return std::to_string(response.status) + " " + std::string(*json.find("error")->as_string()) +
           ": " + std::string(*json.find("error_description")->as_string());
  }

  FakeGcpTokens tokens_;
  FakeGcpAuth auth_;
};

TEST_F(FakeTokenEndpoint, AValidAssertionIsGrantedAsGoogleAnswers) {
  auto response = post(good_claims());
  ASSERT_EQ(response.status, 200) << response.body;
  auto json = parse_json(response.body).value();
  EXPECT_EQ(json.find("expires_in")->as_int(), 3599);
  EXPECT_EQ(json.find("token_type")->as_string(), std::string_view("Bearer"));
  EXPECT_EQ(outcome(response), "granted to " + account().client_email);
}

TEST_F(FakeTokenEndpoint, AudienceIsGooglesUrlOrThisEndpointsOwn) {
  auto claims = good_claims();
  claims.aud = "http://127.0.0.1:8123/token";
  EXPECT_EQ(outcome(post(claims)), "granted to " + account().client_email);
  EXPECT_EQ(outcome(post(claims, "", "127.0.0.2:8123")),
            "400 invalid_grant: Invalid JWT: Failed audience check. The right audience is "
            "https://oauth2.googleapis.com/token");
  claims.aud = "http://127.0.0.1:8123/other";
  EXPECT_EQ(post(claims).status, 400);
}

TEST_F(FakeTokenEndpoint, ALongLivedStaleOrFutureAssertionIsRefused) {
  const std::string refusal =
      "400 invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
      "reasonable timeframe. Check your iat and exp values in the JWT claim.";
  auto long_lived = good_claims();
  long_lived.exp = long_lived.iat + 3601;
  EXPECT_EQ(outcome(post(long_lived)), refusal);
  auto stale = good_claims();
  stale.iat -= 7200;
  stale.exp -= 7200;
  EXPECT_EQ(outcome(post(stale)), refusal);
  auto future = good_claims();
  future.iat += 900;
  future.exp += 900;
  EXPECT_EQ(outcome(post(future)), refusal);
}

TEST_F(FakeTokenEndpoint, AMissingOrForeignScopeIsRefused) {
  auto claims = good_claims();
  claims.scope = "";
  EXPECT_EQ(outcome(post(claims)),
            "400 invalid_scope: Invalid OAuth scope or ID token audience provided.");
  claims.scope = "https://example.com/scope";
  EXPECT_EQ(post(claims).status, 400);
}

TEST_F(FakeTokenEndpoint, AnotherKidOrAnotherAccountIsRefused) {
  EXPECT_EQ(outcome(post(good_claims(), "0123456789abcdef")),
            "400 invalid_grant: Invalid JWT Signature.");
  auto claims = good_claims();
  claims.iss = "stranger@elsewhere.iam.gserviceaccount.com";
  EXPECT_EQ(outcome(post(claims)), "400 invalid_grant: Invalid grant: account not found");
  EXPECT_EQ(outcome(post_form("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&"
                              "assertion=not-a-jwt")),
            "400 invalid_grant: Invalid JWT: a JWT has three dot-separated parts");
}

TEST_F(FakeTokenEndpoint, RefreshGrantsCheckClientSecretAndToken) {
  testing::TestAuthorizedUser user;
  gcp::AuthorizedUser good{user.client_id, user.client_secret, user.refresh_token, "", ""};
  EXPECT_EQ(outcome(post_form(gcp::refresh_token_form(good))), "granted to user:" + user.client_id);
  auto wrong_secret = good;
  wrong_secret.client_secret = "nope";
  EXPECT_EQ(outcome(post_form(gcp::refresh_token_form(wrong_secret))),
            "401 invalid_client: Unauthorized");
  auto unknown = good;
  unknown.client_id = "other.apps.googleusercontent.com";
  EXPECT_EQ(outcome(post_form(gcp::refresh_token_form(unknown))),
            "401 invalid_client: The OAuth client was not found.");
  EXPECT_EQ(outcome(post_form("grant_type=password")),
            "400 unsupported_grant_type: Invalid grant_type: password");
}

TEST_F(FakeTokenEndpoint, MetadataTokenNeedsTheFlavorHeaderAndNoProxy) {
  http::Request request;
  request.target = "/computeMetadata/v1/instance/service-accounts/default/token";
  EXPECT_EQ(auth_.metadata_token(request).status, 403);
  request.headers.emplace_back("Metadata-Flavor", "Google");
  auto granted = auth_.metadata_token(request);
  EXPECT_EQ(outcome(granted), "granted to " + account().client_email);
  request.headers.emplace_back("X-Forwarded-For", "10.0.0.1");
  EXPECT_EQ(auth_.metadata_token(request).status, 403);
}

TEST_F(FakeTokenEndpoint, BearerAccountReadsTheAuthorizationHeader) {
  const std::string token = tokens_.issue("a@b");
  http::Request request;
  EXPECT_FALSE(bearer_account(request, tokens_));
  request.headers.emplace_back("Authorization", "Bearer " + token);
  EXPECT_EQ(bearer_account(request, tokens_), std::optional<std::string>("a@b"));
  tokens_.revoke_all();
  EXPECT_FALSE(bearer_account(request, tokens_));
}

}  // namespace
}  // namespace skyd::fakecloud
