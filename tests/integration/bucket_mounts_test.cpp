// skylet's bucket mounts against a real S3 server (s3rver) with real skylet processes and Debian's
// rclone: MOUNT writes reach the bucket and a later attempt on another skylet reads them,
// MOUNT_CACHED is drained before a cancel returns, COPY brings only its prefix, a bucket that
// cannot be mounted ends the attempt FAILED_MOUNT in bounded time, a killed skylet's mount is gone
// after its restart, and a fakecloud node with an instance profile mounts with IMDS credentials.

#include "providers/aws/ec2_api.hpp"
#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/s3_server.hpp"
#include "tests/support/s3_skyd.hpp"
#include "tests/support/skylet_node.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/test_users.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace skyd::testing {
namespace {

class BucketMounts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0 || ::geteuid() != 0)
      GTEST_SKIP() << "FUSE mounts need root and /dev/fuse";
    if (::access("/usr/bin/rclone", X_OK) != 0 || ::access("/usr/bin/fusermount3", X_OK) != 0)
      GTEST_SKIP() << "rclone and fuse3 are not installed (scripts/install-deps.sh installs them)";
    s3_ = std::make_unique<S3Server>(dir_);
    keys_ = credentials_file(dir_, "s3-keys", S3Server::kAccessKey, S3Server::kSecretKey);
  }
  std::vector<std::string> with_keys() { return {"--storage-credentials", keys_}; }

  // Starts attempt `id` on `node`: it writes `bytes` random bytes to FILE in a MOUNT_CACHED
  // mount of a new bucket at `destination`, then sleeps until stopped; returns once written.
  void write_then_sleep(SkyletNode& node, const std::string& id, const std::string& bucket,
                        const std::string& destination, const std::string& file, int bytes) {
    make_bucket(*s3_, bucket);
    node.api().start(
        attempt(id,
                "head -c " + std::to_string(bytes) + " /dev/urandom > " + destination + "/" + file +
                    " && echo written && sleep 600",
                bucket_mount(destination, "MOUNT_CACHED", bucket, "", s3_->endpoint())));
    ASSERT_TRUE(node.api().wait_log(id, "written")) << node.api().log(id);
  }
  // The object's size as S3 reports it, or the AWS CLI's complaint.
  std::string object_size(const std::string& bucket, const std::string& key) {
    const auto head = aws_s3(*s3_, {"s3api", "head-object", "--bucket", bucket, "--key", key});
    auto json = parse_json(head.out);
    const Json* length = json ? json->find("ContentLength") : nullptr;
    return length && length->as_int() ? std::to_string(*length->as_int()) : head.err;
  }

  TempDir dir_;
  std::unique_ptr<S3Server> s3_;
  std::string keys_;
};

TEST_F(BucketMounts, MountWritesReachTheBucketAndALaterAttemptOnAnotherNodeReadsThem) {
  make_bucket(*s3_, "ckpt");
  const std::string destination = dir_.file("checkpoint");
  const Json mount = bucket_mount(destination, "MOUNT", "ckpt", "run-1", s3_->endpoint());
  {
    SkyletNode first(dir_, "first", with_keys());
    first.api().start(attempt("a-1",
                              "python3 -c \"open('" + destination +
                                  "/step.txt', 'w').write('step 7')\" && echo closed && sleep 600",
                              mount));
    ASSERT_TRUE(first.api().wait_log("a-1", "closed")) << first.api().log("a-1");
    // Closed is stored: the bucket has it while the task still runs with the mount.
    EXPECT_EQ(get_object(*s3_, "ckpt", "run-1/step.txt"), std::optional<std::string>("step 7"));
    EXPECT_TRUE(mounted_at(destination));
    first.api().cancel("a-1");
    EXPECT_FALSE(mounted_at(destination));
  }
  SkyletNode second(dir_, "second", with_keys());
  second.api().start(attempt("a-2", "cat " + destination + "/step.txt", mount));
  ASSERT_EQ(second.api().wait_finished("a-2"), "SUCCEEDED") << second.api().log("a-2");
  EXPECT_TRUE(contains(second.api().log("a-2"), "step 7")) << second.api().log("a-2");
}

