// S3Store and upload_tree against a real S3 server (s3rver, tests/s3), one per test, and the AWS
// CLI as an independent client reading what skyd wrote and writing what skyd reads.

#include "providers/storage/s3_store.hpp"
#include "providers/storage/upload_tree.hpp"
#include "tests/support/object_files.hpp"
#include "tests/support/s3_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace skyd::providers::storage {
namespace {

using testing::random_bytes;
using testing::read_file;
using testing::run_co;
using testing::S3Server;
using testing::TempDir;
using testing::write_file;

constexpr std::uint64_t kMiB = 1ull << 20;

aws::EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

bool is(const Error& error, ProviderErrc code) {
  return error.code == make_error_code(code);
}

class S3StoreTest : public ::testing::Test {
 protected:
  S3StoreOptions options(std::map<std::string, std::string> env_overrides = {}) const {
    auto env = server_.client_environment();
    for (auto& [name, value] : env_overrides) env[name] = value;
    S3StoreOptions out;
    out.env = env_of(env);
    out.part_size = kMiB;  // s3rver takes parts below S3's 5 MiB minimum: small, fast tests
    out.multipart_threshold = kMiB;
    out.retry.max_attempts = 2;
    out.retry.initial = std::chrono::milliseconds(10);
    return out;
  }

  // Runs `body` with a store made on the test's own io_context.
  template <typename T>
  T with_store(S3StoreOptions store_options, std::function<Task<T>(S3Store&)> body,
               Duration limit = std::chrono::seconds(60)) {
    std::function<Task<T>()> make = [store_options, body]() -> Task<T> {
      return [](S3StoreOptions opts, std::function<Task<T>(S3Store&)> run) -> Task<T> {
        S3Store store(co_await asio::this_coro::executor, std::move(opts));
        co_return co_await run(store);
      }(store_options, body);
    };
    return run_co<T>(make, limit);
  }

  void make_bucket(const std::string& bucket) {
    std::function<Task<Result<BucketCreation>>(S3Store&)> create = [bucket](S3Store& store) {
      return store.create_bucket(bucket);
    };
    auto made = with_store<Result<BucketCreation>>(options(), create);
    ASSERT_TRUE(made) << made.error().message();
  }

