// GoogleCredentials against an in-process token endpoint and metadata server (a real HTTP server
// on the loopback): the grants it sends, its cache and the five-minute refresh boundary, one
// refresh shared by concurrent callers, invalidate(), a cancelled refresher, and its errors.
#include "providers/gcp/gcp_auth.hpp"
#include "providers/provider.hpp"
#include "reactor/event.hpp"
#include "reactor/http_client.hpp"
#include "reactor/http_server.hpp"
#include "reactor/shard_pool.hpp"
#include "tests/support/gcp_keys.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <memory>

namespace skyd::providers::gcp {
namespace {

using http::Request;
using http::Response;
using skyd::testing::contains;

const testing::TestServiceAccount& account() {
  static const testing::TestServiceAccount made = testing::make_test_service_account();
  return made;
}

// A port nothing listens on: one the kernel handed out, then got back.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return ntohs(address.sin_port);
}

class TokenCache : public ::testing::Test {
 protected:
  void SetUp() override {
    release_ = std::make_unique<Event>(pool_.executor(0));
    http::Router router;
    router.add("POST", "/token", "token endpoint",
               [this](Request& request) { return token_endpoint(request); });
    router.add("GET", "/computeMetadata/v1/instance/service-accounts/default/token", "metadata",
               [this](Request& request) { return metadata(request, true); });
    router.add("GET", "/computeMetadata/v1/project/project-id", "project",
               [this](Request& request) { return metadata(request, false); });
    server_ = std::make_unique<http::Server>(pool_.executors(), std::move(router));
    ASSERT_TRUE(server_->listen_tcp("127.0.0.1", 0));
    server_->start();
    pool_.start();
    client_ = std::make_unique<http::Client>(pool_.executor(0));
  }

  void TearDown() override {
    credentials_.reset();
    pool_.submit<void>(0, [this] { return server_->drain(std::chrono::milliseconds(200)); }).get();
    client_.reset();
    pool_.stop();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->tcp_port()); }

  Task<Response> token_endpoint(Request& request) {
    const int number = ++requests_;
    forms_.push_back(http::split_target("/?" + request.body).second);
    if (number == 1 && !first_request_seen_) {
      first_request_seen_ = true;
      first_request_.set_value();
    }
    if (number == 1 && hold_first_) co_await release_->wait();
    if (status_ != 200) co_return Response::text(status_, error_body_, "application/json");
    Json body = Json::object();
    body.set("access_token", "ya29.test-" + std::to_string(number));
    body.set("expires_in", expires_in_);
    body.set("token_type", "Bearer");
    co_return Response::json(200, body);
  }

  Task<Response> metadata(Request& request, bool token) {
    const std::string* flavor = request.header("Metadata-Flavor");
    if (!flavor || *flavor != "Google") co_return Response::text(403, "no flavor");
    ++requests_;
    if (!token) co_return Response::text(200, "metadata-project", "application/text");
    Json body = Json::object();
    body.set("access_token", "ya29.metadata-" + std::to_string(requests_));
    body.set("expires_in", expires_in_);
    body.set("token_type", "Bearer");
    co_return Response::json(200, body);
  }

  // Runs `make` on the shard and waits for it (at most 20 s).
  template <typename T>
  T on_shard(std::function<Task<T>()> make) {
    auto future = pool_.submit<T>(0, std::move(make));
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
      throw std::runtime_error("the shard did not finish in time");
    return future.get();
  }

  void use_service_account(std::string token_uri) {
    ServiceAccountKey key{account().project_id, account().private_key_id, account().private_key_pem,
                          account().client_email, std::move(token_uri)};
    auto made = GoogleCredentials::from_file(*client_, key, "key file /keys/sa.json");
    ASSERT_TRUE(made) << made.error().message();
    credentials_ = std::move(*made);
  }

  Result<AccessToken> token() {
    return on_shard<Result<AccessToken>>([this] { return credentials_->token(); });
  }

  std::future<Result<AccessToken>> token_later() {
    return pool_.submit<Result<AccessToken>>(0, [this] { return credentials_->token(); });
  }

