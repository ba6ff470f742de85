// fakecloud's Compute Engine API over HTTP, against the real fakecloud binary: every call carries
// a bearer token, instances come and go through operations, and process-mode instances are real
// skylets with their own metadata server.
#include "providers/node_boot.hpp"
#include "tests/fakecloud/test_http.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <fstream>
#include <thread>

namespace skyd::testing {
namespace {

constexpr const char* kProject = "test-project";
constexpr const char* kZone = "us-central1-a";
constexpr const char* kMachine = "e2-medium";
constexpr const char* kSkyletToken = "gce-fake-test-token-0123456789";

using Answer = HttpAnswer;

// A metadata long poll and a call that changes the value, at once: the poll's answer.
Task<Answer> poll_while(http::Client* client, std::string metadata_url, std::string poll_target,
                        std::string cloud_url, std::string change_target) {
  using namespace asio::experimental::awaitable_operators;
  http::Headers flavor;
  flavor.emplace_back("Metadata-Flavor", "Google");
  std::string empty;
  auto both =
      co_await (send_http(client, metadata_url, "GET", poll_target, empty, flavor) &&
                send_http(client, cloud_url, "POST", change_target, empty, http::Headers()));
  EXPECT_EQ(std::get<1>(both).status, 200) << std::get<1>(both).body;
  co_return std::get<0>(both);
}

// HTTP calls from the test thread, and a metadata long poll raced with the call that changes it.
class Http : public TestHttp {
 public:
  Answer poll_while(std::string metadata_url, std::string poll_target, std::string cloud_url,
                    std::string change_target) {
    return run([=](http::Client* client) {
      return skyd::testing::poll_while(client, metadata_url, poll_target, cloud_url, change_target);
    });
  }
};

std::string zone_path(std::string_view rest = "") {
  return "/compute/v1/projects/" + std::string(kProject) + "/zones/" + kZone + std::string(rest);
}

std::string instance_body(const std::string& name, const std::string& cluster,
                          const std::string& extra = "") {
  return R"({"name":")" + name + R"(","machineType":"zones/)" + kZone + "/machineTypes/" +
         kMachine + R"(","labels":{"skyd-cluster":")" + cluster + R"("},)" +
         R"("disks":[{"boot":true,"autoDelete":true,"initializeParams":{"sourceImage":)" +
         R"("projects/debian-cloud/global/images/family/debian-12"}}],)" +
         R"("networkInterfaces":[{"accessConfigs":[{"type":"ONE_TO_ONE_NAT"}]}])" + extra + "}";
}

class FakeGceTest : public ::testing::Test {
 protected:
  // fakecloud in virtual mode (or process mode), with a chaos config when given.
  void start(bool process_mode, const std::string& chaos = "") {
    std::vector<std::string> extra;
    if (!process_mode) extra = {"--mode", "virtual"};
    if (!chaos.empty()) {
      std::ofstream(dir_.file("chaos.json")) << chaos;
      extra.insert(extra.end(), {"--config", dir_.file("chaos.json")});
    }
    cloud_ = std::make_unique<FakeCloudProcess>(dir_, extra);
    const Answer minted = call(cloud_->url(), "POST", "/_admin/gcp/tokens");
    ASSERT_EQ(minted.status, 200) << minted.body;
    token_ = minted.text({"access_token"});
    ASSERT_FALSE(token_.empty());
  }

  Answer call(std::string url, std::string method, std::string target, std::string body = {},
              http::Headers headers = {}) {
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return http_.call(std::move(url), std::move(method), std::move(target), std::move(body),
                      std::move(headers));
  }
  Answer gce(std::string method, std::string target, std::string body = {}) {
    return call(cloud_->url(), std::move(method), std::move(target), std::move(body),
                {{"Authorization", "Bearer " + token_}});
  }
  Answer admin(std::string method, std::string target, std::string body = {}) {
    return call(cloud_->url(), std::move(method), std::move(target), std::move(body));
  }

  // operations/{op}/wait until DONE (each wait is bounded by the server).
  Answer wait_done(const Answer& operation) {
    Answer done = operation;
    for (int i = 0; i < 20 && done.text({"status"}) != "DONE"; ++i)
      done = gce("POST", zone_path("/operations/" + operation.text({"name"}) + "/wait"));
    EXPECT_EQ(done.text({"status"}), "DONE") << done.body;
    return done;
  }