TEST_F(BucketMounts, MountCachedIsDrainedIntoTheBucketBeforeCancelReturns) {
  const std::string destination = dir_.file("cache-mount");
  SkyletNode node(dir_, "node", with_keys());
  write_then_sleep(node, "c-1", "cached", destination, "model.bin", 24000000);
  const Json cancelled = node.api().cancel("c-1");
  ASSERT_TRUE(cancelled.find("phase"));
  EXPECT_EQ(cancelled.find("phase")->as_string(), std::optional<std::string_view>("CANCELLED"));
  // Right when the cancel returns, the whole file is in the bucket.
  EXPECT_EQ(object_size("cached", "model.bin"), "24000000");
  EXPECT_TRUE(contains(node.api().log("c-1"), "cache drained")) << node.api().log("c-1");
  EXPECT_FALSE(mounted_at(destination));
}

TEST_F(BucketMounts, CopyBringsOnlyItsPrefixAndWritesNothingBack) {
  make_bucket(*s3_, "inputs");
  put_object(*s3_, "inputs", "data/a.txt", "A");
  put_object(*s3_, "inputs", "data/sub/b.txt", "B");
  put_object(*s3_, "inputs", "datax/c.txt", "C");
  put_object(*s3_, "inputs", "other.txt", "O");
  const std::string destination = dir_.file("inputs");
  SkyletNode node(dir_, "node", with_keys());
  // Setup already sees the copy: it is made before setup.
  node.api().start(attempt("p-1",
                           "cd " + destination + " && find . -type f | sort && echo new > new.txt",
                           bucket_mount(destination, "COPY", "inputs", "data", s3_->endpoint()),
                           "cat " + destination + "/a.txt"));
  ASSERT_EQ(node.api().wait_finished("p-1"), "SUCCEEDED") << node.api().log("p-1");
  const std::string log = node.api().log("p-1");
  EXPECT_TRUE(contains(log, "./a.txt\n./sub/b.txt\n")) << log;
  EXPECT_FALSE(contains(log, "c.txt")) << log;
  EXPECT_FALSE(contains(log, "other.txt")) << log;
  EXPECT_EQ(read_text(destination + "/sub/b.txt"), "B");
  EXPECT_EQ(get_object(*s3_, "inputs", "data/new.txt"), std::nullopt);
}

TEST_F(BucketMounts, AMissingBucketEndsTheAttemptFailedMountNamingIt) {
  const std::string destination = dir_.file("nowhere");
  SkyletNode node(dir_, "node", with_keys());
  const auto started = std::chrono::steady_clock::now();
  node.api().start(attempt(
      "f-1", "echo ran", bucket_mount(destination, "MOUNT", "no-such-bucket", "", s3_->endpoint()),
      "touch " + dir_.file("setup-ran")));
  ASSERT_EQ(node.api().wait_finished("f-1", std::chrono::seconds(30)), "FAILED_MOUNT");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  const Json status = node.api().status("f-1");
  ASSERT_TRUE(status.find("mount_error"));
  const std::string error(*status.find("mount_error")->as_string());
  EXPECT_TRUE(error.starts_with("bucket no-such-bucket at " + destination + ": ")) << error;
  EXPECT_TRUE(contains(node.api().log("f-1"), error)) << node.api().log("f-1");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("setup-ran")));
  EXPECT_FALSE(mounted_at(destination));
}

TEST_F(BucketMounts, WrongKeysEndTheAttemptFailedMountWithS3sReason) {
  make_bucket(*s3_, "locked");
  const std::string wrong = credentials_file(dir_, "wrong-keys", "NOTAKEY", "nope");
  SkyletNode node(dir_, "node", {"--storage-credentials", wrong});
  node.api().start(
      attempt("k-1", "echo ran",
              bucket_mount(dir_.file("locked"), "MOUNT", "locked", "", s3_->endpoint())));
  ASSERT_EQ(node.api().wait_finished("k-1", std::chrono::seconds(30)), "FAILED_MOUNT");
  const std::string error(*node.api().status("k-1").find("mount_error")->as_string());
  EXPECT_TRUE(contains(error, "bucket locked at ")) << error;
  EXPECT_TRUE(contains(error, "InvalidAccessKeyId")) << error;
  // The keys themselves never reach the log.
  EXPECT_FALSE(contains(node.log(), "nope"));
  EXPECT_FALSE(contains(node.api().log("k-1"), "NOTAKEY"));
}

