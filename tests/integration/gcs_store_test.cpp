// GcsStore and upload_tree against fakecloud's Cloud Storage JSON API (bearer tokens it issued,
// Google's JSON and error shapes, resumable sessions), one fakecloud per test; curl, which knows
// nothing of skyd, reads what skyd wrote and writes what skyd reads.

#include "providers/storage/gcs_store.hpp"
#include "providers/aws/ec2_api.hpp"
#include "providers/storage/upload_tree.hpp"
#include "reactor/crypto.hpp"
#include "reactor/json.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/object_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace skyd::providers::storage {
namespace {

using testing::FakeCloudProcess;
using testing::random_bytes;
using testing::read_file;
using testing::run_co;
using testing::TempDir;
using testing::write_file;

constexpr std::uint64_t kKiB = 1024;
constexpr const char* kProject = "skyd-gcs-test";
constexpr const char* kAccount = "skyd@skyd-gcs-test.iam.gserviceaccount.com";

bool is(const Error& error, ProviderErrc code) {
  return error.code == make_error_code(code);
}

// Tokens handed out in turn: invalidate() moves to the next (the last one stays).
class TokenQueue final : public gcp::AccessTokenSource {
 public:
  explicit TokenQueue(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  Task<Result<gcp::AccessToken>> token() override {
    co_return gcp::AccessToken{tokens_[next_], Clock::time_point::max()};
  }
  void invalidate() override {
    if (next_ + 1 < tokens_.size()) ++next_;
  }

 private:
  std::vector<std::string> tokens_;
  std::size_t next_ = 0;
};

class GcsStoreTest : public ::testing::Test {
 protected:
  std::string admin(const std::string& method, const std::string& target,
                    const std::string& body = "") const {
    std::vector<std::string> argv{"/usr/bin/curl", "-s", "-X", method, cloud_.url() + target};
    if (!body.empty())
      argv.insert(argv.end(), {"-H", "Content-Type: application/json", "-d", body});
    return testing::run_command(argv).out;
  }
  // A token fakecloud issued for `account` (a service account acts in its own project only).
  std::string mint(const std::string& account = kAccount) const {
    auto reply = parse_json(admin("POST", "/_admin/gcp/tokens?lifetime_s=3600&account=" + account));
    const Json* token = reply ? reply->find("access_token") : nullptr;
    return token && token->as_string() ? std::string(*token->as_string()) : "no-token";
  }
  GcsStoreOptions options(std::string project = kProject, std::string token = "") const {
    GcsStoreOptions out;
    out.endpoint = cloud_.url();
    out.project = std::move(project);
    out.tokens = std::make_shared<gcp::FixedAccessToken>(token.empty() ? token_ : token);
    out.resumable_threshold = 512 * kKiB;
    out.chunk_size = 256 * kKiB;
    out.retry.initial = std::chrono::milliseconds(10);
    out.retry.max_attempts = 4;
    return out;
  }
  // Runs `body` with a store made on the test's own io_context.
  template <typename T>
  T with_store(GcsStoreOptions store_options, std::function<Task<T>(GcsStore&)> body) {
    std::function<Task<T>()> make = [store_options, body]() -> Task<T> {
      return [](GcsStoreOptions opts, std::function<Task<T>(GcsStore&)> run) -> Task<T> {
        GcsStore store(co_await asio::this_coro::executor, std::move(opts));
        co_return co_await run(store);
      }(store_options, body);
    };
    return run_co<T>(make, std::chrono::seconds(60));
  }
  void make_bucket(const std::string& bucket) {
    std::function<Task<Result<BucketCreation>>(GcsStore&)> create = [bucket](GcsStore& store) {
      return store.create_bucket(bucket);
    };
    auto made = with_store<Result<BucketCreation>>(options(), create);
    ASSERT_TRUE(made) << made.error().message();
  }
  Result<TransferStats> upload(const std::string& bucket, const std::string& key,
                               const std::string& path, UploadOptions upload_options = {},
                               GcsStoreOptions store_options = {}) {
    if (store_options.endpoint == kGcsDefaultEndpoint) store_options = options();
    std::function<Task<Result<TransferStats>>(GcsStore&)> send = [bucket, key, path,
                                                                  upload_options](GcsStore& store) {
      return store.upload_file(bucket, key, path, upload_options);
    };
    return with_store<Result<TransferStats>>(store_options, send);
  }
  Result<TransferStats> download(const std::string& bucket, const std::string& key,
                                 const std::string& path) {
    std::function<Task<Result<TransferStats>>(GcsStore&)> fetch =
        [bucket, key, path](GcsStore& store) { return store.download_file(bucket, key, path); };
    return with_store<Result<TransferStats>>(options(), fetch);
  }
  // What fakecloud holds of an object (its admin view, not the API skyd spoke).
  std::optional<Json> stored(const std::string& bucket, const std::string& name) {
    auto objects = parse_json(admin("GET", "/_admin/gcs/objects?bucket=" + bucket));
    const Json* list = objects ? objects->find("objects") : nullptr;
    if (!list) list = objects ? &*objects : nullptr;
    if (!list || !list->as_array()) return std::nullopt;
    for (const Json& object : *list->as_array())
      if (const Json* n = object.find("name"); n && n->as_string() == name) return object;
    return std::nullopt;
  }

