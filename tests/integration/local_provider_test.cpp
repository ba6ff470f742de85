// The local provider and skylet together: real skylet processes on loopback addresses, driven the
// way the controller drives them.
#include "providers/local/local_provider.hpp"
#include "daemon/skylet_client.hpp"
#include "daemon/task_env.hpp"
#include "providers/node_files.hpp"
#include "reactor/crypto.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/small_files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace skyd::testing {
namespace {

using daemon::AttemptRequest;
using daemon::AttemptStatus;
using daemon::SkyletClient;
using providers::Cluster;
using providers::LaunchRequest;
using providers::LocalProvider;
using providers::MountRequest;

constexpr const char* kToken = "test-token-0123456789abcdef";

struct Finished {
  std::string output;
  AttemptStatus status;
};

// Reads an attempt's output by offset until it is complete, then its final status.
Task<Finished> follow_to_end(http::Client* http, providers::Node node, std::string attempt_id) {
  SkyletClient skylet(*http, kToken);
  Finished finished;
  std::uint64_t offset = 0;
  for (;;) {
    auto chunk = co_await skylet.logs(node, attempt_id, offset, std::chrono::seconds(5),
                                      std::chrono::seconds(10));
    if (!chunk) throw std::runtime_error(chunk.error().message());
    finished.output += chunk->bytes;
    offset = chunk->next_offset;
    if (chunk->complete) break;
  }
  auto status = co_await skylet.status(node, attempt_id);
  if (!status) throw std::runtime_error(status.error().message());
  finished.status = *status;
  co_return finished;
}

class LocalProviderTest : public ::testing::Test {
 protected:
  LocalProviderTest() {
    providers::LocalProviderOptions options;
    options.root_dir = dir_.file("local");
    options.skylet_binary = binary_path("skylet");
    options.preemption_grace = std::chrono::milliseconds(300);
    options.skylet_cancel_grace = std::chrono::milliseconds(500);
    pool_.start();
    provider_ =
        pool_
            .submit<LocalProvider*>(0,
                                    [this, options]() -> Task<LocalProvider*> {
                                      return make_provider(pool_.executor(0), options, &owned_);
                                    })
            .get();
    http_ = pool_
                .submit<http::Client*>(
                    0, [this]() { return make_client(pool_.executor(0), &owned_http_); })
                .get();
  }
  ~LocalProviderTest() override {
    for (const auto& name : launched_) {
      pool_.submit<Result<void>>(0, [this, name] { return provider_->terminate(name); }).get();
    }
    pool_.submit<void>(0, [this] { return provider_->shutdown(); }).get();
    pool_.stop();
  }

  static Task<LocalProvider*> make_provider(asio::any_io_executor executor,
                                            providers::LocalProviderOptions options,
                                            std::unique_ptr<LocalProvider>* owned) {
    *owned = std::make_unique<LocalProvider>(executor, options);
    co_return owned->get();
  }
  static Task<http::Client*> make_client(asio::any_io_executor executor,
                                         std::unique_ptr<http::Client>* owned) {
    *owned = std::make_unique<http::Client>(executor);
    co_return owned->get();
  }

  Cluster launch(const std::string& name, int nodes, bool spot = false,
                 std::vector<MountRequest> mounts = {}, std::string workdir = {}) {
    LaunchRequest request;
    request.cluster_name = name;
    request.nodes = nodes;
    request.use_spot = spot;
    request.idempotency_token = name + "-token";
    request.skylet_token = kToken;
    request.mounts = std::move(mounts);
    request.workdir_snapshot = std::move(workdir);
    auto cluster =
        pool_.submit<Result<Cluster>>(0, [this, request] { return provider_->launch(request); })
            .get();
    if (!cluster) throw std::runtime_error(cluster.error().message());
    launched_.push_back(name);
    return *cluster;
  }

  template <typename T>
  T on_shard(std::function<Task<T>()> work) {
    return pool_.submit<T>(0, std::move(work)).get();
  }