  // Polls the instance until it has `status` (or 404 when status is empty), at most `limit`.
  Answer await_status(const std::string& name, const std::string& status,
                      Duration limit = std::chrono::seconds(20)) {
    const auto give_up = Clock::now() + limit;
    Answer got;
    do {
      got = gce("GET", zone_path("/instances/" + name));
      if (status.empty() ? got.status == 404 : got.text({"status"}) == status) return got;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < give_up);
    ADD_FAILURE() << name << " never reached " << (status.empty() ? "404" : status) << ": "
                  << got.body;
    return got;
  }

  TempDir dir_;
  Http http_;
  std::unique_ptr<FakeCloudProcess> cloud_;
  std::string token_;
};

TEST_F(FakeGceTest, RefusesCallsWithoutAValidBearerToken) {
  start(false);
  const Answer bare = call(cloud_->url(), "GET", zone_path("/instances"));
  EXPECT_EQ(bare.status, 401);
  EXPECT_EQ(bare.text({"error", "status"}), "UNAUTHENTICATED");
  EXPECT_NE(bare.body.find("authError"), std::string::npos) << bare.body;
  const Answer forged = call(cloud_->url(), "GET", zone_path("/instances"), "",
                             {{"Authorization", "Bearer ya29.not-issued-here"}});
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(gce("GET", zone_path("/instances")).status, 200);
  EXPECT_EQ(admin("GET", "/_admin/gcp/stats").json.find("auth_failures")->as_int(), 2);
}

TEST_F(FakeGceTest, InsertGetListAndDeleteThroughOperations) {
  start(false);
  const Answer inserted = gce("POST", zone_path("/instances"), instance_body("c1-head", "c1"));
  ASSERT_EQ(inserted.status, 200) << inserted.body;
  EXPECT_EQ(inserted.text({"kind"}), "compute#operation");
  EXPECT_EQ(inserted.text({"operationType"}), "insert");
  EXPECT_EQ(inserted.text({"status"}), "PENDING") << "operations take time";
  wait_done(inserted);
  ASSERT_EQ(gce("POST", zone_path("/instances"), instance_body("c2-head", "c2")).status, 200);
  const Answer running = await_status("c1-head", "RUNNING");
  EXPECT_EQ(running.text({"machineType"}),
            "https://www.googleapis.com/compute/v1/projects/test-project/zones/us-central1-a/"
            "machineTypes/e2-medium");
  EXPECT_FALSE(running.text({"id"}).empty());

  const Answer c1 =
      gce("GET", zone_path("/instances?filter=") +
                     http::percent_encode("labels.skyd-cluster=c1 AND status=RUNNING"));
  ASSERT_EQ(c1.status, 200) << c1.body;
  EXPECT_EQ(c1.text({"kind"}), "compute#instanceList");
  ASSERT_TRUE(c1.json.find("items"));
  ASSERT_EQ(c1.json.find("items")->as_array()->size(), 1u);
  EXPECT_EQ((*c1.json.find("items")->as_array())[0].find("name")->as_string(), "c1-head");
  const Answer none = gce("GET", zone_path("/instances?filter=labels.skyd-cluster%3Dnope"));
  EXPECT_EQ(none.json.find("items"), nullptr) << "an empty page has no items";

  const Answer deleted = gce("DELETE", zone_path("/instances/c1-head"));
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.text({"operationType"}), "delete");
  wait_done(deleted);
  const Answer gone = gce("GET", zone_path("/instances/c1-head"));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.text({"error", "status"}), "NOT_FOUND");
  wait_done(gce("DELETE", zone_path("/instances/c2-head")));
  EXPECT_EQ(admin("GET", "/_admin/gcp/stats").json.find("live")->as_int(), 0);
}