  // Everything posted to the shard before this call has run up to its first wait.
  void settle() {
    on_shard<int>([]() -> Task<int> { co_return 0; });
  }

  ShardPool pool_{1};
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<GoogleCredentials> credentials_;
  std::unique_ptr<Event> release_;
  int requests_ = 0;
  int expires_in_ = 3599;
  int status_ = 200;
  std::string error_body_;
  bool hold_first_ = false;
  bool first_request_seen_ = false;
  std::promise<void> first_request_;
  std::vector<std::map<std::string, std::string>> forms_;
};

TEST_F(TokenCache, ServiceAccountSendsASignedAssertionToItsTokenUri) {
  use_service_account(url() + "/token");
  auto first = token();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->value, "ya29.test-1");
  ASSERT_EQ(forms_.size(), 1u);
  EXPECT_EQ(forms_[0]["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
  auto jwt = decode_jwt(forms_[0]["assertion"]);
  ASSERT_TRUE(jwt) << jwt.error().message();
  auto rsa = RsaKey::from_private_pem(account().private_key_pem);
  auto public_key = RsaKey::from_public_pem(rsa->public_pem());
  ASSERT_TRUE(public_key);
  EXPECT_TRUE(verify_jwt_signature(*jwt, *public_key));
  EXPECT_EQ(jwt->claims.find("aud")->as_string(), std::string_view(url() + "/token"));
  EXPECT_EQ(jwt->claims.find("iss")->as_string(), std::string_view(account().client_email));
}

TEST_F(TokenCache, LaterCallsReuseTheCachedToken) {
  use_service_account(url() + "/token");
  for (int i = 0; i < 3; ++i) {
    auto token = this->token();
    ASSERT_TRUE(token) << token.error().message();
    EXPECT_EQ(token->value, "ya29.test-1");
  }
  EXPECT_EQ(requests_, 1);
  EXPECT_EQ(credentials_->refreshes(), 1u);
}

TEST_F(TokenCache, ATokenWithMoreThanFiveMinutesLeftIsKept) {
  expires_in_ = 310;  // five minutes and ten seconds
  use_service_account(url() + "/token");
  ASSERT_TRUE(token());
  auto again = token();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value, "ya29.test-1");
  EXPECT_EQ(requests_, 1);
}

TEST_F(TokenCache, ATokenWithinFiveMinutesOfExpiryIsReplaced) {
  expires_in_ = 299;  // less than the five-minute margin: never good enough to keep
  use_service_account(url() + "/token");
  auto first = token();
  ASSERT_TRUE(first);
  auto second = token();
  ASSERT_TRUE(second);
  EXPECT_EQ(first->value, "ya29.test-1");
  EXPECT_EQ(second->value, "ya29.test-2");
  EXPECT_EQ(requests_, 2);
}

TEST_F(TokenCache, ExpiryIsCountedFromTheRequest) {
  use_service_account(url() + "/token");
  const auto before = Clock::now();
  auto token = this->token();
  ASSERT_TRUE(token);
  EXPECT_GE(token->expires_at, before + std::chrono::seconds(3599));
  EXPECT_LE(token->expires_at, Clock::now() + std::chrono::seconds(3599));
}

TEST_F(TokenCache, InvalidateForcesARefresh) {
  use_service_account(url() + "/token");
  ASSERT_TRUE(token());
  credentials_->invalidate();
  auto after = token();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->value, "ya29.test-2");
  EXPECT_EQ(requests_, 2);
}