  AttemptStatus start(const providers::Node& node, AttemptRequest request) {
    auto status = on_shard<Result<AttemptStatus>>(
        [this, node, request] { return start_on(http_, node, request); });
    if (!status) throw std::runtime_error(status.error().message());
    return *status;
  }
  static Task<Result<AttemptStatus>> start_on(http::Client* http, providers::Node node,
                                              AttemptRequest request) {
    SkyletClient skylet(*http, kToken);
    co_return co_await skylet.start(node, request);
  }

  // Polls the attempt's status until it reaches `phase` (or 10 s pass); the last status seen.
  AttemptStatus wait_for_attempt(const providers::Node& node, const std::string& id,
                                 const std::string& phase) {
    AttemptStatus seen;
    for (int i = 0; i < 500 && seen.phase != phase; ++i) {
      auto status = on_shard<Result<AttemptStatus>>(
          [this, node, id] { return poll_status(http_, node, id); });
      if (status) seen = *status;
      if (seen.phase != phase) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen;
  }
  static Task<Result<AttemptStatus>> poll_status(http::Client* http, providers::Node node,
                                                 std::string id) {
    SkyletClient skylet(*http, kToken);
    co_return co_await skylet.status(node, id);
  }

  Finished run_to_end(const providers::Node& node, const std::string& attempt_id) {
    return on_shard<Finished>(
        [this, node, attempt_id] { return follow_to_end(http_, node, attempt_id); });
  }

  TempDir dir_;
  ShardPool pool_{1};
  std::unique_ptr<LocalProvider> owned_;
  std::unique_ptr<http::Client> owned_http_;
  LocalProvider* provider_ = nullptr;
  http::Client* http_ = nullptr;
  std::vector<std::string> launched_;
};

TEST_F(LocalProviderTest, AThreeNodeTaskSeesRanksIpsCountsAndTaskId) {
  const Cluster cluster = launch("three-1", 3);
  ASSERT_EQ(cluster.nodes.size(), 3u);
  daemon::TaskEnvironment task;
  task.job_id = 1;
  task.task_id = daemon::make_task_id(1795938400123456, "three", 1, 0);
  task.task_ids = {task.task_id};
  std::set<std::string> ips;
  for (const auto& node : cluster.nodes) {
    ips.insert(node.ip);
    AttemptRequest request;
    request.attempt_id = "a1";
    request.run =
        "echo \"rank=$SKYPILOT_NODE_RANK n=$SKYPILOT_NUM_NODES id=$SKYPILOT_TASK_ID "
        "job=$SKYPILOT_MANAGED_JOB_ID\"; "
        "echo \"$SKYPILOT_NODE_IPS\" | tr '\\n' ,";
    request.env = daemon::node_environment(task, cluster, node.rank);
    request.workdir = node.workdir;
    start(node, request);
  }
  EXPECT_EQ(ips.size(), 3u) << "every machine has its own loopback address";
  const std::string expected_ips =
      cluster.nodes[0].ip + "," + cluster.nodes[1].ip + "," + cluster.nodes[2].ip + ",";
  for (const auto& node : cluster.nodes) {
    auto finished = run_to_end(node, "a1");
    EXPECT_EQ(finished.status.phase, "SUCCEEDED");
    EXPECT_EQ(finished.output,
              "rank=" + std::to_string(node.rank) +
                  " n=3 id=sky-managed-2026-11-29-07-46-40-123456_three_1-0 job=1\n" +
                  expected_ips);
  }
}

TEST_F(LocalProviderTest, SetupFailureAndRunFailureAreToldApartWithTheirExitCodes) {
  const Cluster cluster = launch("fail-1", 1);
  const auto& node = cluster.nodes[0];
  start(node, AttemptRequest{
                  "setup-fails", "echo preparing; exit 7", "echo never", {}, {}, node.workdir});
  start(node, AttemptRequest{
                  "run-fails", "echo preparing", "echo running; exit 42", {}, {}, node.workdir});
  auto setup = run_to_end(node, "setup-fails");
  EXPECT_EQ(setup.status.phase, "FAILED_SETUP");
  EXPECT_EQ(setup.status.setup_exit_code, 7);
  EXPECT_EQ(setup.status.exit_code, std::nullopt);
  EXPECT_EQ(setup.output, "preparing\n");
  auto run = run_to_end(node, "run-fails");
  EXPECT_EQ(run.status.phase, "FAILED");
  EXPECT_EQ(run.status.setup_exit_code, 0);
  EXPECT_EQ(run.status.exit_code, 42);
  EXPECT_EQ(run.output, "preparing\nrunning\n");
}

TEST_F(LocalProviderTest, SecretsReachTheTaskButNotSkyletsLogNorTheStatus) {
  const Cluster cluster = launch("secret-1", 1);
  const auto& node = cluster.nodes[0];
  AttemptRequest request{"s1", "", "test \"$HF_TOKEN\" = hf_s3cr3t_value && echo token-present",
                         {},   {}, node.workdir};
  request.env["HF_TOKEN"] = "hf_s3cr3t_value";
  start(node, request);
  auto finished = run_to_end(node, "s1");
  EXPECT_EQ(finished.output, "token-present\n");
  std::ifstream log(provider_->cluster_dir("secret-1") + "/node-0/skylet.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("attempt started id=s1"), std::string::npos);
  EXPECT_EQ(text.str().find("hf_s3cr3t_value"), std::string::npos);
  auto status =
      run_command({"/usr/bin/curl", "-s", "-H", std::string("Authorization: Bearer ") + kToken,
                   "http://" + node.ip + ":" + std::to_string(node.skylet.port) + "/tasks/s1"});
  EXPECT_NE(status.out.find("SUCCEEDED"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("hf_s3cr3t_value"), std::string::npos);
}

TEST_F(LocalProviderTest, AWrongTokenGets401) {
  const Cluster cluster = launch("token-1", 1);
  const auto& node = cluster.nodes[0];
  const std::string url = "http://" + node.ip + ":" + std::to_string(node.skylet.port) + "/health";
  auto wrong = run_command({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                            "Authorization: Bearer not-the-token-000000", url});
  EXPECT_EQ(wrong.out, "401");
  auto none = run_command({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url});
  EXPECT_EQ(none.out, "401");
  auto right = run_command({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                            std::string("Authorization: Bearer ") + kToken, url});
  EXPECT_EQ(right.out, "200");
}

// One raw skylet call through curl: the status code, then the body.
std::pair<std::string, std::string> skylet_call(const providers::Node& node,
                                                const std::string& method,
                                                const std::string& target,
                                                const std::string& body = "",
                                                const std::string& token = kToken) {
  const std::string url = "http://" + node.ip + ":" + std::to_string(node.skylet.port) + target;
  std::vector<std::string> argv{"/usr/bin/curl",
                                "-s",
                                "-X",
                                method,
                                "-w",
                                "\n%{http_code}",
                                "-H",
                                "Authorization: Bearer " + token,
                                url};
  if (!body.empty() || method == "PUT") argv.insert(argv.end(), {"--data-binary", body});
  const std::string out = run_command(argv).out;
  const auto split = out.rfind('\n');
  return {out.substr(split + 1), out.substr(0, split)};
}

TEST_F(LocalProviderTest, UploadsResumeByOffsetAndAreUnpackedOnlyWhenCompleteAndOnce) {
  const Cluster cluster = launch("uploads-1", 1);
  const auto& node = cluster.nodes[0];
  const std::string home = std::filesystem::path(node.workdir).parent_path().string();
  EXPECT_EQ(skylet_call(node, "GET", "/files/notes", "", "not-the-token-000000").first, "401");
  EXPECT_EQ(skylet_call(node, "GET", "/files/bad%20name").first, "400");
  const std::string digest = sha256_hex("hello there");
  const std::string chunk = "/files/notes?digest=" + digest + "&offset=";
  EXPECT_EQ(skylet_call(node, "PUT", "/files/notes?offset=0", "no digest").first, "400");
  EXPECT_EQ(skylet_call(node, "PUT", chunk + "0", "hello ").second,
            R"({"size":6,"digest":")" + digest + R"(","unpacked":false})");
  EXPECT_EQ(skylet_call(node, "PUT", chunk + "6", "world").first, "200");
  EXPECT_EQ(skylet_call(node, "PUT", chunk + "20", "gap").first, "416");
  // A chunk resent at an earlier offset (its answer was lost) replaces what followed it.
  EXPECT_EQ(skylet_call(node, "PUT", chunk + "6", "there").second,
            R"({"size":11,"digest":")" + digest + R"(","unpacked":false})");
  // Bytes of other content never count: a chunk of it past 0 has nothing to follow.
  EXPECT_EQ(skylet_call(node, "PUT", "/files/notes?offset=6&digest=" + sha256_hex("x"), "y").first,
            "416");
  const auto incomplete = skylet_call(node, "POST", "/files/notes/unpack",
                                      R"({"kind":"file","destination":"n/g.txt","size":20})");
  EXPECT_EQ(incomplete.first, "409") << incomplete.second;
  const auto placed = skylet_call(node, "POST", "/files/notes/unpack",
                                  R"({"kind":"file","destination":"n/g.txt","size":11})");
  EXPECT_EQ(placed.first, "200") << placed.second;
  EXPECT_TRUE(contains(placed.second, home + "/n/g.txt")) << placed.second;
  EXPECT_EQ(read_text(home + "/n/g.txt"), "hello there");
  EXPECT_EQ(skylet_call(node, "GET", "/files/notes").second, R"({"size":0,"unpacked":true})");
  // Once in place, a late chunk changes nothing.
  EXPECT_TRUE(contains(skylet_call(node, "PUT", "/files/notes?offset=0", "late").second,
                       R"("unpacked":true)"));
  EXPECT_EQ(read_text(home + "/n/g.txt"), "hello there");
}

TEST_F(LocalProviderTest, ShippedFilesReachEveryNodeAndAnInterruptedUploadResumes) {
  const Cluster cluster = launch("ship-1", 2);
  const std::string source = dir_.file("tree");
  std::filesystem::create_directories(source + "/a/b");
  std::ofstream(source + "/a/b/big.bin", std::ios::binary) << std::string(300000, '\x7f');
  std::ofstream(source + "/top.txt") << "top";
  const std::string blob(300000, 'b');
  std::ofstream(dir_.file("blob.bin"), std::ios::binary) << blob;
  // Node 0 got the first 100,000 bytes of the blob before the connection dropped; node 1 holds
  // bytes of some older content under the directory's name, which must not count.
  skylet_call(cluster.nodes[0], "PUT", "/files/blob?offset=0&digest=" + sha256_hex(blob),
              blob.substr(0, 100000));
  skylet_call(cluster.nodes[1], "PUT", "/files/tree?offset=0&digest=" + sha256_hex("old"),
              "stale bytes");
  providers::ShipOptions options;
  options.scratch_dir = dir_.file("scratch");
  options.chunk_bytes = 64 * 1024;  // several chunks per node
  std::vector<providers::NodeUpload> uploads{{"tree", source, "shipped/tree"},
                                             {"blob", dir_.file("blob.bin"), "shipped/blob.bin"}};
  auto nodes = cluster.nodes;
  auto shipped = on_shard<Result<std::uint64_t>>([this, nodes, uploads, options] {
    return providers::ship_files(*http_, nodes, kToken, uploads, options);
  });
  ASSERT_TRUE(shipped) << shipped.error().message();
  for (const auto& node : cluster.nodes) {
    const std::string home = std::filesystem::path(node.workdir).parent_path().string();
    EXPECT_EQ(read_text(home + "/shipped/tree/a/b/big.bin"), std::string(300000, '\x7f'));
    EXPECT_EQ(read_text(home + "/shipped/tree/top.txt"), "top");
    EXPECT_EQ(read_text(home + "/shipped/blob.bin"), blob);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("scratch"))) << "archives are removed";
  // The blob: 200,000 bytes to node 0 (resumed), 300,000 to node 1; the tree in full to both.
  const std::uint64_t blob_bytes = 200000 + 300000;
  EXPECT_GT(*shipped, blob_bytes + 2 * 300000) << "the tree went to both nodes in full";
  EXPECT_LT(*shipped, blob_bytes + 2 * 330000) << "the blob resumed on node 0";
}

TEST_F(LocalProviderTest, ABucketNameThatWouldLeaveTheBucketsDirectoryIsRefused) {
  for (const std::string bucket : {"../escape", "..", ".hidden", "a/b"}) {
    LaunchRequest request;
    request.cluster_name = "escape-1";
    request.nodes = 1;
    request.idempotency_token = "escape-1-token";
    request.skylet_token = kToken;
    request.mounts = {MountRequest{"~/x", "", bucket, MountRequest::Mode::kMount}};
    auto cluster =
        pool_.submit<Result<Cluster>>(0, [this, request] { return provider_->launch(request); })
            .get();
    ASSERT_FALSE(cluster) << bucket;
    EXPECT_EQ(cluster.error().code, providers::ProviderErrc::kInvalid) << bucket;
    EXPECT_NE(cluster.error().detail.find("is not a plain directory name"), std::string::npos)
        << cluster.error().detail;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("local/escape")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("local/clusters/escape-1")));
}

TEST_F(LocalProviderTest, StartingTheSameAttemptTwiceRunsItOnce) {
  const Cluster cluster = launch(
      "twice-1", 1, false, {MountRequest{"~/out", "", "twice-bucket", MountRequest::Mode::kMount}});
  const auto& node = cluster.nodes[0];
  AttemptRequest request{"once", "", "echo ran >> ~/out/runs; sleep 0.2", {}, {}, node.workdir};
  start(node, request);
  start(node, request);
  run_to_end(node, "once");
  std::ifstream runs(provider_->bucket_dir("twice-bucket") + "/runs");
  std::string line;
  int count = 0;
  while (std::getline(runs, line)) ++count;
  EXPECT_EQ(count, 1);
}

bool any_alive(const std::vector<pid_t>& groups) {
  for (pid_t group : groups) {
    if (process_group_alive(group)) return true;
  }
  return false;
}

std::vector<pid_t> groups_of(const std::string& sandbox) {
  std::vector<pid_t> groups;
  std::ifstream in(sandbox + "/work/pgids");
  pid_t pgid;
  while (in >> pgid) groups.push_back(pgid);
  return groups;
}

Task<Result<AttemptStatus>> attempt_call(http::Client* http, providers::Node node, std::string id,
                                         std::string what) {
  SkyletClient skylet(*http, kToken);
  if (what == "release") co_return co_await skylet.release(node, id);
  co_return co_await skylet.cancel(node, id);
}

TEST_F(LocalProviderTest, AHeldAttemptSetsUpAtOnceButRunsOnlyOnceReleased) {
  const Cluster cluster = launch("held-1", 1);
  const auto& node = cluster.nodes[0];
  AttemptRequest request{
      "h1", "echo set up; touch setup-done", "echo ran; touch ran", {}, {}, node.workdir, true};
  start(node, request);
  const auto ready = wait_for_attempt(node, "h1", "READY");
  EXPECT_EQ(ready.phase, "READY");
  EXPECT_TRUE(std::filesystem::exists(node.workdir + "/setup-done"));
  EXPECT_FALSE(std::filesystem::exists(node.workdir + "/ran")) << "the run waits for its release";
  auto released = on_shard<Result<AttemptStatus>>(
      [this, node] { return attempt_call(http_, node, "h1", "release"); });
  ASSERT_TRUE(released) << released.error().message();
  auto finished = run_to_end(node, "h1");
  EXPECT_EQ(finished.status.phase, "SUCCEEDED");
  EXPECT_EQ(finished.output, "set up\nran\n");
}

TEST_F(LocalProviderTest, AHeldAttemptThatIsCancelledNeverRuns) {
  const Cluster cluster = launch("held-2", 1);
  const auto& node = cluster.nodes[0];
  start(node, AttemptRequest{"h2", "", "touch ran", {}, {}, node.workdir, true});
  wait_for_attempt(node, "h2", "READY");
  auto cancelled = on_shard<Result<AttemptStatus>>(
      [this, node] { return attempt_call(http_, node, "h2", "cancel"); });
  ASSERT_TRUE(cancelled) << cancelled.error().message();
  EXPECT_EQ(cancelled->phase, "CANCELLED");
  EXPECT_FALSE(std::filesystem::exists(node.workdir + "/ran"));
}

TEST_F(LocalProviderTest, CancelLeavesNoProcessBehind) {
  const Cluster cluster = launch("cancel-1", 1);
  const auto& node = cluster.nodes[0];
  start(node, AttemptRequest{"c1",
                             "",
                             "trap '' TERM; sleep 1000 & sleep 1000 & echo started; wait",
                             {},
                             {},
                             node.workdir});
  auto groups = groups_of(provider_->cluster_dir("cancel-1") + "/node-0");
  ASSERT_EQ(groups.size(), 1u);
  auto cancelled = on_shard<Result<AttemptStatus>>([this, node] {
    return [](http::Client* http, providers::Node n) -> Task<Result<AttemptStatus>> {
      SkyletClient skylet(*http, kToken);
      co_return co_await skylet.cancel(n, "c1");
    }(http_, node);
  });
  ASSERT_TRUE(cancelled) << cancelled.error().message();
  EXPECT_EQ(cancelled->phase, "CANCELLED");
  EXPECT_FALSE(any_alive(groups)) << "a process of the cancelled task survived";
}

TEST_F(LocalProviderTest, TenMegabytesOfBinaryOutputWithoutNewlinesRoundTripByOffset) {
  const Cluster cluster = launch("bytes-1", 1);
  const auto& node = cluster.nodes[0];
  start(node, AttemptRequest{"b1",
                             "",
                             "head -c 10485760 /dev/urandom > expected.bin; cat expected.bin",
                             {},
                             {},
                             node.workdir});
  auto finished = run_to_end(node, "b1");
  EXPECT_EQ(finished.status.phase, "SUCCEEDED");
  std::ifstream expected(node.workdir + "/expected.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(expected)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 10485760u);
  EXPECT_EQ(finished.output.size(), bytes.size());
  EXPECT_TRUE(finished.output == bytes) << "the log differs from what the task wrote";
}

TEST_F(LocalProviderTest, ACheckpointInABucketMountSurvivesAPreemption) {
  // The task counts steps in a checkpoint file; the first machine is preempted mid-run and the
  // second resumes from the checkpoint instead of starting over.
  const std::string script =
      "step=$(cat ~/ckpt/step 2>/dev/null || echo 0); echo resume-from=$step; "
      "while [ $step -lt 6 ]; do step=$((step+1)); echo $step > ~/ckpt/step; echo step=$step; "
      "sleep 0.1; done";
  const MountRequest bucket{"~/ckpt", "", "ckpt-bucket", MountRequest::Mode::kMount};
  const Cluster first = launch("spot-1", 1, true, {bucket});
  start(first.nodes[0],
        AttemptRequest{"try1", "", script + "; sleep 1000", {}, {}, first.nodes[0].workdir});
  // Let it finish its six steps, then preempt: notice, grace, kill.
  auto preempted = on_shard<Result<void>>(
      [this] { return provider_->preempt("spot-1", std::chrono::milliseconds(200)); });
  ASSERT_TRUE(preempted) << preempted.error().message();
  auto statuses = on_shard<Result<std::vector<providers::InstanceStatus>>>(
      [this] { return provider_->describe({"spot-1"}); });
  ASSERT_TRUE(statuses);
  ASSERT_EQ(statuses->size(), 1u);
  EXPECT_EQ((*statuses)[0].state, providers::InstanceState::kTerminated);
  EXPECT_TRUE((*statuses)[0].preempted);
  EXPECT_FALSE(any_alive(groups_of(provider_->cluster_dir("spot-1") + "/node-0")));

  const Cluster second = launch("spot-2", 1, true, {bucket});
  start(second.nodes[0], AttemptRequest{"try2", "", script, {}, {}, second.nodes[0].workdir});
  auto finished = run_to_end(second.nodes[0], "try2");
  EXPECT_EQ(finished.status.phase, "SUCCEEDED");
  EXPECT_NE(finished.output.find("resume-from="), std::string::npos);
  EXPECT_EQ(finished.output.find("resume-from=0"), std::string::npos) << finished.output;
}

TEST_F(LocalProviderTest, TerminateStopsEveryMachineAndRemovesTheSandbox) {
  const Cluster cluster = launch("term-1", 2);
  start(cluster.nodes[0], AttemptRequest{"t1", "", "sleep 1000", {}, {}, cluster.nodes[0].workdir});
  auto groups = groups_of(provider_->cluster_dir("term-1") + "/node-0");
  auto terminated = on_shard<Result<void>>([this] { return provider_->terminate("term-1"); });
  ASSERT_TRUE(terminated) << terminated.error().message();
  launched_.clear();
  EXPECT_FALSE(any_alive(groups));
  EXPECT_FALSE(std::filesystem::exists(provider_->cluster_dir("term-1")));
  auto statuses = on_shard<Result<std::vector<providers::InstanceStatus>>>(
      [this] { return provider_->describe({"term-1"}); });
  ASSERT_TRUE(statuses);
  EXPECT_TRUE(statuses->empty());
}

TEST_F(LocalProviderTest, LaunchingAgainWithTheSameTokenAdoptsTheCluster) {
  const Cluster first = launch("adopt-1", 2);
  const Cluster again = launch("adopt-1", 2);
  ASSERT_EQ(again.nodes.size(), 2u);
  EXPECT_EQ(again.nodes[0].instance_id, first.nodes[0].instance_id);
  EXPECT_EQ(again.nodes[1].skylet.port, first.nodes[1].skylet.port);
}

TEST_F(LocalProviderTest, AMachineWhoseLaunchWasCutShortIsStoppedWhenTheClusterIsLaunchedAgain) {
  // skyd killed after starting a machine but before recording its cluster: only the machine's
  // own pid file tells of it.
  launch("cut-1", 1);
  const std::string sandbox = provider_->cluster_dir("cut-1") + "/node-0";
  const pid_t first =
      static_cast<pid_t>(std::atol(read_small_file(sandbox + "/skylet.pid").c_str()));
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, 0), 0);
  std::filesystem::remove(provider_->cluster_dir("cut-1") + "/cluster.json");