TEST_F(BucketMounts, RefusesACredentialsFileOthersCanRead) {
  const std::string keys = credentials_file(dir_, "open-keys", "K", "S");
  ::chmod(keys.c_str(), 0644);
  const auto ran = run_command({binary_path("skylet"), "--token-file", dir_.file("none"),
                                "--work-dir", dir_.file("w"), "--storage-credentials", keys});
  EXPECT_EQ(ran.exit_code, 2);
  EXPECT_TRUE(contains(ran.err, "must have mode 0600")) << ran.err;
}

TEST_F(BucketMounts, AKilledSkyletsMountIsGoneAfterItsRestart) {
  make_bucket(*s3_, "live");
  const std::string destination = dir_.file("live");
  SkyletNode node(dir_, "node", with_keys());
  node.api().start(attempt("l-1", "echo up && sleep 600",
                           bucket_mount(destination, "MOUNT", "live", "", s3_->endpoint())));
  ASSERT_TRUE(node.api().wait_log("l-1", "up")) << node.api().log("l-1");
  ASSERT_TRUE(mounted_at(destination));
  node.kill_hard();
  EXPECT_TRUE(mounted_at(destination));  // rclone outlives skylet: the restart must clean up
  node.start();
  EXPECT_FALSE(mounted_at(destination));
  EXPECT_TRUE(contains(node.log(), "leftover bucket mount removed mountpoint=" + destination));
}

TEST_F(BucketMounts, AGracefulStopOfSkyletDrainsMountCachedFirst) {
  const std::string destination = dir_.file("stopping");
  SkyletNode node(dir_, "node", with_keys());
  write_then_sleep(node, "s-1", "stopping", destination, "state.bin", 16000000);
  node.stop();
  EXPECT_EQ(object_size("stopping", "state.bin"), "16000000") << node.log();
  EXPECT_FALSE(mounted_at(destination));
}

TEST_F(BucketMounts, ABucketThatNeverAnswersFailsWithinTheMountTimeout) {
  // A listener that never accepts: connections open, no answer ever comes.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(silent, 16), 0);
  socklen_t length = sizeof address;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  SkyletNode node(dir_, "node", {"--storage-credentials", keys_, "--mount-timeout-ms", "2000"});
  const auto started = std::chrono::steady_clock::now();
  node.api().start(attempt("h-1", "echo ran",
                           bucket_mount(dir_.file("silent"), "MOUNT", "silent", "", endpoint)));
  EXPECT_EQ(node.api().wait_finished("h-1", std::chrono::seconds(20)), "FAILED_MOUNT");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  const std::string error(*node.api().status("h-1").find("mount_error")->as_string());
  EXPECT_EQ(error, "bucket silent at " + dir_.file("silent") + ": no answer within 2 s");
  ::close(silent);
}

TEST_F(BucketMounts, AMountBelongsToTheTaskUserAndNobodyElse) {
  TestUsers users;
  const std::string shared = dir_.file("shared");
  std::filesystem::create_directories(shared);
  ::chmod(dir_.path().c_str(), 0711);
  ::chmod(shared.c_str(), 0755);
  const TestUser owner = users.user("owner", {}, shared);
  const TestUser other = users.user("other", {}, shared);
  make_bucket(*s3_, "private");
  const std::string destination = shared + "/ckpt";
  SkyletNode node(dir_, "node", with_keys());
  Json body =
      attempt("u-1", "echo mine > " + destination + "/mine.txt && echo written && sleep 600",
              bucket_mount(destination, "MOUNT", "private", "", s3_->endpoint()));
  Json user = Json::object();
  user.set("uid", static_cast<long long>(owner.uid));
  user.set("gid", static_cast<long long>(owner.gid));
  body.set("user", std::move(user));
  node.api().start(body);
  ASSERT_TRUE(node.api().wait_log("u-1", "written")) << node.api().log("u-1");
  const auto as_owner =
      run_command({"/usr/sbin/runuser", "-u", owner.name, "--", "cat", destination + "/mine.txt"});
  EXPECT_EQ(as_owner.out, "mine\n") << as_owner.err;
  const auto as_other =
      run_command({"/usr/sbin/runuser", "-u", other.name, "--", "ls", destination});
  EXPECT_NE(as_other.exit_code, 0);
  EXPECT_TRUE(contains(as_other.err, "Permission denied")) << as_other.err;
  node.api().cancel("u-1");
  EXPECT_EQ(get_object(*s3_, "private", "mine.txt"), std::optional<std::string>("mine\n"));
}