TEST_F(FakeGceTest, FirewallRulesInsertGetListAndDeleteThroughGlobalOperations) {
  start(false);
  const std::string firewalls = "/compute/v1/projects/test-project/global/firewalls";
  const std::string rule =
      R"({"name":"skyd-ports-c1","network":"global/networks/default","direction":"INGRESS",)"
      R"("allowed":[{"IPProtocol":"tcp","ports":["8080","9000-9010"]}],)"
      R"("sourceRanges":["0.0.0.0/0"],"targetTags":["skyd-ports-c1"]})";
  const Answer inserted = gce("POST", firewalls, rule);
  ASSERT_EQ(inserted.status, 200) << inserted.body;
  EXPECT_EQ(inserted.text({"operationType"}), "insert");
  EXPECT_EQ(inserted.json.find("zone"), nullptr) << "a global operation has no zone";
  EXPECT_NE(inserted.text({"selfLink"}).find("/global/operations/"), std::string::npos);
  EXPECT_EQ(inserted.text({"targetLink"}),
            "https://www.googleapis.com/compute/v1/projects/test-project/global/firewalls/"
            "skyd-ports-c1");
  Answer done = inserted;
  for (int i = 0; i < 20 && done.text({"status"}) != "DONE"; ++i)
    done = gce("POST", "/compute/v1/projects/test-project/global/operations/" +
                           inserted.text({"name"}) + "/wait");
  ASSERT_EQ(done.text({"status"}), "DONE") << done.body;

  const Answer got = gce("GET", firewalls + "/skyd-ports-c1");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.text({"kind"}), "compute#firewall");
  EXPECT_EQ(got.text({"direction"}), "INGRESS");
  EXPECT_EQ(got.json.find("allowed")->dump(),
            R"([{"IPProtocol":"tcp","ports":["8080","9000-9010"]}])");
  EXPECT_EQ(got.json.find("targetTags")->dump(), R"(["skyd-ports-c1"])");
  EXPECT_EQ(got.text({"network"}),
            "https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default");

  const Answer again = gce("POST", firewalls, rule);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.text({"error", "status"}), "ALREADY_EXISTS");
  const Json* reasons =
      again.json.find("error") ? again.json.find("error")->find("errors") : nullptr;
  ASSERT_TRUE(reasons && reasons->as_array() && !reasons->as_array()->empty()) << again.body;
  EXPECT_EQ(reasons->as_array()->front().find("reason")->as_string(), "alreadyExists");

  std::string bad = rule;
  bad.replace(bad.find("9000-9010"), 9, "9010-9000");
  bad.replace(bad.find("skyd-ports-c1"), 13, "skyd-ports-c2");
  const Answer backwards = gce("POST", firewalls, bad);
  EXPECT_EQ(backwards.status, 400) << backwards.body;
  EXPECT_NE(backwards.body.find("allowed[0].ports[1]"), std::string::npos) << backwards.body;
  bad.replace(bad.find("9010-9000"), 9, "70000");
  EXPECT_EQ(gce("POST", firewalls, bad).status, 400);

  const Answer listed = gce("GET", firewalls);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.text({"kind"}), "compute#firewallList");
  ASSERT_TRUE(listed.json.find("items"));
  EXPECT_EQ(listed.json.find("items")->as_array()->size(), 1u);
  const Answer viewed = admin("GET", "/_admin/gcp/firewalls");
  ASSERT_EQ(viewed.json.find("firewalls")->as_array()->size(), 1u) << viewed.body;

  const Answer deleted = gce("DELETE", firewalls + "/skyd-ports-c1");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.text({"operationType"}), "delete");
  done = deleted;
  for (int i = 0; i < 20 && done.text({"status"}) != "DONE"; ++i)
    done = gce("POST", "/compute/v1/projects/test-project/global/operations/" +
                           deleted.text({"name"}) + "/wait");
  ASSERT_EQ(done.text({"status"}), "DONE") << done.body;
  const Answer gone = gce("GET", firewalls + "/skyd-ports-c1");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.text({"error", "status"}), "NOT_FOUND");
  EXPECT_EQ(gce("DELETE", firewalls + "/skyd-ports-c1").status, 404);
  EXPECT_EQ(gce("GET", firewalls).json.find("items"), nullptr);
  EXPECT_TRUE(admin("GET", "/_admin/gcp/firewalls").json.find("firewalls")->as_array()->empty());
}

TEST_F(FakeGceTest, RepeatedRequestIdReturnsTheFirstOperationAndNamesAreUnique) {
  start(false);
  const std::string target = zone_path("/instances?requestId=5e1f0c3a-1b2c-4d5e-8f90-0a1b2c3d4e5f");
  const Answer first = gce("POST", target, instance_body("dup", "c"));
  const Answer again = gce("POST", target, instance_body("dup", "c"));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.text({"name"}), first.text({"name"})) << "same requestId, same operation";
  const Answer clash = gce("POST", zone_path("/instances"), instance_body("dup", "c"));
  EXPECT_EQ(clash.status, 409) << clash.body;
  EXPECT_NE(clash.body.find("alreadyExists"), std::string::npos);
  EXPECT_EQ(admin("GET", "/_admin/gcp/stats").json.find("live")->as_int(), 1);
  wait_done(first);
  wait_done(gce("DELETE", zone_path("/instances/dup")));
}