  TempDir dir_;
  S3Server server_{dir_};
};

TEST_F(S3StoreTest, CreatesHeadsAndDeletesABucket) {
  std::function<Task<Result<std::vector<std::string>>>(S3Store&)> life =
      [](S3Store& store) -> Task<Result<std::vector<std::string>>> {
    std::vector<std::string> seen;
    const std::string bucket = "life-cycle";
    auto before = co_await store.head_bucket(bucket);
    if (!before) co_return before.error();
    seen.emplace_back(to_string(*before));
    auto created = co_await store.create_bucket(bucket);
    if (!created) co_return created.error();
    seen.emplace_back(to_string(*created));
    auto again = co_await store.create_bucket(bucket);
    if (!again) co_return again.error();
    seen.emplace_back(to_string(*again));
    auto head = co_await store.head_bucket(bucket);
    if (!head) co_return head.error();
    seen.emplace_back(to_string(*head));
    auto deleted = co_await store.delete_bucket(bucket);
    if (!deleted) co_return deleted.error();
    auto after = co_await store.head_bucket(bucket);
    if (!after) co_return after.error();
    seen.emplace_back(to_string(*after));
    auto gone = co_await store.delete_bucket(bucket);
    seen.emplace_back(!gone && is(gone.error(), ProviderErrc::kNotFound) ? "delete: not found"
                                                                         : "delete: other");
    co_return seen;
  };
  auto seen = with_store<Result<std::vector<std::string>>>(options(), life);
  ASSERT_TRUE(seen) << seen.error().message();
  const std::vector<std::string> expected{"not found", "created",   "already mine",
                                          "mine",      "not found", "delete: not found"};
  EXPECT_EQ(*seen, expected);
}

TEST_F(S3StoreTest, ListsEveryObjectAcrossPagesAndByPrefix) {
  make_bucket("listing");
  for (int i = 0; i < 7; ++i) write_file(dir_.file("tree/a/" + std::to_string(i)), "x");
  for (int i = 0; i < 3; ++i) write_file(dir_.file("tree/b/" + std::to_string(i)), "yy");
  auto store_options = options();
  store_options.list_page_size = 3;  // 10 keys: four pages
  std::function<Task<Result<std::pair<std::size_t, std::size_t>>>(S3Store&)> list =
      [tree =
           dir_.file("tree")](S3Store& store) -> Task<Result<std::pair<std::size_t, std::size_t>>> {
    const std::string bucket = "listing";
    const std::string everything = "";
    auto uploaded = co_await upload_tree(store, bucket, everything, tree);
    if (!uploaded) co_return uploaded.error();
    auto all = co_await store.list_objects(bucket, everything);
    if (!all) co_return all.error();
    const std::string b_prefix = "b/";
    auto b = co_await store.list_objects(bucket, b_prefix);
    if (!b) co_return b.error();
    for (const auto& object : *b)
      if (object.size != 2 || !object.key.starts_with("b/")) co_return Error{};
    co_return std::make_pair(all->size(), b->size());
  };
  auto counts = with_store<Result<std::pair<std::size_t, std::size_t>>>(store_options, list);
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_EQ(counts->first, 10u);
  EXPECT_EQ(counts->second, 3u);
}

TEST_F(S3StoreTest, PutHeadAndDownloadRoundTrip) {
  make_bucket("round-trip");
  const std::string content = random_bytes(300 * 1024, 1);
  write_file(dir_.file("small.bin"), content);
  std::function<Task<Result<ObjectHead>>(S3Store&)> trip =
      [this](S3Store& store) -> Task<Result<ObjectHead>> {
    UploadOptions upload;
    upload.metadata["purpose"] = "round trip";
    const std::string bucket = "round-trip";
    const std::string key = "dir/small file.bin";
    const std::string small_path = dir_.file("small.bin");
    auto put = co_await store.upload_file(bucket, key, small_path, upload);
    if (!put) co_return put.error();
    if (put->multipart) co_return Error{};
    auto head = co_await store.head_object(bucket, key);
    if (!head) co_return head.error();
    const std::string missing_key = "no/such/key";
    auto missing = co_await store.head_object(bucket, missing_key);
    if (!missing) co_return missing.error();
    if (*missing) co_return Error{};
    const std::string ranged_path = dir_.file("ranged.bin");
    auto got = co_await store.download_file(bucket, key, ranged_path);
    if (!got) co_return got.error();
    const std::string absent_path = dir_.file("absent.bin");
    auto absent = co_await store.download_file(bucket, missing_key, absent_path);
    if (absent || !is(absent.error(), ProviderErrc::kNotFound)) co_return Error{};
    co_return **head;
  };
  auto head = with_store<Result<ObjectHead>>(options(), trip);
  ASSERT_TRUE(head) << head.error().message();
  EXPECT_EQ(head->size, content.size());
  EXPECT_EQ(head->metadata["purpose"], "round trip");
  EXPECT_EQ(read_file(dir_.file("ranged.bin")), content);

  // The same object through one streamed GET.
  auto streaming = options();
  streaming.ranged_download = false;
  std::function<Task<Result<TransferStats>>(S3Store&)> stream = [this](S3Store& store) {
    return store.download_file("round-trip", "dir/small file.bin", dir_.file("streamed.bin"));
  };
  auto streamed = with_store<Result<TransferStats>>(streaming, stream);
  ASSERT_TRUE(streamed) << streamed.error().message();
  EXPECT_EQ(streamed->requests, 1);
  EXPECT_EQ(read_file(dir_.file("streamed.bin")), content);
}

TEST_F(S3StoreTest, DownloadsASmallObjectInOneGetAndAnEmptyOneReplacingTheFile) {
  make_bucket("sizes");
  write_file(dir_.file("small.bin"), "seven b");
  write_file(dir_.file("empty.bin"), "");
  std::function<Task<Result<std::pair<TransferStats, TransferStats>>>(S3Store&)> trip =
      [this](S3Store& store) -> Task<Result<std::pair<TransferStats, TransferStats>>> {
    const std::string bucket = "sizes";
    const std::string small_key = "small";
    const std::string empty_key = "empty";
    const std::string small_path = dir_.file("small.bin");
    const std::string empty_path = dir_.file("empty.bin");
    const UploadOptions defaults;
    for (const auto& [key, path] :
         {std::pair{small_key, small_path}, std::pair{empty_key, empty_path}}) {
      auto put = co_await store.upload_file(bucket, key, path, defaults);
      if (!put) co_return put.error();
    }
    const std::string small_back = dir_.file("small-back.bin");
    const std::string empty_back = dir_.file("empty-back.bin");
    write_file(empty_back, "stale bytes the download must replace");
    auto small = co_await store.download_file(bucket, small_key, small_back);
    if (!small) co_return small.error();
    auto empty = co_await store.download_file(bucket, empty_key, empty_back);
    if (!empty) co_return empty.error();
    co_return std::make_pair(*small, *empty);
  };
  auto got = with_store<Result<std::pair<TransferStats, TransferStats>>>(options(), trip);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->first.requests, 1);  // one ranged GET (after the HEAD that gives the size)
  EXPECT_EQ(got->first.bytes, 7u);
  EXPECT_EQ(read_file(dir_.file("small-back.bin")), "seven b");
  EXPECT_EQ(got->second.bytes, 0u);
  EXPECT_EQ(read_file(dir_.file("empty-back.bin")), "");
}