  const Cluster again = launch("cut-1", 1);
  ASSERT_EQ(again.nodes.size(), 1u);
  // Killed during the launch; reaped by the provider moments later.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(first, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the first launch's skylet (pid " << first
                    << ") still runs beside the second";
  const pid_t second =
      static_cast<pid_t>(std::atol(read_small_file(sandbox + "/skylet.pid").c_str()));
  EXPECT_NE(second, first);
  EXPECT_EQ(::kill(second, 0), 0);
}

TEST_F(LocalProviderTest, AbsoluteDestinationsArePrivateBindMountsThatNeverTouchTheHost) {
  if (::geteuid() != 0) GTEST_SKIP() << "private mount namespaces need root";
  const std::string nested = "/opt/skyd-test-" + std::to_string(::getpid()) + "/ckpt";
  const Cluster first =
      launch("abs-1", 1, false,
             {MountRequest{"/checkpoint", "", "bucket-a", MountRequest::Mode::kMount},
              MountRequest{nested, "", "bucket-n", MountRequest::Mode::kMount}});
  const Cluster second = launch(
      "abs-2", 1, false, {MountRequest{"/checkpoint", "", "bucket-b", MountRequest::Mode::kMount}});
  start(first.nodes[0],
        AttemptRequest{"w",
                       "",
                       "echo first > /checkpoint/owner && echo deep > " + nested + "/file",
                       {},
                       {},
                       first.nodes[0].workdir});
  start(
      second.nodes[0],
      AttemptRequest{"w", "", "echo second > /checkpoint/owner", {}, {}, second.nodes[0].workdir});
  auto first_run = run_to_end(first.nodes[0], "w");
  EXPECT_EQ(first_run.status.phase, "SUCCEEDED") << first_run.output;
  EXPECT_EQ(run_to_end(second.nodes[0], "w").status.phase, "SUCCEEDED");
  auto text = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  };
  EXPECT_EQ(text(provider_->bucket_dir("bucket-a") + "/owner"), "first\n");
  EXPECT_EQ(text(provider_->bucket_dir("bucket-b") + "/owner"), "second\n")
      << "machines do not collide";
  EXPECT_EQ(text(provider_->bucket_dir("bucket-n") + "/file"), "deep\n");
  EXPECT_FALSE(std::filesystem::exists("/checkpoint")) << "the host is untouched";
  EXPECT_FALSE(std::filesystem::exists("/opt/skyd-test-" + std::to_string(::getpid())));
}

