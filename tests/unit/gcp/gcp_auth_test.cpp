// Application Default Credentials' pure steps: credentials files (every refusal names the file
// and the field), where ADC looks and in which order, the grant bodies and the token endpoint's
// answers.
#include "providers/gcp/gcp_auth.hpp"
#include "providers/provider.hpp"
#include "reactor/certs.hpp"
#include "reactor/json.hpp"
#include "tests/support/gcp_keys.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <map>

namespace skyd::providers::gcp {
namespace {

using skyd::testing::contains;

EnvLookup fake_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

const testing::TestServiceAccount& account() {
  static const testing::TestServiceAccount made = testing::make_test_service_account();
  return made;
}

// The account's key file with one field changed (null: removed).
std::string key_file_with(const char* field, Json value) {
  auto json = parse_json(account().key_file_json()).value();
  Json::Object members;
  for (const auto& [name, member] : *json.as_object())
    if (name != field) members.emplace_back(name, member);
  if (!value.is_null()) members.emplace_back(field, std::move(value));
  return Json(std::move(members)).dump();
}

void expect_auth_error(const Result<CredentialsFile>& parsed, const std::string& part1,
                       const std::string& part2) {
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_TRUE(contains(parsed.error().detail, part1)) << parsed.error().detail;
  EXPECT_TRUE(contains(parsed.error().detail, part2)) << parsed.error().detail;
  // Whatever went wrong, the key itself is never quoted.
  EXPECT_FALSE(contains(parsed.error().detail, "PRIVATE KEY")) << parsed.error().detail;
}

TEST(CredentialsFile, ServiceAccountKeyIsRead) {
  auto parsed = parse_credentials_file(account().key_file_json(), "/keys/sa.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  const auto& key = std::get<ServiceAccountKey>(*parsed);
  EXPECT_EQ(key.client_email, account().client_email);
  EXPECT_EQ(key.project_id, "skyd-test-project");
  EXPECT_EQ(key.private_key_id, account().private_key_id);
  EXPECT_EQ(key.token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(key.private_key, account().private_key_pem);
}

TEST(CredentialsFile, EachMissingServiceAccountFieldIsNamedWithTheFile) {
  for (const char* field : {"client_email", "private_key", "token_uri", "type"}) {
    SCOPED_TRACE(field);
    expect_auth_error(parse_credentials_file(key_file_with(field, nullptr), "/keys/sa.json"),
                      "/keys/sa.json", "field '" + std::string(field) + "' is missing");
  }
}

TEST(CredentialsFile, AFieldOfTheWrongTypeIsNamed) {
  expect_auth_error(parse_credentials_file(key_file_with("client_email", 42), "/k.json"), "/k.json",
                    "field 'client_email' must be a string");
  expect_auth_error(parse_credentials_file(key_file_with("project_id", Json::array()), "/k.json"),
                    "/k.json", "field 'project_id' must be a string");
  expect_auth_error(parse_credentials_file(key_file_with("private_key", ""), "/k.json"), "/k.json",
                    "field 'private_key' is empty");
}

TEST(CredentialsFile, APrivateKeyThatIsNotRsaIsRefused) {
  expect_auth_error(parse_credentials_file(key_file_with("private_key", "not a key"), "/k.json"),
                    "/k.json", "field 'private_key'");
  auto ec = make_certificate_authority("not rsa");
  ASSERT_TRUE(ec);
  expect_auth_error(
      parse_credentials_file(key_file_with("private_key", ec->private_key_pem), "/k.json"),
      "field 'private_key'", "not an RSA key");
}

TEST(CredentialsFile, UnsupportedTypeAndNonJsonAreNamed) {
  expect_auth_error(parse_credentials_file(R"({"type":"external_account"})", "/k.json"), "/k.json",
                    "type 'external_account' is not supported");
  expect_auth_error(parse_credentials_file("{not json", "/k.json"), "/k.json", "is not JSON");
  expect_auth_error(parse_credentials_file("[]", "/k.json"), "/k.json", "not a JSON object");
}

TEST(CredentialsFile, AuthorizedUserDefaultsToGooglesTokenEndpoint) {
  testing::TestAuthorizedUser user;
  auto parsed = parse_credentials_file(user.file_json(), "/adc.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  const auto& read = std::get<AuthorizedUser>(*parsed);
  EXPECT_EQ(read.client_id, user.client_id);
  EXPECT_EQ(read.client_secret, user.client_secret);
  EXPECT_EQ(read.refresh_token, user.refresh_token);
  EXPECT_EQ(read.token_uri, kGoogleTokenUri);
  user.token_uri = "http://127.0.0.1:9/token";
  auto overridden = parse_credentials_file(user.file_json(), "/adc.json");
  ASSERT_TRUE(overridden);
  EXPECT_EQ(std::get<AuthorizedUser>(*overridden).token_uri, "http://127.0.0.1:9/token");
}

TEST(CredentialsFile, MissingAuthorizedUserFieldIsNamedWithoutItsSecrets) {
  auto json = parse_json(testing::TestAuthorizedUser{}.file_json()).value();
  Json::Object members;
  for (const auto& [name, value] : *json.as_object())
    if (name != "refresh_token") members.emplace_back(name, value);
  auto parsed = parse_credentials_file(Json(std::move(members)).dump(), "/adc.json");
  ASSERT_FALSE(parsed);
  EXPECT_TRUE(contains(parsed.error().detail, "/adc.json: field 'refresh_token' is missing"))
      << parsed.error().detail;
  EXPECT_FALSE(contains(parsed.error().detail, testing::TestAuthorizedUser{}.client_secret));
}

TEST(CredentialsFile, UnreadableMissingOrHugeFilesAreNamed) {
  testing::TempDir dir;
  auto missing = read_credentials_file(dir.file("absent.json"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_TRUE(contains(missing.error().detail, dir.file("absent.json") + " cannot be read"))
      << missing.error().detail;
  EXPECT_TRUE(contains(missing.error().detail, "No such file")) << missing.error().detail;

  auto directory = read_credentials_file(dir.path());
  ASSERT_FALSE(directory);
  EXPECT_TRUE(contains(directory.error().detail, "not a regular file")) << directory.error().detail;

  testing::write_credentials_file(dir.file("huge.json"),
                                  std::string(kMaxCredentialsFileBytes + 1, ' '));
  auto huge = read_credentials_file(dir.file("huge.json"));
  ASSERT_FALSE(huge);
  EXPECT_TRUE(contains(huge.error().detail, "larger than")) << huge.error().detail;

  testing::write_credentials_file(dir.file("sa.json"), account().key_file_json());
  EXPECT_TRUE(read_credentials_file(dir.file("sa.json")));
  if (::geteuid() != 0) {  // root reads anything
    ::chmod(dir.file("sa.json").c_str(), 0);
    auto denied = read_credentials_file(dir.file("sa.json"));
    ASSERT_FALSE(denied);
    EXPECT_TRUE(contains(denied.error().detail, "Permission denied")) << denied.error().detail;
  }
}

TEST(AdcLocation, EnvironmentVariableComesFirst) {
  testing::TempDir dir;
  testing::write_credentials_file(dir.file("application_default_credentials.json"), "{}");
  auto location = locate_application_default_credentials(fake_env(
      {{"GOOGLE_APPLICATION_CREDENTIALS", "/keys/sa.json"}, {"CLOUDSDK_CONFIG", dir.path()}}));
  ASSERT_TRUE(location);
  EXPECT_EQ(location->kind, CredentialsLocation::Kind::kFile);
  EXPECT_EQ(location->path, "/keys/sa.json");
}

TEST(AdcLocation, WellKnownFileUnderCloudsdkConfigOrHome) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.file("home/.config/gcloud"));
  testing::write_credentials_file(
      dir.file("home/.config/gcloud/application_default_credentials.json"), "{}");
  auto from_home = locate_application_default_credentials(fake_env({{"HOME", dir.file("home")}}));
  ASSERT_TRUE(from_home);
  EXPECT_EQ(from_home->kind, CredentialsLocation::Kind::kFile);
  EXPECT_EQ(from_home->path, dir.file("home/.config/gcloud/application_default_credentials.json"));

  testing::write_credentials_file(dir.file("application_default_credentials.json"), "{}");
  auto from_config = locate_application_default_credentials(
      fake_env({{"HOME", dir.file("home")}, {"CLOUDSDK_CONFIG", dir.path()}}));
  ASSERT_TRUE(from_config);
  EXPECT_EQ(from_config->path, dir.file("application_default_credentials.json"));
}

TEST(AdcLocation, MetadataServerLastAndItsHostOverride) {
  testing::TempDir dir;
  auto default_host = locate_application_default_credentials(fake_env({{"HOME", dir.path()}}));
  ASSERT_TRUE(default_host);
  EXPECT_EQ(default_host->kind, CredentialsLocation::Kind::kMetadataServer);
  EXPECT_EQ(default_host->metadata.host, "metadata.google.internal");
  EXPECT_EQ(default_host->metadata.port, 80);
  EXPECT_TRUE(contains(default_host->why, dir.path() + "/.config/gcloud")) << default_host->why;

  auto overridden = locate_application_default_credentials(
      fake_env({{"HOME", dir.path()}, {"GCE_METADATA_HOST", "127.0.0.1:8089"}}));
  ASSERT_TRUE(overridden);
  EXPECT_EQ(overridden->metadata.host, "127.0.0.1");
  EXPECT_EQ(overridden->metadata.port, 8089);

  auto bad = locate_application_default_credentials(
      fake_env({{"HOME", dir.path()}, {"GCE_METADATA_HOST", "127.0.0.1:notaport"}}));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(contains(bad.error().detail, "GCE_METADATA_HOST")) << bad.error().detail;
}

TEST(Grants, FormsAreUrlEncoded) {
  EXPECT_EQ(jwt_bearer_form("aa.bb.cc"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aa.bb.cc");
  AuthorizedUser user{"id.apps", "s&cret", "1//r+t", "", ""};
  EXPECT_EQ(
      refresh_token_form(user),
      "grant_type=refresh_token&client_id=id.apps&client_secret=s%26cret&refresh_token=1%2F%2Fr%"
      "2Bt");
}

http::Response answer(int status, std::string body) {
  return http::Response::text(status, std::move(body), "application/json");
}

TEST(TokenResponse, GrantIsRead) {
  auto grant = parse_token_response(
      answer(200, R"({"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"})"), "step");
  ASSERT_TRUE(grant) << grant.error().message();
  EXPECT_EQ(grant->access_token, "ya29.x");
  EXPECT_EQ(grant->expires_in, std::chrono::seconds(3599));
}

TEST(TokenResponse, GooglesRefusalIsAnAuthErrorWithItsReason) {
  auto refused = parse_token_response(
      answer(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"),
      "the token endpoint https://oauth2.googleapis.com/token");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_EQ(refused.error().detail,
            "the token endpoint https://oauth2.googleapis.com/token: HTTP 400: invalid_grant: "
            "Invalid JWT Signature.");
}

TEST(TokenResponse, ServerTroubleIsTransient) {
  for (int status : {429, 500, 503}) {
    auto failed = parse_token_response(answer(status, "<html>busy</html>"), "step");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, make_error_code(ProviderErrc::kTransient)) << status;
    EXPECT_TRUE(contains(failed.error().detail, "<html>busy</html>")) << failed.error().detail;
  }
}

TEST(TokenResponse, MalformedGrantsAreRefused) {
  EXPECT_FALSE(parse_token_response(answer(200, R"({"expires_in":3599})"), "s"));
  EXPECT_FALSE(parse_token_response(answer(200, R"({"access_token":"t"})"), "s"));
  EXPECT_FALSE(parse_token_response(
      answer(200, R"({"access_token":"t","expires_in":5,"token_type":"MAC"})"), "s"));
  EXPECT_FALSE(parse_token_response(answer(200, "not json"), "s"));
}

}  // namespace
}  // namespace skyd::providers::gcp