TEST_F(S3StoreTest, UploadsALargeFileInParallelParts) {
  make_bucket("multipart");
  const std::string content = random_bytes(3 * kMiB + 12345, 2);  // four parts of 1 MiB
  write_file(dir_.file("large.bin"), content);
  auto store_options = options();
  store_options.parts_in_flight = 3;
  std::function<Task<Result<std::pair<TransferStats, std::uint64_t>>>(S3Store&)> upload =
      [this](S3Store& store) -> Task<Result<std::pair<TransferStats, std::uint64_t>>> {
    const std::string bucket = "multipart";
    const std::string key = "large.bin";
    const std::string large_path = dir_.file("large.bin");
    const UploadOptions defaults;
    auto sent = co_await store.upload_file(bucket, key, large_path, defaults);
    if (!sent) co_return sent.error();
    const std::string back_path = dir_.file("back.bin");
    auto got = co_await store.download_file(bucket, key, back_path);
    if (!got) co_return got.error();
    co_return std::make_pair(*sent, store.stats().parts_sent);
  };
  auto result = with_store<Result<std::pair<TransferStats, std::uint64_t>>>(store_options, upload);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_TRUE(result->first.multipart);
  EXPECT_EQ(result->first.requests, 4);
  EXPECT_EQ(result->second, 4u);
  EXPECT_EQ(result->first.bytes, content.size());
  EXPECT_EQ(read_file(dir_.file("back.bin")), content);
}