TEST_F(LocalProviderTest, ADestinationOverTheProvidersOwnDirectoryIsRefusedClearly) {
  if (::geteuid() != 0) GTEST_SKIP() << "without root every absolute destination is refused";
  LaunchRequest request;
  request.cluster_name = "abs-3";
  request.skylet_token = kToken;
  request.mounts = {MountRequest{"/tmp/anything", "", "b", MountRequest::Mode::kMount}};
  auto cluster = on_shard<Result<Cluster>>([this, request] { return provider_->launch(request); });
  launched_.push_back("abs-3");
  ASSERT_FALSE(cluster);
  EXPECT_EQ(cluster.error().code, providers::ProviderErrc::kInvalid);
  EXPECT_NE(cluster.error().detail.find("would cover the local provider's own directory"),
            std::string::npos)
      << cluster.error().detail;
}

}  // namespace
}  // namespace skyd::testing

namespace skyd::testing {
namespace {

bool refused_naming(const Result<void>& result, std::string_view field) {
  return !result && result.error().message().find(field) != std::string::npos;
}

TEST(LocalNodeSettingsCheck, AnImageDiskTierOrLabelsAreRefusedNamingTheField) {
  TempDir dir;
  providers::NodeSettings image;
  image.image_id = "ami-0a1b2c3d4e5f60718";
  EXPECT_TRUE(
      refused_naming(providers::check_local_settings(image, dir.path(), 1), "resources.image_id"));
  // A container image is no machine image: skylet runs the task in it.
  image.image_id = "docker:localhost/busybox:1";
  EXPECT_TRUE(providers::check_local_settings(image, dir.path(), 1));
  providers::NodeSettings tier;
  tier.disk_tier = providers::DiskTier::kHigh;
  EXPECT_TRUE(
      refused_naming(providers::check_local_settings(tier, dir.path(), 1), "resources.disk_tier"));
  providers::NodeSettings labels;
  labels.labels = {{"team", "vision"}};
  EXPECT_TRUE(
      refused_naming(providers::check_local_settings(labels, dir.path(), 1), "resources.labels"));
}

TEST(LocalNodeSettingsCheck, PortsAreHonouredAndADiskSizeIsAFreeSpaceCheckPerNode) {
  TempDir dir;
  providers::NodeSettings settings;
  settings.ports = {{8080, 8081}};
  settings.disk_size_gb = 1;
  EXPECT_TRUE(providers::check_local_settings(settings, dir.path(), 1));
  settings.disk_size_gb = 600000;  // two nodes of 600 TB: more than any test machine's disk
  EXPECT_TRUE(refused_naming(providers::check_local_settings(settings, dir.path(), 2),
                             "resources.disk_size: 600000 GB for each of 2 local node(s)"));
}

}  // namespace
}  // namespace skyd::testing