TEST_F(FakeGceTest, BulkInsertIsAllOrNothing) {
  start(false, R"({"gcp": {"zone_capacity": {"us-central1-a": 2}}})");
  auto bulk = [&](int count, int min_count) {
    return gce("POST", zone_path("/instances/bulkInsert"),
               R"({"count":")" + std::to_string(count) + R"(","minCount":")" +
                   std::to_string(min_count) +
                   R"(","namePattern":"bulk-####","instanceProperties":{"machineType":")" +
                   kMachine + R"(","labels":{"skyd-cluster":"bulk"}}})");
  };
  const Answer too_many = wait_done(bulk(3, 3));
  EXPECT_EQ(too_many.text({"operationType"}), "bulkInsert");
  EXPECT_NE(too_many.body.find("ZONE_RESOURCE_POOL_EXHAUSTED"), std::string::npos) << too_many.body;
  EXPECT_EQ(gce("GET", zone_path("/instances")).json.find("items"), nullptr) << "none made";
  const Answer fits = wait_done(bulk(2, 2));
  EXPECT_EQ(fits.json.find("error"), nullptr) << fits.body;
  const Answer listed = gce("GET", zone_path("/instances?filter=labels.skyd-cluster%3Dbulk"));
  ASSERT_TRUE(listed.json.find("items")) << listed.body;
  ASSERT_EQ(listed.json.find("items")->as_array()->size(), 2u);
  EXPECT_EQ((*listed.json.find("items")->as_array())[0].find("name")->as_string(), "bulk-0001");
  EXPECT_EQ((*listed.json.find("items")->as_array())[1].find("name")->as_string(), "bulk-0002");
  for (const char* name : {"bulk-0001", "bulk-0002"})
    wait_done(gce("DELETE", zone_path(std::string("/instances/") + name)));
}

TEST_F(FakeGceTest, OperationsTakeTheirTimeAndWaitIsBounded) {
  start(false, R"({"gcp": {"operation_ms": 1500, "operation_wait_max_ms": 200}})");
  const auto began = Clock::now();
  const Answer inserted = gce("POST", zone_path("/instances"), instance_body("slow", "s"));
  ASSERT_EQ(inserted.text({"status"}), "PENDING");
  const Answer bounded = gce("POST", zone_path("/operations/" + inserted.text({"name"}) + "/wait"));
  EXPECT_NE(bounded.text({"status"}), "DONE") << "wait returns after its bound";
  EXPECT_LT(Clock::now() - began, std::chrono::milliseconds(1400));
  const Answer halfway = gce("GET", zone_path("/operations/" + inserted.text({"name"})));
  EXPECT_EQ(halfway.status, 200) << halfway.body;
  wait_done(inserted);
  EXPECT_GE(Clock::now() - began, std::chrono::milliseconds(1500));
  EXPECT_EQ(gce("GET", zone_path("/operations/operation-nope")).status, 404);
}

TEST_F(FakeGceTest, PagesAndAggregatedListsKeyedByZone) {
  start(false);
  for (const char* name : {"p-1", "p-2", "p-3"})
    ASSERT_EQ(gce("POST", zone_path("/instances"), instance_body(name, "pages")).status, 200);
  const Answer first = gce("GET", zone_path("/instances?maxResults=2"));
  ASSERT_EQ(first.json.find("items")->as_array()->size(), 2u);
  const std::string next = first.text({"nextPageToken"});
  ASSERT_FALSE(next.empty());
  const Answer second = gce("GET", zone_path("/instances?maxResults=2&pageToken=" + next));
  ASSERT_EQ(second.json.find("items")->as_array()->size(), 1u);
  EXPECT_TRUE(second.text({"nextPageToken"}).empty());
  const Answer all = gce("GET", std::string("/compute/v1/projects/") + kProject +
                                    "/aggregated/instances?filter=labels.skyd-cluster%3Dpages");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.text({"kind"}), "compute#instanceAggregatedList");
  const Json* zone =
      all.json.find("items") ? all.json.find("items")->find("zones/us-central1-a") : nullptr;
  ASSERT_TRUE(zone) << all.body;
  EXPECT_EQ(zone->find("instances")->as_array()->size(), 3u);
  EXPECT_EQ(gce("GET", zone_path("/instances?maxResults=501")).status, 400);
}