TEST_F(S3StoreTest, ResumedUploadSendsOnlyTheMissingParts) {
  make_bucket("resume");
  const std::string content = random_bytes(6 * kMiB + 7, 3);  // seven parts
  write_file(dir_.file("large.bin"), content);
  auto store_options = options();
  store_options.parts_in_flight = 2;
  // The first run is stopped once two parts are done; what it persisted is the resume state.
  auto persisted = std::make_shared<MultipartState>();
  std::function<Task<Result<TransferStats>>(S3Store&)> first =
      [this, persisted](S3Store& store) -> Task<Result<TransferStats>> {
    UploadOptions upload;
    upload.on_progress = [persisted](const MultipartState& state) {
      *persisted = state;
      return state.parts.size() < 2;
    };
    const std::string bucket = "resume";
    const std::string key = "large.bin";
    const std::string large_path = dir_.file("large.bin");
    co_return co_await store.upload_file(bucket, key, large_path, upload);
  };
  auto stopped = with_store<Result<TransferStats>>(store_options, first);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, make_error_code(NetErrc::kCancelled));
  ASSERT_EQ(persisted->parts.size(), 2u);
  ASSERT_FALSE(persisted->upload_id.empty());

  std::function<Task<Result<TransferStats>>(S3Store&)> second =
      [this, persisted](S3Store& store) -> Task<Result<TransferStats>> {
    UploadOptions upload;
    upload.resume = *persisted;
    const std::string bucket = "resume";
    const std::string key = "large.bin";
    const std::string large_path = dir_.file("large.bin");
    auto sent = co_await store.upload_file(bucket, key, large_path, upload);
    if (!sent) co_return sent.error();
    const std::string back_path = dir_.file("back.bin");
    auto got = co_await store.download_file(bucket, key, back_path);
    if (!got) co_return got.error();
    co_return *sent;
  };
  auto resumed = with_store<Result<TransferStats>>(store_options, second);
  ASSERT_TRUE(resumed) << resumed.error().message();
  EXPECT_EQ(resumed->requests, 5);  // 7 parts, 2 already there
  EXPECT_EQ(resumed->bytes, content.size() - 2 * kMiB);
  EXPECT_EQ(read_file(dir_.file("back.bin")), content);
}

TEST_F(S3StoreTest, UploadTreeSkipsFilesWhoseDigestIsAlreadyThere) {
  make_bucket("tree");
  write_file(dir_.file("src/a.txt"), "alpha");
  write_file(dir_.file("src/sub/b.txt"), "bravo");
  write_file(dir_.file("src/sub/deeper/c.bin"), random_bytes(2 * kMiB + 1, 4));  // multipart
  std::function<Task<Result<TreeUploadStats>>(S3Store&)> upload = [this](S3Store& store) {
    return upload_tree(store, "tree", "inputs/", dir_.file("src"));
  };
  auto first = with_store<Result<TreeUploadStats>>(options(), upload);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->files_sent, 3u);
  EXPECT_EQ(first->files_skipped, 0u);

  write_file(dir_.file("src/sub/b.txt"), "bravo, changed");
  auto second = with_store<Result<TreeUploadStats>>(options(), upload);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->files_sent, 1u);
  EXPECT_EQ(second->bytes_sent, std::string("bravo, changed").size());
  EXPECT_EQ(second->files_skipped, 2u);
  EXPECT_EQ(second->bytes_skipped, 5u + 2 * kMiB + 1);

  std::function<Task<Result<std::vector<ObjectInfo>>>(S3Store&)> list = [](S3Store& store) {
    return store.list_objects("tree", "inputs/");
  };
  auto objects = with_store<Result<std::vector<ObjectInfo>>>(options(), list);
  ASSERT_TRUE(objects);
  std::vector<std::string> keys;
  for (const auto& object : *objects) keys.push_back(object.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"inputs/a.txt", "inputs/sub/b.txt",
                                            "inputs/sub/deeper/c.bin"}));
}

TEST_F(S3StoreTest, DeletesObjectsInBatchesAndEmptiesTheBucket) {
  make_bucket("emptied");
  // More keys than one DeleteObjects call takes. Not bare numbers: s3rver's XML parser turns
  // <Key>0</Key> into a number and fails on it.
  for (int i = 0; i < 1003; ++i) write_file(dir_.file("many/f" + std::to_string(i)), "z");
  auto store_options = options();
  std::function<Task<Result<std::pair<std::size_t, std::uint64_t>>>(S3Store&)> run =
      [this](S3Store& store) -> Task<Result<std::pair<std::size_t, std::uint64_t>>> {
    TreeUploadOptions tree;
    tree.files_in_flight = 16;
    const std::string bucket = "emptied";
    const std::string everything = "";
    const std::string many_path = dir_.file("many");
    auto uploaded = co_await upload_tree(store, bucket, everything, many_path, tree);
    if (!uploaded) co_return uploaded.error();
    std::vector<std::string> some{"f0", "f1", "f2", "not-there"};
    auto deleted = co_await store.delete_objects(bucket, some);
    if (!deleted) co_return deleted.error();
    auto left = co_await store.list_objects(bucket, everything);
    if (!left) co_return left.error();
    auto emptied = co_await store.empty_bucket(bucket);
    if (!emptied) co_return emptied.error();
    auto after = co_await store.list_objects(bucket, everything);
    if (!after) co_return after.error();
    if (!after->empty()) co_return Error{};
    auto bucket_gone = co_await store.delete_bucket(bucket);
    if (!bucket_gone) co_return bucket_gone.error();
    co_return std::make_pair(left->size(), *emptied);
  };
  auto counts = with_store<Result<std::pair<std::size_t, std::uint64_t>>>(
      store_options, run, std::chrono::seconds(120));
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_EQ(counts->first, 1000u);
  EXPECT_EQ(counts->second, 1000u);
}

