// The AWS provider against a real fakecloud process in process mode: every call goes over HTTP,
// is SigV4-signed and checked, and every instance is a real skylet on a loopback address.
#include "providers/aws/aws_provider.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/task_group.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace skyd::testing {
namespace {

using providers::Cluster;
using providers::InstanceStatus;
using providers::LaunchRequest;
using providers::ProviderErrc;
using providers::aws::AwsProvider;
using providers::aws::AwsProviderOptions;
using providers::aws::EnvLookup;

constexpr const char* kAccessKey = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kSkyletToken = "fakecloud-test-token-0123456789";

Task<Result<Json>> admin_call(http::Client* client, std::string url, std::string method,
                              std::string target, std::string body) {
  auto endpoint = http::Endpoint::parse(url);
  http::Request request;
  request.method = method;
  request.target = target;
  request.body = body;
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  auto response = co_await client->request(*endpoint, std::move(request));
  if (!response) co_return response.error();
  if (response->status != 200)
    co_return make_error(NetErrc::kProtocol, target + ": HTTP " + std::to_string(response->status) +
                                                 " " + response->body);
  co_return parse_json(response->body);
}

// GET on a skylet with the cluster's token: /health, or a long poll of /events.
Task<Result<http::Response>> skylet_get(http::Client* client, http::Endpoint skylet,
                                        std::string token, std::string target) {
  http::Request request;
  request.target = target;
  request.headers.emplace_back("Authorization", "Bearer " + token);
  co_return co_await client->request(skylet, std::move(request));
}

// POST on a skylet with the cluster's token (a virtual node's task calls).
Task<Result<http::Response>> skylet_post(http::Client* client, http::Endpoint skylet,
                                         std::string token, std::string target, std::string body) {
  http::Request request;
  request.method = "POST";
  request.target = target;
  request.body = body;
  request.headers.emplace_back("Authorization", "Bearer " + token);
  request.headers.emplace_back("Content-Type", "application/json");
  co_return co_await client->request(skylet, std::move(request));
}

std::int64_t number(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_int() ? *value->as_int() : -1;
}

class AwsProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { start_cloud({}); }

  // Restarts fakecloud in virtual mode with `config` (JSON) and makes extra_provider_ a provider
  // that polls every 50 ms and reaches the virtual nodes.
  void start_virtual_cloud(const std::string& config) {
    std::ofstream(dir_.file("virtual.json")) << config;
    cloud_.reset();
    start_cloud({"--mode", "virtual", "--config", dir_.file("virtual.json")});
    AwsProviderOptions options;
    options.endpoint = cloud_->url();
    options.env = [this](const char* name) -> std::optional<std::string> {
      const std::string key = name;
      if (key == "AWS_ACCESS_KEY_ID") return kAccessKey;
      if (key == "AWS_SECRET_ACCESS_KEY") return kSecret;
      if (key == "HOME") return dir_.path();
      return std::nullopt;
    };
    options.poll_interval = std::chrono::milliseconds(50);
    options.skylet_port = static_cast<std::uint16_t>(cloud_->virtual_port());
    extra_provider_ = std::make_unique<AwsProvider>(pool_.executor(0), options);
  }

  void start_cloud(std::vector<std::string> extra) {
    cloud_ = std::make_unique<FakeCloudProcess>(dir_, std::move(extra));
    provider_ = make_provider(credentials());
  }
  std::map<std::string, std::string> credentials() {
    return {{"AWS_ACCESS_KEY_ID", kAccessKey},
            {"AWS_SECRET_ACCESS_KEY", kSecret},
            {"HOME", dir_.path()}};
  }
  // Connections the test's own HTTP client has opened, read on its shard.
  std::uint64_t connections_opened() {
    http::Client* client = http_.get();
    return pool_
        .submit<std::uint64_t>(
            0, [client]() -> Task<std::uint64_t> { co_return client->stats().connections_opened; })
        .get();
  }