TEST_F(BucketMounts, InAPrivateRootTheMountCoversTheBoundDestinationNotTheHost) {
  make_bucket(*s3_, "machine");
  const std::string destination = "/ckpt-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir_.file("bound"));
  SkyletNode node(dir_, "node",
                  {"--storage-credentials", keys_, "--private-root", dir_.file("machine"), "--bind",
                   dir_.file("bound"), destination});
  node.api().start(attempt("r-1", "echo inside > " + destination + "/inside.txt",
                           bucket_mount(destination, "MOUNT", "machine", "", s3_->endpoint())));
  ASSERT_EQ(node.api().wait_finished("r-1"), "SUCCEEDED") << node.api().log("r-1");
  EXPECT_EQ(get_object(*s3_, "machine", "inside.txt"), std::optional<std::string>("inside\n"));
  // The write went through the mount to the bucket, not into the bound directory or the host.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("bound/inside.txt")));
  EXPECT_FALSE(std::filesystem::exists(destination));
}

// fakecloud in process mode, its nodes' skylets in private roots, instance profiles handing out
// s3rver's keys; nodes are launched by RunInstances signed with curl's own SigV4.
class FakecloudNodes {
 public:
  explicit FakecloudNodes(const TempDir& dir)
      : cloud_(dir, {"--instance-profile-keys",
                     std::string(S3Server::kAccessKey) + ":" + S3Server::kSecretKey,
                     "--private-node-roots"}) {}

  struct Node {
    std::string ip;
    std::string metadata_url;
  };
  // RunInstances (with `profile`, e.g. "IamInstanceProfile.Name=x", unless empty); the node's
  // address and metadata service once it runs, or empty.
  Node launch(const std::string& profile) {
    providers::aws::SkyletBoot boot;
    boot.token = kSkyletToken;
    boot.port = kPort;
    std::vector<std::string> argv = {"/usr/bin/curl", "-s",
                                     "--aws-sigv4",   "aws:amz:us-east-1:ec2",
                                     "--user",        std::string(kAccessKey) + ":" + kSecret};
    for (std::string field :
         {std::string("Action=RunInstances"), std::string("Version=2016-11-15"),
          std::string("ImageId=ami-0a1b2c3d4e5f60718"), std::string("InstanceType=m6i.large"),
          std::string("MinCount=1"), std::string("MaxCount=1"),
          "UserData=" + providers::aws::base64_encode(providers::aws::render_user_data(boot)),
          profile}) {
      if (!field.empty()) argv.insert(argv.end(), {"--data-urlencode", field});
    }
    argv.push_back(cloud_.url() + "/");
    const std::string answer = run_command(argv).out;
    const std::regex instance_id("<instanceId>(i-[0-9a-f]+)</instanceId>");
    std::smatch match;
    if (!std::regex_search(answer, match, instance_id)) return {};
    const std::string id = match[1];
    Node node;
    wait_for([&] {
      auto instances =
          parse_json(run_command({"/usr/bin/curl", "-s", cloud_.url() + "/_admin/instances"}).out);
      const Json* list = instances ? instances->find("instances") : nullptr;
      for (const Json& item : list && list->as_array() ? *list->as_array() : Json::Array{}) {
        if (item.find("instance_id")->as_string() == std::optional<std::string_view>(id) &&
            item.find("state")->as_string() == std::optional<std::string_view>("running")) {
          node.ip = std::string(*item.find("ip")->as_string());
          node.metadata_url = std::string(*item.find("metadata_url")->as_string());
        }
      }
      return !node.ip.empty();
    });
    return node;
  }
  std::string describe_instances() {
    return run_command({"/usr/bin/curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:ec2", "--user",
                        std::string(kAccessKey) + ":" + kSecret, "--data",
                        "Action=DescribeInstances&Version=2016-11-15", cloud_.url()})
        .out;
  }
  static std::string url_of(const std::string& ip) {
    return "http://" + ip + ":" + std::to_string(kPort);
  }