TEST_F(S3StoreTest, WrongSecretKeyIsAnAuthError) {
  make_bucket("guarded");
  std::function<Task<Result<std::vector<ObjectInfo>>>(S3Store&)> list = [](S3Store& store) {
    return store.list_objects("guarded", "");
  };
  auto refused = with_store<Result<std::vector<ObjectInfo>>>(
      options({{"AWS_SECRET_ACCESS_KEY", "not-the-secret"}}), list);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_NE(refused.error().detail.find("SignatureDoesNotMatch"), std::string::npos);

  auto unknown = with_store<Result<std::vector<ObjectInfo>>>(
      options({{"AWS_ACCESS_KEY_ID", "NOSUCHKEY"}}), list);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, make_error_code(ProviderErrc::kAuth));
  EXPECT_NE(unknown.error().detail.find("InvalidAccessKeyId"), std::string::npos);
}

// Debian's AWS CLI (not a pyenv shim that may shadow it on PATH).
std::string aws_cli() {
  return std::filesystem::exists("/usr/bin/aws") ? "/usr/bin/aws" : testing::program_on_path("aws");
}

TEST_F(S3StoreTest, AwsCliReadsWhatSkydWroteAndSkydReadsWhatItWrote) {
  make_bucket("cross-check");
  const std::string ours = random_bytes(2 * kMiB + 99, 5);  // multipart on skyd's side
  const std::string theirs = random_bytes(9 * kMiB, 6);     // multipart on the CLI's side (8 MiB)
  write_file(dir_.file("ours.bin"), ours);
  write_file(dir_.file("theirs.bin"), theirs);
  std::function<Task<Result<TransferStats>>(S3Store&)> put = [this](S3Store& store) {
    return store.upload_file("cross-check", "from-skyd/ours.bin", dir_.file("ours.bin"), {});
  };
  auto sent = with_store<Result<TransferStats>>(options(), put);
  ASSERT_TRUE(sent) << sent.error().message();

  const auto env = server_.client_environment();
  const std::string endpoint = server_.endpoint();
  auto listed = testing::run_command(
      {aws_cli(), "--endpoint-url", endpoint, "s3", "ls", "--recursive", "s3://cross-check"}, env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("from-skyd/ours.bin"), std::string::npos) << listed.out;
  auto fetched =
      testing::run_command({aws_cli(), "--endpoint-url", endpoint, "s3", "cp",
                            "s3://cross-check/from-skyd/ours.bin", dir_.file("ours-via-cli.bin")},
                           env);
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(read_file(dir_.file("ours-via-cli.bin")), ours);

  auto uploaded =
      testing::run_command({aws_cli(), "--endpoint-url", endpoint, "s3", "cp",
                            dir_.file("theirs.bin"), "s3://cross-check/from-cli/theirs.bin"},
                           env);
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;
  std::function<Task<Result<TransferStats>>(S3Store&)> get = [this](S3Store& store) {
    return store.download_file("cross-check", "from-cli/theirs.bin",
                               dir_.file("theirs-via-skyd.bin"));
  };
  auto got = with_store<Result<TransferStats>>(options(), get);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(read_file(dir_.file("theirs-via-skyd.bin")), theirs);
}

}  // namespace
}  // namespace skyd::providers::storage