TEST_F(FakeGceTest, ZoneExhaustionArrivesInTheDoneOperation) {
  start(false, R"({"gcp": {"faults": [{"action": "insert", "zone": "us-central1-a",
                                        "code": "ZONE_RESOURCE_POOL_EXHAUSTED"}]}})");
  const Answer inserted = gce("POST", zone_path("/instances"), instance_body("full", "f"));
  ASSERT_EQ(inserted.status, 200) << "the insert itself is accepted: " << inserted.body;
  const Answer done = wait_done(inserted);
  ASSERT_TRUE(done.json.find("error")) << done.body;
  EXPECT_EQ((*done.json.find("error")->find("errors")->as_array())[0].find("code")->as_string(),
            "ZONE_RESOURCE_POOL_EXHAUSTED");
  EXPECT_EQ(gce("GET", zone_path("/instances/full")).status, 404) << "no instance was made";
  const Answer elsewhere =
      gce("POST", "/compute/v1/projects/test-project/zones/us-central1-b/instances",
          R"({"name":"fits","machineType":"zones/us-central1-b/machineTypes/)" +
              std::string(kMachine) + R"("})");
  ASSERT_EQ(elsewhere.status, 200) << elsewhere.body;
  EXPECT_EQ(admin("GET", "/_admin/gcp/stats").json.find("faults_fired")->as_int(), 1);
  const Answer unknown_type =
      gce("POST", zone_path("/instances"),
          R"({"name":"x","machineType":"zones/us-central1-a/machineTypes/n9-huge"})");
  EXPECT_EQ(unknown_type.status, 400) << unknown_type.body;
  EXPECT_NE(unknown_type.body.find("n9-huge"), std::string::npos);
}

TEST_F(FakeGceTest, RateLimitsAre403RateLimitExceeded) {
  start(false,
        R"({"gcp": {"faults": [{"action": "list", "code": "rateLimitExceeded", "count": 1}]}})");
  const Answer throttled = gce("GET", zone_path("/instances"));
  EXPECT_EQ(throttled.status, 403);
  EXPECT_NE(throttled.body.find("rateLimitExceeded"), std::string::npos) << throttled.body;
  EXPECT_EQ(gce("GET", zone_path("/instances")).status, 200) << "it fired once";
  EXPECT_EQ(admin("GET", "/_admin/gcp/stats").json.find("throttled")->as_int(), 1);
}

TEST_F(FakeGceTest, QuotaFailsTheOperationAndServerErrorsAreBackendErrors) {
  start(false, R"({"gcp": {"faults": [
    {"action": "insert", "provisioning_model": "SPOT", "code": "QUOTA_EXCEEDED", "count": 1},
    {"action": "get", "code": "backendError", "count": 1}]}})");
  const std::string spot = R"(,"scheduling":{"provisioningModel":"SPOT"})";
  const Answer done =
      wait_done(gce("POST", zone_path("/instances"), instance_body("q", "q", spot)));
  ASSERT_TRUE(done.json.find("error")) << done.body;
  EXPECT_EQ((*done.json.find("error")->find("errors")->as_array())[0].find("code")->as_string(),
            "QUOTA_EXCEEDED");
  EXPECT_EQ(done.json.find("httpErrorStatusCode")->as_int(), 403);
  const Answer failed = gce("GET", zone_path("/instances/q"));
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(failed.text({"error", "status"}), "UNAVAILABLE");
  EXPECT_NE(failed.body.find("backendError"), std::string::npos);
  EXPECT_EQ(gce("GET", zone_path("/instances/q")).status, 404) << "the quota made no instance";
}

TEST_F(FakeGceTest, APreemptedSpotVmWithStopStaysTerminated) {
  start(false, R"({"gcp": {"operation_ms": 50}})");
  const std::string spot =
      R"(,"scheduling":{"provisioningModel":"SPOT","instanceTerminationAction":"STOP"})";
  wait_done(gce("POST", zone_path("/instances"), instance_body("kept", "k", spot)));
  await_status("kept", "RUNNING");
  ASSERT_EQ(admin("POST", "/_admin/gcp/preempt?cluster=k&grace_ms=100").status, 200);
  const Answer stopped = await_status("kept", "TERMINATED");
  EXPECT_EQ(stopped.text({"statusMessage"}), "Instance was preempted.");
  const Answer operations = admin("GET", "/_admin/gcp/operations");
  EXPECT_NE(operations.body.find("compute.instances.preempted"), std::string::npos);
  wait_done(gce("DELETE", zone_path("/instances/kept")));
}