 private:
  static constexpr int kPort = 46591;
  FakeCloudProcess cloud_;
};

TEST_F(BucketMounts, AFakecloudNodeWithAnInstanceProfileMountsWithItsMetadataCredentials) {
  make_bucket(*s3_, "profiled");
  FakecloudNodes nodes(dir_);
  const auto launched = nodes.launch("IamInstanceProfile.Name=skyd-node");
  ASSERT_FALSE(launched.ip.empty());
  EXPECT_TRUE(contains(nodes.describe_instances(),
                       "<iamInstanceProfile><arn>arn:aws:iam::123456789012:instance-profile/"
                       "skyd-node</arn><id>AIPA"));
  // An independent client first: the AWS CLI (botocore) with no keys of its own lists the bucket
  // with what the node's metadata service hands out.
  const auto listed = run_command({program_on_path("aws"), "--endpoint-url", s3_->endpoint(),
                                   "s3api", "head-bucket", "--bucket", "profiled"},
                                  {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", launched.metadata_url},
                                   {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                                   {"AWS_CONFIG_FILE", "/nonexistent"},
                                   {"AWS_ACCESS_KEY_ID", ""},
                                   {"AWS_SECRET_ACCESS_KEY", ""},
                                   {"AWS_CA_BUNDLE", ""},
                                   {"AWS_DEFAULT_REGION", "us-east-1"}});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  SkyletApi node(dir_, FakecloudNodes::url_of(launched.ip));
  // An absolute destination: inside the node's own root, not the host's.
  const std::string destination = "/checkpoint-" + std::to_string(::getpid());
  node.start(attempt("i-1", "echo from-the-node > " + destination + "/hello.txt",
                     bucket_mount(destination, "MOUNT", "profiled", "", s3_->endpoint())));
  ASSERT_EQ(node.wait_finished("i-1"), "SUCCEEDED") << node.log("i-1");
  EXPECT_EQ(get_object(*s3_, "profiled", "hello.txt"),
            std::optional<std::string>("from-the-node\n"));
  EXPECT_FALSE(std::filesystem::exists(destination));
}

TEST_F(BucketMounts, AFakecloudNodeWithoutAnInstanceProfileHasNoCredentialsToMountWith) {
  make_bucket(*s3_, "unprofiled");
  FakecloudNodes nodes(dir_);
  const auto launched = nodes.launch("");
  ASSERT_FALSE(launched.ip.empty());
  EXPECT_FALSE(contains(nodes.describe_instances(), "<iamInstanceProfile>"));
  SkyletApi node(dir_, FakecloudNodes::url_of(launched.ip));
  node.start(
      attempt("n-1", "echo ran",
              bucket_mount(dir_.file("unprofiled"), "MOUNT", "unprofiled", "", s3_->endpoint())));
  ASSERT_EQ(node.wait_finished("n-1"), "FAILED_MOUNT") << node.log("n-1");
  EXPECT_TRUE(contains(node.log("n-1"), "bucket unprofiled at ")) << node.log("n-1");
}

TEST(FakecloudProfiles, AMalformedInstanceProfileArnIsRefusedAsEc2Does) {
  TempDir dir;
  FakeCloudProcess cloud(dir);
  const auto answer = run_command(
      {"/usr/bin/curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:ec2", "--user",
       std::string(kAccessKey) + ":" + kSecret, "--data",
       "Action=RunInstances&Version=2016-11-15&ImageId=ami-0a1b2c3d4e5f60718&InstanceType="
       "m6i.large&MinCount=1&MaxCount=1&IamInstanceProfile.Arn=not-an-arn",
       cloud.url() + "/"});
  EXPECT_TRUE(contains(answer.out, "<Code>InvalidParameterValue</Code>")) << answer.out;
  EXPECT_TRUE(contains(answer.out, "Invalid IAM Instance Profile ARN")) << answer.out;
}

}  // namespace
}  // namespace skyd::testing