TEST_F(TokenCache, ConcurrentCallersShareOneRefresh) {
  hold_first_ = true;
  use_service_account(url() + "/token");
  auto first_seen = first_request_.get_future();
  std::vector<std::future<Result<AccessToken>>> callers;
  for (int i = 0; i < 4; ++i) callers.push_back(token_later());
  ASSERT_EQ(first_seen.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  settle();
  pool_
      .submit<void>(0,
                    [this]() -> Task<void> {
                      release_->set();
                      co_return;
                    })
      .get();
  for (auto& caller : callers) {
    ASSERT_EQ(caller.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    auto token = caller.get();
    ASSERT_TRUE(token) << token.error().message();
    EXPECT_EQ(token->value, "ya29.test-1");
  }
  EXPECT_EQ(requests_, 1);
}

TEST_F(TokenCache, ACancelledRefresherLeavesTheOthersToRefreshThemselves) {
  hold_first_ = true;  // the first request is never answered
  use_service_account(url() + "/token");
  auto first_seen = first_request_.get_future();
  asio::cancellation_signal cancel;
  auto leader = asio::co_spawn(
      pool_.executor(0), [this]() { return credentials_->token(); }(),
      asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  ASSERT_EQ(first_seen.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto waiter = token_later();
  settle();
  asio::post(pool_.executor(0), [&cancel] { cancel.emit(asio::cancellation_type::all); });
  ASSERT_EQ(leader.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  try {
    auto cancelled = leader.get();
    ASSERT_FALSE(cancelled);
    EXPECT_TRUE(is_cancellation(cancelled.error().code)) << cancelled.error().message();
  } catch (const boost::system::system_error& error) {
    EXPECT_TRUE(is_cancellation(error.code()));
  }
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto token = waiter.get();
  ASSERT_TRUE(token) << token.error().message();
  EXPECT_EQ(token->value, "ya29.test-2");
  EXPECT_EQ(requests_, 2);
}

TEST_F(TokenCache, ARefusedGrantIsAnAuthErrorNamingTheStepAndTheReason) {
  status_ = 400;
  error_body_ = R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})";
  use_service_account(url() + "/token");
  auto refused = token();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kAuth));
  const std::string& detail = refused.error().detail;
  EXPECT_TRUE(contains(detail, "service account " + account().client_email)) << detail;
  EXPECT_TRUE(contains(detail, "key file /keys/sa.json")) << detail;
  EXPECT_TRUE(contains(detail, "the token endpoint " + url() + "/token: HTTP 400")) << detail;
  EXPECT_TRUE(contains(detail, "invalid_grant: Invalid JWT Signature.")) << detail;
  EXPECT_FALSE(contains(detail, "PRIVATE KEY")) << detail;
  EXPECT_FALSE(contains(detail, forms_.at(0)["assertion"])) << detail;

  // Nothing was cached: once the endpoint agrees, the next call has a token.
  status_ = 200;
  auto granted = token();
  ASSERT_TRUE(granted) << granted.error().message();
  EXPECT_EQ(granted->value, "ya29.test-2");
}

TEST_F(TokenCache, AnUnreachableTokenEndpointIsTransient) {
  use_service_account("http://127.0.0.1:" + std::to_string(closed_port()) + "/token");
  auto failed = token();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, make_error_code(ProviderErrc::kTransient));
  EXPECT_TRUE(contains(failed.error().detail, "did not answer")) << failed.error().detail;
}

TEST_F(TokenCache, AuthorizedUserSendsARefreshTokenGrant) {
  AuthorizedUser user{"id.apps.googleusercontent.com", "secret", "1//refresh", url() + "/token",
                      ""};
  auto made = GoogleCredentials::from_file(*client_, user, "key file /adc.json");
  ASSERT_TRUE(made);
  credentials_ = std::move(*made);
  auto granted = token();
  ASSERT_TRUE(granted) << granted.error().message();
  ASSERT_EQ(forms_.size(), 1u);
  EXPECT_EQ(forms_[0]["grant_type"], "refresh_token");
  EXPECT_EQ(forms_[0]["client_id"], "id.apps.googleusercontent.com");
  EXPECT_EQ(forms_[0]["client_secret"], "secret");
  EXPECT_EQ(forms_[0]["refresh_token"], "1//refresh");
  EXPECT_FALSE(contains(credentials_->describe(), "secret"));
  auto project = on_shard<Result<std::string>>([this] { return credentials_->project_id(); });
  ASSERT_FALSE(project);
  EXPECT_TRUE(contains(project.error().detail, "GOOGLE_CLOUD_PROJECT")) << project.error().detail;
}