TEST_F(FakeGceTest, ProcessModeSkyletHearsThePreemptionFromItsMetadataServer) {
  start(true, R"({"gcp": {"operation_ms": 100}})");
  providers::SkyletBoot boot;
  boot.token = kSkyletToken;
  boot.port = 47391;
  boot.metadata = providers::MetadataService::kGce;
  Json script = Json(providers::render_user_data(boot));
  const std::string body = instance_body(
      "spot-1", "spotty",
      R"(,"scheduling":{"provisioningModel":"SPOT","instanceTerminationAction":"DELETE"},)"
      R"("metadata":{"items":[{"key":"startup-script","value":)" +
          script.dump() + "}]}");
  wait_done(gce("POST", zone_path("/instances"), body));
  const Answer running = await_status("spot-1", "RUNNING");
  const Json& nic = (*running.json.find("networkInterfaces")->as_array())[0];
  const std::string ip(nic.find("networkIP")->as_string().value_or(""));
  ASSERT_TRUE(ip.starts_with("127.")) << running.body;
  const std::string skylet = "http://" + ip + ":47391";
  const Answer health = call(skylet, "GET", "/health", "",
                             {{"Authorization", std::string("Bearer ") + kSkyletToken}});
  EXPECT_EQ(health.status, 200) << health.body;

  const Answer listed = admin("GET", "/_admin/gcp/instances");
  const std::string metadata_url((*listed.json.find("instances")->as_array())[0]
                                     .find("metadata_url")
                                     ->as_string()
                                     .value_or(""));
  ASSERT_FALSE(metadata_url.empty()) << listed.body;
  EXPECT_EQ(call(metadata_url, "GET", "/computeMetadata/v1/instance/preempted").status, 403)
      << "Metadata-Flavor: Google is required";
  const Answer before = call(metadata_url, "GET", "/computeMetadata/v1/instance/preempted", "",
                             {{"Metadata-Flavor", "Google"}});
  EXPECT_EQ(before.body, "FALSE");
  ASSERT_TRUE(before.header("ETag"));
  EXPECT_EQ(call(metadata_url, "GET", "/computeMetadata/v1/instance/name", "",
                 {{"Metadata-Flavor", "Google"}})
                .body,
            "spot-1");
  EXPECT_EQ(call(metadata_url, "GET", "/computeMetadata/v1/project/project-id", "",
                 {{"Metadata-Flavor", "Google"}})
                .body,
            kProject);

  // A long poll on the value returns when the preemption flips it.
  const std::string poll =
      "/computeMetadata/v1/instance/preempted?wait_for_change=true&"
      "timeout_sec=30&last_etag=" +
      *before.header("ETag");
  const Answer flipped = http_.poll_while(metadata_url, poll, cloud_->url(),
                                          "/_admin/gcp/preempt?name=spot-1&grace_ms=3000");
  EXPECT_EQ(flipped.body, "TRUE");
  EXPECT_NE(*flipped.header("ETag"), *before.header("ETag"));

  // skylet watches the same server and turns it into a spot notice.
  const Answer events = call(skylet, "GET", "/events?since=0&wait_ms=10000", "",
                             {{"Authorization", std::string("Bearer ") + kSkyletToken}});
  EXPECT_NE(events.body.find("spot_notice"), std::string::npos) << events.body;

  // After the grace: STOPPING -> TERMINATED, and with DELETE it is gone.
  await_status("spot-1", "");
  const Answer operations = admin("GET", "/_admin/gcp/operations");
  EXPECT_NE(operations.body.find("compute.instances.preempted"), std::string::npos);
  EXPECT_EQ(
      call(skylet, "GET", "/health", "", {{"Authorization", std::string("Bearer ") + kSkyletToken}})
          .status,
      -1)
      << "the machine is gone";
}

TEST_F(FakeGceTest, SilentDeathShowsTerminatedWithoutNotice) {
  start(false, R"({"gcp": {"operation_ms": 50}})");
  wait_done(gce("POST", zone_path("/instances"), instance_body("doomed", "d")));
  await_status("doomed", "RUNNING");
  ASSERT_EQ(admin("POST", "/_admin/gcp/kill?name=doomed").status, 200);
  await_status("doomed", "TERMINATED");
  const Answer listed = admin("GET", "/_admin/gcp/instances");
  const Json& item = (*listed.json.find("instances")->as_array())[0];
  EXPECT_EQ(item.find("preempted")->as_bool(), false);
  EXPECT_EQ(item.find("dead")->as_bool(), true);
  wait_done(gce("DELETE", zone_path("/instances/doomed")));
}

}  // namespace
}  // namespace skyd::testing