  std::unique_ptr<AwsProvider> make_provider(std::map<std::string, std::string> env,
                                             int page_size = 1000,
                                             http::Client* node_client = nullptr) {
    AwsProviderOptions options;
    options.node_client = node_client;
    options.describe_page_size = page_size;
    options.endpoint = cloud_->url();
    options.env = [env](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    options.poll_interval = std::chrono::milliseconds(50);
    options.retry.initial = std::chrono::milliseconds(10);
    options.retry.cap = std::chrono::milliseconds(100);
    options.launch_timeout = std::chrono::seconds(30);
    options.skylet_port = 46590;
    options.controller_id = "test-controller";
    return std::make_unique<AwsProvider>(pool_.executor(0), options);
  }

  void TearDown() override {
    provider_.reset();
    extra_provider_.reset();
    http_.reset();
    pool_.stop();
  }

  LaunchRequest request(std::string name, int nodes, bool spot, std::string zone = "") {
    LaunchRequest out;
    out.cluster_name = std::move(name);
    out.nodes = nodes;
    out.instance_type = "m5.large";
    out.region = "us-east-1";
    out.zone = std::move(zone);
    out.use_spot = spot;
    out.idempotency_token = out.cluster_name + "-attempt-1";
    out.tags = {{"skyd-job", "42"}};
    out.skylet_token = kSkyletToken;
    return out;
  }

  Result<Cluster> launch(LaunchRequest req, AwsProvider* provider = nullptr) {
    AwsProvider* target = provider ? provider : provider_.get();
    return pool_.submit<Result<Cluster>>(0, [target, req] { return target->launch(req); }).get();
  }
  Result<void> terminate(std::string name) {
    AwsProvider* target = provider_.get();
    return pool_.submit<Result<void>>(0, [target, name] { return target->terminate(name); }).get();
  }
  Result<std::vector<InstanceStatus>> describe(std::vector<std::string> names) {
    AwsProvider* target = provider_.get();
    return pool_
        .submit<Result<std::vector<InstanceStatus>>>(
            0, [target, names] { return target->describe(names); })
        .get();
  }
  Json admin(std::string method, std::string target, std::string body = "") {
    http::Client* client = http_.get();
    const std::string url = cloud_->url();
    auto result = pool_
                      .submit<Result<Json>>(0,
                                            [client, url, method, target, body] {
                                              return admin_call(client, url, method, target, body);
                                            })
                      .get();
    if (!result) throw std::runtime_error(result.error().message());
    return *result;
  }
  std::int64_t live() { return number(admin("GET", "/_admin/stats"), "live"); }
  // GET /health on a node's skylet with the test's cluster token.
  Result<http::Response> skylet_health(http::Endpoint skylet) {
    http::Client* client = http_.get();
    return pool_
        .submit<Result<http::Response>>(
            0, [client, skylet] { return skylet_get(client, skylet, kSkyletToken, "/health"); })
        .get();
  }
  // One signed EC2 call in us-east-1 through the provider.
  Result<std::string> ec2_call(providers::aws::QueryParams params) {
    AwsProvider* target = provider_.get();
    return pool_
        .submit<Result<std::string>>(0,
                                     [target, params] { return target->call("us-east-1", params); })
        .get();
  }

  TempDir dir_;
  ShardPool pool_{1};
  bool started_ = [this] {
    pool_.start();
    return true;
  }();
  std::unique_ptr<http::Client> http_ = std::make_unique<http::Client>(pool_.executor(0));
  std::unique_ptr<FakeCloudProcess> cloud_;
  std::unique_ptr<AwsProvider> provider_;
  std::unique_ptr<AwsProvider> extra_provider_;
};

TEST_F(AwsProviderTest, LaunchesATwoNodeSpotClusterOfLiveSkylets) {
  auto cluster = launch(request("spot-pair", 2, true));
  ASSERT_TRUE(cluster) << cluster.error().message();
  ASSERT_EQ(cluster->nodes.size(), 2u);
  EXPECT_EQ(cluster->cloud, "aws");
  EXPECT_TRUE(cluster->use_spot);
  std::set<std::string> ips;
  for (const auto& node : cluster->nodes) {
    ips.insert(node.ip);
    auto health = skylet_health(node.skylet);
    ASSERT_TRUE(health) << health.error().message();
    EXPECT_EQ(health->status, 200) << "skylet of " << node.instance_id;
  }
  EXPECT_EQ(ips.size(), 2u) << "each node has its own address";
  const Json instances = admin("GET", "/_admin/instances");
  EXPECT_EQ(number(instances, "running"), 2);
  for (const auto& item : *instances.find("instances")->as_array()) {
    EXPECT_EQ(item.find("spot")->as_bool(), true);
    EXPECT_EQ(item.find("tags")->find("skyd-cluster")->as_string(), "spot-pair");
    EXPECT_EQ(item.find("tags")->find("skyd-controller")->as_string(), "test-controller");
    EXPECT_EQ(item.find("tags")->find("skyd-job")->as_string(), "42");
  }
  ASSERT_TRUE(terminate("spot-pair"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, TheSameClientTokenMakesOneSetOfInstances) {
  auto first = launch(request("idem", 2, false));
  ASSERT_TRUE(first) << first.error().message();
  auto second = launch(request("idem", 2, false));
  ASSERT_TRUE(second) << second.error().message();
  ASSERT_EQ(second->nodes.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(first->nodes[i].instance_id, second->nodes[i].instance_id);
  const Json stats = admin("GET", "/_admin/stats");
  EXPECT_EQ(number(*stats.find("calls"), "RunInstances"), 2);
  EXPECT_EQ(number(stats, "running") + number(stats, "pending"), 2);
  ASSERT_TRUE(terminate("idem"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, ANewNodesHealthCheckOpensTheConnectionTheTasksCallsThenReuse) {
  // The daemon hands each shard's provider the shard's client: one TLS handshake per node.
  provider_ = make_provider(credentials(), 1000, http_.get());
  auto cluster = launch(request("one-handshake", 1, false));
  ASSERT_TRUE(cluster) << cluster.error().message();
  const std::uint64_t opened = connections_opened();
  EXPECT_GE(opened, 1u) << "the health check went through the node client";
  auto health = skylet_health(cluster->nodes[0].skylet);
  ASSERT_TRUE(health) << health.error().message();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(connections_opened(), opened) << "the task's call reused the health check's connection";
  ASSERT_TRUE(terminate("one-handshake"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, FilesAreShippedToEveryNodeOnceAndAnAdoptedClusterIsLeftAsItIs) {
  const std::string snapshot = dir_.file("snapshot");
  std::filesystem::create_directories(snapshot + "/nested");
  std::ofstream(snapshot + "/nested/model.bin", std::ios::binary) << std::string("\0\1\2", 3);
  std::ofstream(dir_.file("token.txt")) << "t0ken";
  LaunchRequest req = request("shipped", 2, false);
  req.workdir_snapshot = snapshot;
  req.mounts.push_back({"~/creds/token.txt", dir_.file("token.txt"), "", {}});
  auto cluster = launch(req);
  ASSERT_TRUE(cluster) << cluster.error().message();
  for (const auto& node : cluster->nodes) {
    EXPECT_EQ(node.skylet.transport, http::Endpoint::Transport::kTls);
    EXPECT_EQ(node.workdir, "~/sky_workdir");
    // A process-mode node's home is its sandbox in fakecloud's work directory.
    const std::string home = dir_.file("cloud") + "/" + node.instance_id;
    EXPECT_EQ(read_text(home + "/sky_workdir/nested/model.bin"), std::string("\0\1\2", 3));
    EXPECT_EQ(read_text(home + "/creds/token.txt"), "t0ken");
  }
  // Adopting the cluster (a restarted skyd) ships nothing: the sources may be gone by then.
  std::filesystem::remove_all(snapshot);
  std::filesystem::remove(dir_.file("token.txt"));
  auto adopted = launch(req);
  ASSERT_TRUE(adopted) << adopted.error().message();
  EXPECT_EQ(adopted->nodes[0].instance_id, cluster->nodes[0].instance_id);
  ASSERT_TRUE(terminate("shipped"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, AFileMountWhoseSourceIsMissingFailsAsInvalidAndLeavesNoInstance) {
  LaunchRequest req = request("missing-source", 1, false);
  req.mounts.push_back({"data", dir_.file("no-such-dir"), "", {}});
  auto refused = launch(req);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kInvalid))
      << refused.error().message();
  EXPECT_NE(refused.error().detail.find("no-such-dir"), std::string::npos);
  EXPECT_EQ(live(), 0);
}

Task<std::vector<Result<Cluster>>> launch_together(AwsProvider* provider,
                                                   std::vector<LaunchRequest> requests) {
  std::vector<Result<Cluster>> results(requests.size());
  TaskGroup launches(co_await asio::this_coro::executor, "launches");
  for (std::size_t i = 0; i < requests.size(); ++i) {
    launches.spawn(
        [](AwsProvider* provider, LaunchRequest request, Result<Cluster>* out) -> Task<void> {
          *out = co_await provider->launch(std::move(request));
        }(provider, requests[i], &results[i]));
  }
  co_await launches.wait();
  co_return results;
}

// One call per name, all at once on the shard (many runners asking together): their answers in
// the names' order.
template <typename Answer>
Task<std::vector<Answer>> at_once(std::vector<std::string> names,
                                  std::function<Task<Answer>(std::string)> call) {
  std::vector<Answer> results(names.size());
  TaskGroup calls(co_await asio::this_coro::executor, "calls at once");
  for (std::size_t i = 0; i < names.size(); ++i) {
    calls.spawn([](std::function<Task<Answer>(std::string)>* call, std::string name,
                   Answer* out) -> Task<void> {
      *out = co_await (*call)(std::move(name));
    }(&call, names[i], &results[i]));
  }
  co_await calls.wait();
  co_return results;
}

Task<std::vector<Result<std::vector<InstanceStatus>>>> describe_together(
    AwsProvider* provider, std::vector<std::string> names) {
  return at_once<Result<std::vector<InstanceStatus>>>(
      std::move(names), [provider](std::string name) {
        std::vector<std::string> one{std::move(name)};
        return provider->describe(std::move(one));
      });
}

Task<std::vector<Result<void>>> terminate_together(AwsProvider* provider,
                                                   std::vector<std::string> names) {
  return at_once<Result<void>>(std::move(names), [provider](std::string name) {
    return provider->terminate(std::move(name));
  });
}

TEST_F(AwsProviderTest, ConcurrentLaunchesShareOneDescribeInstancesPerPoll) {
  // Virtual nodes that take 600 ms to boot, so every launch waits through several polls.
  start_virtual_cloud(R"({"virtual_boot_ms": 600})");
  std::vector<LaunchRequest> requests;
  for (int i = 0; i < 20; ++i) {
    requests.push_back(request("batch-" + std::to_string(i), 1, true));
    requests.back().skylet_token = "batch-token-" + std::to_string(1000000 + i);
  }
  AwsProvider* provider = extra_provider_.get();
  auto results = pool_
                     .submit<std::vector<Result<Cluster>>>(
                         0, [provider, requests] { return launch_together(provider, requests); })
                     .get();
  for (const auto& result : results) ASSERT_TRUE(result) << result.error().message();
  const Json stats = admin("GET", "/_admin/stats");
  // Unbatched, 20 launches polling every 50 ms for 600 ms would make some 240 calls.
  EXPECT_LE(number(*stats.find("calls"), "DescribeInstances"), 40) << stats.dump();
  EXPECT_EQ(number(stats, "describe_ids_max"), 20) << "one call covered every launch";
  // Twenty nodes fall silent at once: their twenty describe() calls become one DescribeInstances,
  // and each caller gets only its own cluster.
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("batch-" + std::to_string(i));
  auto statuses = pool_
                      .submit<std::vector<Result<std::vector<InstanceStatus>>>>(
                          0, [provider, names] { return describe_together(provider, names); })
                      .get();
  for (std::size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(statuses[i]) << statuses[i].error().message();
    ASSERT_EQ(statuses[i]->size(), 1u);
    EXPECT_EQ((*statuses[i])[0].cluster_name, names[i]);
  }
  const Json after = admin("GET", "/_admin/stats");
  EXPECT_EQ(number(*after.find("calls"), "DescribeInstances"),
            number(*stats.find("calls"), "DescribeInstances") + 1)
      << after.dump();
  // A cancel of every job: twenty terminate() calls at once become one TerminateInstances (and
  // one DescribeInstances to find the instances, one to see them gone).
  auto terminated = pool_
                        .submit<std::vector<Result<void>>>(
                            0, [provider, names] { return terminate_together(provider, names); })
                        .get();
  for (const auto& result : terminated) EXPECT_TRUE(result) << result.error().message();
  const Json gone = admin("GET", "/_admin/stats");
  EXPECT_EQ(number(*gone.find("calls"), "TerminateInstances"), 1) << gone.dump();
  EXPECT_LE(number(*gone.find("calls"), "DescribeInstances"),
            number(*after.find("calls"), "DescribeInstances") + 3)
      << gone.dump();
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, AFailedPollFailsOnlyTheLaunchesItCoveredNotLaterOnes) {
  // Every attempt of the first DescribeInstances fails (the provider retries 8 times).
  admin("POST", "/_admin/faults",
        R"({"action":"DescribeInstances","code":"InternalError","count":8})");
  auto failed = launch(request("poll-failed", 1, false));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, make_error_code(ProviderErrc::kTransient))
      << failed.error().message();
  auto next = launch(request("poll-after", 1, false));
  ASSERT_TRUE(next) << next.error().message();
  ASSERT_TRUE(terminate("poll-after"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, ALongClusterNameStillGetsAVerifiableCertificateName) {
  const std::string name(70, 'x');
  const std::string tls_name = AwsProvider::skylet_tls_name(name);
  EXPECT_LE(tls_name.size(), 63u);
  EXPECT_TRUE(tls_name.ends_with(".skylet.internal"));
  EXPECT_EQ(tls_name, AwsProvider::skylet_tls_name(name)) << "stable";
  EXPECT_EQ(AwsProvider::skylet_tls_name("train-a2-7"), "train-a2-7.skylet.internal");
  auto cluster = launch(request(std::string(40, 'y') + "-a12-123456", 1, false));
  ASSERT_TRUE(cluster) << cluster.error().message();
  ASSERT_TRUE(terminate(std::string(40, 'y') + "-a12-123456"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, ZoneCapacityErrorIsNoCapacityAndOtherZonesStillWork) {
  admin("POST", "/_admin/faults",
        R"({"action":"RunInstances","zone":"us-east-1a","code":"InsufficientInstanceCapacity"})");
  auto refused = launch(request("ice", 1, true, "us-east-1a"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kNoCapacity))
      << refused.error().message();
  auto placed = launch(request("ice", 1, true, "us-east-1b"));
  ASSERT_TRUE(placed) << placed.error().message();
  EXPECT_EQ(placed->zone, "us-east-1b");
  ASSERT_TRUE(terminate("ice"));
  EXPECT_EQ(live(), 0);
}

// SkyPilot's catalog (and the built-in P3 rows) name EC2 zones by id; the launch sends the id and
// the account places the instances in the zone it maps the id to (this fake account: az2 is b).
TEST_F(AwsProviderTest, AZoneIdFromTheCatalogPlacesTheClusterInTheZoneItNames) {
  LaunchRequest by_id = request("by-zone-id", 1, false, "use1-az2");
  by_id.instance_type = "p3.2xlarge";
  auto placed = launch(by_id);
  ASSERT_TRUE(placed) << placed.error().message();
  EXPECT_EQ(placed->zone, "use1-az2") << "the cluster keeps the catalog's name for failover";
  const Json instances = admin("GET", "/_admin/instances");
  ASSERT_EQ(number(instances, "running"), 1);
  const Json& instance = instances.find("instances")->as_array()->front();
  EXPECT_EQ(instance.find("zone")->as_string(), "us-east-1b");
  EXPECT_EQ(instance.find("instance_type")->as_string(), "p3.2xlarge");
  ASSERT_TRUE(terminate("by-zone-id"));
  auto refused = launch(request("other-region-id", 1, false, "usw2-az1"));
  ASSERT_FALSE(refused) << "a zone id of another region names no zone of us-east-1";
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, SpotQuotaIsQuota) {
  admin("POST", "/_admin/faults",
        R"({"action":"RunInstances","market":"spot","code":"MaxSpotInstanceCountExceeded"})");
  auto refused = launch(request("quota", 1, true));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kQuota))
      << refused.error().message();
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, BadCredentialsAreAnAuthError) {
  extra_provider_ = make_provider({{"AWS_ACCESS_KEY_ID", kAccessKey},
                                   {"AWS_SECRET_ACCESS_KEY", "not-the-secret"},
                                   {"HOME", dir_.path()}});
  auto refused = launch(request("auth", 1, false), extra_provider_.get());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kAuth))
      << refused.error().message();
  EXPECT_NE(refused.error().detail.find("AuthFailure"), std::string::npos);
  const Json stats = admin("GET", "/_admin/stats");
  EXPECT_EQ(number(stats, "signature_failures"), 1) << "auth errors are not retried";
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, ThrottlingIsRetriedUntilItSucceeds) {
  admin("POST", "/_admin/faults", R"({"code":"RequestLimitExceeded","count":3})");
  auto cluster = launch(request("throttled", 1, false));
  ASSERT_TRUE(cluster) << cluster.error().message();
  EXPECT_EQ(provider_->stats().throttled, 3u);
  EXPECT_EQ(number(admin("GET", "/_admin/stats"), "throttled"), 3);
  ASSERT_TRUE(terminate("throttled"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, ServerErrorsAreRetriedAndPersistentOnesAreTransient) {
  admin("POST", "/_admin/faults",
        R"({"action":"DescribeInstances","code":"InternalError","count":100})");
  auto describe_failed = describe({"nothing"});
  ASSERT_FALSE(describe_failed);
  EXPECT_EQ(describe_failed.error().code, make_error_code(ProviderErrc::kTransient));
  EXPECT_EQ(provider_->stats().retries, 7u) << "8 attempts in all";
}

TEST_F(AwsProviderTest, PreemptionNoticeReachesSkyletThenDescribeReportsPreempted) {
  auto cluster = launch(request("preempt-me", 1, true));
  ASSERT_TRUE(cluster) << cluster.error().message();
  admin("POST", "/_admin/preempt?cluster=preempt-me&grace_ms=1500");
  // The notice travels the way it does on EC2: skylet polls its metadata service.
  http::Client* client = http_.get();
  const http::Endpoint skylet = cluster->nodes[0].skylet;
  auto events =
      pool_
          .submit<Result<http::Response>>(0,
                                          [client, skylet] {
                                            return skylet_get(client, skylet, kSkyletToken,
                                                              "/events?since=0&wait_ms=15000");
                                          })
          .get();
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_NE(events->body.find("spot_notice"), std::string::npos) << events->body;
  EXPECT_NE(events->body.find("terminate"), std::string::npos) << events->body;
  // After the grace the instance is reclaimed; describe says so.
  bool preempted = false;
  for (int i = 0; i < 200 && !preempted; ++i) {
    auto statuses = describe({"preempt-me"});
    ASSERT_TRUE(statuses) << statuses.error().message();
    ASSERT_EQ(statuses->size(), 1u);
    preempted = (*statuses)[0].preempted;
    if (!preempted) {
      auto wait = [](Duration d) -> Task<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, d);
        co_await timer.async_wait(asio::use_awaitable);
      };
      pool_.submit<void>(0, [wait] { return wait(std::chrono::milliseconds(50)); }).get();
    }
  }
  EXPECT_TRUE(preempted);
  ASSERT_TRUE(terminate("preempt-me"));
  EXPECT_EQ(live(), 0);
}

// The one instance's record in /_admin/instances.
Json instance_record(const Json& instances, const std::string& id) {
  for (const auto& item : *instances.find("instances")->as_array())
    if (item.find("instance_id")->as_string() == id) return item;
  return Json::object();
}

TEST_F(AwsProviderTest, AStoppedInstanceEndsItsSkyletAndAStartedOneBootsItAgain) {
  LaunchRequest req = request("stop-start", 1, false);
  auto cluster = launch(req);
  ASSERT_TRUE(cluster) << cluster.error().message();
  const std::string id = cluster->nodes[0].instance_id;
  const Json before = instance_record(admin("GET", "/_admin/instances"), id);
  const pid_t first_pid = static_cast<pid_t>(number(before, "pid"));
  ASSERT_GT(first_pid, 0);
  auto state_is = [&](const std::string& state) {
    for (int i = 0; i < 400; ++i) {
      if (instance_record(admin("GET", "/_admin/instances"), id).find("state")->as_string() ==
          state)
        return true;
      ::usleep(50'000);
    }
    return false;
  };

  auto stopping = ec2_call(providers::aws::build_stop_instances({id}));
  ASSERT_TRUE(stopping) << stopping.error().message();
  auto changes = providers::aws::parse_stop_instances(*stopping);
  ASSERT_TRUE(changes) << changes.error().message();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].current, providers::aws::Ec2State::kStopping);
  EXPECT_EQ((*changes)[0].previous, providers::aws::Ec2State::kRunning);
  ASSERT_TRUE(state_is("stopped"));
  EXPECT_NE(::kill(first_pid, 0), 0) << "the stopped machine's skylet is gone";
  // A stopped instance is not preempted or gone: describe says it is stopped, and it counts as
  // not live.
  EXPECT_EQ(live(), 0);
  auto stopped_again = ec2_call(providers::aws::build_stop_instances({id}));
  ASSERT_TRUE(stopped_again) << stopped_again.error().message();
  EXPECT_EQ((*providers::aws::parse_stop_instances(*stopped_again))[0].current,
            providers::aws::Ec2State::kStopped);

  auto starting = ec2_call(providers::aws::build_start_instances({id}));
  ASSERT_TRUE(starting) << starting.error().message();
  auto started = providers::aws::parse_start_instances(*starting);
  ASSERT_TRUE(started) << started.error().message();
  EXPECT_EQ((*started)[0].current, providers::aws::Ec2State::kPending);
  EXPECT_EQ((*started)[0].previous, providers::aws::Ec2State::kStopped);
  ASSERT_TRUE(state_is("running"));
  const Json after = instance_record(admin("GET", "/_admin/instances"), id);
  EXPECT_NE(number(after, "pid"), first_pid) << "a new skylet, booted from the user data";
  EXPECT_EQ(*after.find("ip")->as_string(), *before.find("ip")->as_string())
      << "the private address survives a stop";
  // The same skylet endpoint answers again with the cluster's token.
  auto health = skylet_health(cluster->nodes[0].skylet);
  ASSERT_TRUE(health) << health.error().message();
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(terminate("stop-start"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, StopRefusesASpotInstanceAndStartRefusesATerminatedOne) {
  auto spot = launch(request("stop-spot", 1, true));
  ASSERT_TRUE(spot) << spot.error().message();
  auto refused = ec2_call(providers::aws::build_stop_instances({spot->nodes[0].instance_id}));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("UnsupportedOperation"), std::string::npos)
      << refused.error().detail;
  ASSERT_TRUE(terminate("stop-spot"));
  auto not_startable =
      ec2_call(providers::aws::build_start_instances({spot->nodes[0].instance_id}));
  ASSERT_FALSE(not_startable);
  EXPECT_NE(not_startable.error().detail.find("IncorrectInstanceState"), std::string::npos)
      << not_startable.error().detail;
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, AnInstanceAsksItsOwnMetadataServiceWhichInstanceAndRegionItIs) {
  auto cluster = launch(request("whoami", 1, false, "us-east-1c"));
  ASSERT_TRUE(cluster) << cluster.error().message();
  const std::string id = cluster->nodes[0].instance_id;
  const std::string metadata = std::string(
      *instance_record(admin("GET", "/_admin/instances"), id).find("metadata_url")->as_string());
  const std::string token =
      run_command({"/usr/bin/curl", "-s", "-X", "PUT", "-H",
                   "X-aws-ec2-metadata-token-ttl-seconds: 60", metadata + "/latest/api/token"})
          .out;
  auto get = [&](const std::string& path) {
    return run_command({"/usr/bin/curl", "-s", "-H", "X-aws-ec2-metadata-token: " + token,
                        metadata + "/latest/meta-data/" + path})
        .out;
  };
  EXPECT_EQ(get("instance-id"), id);
  EXPECT_EQ(get("placement/region"), "us-east-1");
  EXPECT_EQ(get("placement/availability-zone"), "us-east-1c");
  EXPECT_EQ(get("instance-type"), "m5.large");
  ASSERT_TRUE(terminate("whoami"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, ListsClustersByControllerTag) {
  ASSERT_TRUE(launch(request("listed-a", 1, false)));
  ASSERT_TRUE(launch(request("listed-b", 1, false)));
  AwsProvider* target = provider_.get();
  auto names =
      pool_
          .submit<Result<std::vector<std::string>>>(0, [target] { return target->list_clusters(); })
          .get();
  ASSERT_TRUE(names) << names.error().message();
  EXPECT_EQ(*names, (std::vector<std::string>{"listed-a", "listed-b"}));
  ASSERT_TRUE(terminate("listed-a"));
  ASSERT_TRUE(terminate("listed-b"));
  EXPECT_EQ(live(), 0);
  auto after =
      pool_
          .submit<Result<std::vector<std::string>>>(0, [target] { return target->list_clusters(); })
          .get();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

TEST_F(AwsProviderTest, DescribePaginatesAcrossManyInstances) {
  auto cluster = launch(request("wide", 12, false));
  ASSERT_TRUE(cluster) << cluster.error().message();
  // Page size 5: 12 instances take three DescribeInstances calls.
  extra_provider_ = make_provider({{"AWS_ACCESS_KEY_ID", kAccessKey},
                                   {"AWS_SECRET_ACCESS_KEY", kSecret},
                                   {"HOME", dir_.path()}},
                                  5);
  AwsProvider* target = extra_provider_.get();
  const auto calls_before =
      number(*admin("GET", "/_admin/stats").find("calls"), "DescribeInstances");
  auto statuses = pool_
                      .submit<Result<std::vector<InstanceStatus>>>(
                          0, [target] { return target->describe({"wide"}); })
                      .get();
  ASSERT_TRUE(statuses) << statuses.error().message();
  EXPECT_EQ(statuses->size(), 12u);
  std::set<std::string> ids;
  for (const auto& status : *statuses) ids.insert(status.instance_id);
  EXPECT_EQ(ids.size(), 12u) << "no instance twice across pages";
  const auto calls_after =
      number(*admin("GET", "/_admin/stats").find("calls"), "DescribeInstances");
  EXPECT_EQ(calls_after - calls_before, 3);
  ASSERT_TRUE(terminate("wide"));
  EXPECT_EQ(live(), 0);
}

TEST_F(AwsProviderTest, InstanceRoleCredentialsComeFromMetadata) {
  // No keys in the environment or a file: the chain falls through to IMDSv2 (fakecloud's role).
  extra_provider_ =
      make_provider({{"HOME", dir_.path()}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", cloud_->url()}});
  AwsProvider* target = extra_provider_.get();
  auto statuses = pool_
                      .submit<Result<std::vector<InstanceStatus>>>(
                          0, [target] { return target->describe({"anything"}); })
                      .get();
  ASSERT_TRUE(statuses) << statuses.error().message();
  EXPECT_TRUE(statuses->empty());
  EXPECT_EQ(number(admin("GET", "/_admin/stats"), "signature_failures"), 0)
      << "the role's session token signs and passes";
}

TEST_F(AwsProviderTest, NoCredentialsAnywhereIsAuth) {
  extra_provider_ = make_provider({{"HOME", dir_.path()}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  AwsProvider* target = extra_provider_.get();
  auto statuses = pool_
                      .submit<Result<std::vector<InstanceStatus>>>(
                          0, [target] { return target->describe({"anything"}); })
                      .get();
  ASSERT_FALSE(statuses);
  EXPECT_EQ(statuses.error().code, make_error_code(ProviderErrc::kAuth));
}

TEST_F(AwsProviderTest, VirtualNodesCountAnAttemptThatRunsBesideALiveOneOfItsTask) {
  // Tasks that run a minute: nothing ends by itself during the test.
  start_virtual_cloud(R"({"virtual_boot_ms": 50, "virtual_task_ms": 60000})");
  std::map<std::string, http::Endpoint> node;  // cluster -> its node's skylet
  for (const std::string name : {"first", "second", "third"}) {
    auto req = request(name, 1, false);
    req.skylet_token = "overlap-token-" + name + "-0123456789";
    auto cluster = launch(req, extra_provider_.get());
    ASSERT_TRUE(cluster) << cluster.error().message();
    node[name] = cluster->nodes.at(0).skylet;
  }
  auto post = [&](const std::string& cluster, const std::string& target, const std::string& body) {
    http::Client* client = http_.get();
    const http::Endpoint skylet = node.at(cluster);
    const std::string token = "overlap-token-" + cluster + "-0123456789";
    auto reply = pool_
                     .submit<Result<http::Response>>(
                         0, [client, skylet, token, target,
                             body] { return skylet_post(client, skylet, token, target, body); })
                     .get();
    ASSERT_TRUE(reply) << reply.error().message();
    ASSERT_EQ(reply->status, 200) << target << ": " << reply->body;
  };
  auto overlaps = [&] { return number(admin("GET", "/_admin/stats"), "attempt_overlaps"); };

  post("first", "/tasks", R"({"attempt_id": "job-7-task-0-attempt-1"})");
  // A replacement held after its setup is not running yet: no overlap.
  post("second", "/tasks", R"({"attempt_id": "job-7-task-0-attempt-2", "hold_run": true})");
  EXPECT_EQ(overlaps(), 0);
  // Another task of the job beside it is no overlap either.
  post("second", "/tasks", R"({"attempt_id": "job-7-task-1-attempt-1"})");
  EXPECT_EQ(overlaps(), 0);
  // Released while attempt 1 still runs: two live attempts of task 0.
  post("second", "/tasks/job-7-task-0-attempt-2/release", "{}");
  EXPECT_EQ(overlaps(), 1);
  const Json attempts = admin("GET", "/_admin/attempts");
  const auto& list = *attempts.find("overlaps")->as_array();
  ASSERT_EQ(list.size(), 1u) << attempts.dump();
  EXPECT_EQ(*list[0].find("attempt_id")->as_string(), "job-7-task-0-attempt-2");
  EXPECT_EQ(*list[0].find("live_attempt_id")->as_string(), "job-7-task-0-attempt-1");
  EXPECT_EQ(attempts.find("attempts")->as_array()->size(), 3u) << attempts.dump();
  // Once their nodes stop running, the earlier attempts are over: a third one overlaps nothing.
  ASSERT_TRUE(
      pool_
          .submit<Result<void>>(
              0, [provider = extra_provider_.get()] { return provider->terminate("first"); })
          .get());
  ASSERT_TRUE(
      pool_
          .submit<Result<void>>(
              0, [provider = extra_provider_.get()] { return provider->terminate("second"); })
          .get());
  post("third", "/tasks", R"({"attempt_id": "job-7-task-0-attempt-3"})");
  EXPECT_EQ(overlaps(), 1);
  const Json after = admin("GET", "/_admin/attempts");
  for (const Json& run : *after.find("attempts")->as_array()) {
    const bool third = *run.find("attempt_id")->as_string() == "job-7-task-0-attempt-3";
    EXPECT_EQ(run.find("ended_at_ms")->is_null(), third) << after.dump();
  }
  ASSERT_TRUE(
      pool_
          .submit<Result<void>>(
              0, [provider = extra_provider_.get()] { return provider->terminate("third"); })
          .get());
}

}  // namespace
}  // namespace skyd::testing