TEST_F(TokenCache, MetadataServerGivesTokenAndProjectWhenNothingElseIs) {
  testing::TempDir home;
  const std::string host = "127.0.0.1:" + std::to_string(server_->tcp_port());
  auto made = GoogleCredentials::application_default(
      *client_, [&](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "HOME") return home.path();
        if (std::string_view(name) == "GCE_METADATA_HOST") return host;
        return std::nullopt;
      });
  ASSERT_TRUE(made) << made.error().message();
  credentials_ = std::move(*made);
  EXPECT_EQ(credentials_->describe(), "the metadata server " + host);
  auto granted = token();
  ASSERT_TRUE(granted) << granted.error().message();
  EXPECT_EQ(granted->value, "ya29.metadata-1");  // the server answers only with Metadata-Flavor
  auto project = on_shard<Result<std::string>>([this] { return credentials_->project_id(); });
  ASSERT_TRUE(project) << project.error().message();
  EXPECT_EQ(*project, "metadata-project");
}

TEST_F(TokenCache, NoCredentialsAnywhereIsAnAuthErrorNamingWhatWasTried) {
  testing::TempDir home;
  const std::string host = "127.0.0.1:" + std::to_string(closed_port());
  auto made = GoogleCredentials::application_default(
      *client_, [&](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "HOME") return home.path();
        if (std::string_view(name) == "GCE_METADATA_HOST") return host;
        return std::nullopt;
      });
  ASSERT_TRUE(made);
  credentials_ = std::move(*made);
  auto failed = token();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, make_error_code(ProviderErrc::kAuth));
  const std::string& detail = failed.error().detail;
  EXPECT_TRUE(contains(detail, "GOOGLE_APPLICATION_CREDENTIALS is not set")) << detail;
  EXPECT_TRUE(
      contains(detail, home.path() + "/.config/gcloud/application_default_credentials.json"))
      << detail;
  EXPECT_TRUE(contains(detail, "the metadata server " + host + " did not answer")) << detail;
}

TEST_F(TokenCache, ApplicationDefaultReadsTheNamedKeyAndItsProject) {
  testing::TempDir dir;
  testing::write_credentials_file(dir.file("sa.json"),
                                  account().with_token_uri(url() + "/token").key_file_json());
  std::map<std::string, std::string> env{{"GOOGLE_APPLICATION_CREDENTIALS", dir.file("sa.json")},
                                         {"HOME", dir.path()}};
  auto lookup = [&env](const char* name) -> std::optional<std::string> {
    auto found = env.find(name);
    return found == env.end() ? std::nullopt : std::optional<std::string>(found->second);
  };
  auto made = GoogleCredentials::application_default(*client_, lookup);
  ASSERT_TRUE(made) << made.error().message();
  credentials_ = std::move(*made);
  EXPECT_EQ(credentials_->describe(), "service account " + account().client_email + " (key file " +
                                          dir.file("sa.json") + ")");
  ASSERT_TRUE(token());
  auto project = on_shard<Result<std::string>>([this] { return credentials_->project_id(); });
  ASSERT_TRUE(project);
  EXPECT_EQ(*project, "skyd-test-project");

  env["GOOGLE_CLOUD_PROJECT"] = "chosen-project";
  auto overridden = GoogleCredentials::application_default(*client_, lookup);
  ASSERT_TRUE(overridden);
  credentials_ = std::move(*overridden);
  project = on_shard<Result<std::string>>([this] { return credentials_->project_id(); });
  ASSERT_TRUE(project);
  EXPECT_EQ(*project, "chosen-project");
}

TEST_F(TokenCache, AMissingNamedKeyFileIsRefusedNamingTheFileAndTheVariable) {
  auto made = GoogleCredentials::application_default(
      *client_, [](const char* name) -> std::optional<std::string> {
        if (std::string_view(name) == "GOOGLE_APPLICATION_CREDENTIALS")
          return "/nonexistent/sa.json";
        return std::nullopt;
      });
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_TRUE(contains(made.error().detail, "/nonexistent/sa.json cannot be read"))
      << made.error().detail;
  EXPECT_TRUE(contains(made.error().detail, "GOOGLE_APPLICATION_CREDENTIALS"))
      << made.error().detail;
}

}  // namespace
}  // namespace skyd::providers::gcp