  TempDir dir_;
  FakeCloudProcess cloud_{dir_};
  std::string token_ = mint();
};

TEST_F(GcsStoreTest, CreatesFindsAndDeletesABucketInItsProject) {
  std::function<Task<Result<std::vector<std::string>>>(GcsStore&)> life =
      [](GcsStore& store) -> Task<Result<std::vector<std::string>>> {
    std::vector<std::string> seen;
    const std::string bucket = "life_cycle";  // an underscore: GCS's rules
    for (int step = 0; step < 6; ++step) {
      switch (step) {
        case 0:
        case 3:
        case 5: {
          auto head = co_await store.head_bucket(bucket);
          if (!head) co_return head.error();
          seen.emplace_back(to_string(*head));
          break;
        }
        case 1:
        case 2: {
          auto created = co_await store.create_bucket(bucket);
          if (!created) co_return created.error();
          seen.emplace_back(to_string(*created));
          break;
        }
        case 4: {
          auto deleted = co_await store.delete_bucket(bucket);
          if (!deleted) co_return deleted.error();
          auto again = co_await store.delete_bucket(bucket);
          seen.emplace_back(!again && is(again.error(), ProviderErrc::kNotFound) ? "gone"
                                                                                 : "other");
          break;
        }
      }
    }
    co_return seen;
  };
  auto seen = with_store<Result<std::vector<std::string>>>(options(), life);
  ASSERT_TRUE(seen) << seen.error().message();
  const std::vector<std::string> expected{"not found", "created", "already mine",
                                          "mine",      "gone",    "not found"};
  EXPECT_EQ(*seen, expected);
}

TEST_F(GcsStoreTest, ABucketOfAnotherProjectIsRefusedByName) {
  const std::string theirs = mint("other@other-project.iam.gserviceaccount.com");
  std::function<Task<Result<BucketCreation>>(GcsStore&)> create = [](GcsStore& store) {
    return store.create_bucket("taken-name");
  };
  ASSERT_TRUE(with_store<Result<BucketCreation>>(options("other-project", theirs), create));
  auto mine = with_store<Result<BucketCreation>>(options(), create);
  ASSERT_FALSE(mine);
  EXPECT_TRUE(is(mine.error(), ProviderErrc::kInvalid)) << mine.error().message();
  EXPECT_NE(mine.error().detail.find("belongs to another project"), std::string::npos);
  std::function<Task<Result<BucketAccess>>(GcsStore&)> head = [](GcsStore& store) {
    return store.head_bucket("taken-name");
  };
  auto access = with_store<Result<BucketAccess>>(options(), head);
  ASSERT_TRUE(access) << access.error().message();
  EXPECT_EQ(*access, BucketAccess::kForbidden);
}

TEST_F(GcsStoreTest, ASmallFileIsOneRequestWithItsMetadata) {
  make_bucket("small-files");
  const std::string content = random_bytes(100 * kKiB, 1);
  write_file(dir_.file("small"), content);
  UploadOptions upload_options;
  upload_options.metadata = {{"skyd-sha256", sha256_hex(content)}};
  upload_options.content_type = "text/plain";
  auto sent = upload("small-files", "dir/small file", dir_.file("small"), upload_options);
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(sent->bytes, content.size());
  EXPECT_EQ(sent->requests, 1);
  EXPECT_FALSE(sent->multipart);
  auto object = stored("small-files", "dir/small file");
  ASSERT_TRUE(object) << admin("GET", "/_admin/gcs/objects?bucket=small-files");
  EXPECT_EQ(object->find("md5Hash")->as_string(), aws::base64_encode(md5_raw(content)));
  std::function<Task<Result<std::optional<ObjectHead>>>(GcsStore&)> head = [](GcsStore& store) {
    return store.head_object("small-files", "dir/small file");
  };
  auto found = with_store<Result<std::optional<ObjectHead>>>(options(), head);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->size, content.size());
  EXPECT_EQ((*found)->metadata.at("skyd-sha256"), sha256_hex(content));
  // curl reads what skyd wrote.
  const auto fetched = testing::run_command(
      {"/usr/bin/curl", "-s", "-f", "-H", "Authorization: Bearer " + token_, "-o",
       dir_.file("by-curl"),
       cloud_.url() + "/storage/v1/b/small-files/o/dir%2Fsmall%20file?alt=media"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(read_file(dir_.file("by-curl")), content);
}

TEST_F(GcsStoreTest, ALargeFileGoesUpInResumableChunksAndComesBackWhole) {
  make_bucket("large-files");
  const std::string content = random_bytes(1300 * kKiB, 2);  // 5 chunks of 256 KiB and a tail
  write_file(dir_.file("large"), content);
  auto sent = upload("large-files", "ckpt/model.bin", dir_.file("large"));
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_TRUE(sent->multipart);
  EXPECT_EQ(sent->bytes, content.size());
  EXPECT_EQ(sent->requests, 6);
  auto object = stored("large-files", "ckpt/model.bin");
  ASSERT_TRUE(object);
  EXPECT_EQ(object->find("md5Hash")->as_string(), aws::base64_encode(md5_raw(content)));
  auto got = download("large-files", "ckpt/model.bin", dir_.file("large.back"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->bytes, content.size());
  EXPECT_EQ(read_file(dir_.file("large.back")), content);
}

TEST_F(GcsStoreTest, AStoppedUploadResumesWhereTheSessionStands) {
  make_bucket("resumed");
  const std::string content = random_bytes(1100 * kKiB, 3);
  write_file(dir_.file("big"), content);
  auto saved = std::make_shared<std::optional<MultipartState>>();
  UploadOptions first;
  first.on_progress = [saved](const MultipartState& state) {
    *saved = state;
    return state.parts.size() < 2;  // stop once two chunks have landed
  };
  auto stopped = upload("resumed", "big", dir_.file("big"), first);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, make_error_code(NetErrc::kCancelled));
  ASSERT_TRUE(*saved);
  EXPECT_EQ((*saved)->parts.size(), 2u);
  EXPECT_EQ((*saved)->part_size, 256 * kKiB);
  EXPECT_FALSE(stored("resumed", "big")) << "not finished yet";
  // A restart: a new store, given the persisted state, sends only the rest.
  UploadOptions second;
  second.resume = **saved;
  auto resumed = upload("resumed", "big", dir_.file("big"), second);
  ASSERT_TRUE(resumed) << resumed.error().message();
  EXPECT_EQ(resumed->bytes, content.size() - 512 * kKiB);
  auto got = download("resumed", "big", dir_.file("big.back"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(read_file(dir_.file("big.back")), content);
}

TEST_F(GcsStoreTest, ASessionGcsForgotStartsOver) {
  make_bucket("forgotten");
  const std::string content = random_bytes(700 * kKiB, 4);
  write_file(dir_.file("f"), content);
  UploadOptions upload_options;
  upload_options.resume = MultipartState{
      cloud_.url() + "/upload/storage/v1/b/forgotten/o?uploadType=resumable&name=f&upload_id=gone",
      content.size(),
      256 * kKiB,
      {{1, "bytes=0-262143"}}};
  auto sent = upload("forgotten", "f", dir_.file("f"), upload_options);
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(sent->bytes, content.size());
  auto got = download("forgotten", "f", dir_.file("f.back"));
  ASSERT_TRUE(got);
  EXPECT_EQ(read_file(dir_.file("f.back")), content);
}

TEST_F(GcsStoreTest, ListsAcrossPagesInNameOrderAndByPrefix) {
  make_bucket("listing");
  for (int i = 0; i < 5; ++i) write_file(dir_.file("tree/a/" + std::to_string(i)), "x");
  for (int i = 0; i < 2; ++i) write_file(dir_.file("tree/b/" + std::to_string(i)), "yy");
  auto store_options = options();
  store_options.list_page_size = 2;  // 7 objects: four pages
  std::function<Task<Result<std::vector<std::string>>>(GcsStore&)> list =
      [tree = dir_.file("tree")](GcsStore& store) -> Task<Result<std::vector<std::string>>> {
    const std::string bucket = "listing";
    const std::string everything;
    auto uploaded = co_await upload_tree(store, bucket, everything, tree);
    if (!uploaded) co_return uploaded.error();
    // Again: every object already carries its digest, so nothing is sent.
    auto again = co_await upload_tree(store, bucket, everything, tree);
    if (!again) co_return again.error();
    if (again->files_sent != 0) co_return make_error(ProviderErrc::kInvalid, "sent again");
    auto all = co_await store.list_objects(bucket, everything);
    if (!all) co_return all.error();
    const std::string b_prefix = "b/";
    auto some = co_await store.list_objects(bucket, b_prefix);
    if (!some) co_return some.error();
    std::vector<std::string> names;
    for (const auto& object : *all) names.push_back(object.key);
    for (const auto& object : *some)
      names.push_back(object.key + "=" + std::to_string(object.size));
    co_return names;
  };
  auto names = with_store<Result<std::vector<std::string>>>(store_options, list);
  ASSERT_TRUE(names) << names.error().message();
  const std::vector<std::string> expected{"a/0", "a/1", "a/2",   "a/3",  "a/4",
                                          "b/0", "b/1", "b/0=2", "b/1=2"};
  EXPECT_EQ(*names, expected);
}

TEST_F(GcsStoreTest, DeletesObjectsMissingOnesIncludedThenTheBucket) {
  make_bucket("deletions");
  for (int i = 0; i < 4; ++i) {
    write_file(dir_.file("d" + std::to_string(i)), "z");
    ASSERT_TRUE(upload("deletions", "k" + std::to_string(i), dir_.file("d" + std::to_string(i))));
  }
  std::function<Task<Result<std::uint64_t>>(GcsStore&)> clear =
      [](GcsStore& store) -> Task<Result<std::uint64_t>> {
    // Arguments named: g++ 12 destroys temporaries in a co_await expression twice.
    const std::string bucket = "deletions";
    std::vector<std::string> keys{"k0", "never-there"};
    auto deleted = co_await store.delete_objects(bucket, keys);
    if (!deleted) co_return deleted.error();
    auto emptied = co_await store.empty_bucket(bucket);
    if (!emptied) co_return emptied.error();
    auto gone = co_await store.delete_bucket(bucket);
    if (!gone) co_return gone.error();
    co_return *emptied;
  };
  auto emptied = with_store<Result<std::uint64_t>>(options(), clear);
  ASSERT_TRUE(emptied) << emptied.error().message();
  EXPECT_EQ(*emptied, 3u);
  EXPECT_EQ(admin("GET", "/_admin/gcs/buckets").find("deletions"), std::string::npos);
}

TEST_F(GcsStoreTest, AMissingObjectIsNotFound) {
  make_bucket("sparse");
  auto got = download("sparse", "nothing-here", dir_.file("nothing"));
  ASSERT_FALSE(got);
  EXPECT_TRUE(is(got.error(), ProviderErrc::kNotFound)) << got.error().message();
  std::function<Task<Result<std::optional<ObjectHead>>>(GcsStore&)> head = [](GcsStore& store) {
    return store.head_object("sparse", "nothing-here");
  };
  auto found = with_store<Result<std::optional<ObjectHead>>>(options(), head);
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_F(GcsStoreTest, ThrottlingAndBackendErrorsAreRetried) {
  make_bucket("flaky");
  admin("POST", "/_admin/gcs/faults",
        R"([{"action":"objects.insert","bucket":"flaky","code":"rateLimitExceeded","count":2},)"
        R"({"action":"objects.resume","bucket":"flaky","code":"backendError","count":1},)"
        R"({"action":"objects.download","bucket":"flaky","code":"internalError","count":1}])");
  const std::string content = random_bytes(800 * kKiB, 5);
  write_file(dir_.file("flaky"), content);
  std::function<Task<Result<GcsStoreStats>>(GcsStore&)> run =
      [path = dir_.file("flaky"),
       back = dir_.file("flaky.back")](GcsStore& store) -> Task<Result<GcsStoreStats>> {
    const std::string bucket = "flaky", key = "obj";
    const UploadOptions plain;
    auto sent = co_await store.upload_file(bucket, key, path, plain);
    if (!sent) co_return sent.error();
    auto got = co_await store.download_file(bucket, key, back);
    if (!got) co_return got.error();
    co_return store.stats();
  };
  auto stats = with_store<Result<GcsStoreStats>>(options(), run);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->throttled, 2u);
  EXPECT_GE(stats->retries, 4u);
  EXPECT_EQ(read_file(dir_.file("flaky.back")), content);
}

TEST_F(GcsStoreTest, ARefusedTokenIsRenewedOnce) {
  make_bucket("renewed");
  const std::string old_token = token_;
  admin("POST", "/_admin/gcp/revoke_tokens");
  const std::string fresh = mint();
  auto store_options = options();
  store_options.tokens = std::make_shared<TokenQueue>(std::vector<std::string>{old_token, fresh});
  write_file(dir_.file("r"), "renewed");
  std::function<Task<Result<GcsStoreStats>>(GcsStore&)> run =
      [path = dir_.file("r")](GcsStore& store) -> Task<Result<GcsStoreStats>> {
    const std::string bucket = "renewed", key = "r";
    const UploadOptions plain;
    auto sent = co_await store.upload_file(bucket, key, path, plain);
    if (!sent) co_return sent.error();
    co_return store.stats();
  };
  auto stats = with_store<Result<GcsStoreStats>>(store_options, run);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->token_renewals, 1u);
  // Without a good token at all: kAuth, after one renewal.
  store_options.tokens = std::make_shared<gcp::FixedAccessToken>(old_token);
  auto refused = with_store<Result<GcsStoreStats>>(store_options, run);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), ProviderErrc::kAuth)) << refused.error().message();
}

TEST_F(GcsStoreTest, ReadsWhatAnotherClientWrote) {
  make_bucket("from-curl");
  const std::string content = random_bytes(300 * kKiB, 6);
  write_file(dir_.file("c"), content);
  const auto put = testing::run_command(
      {"/usr/bin/curl", "-s", "-f", "-X", "POST", "-H", "Authorization: Bearer " + token_, "-H",
       "Content-Type: application/octet-stream", "--data-binary", "@" + dir_.file("c"),
       cloud_.url() + "/upload/storage/v1/b/from-curl/o?uploadType=media&name=in%2Fc"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  auto got = download("from-curl", "in/c", dir_.file("c.back"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(read_file(dir_.file("c.back")), content);
}

}  // namespace
}  // namespace skyd::providers::storage
