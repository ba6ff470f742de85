#include "providers/storage/upload_tree.hpp"

#include "providers/provider.hpp"
#include "providers/storage/parallel.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

namespace skyd::providers::storage {
namespace {

namespace fs = std::filesystem;

struct LocalFile {
  std::string path;
  std::string relative;  // with '/' separators
  std::uint64_t size = 0;
};

Result<std::vector<LocalFile>> walk(const std::string& root) {
  std::vector<LocalFile> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec);
  if (ec) return make_error(ProviderErrc::kInvalid, "cannot read " + root + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(ProviderErrc::kInvalid, "cannot read " + root + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    LocalFile file;
    file.path = it->path().string();
    file.relative = fs::relative(it->path(), root, ec).generic_string();
    file.size = it->file_size(ec);
    if (ec)
      return make_error(ProviderErrc::kInvalid, "cannot read " + file.path + ": " + ec.message());
    files.push_back(std::move(file));
  }
  if (ec) return make_error(ProviderErrc::kInvalid, "cannot read " + root + ": " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const LocalFile& a, const LocalFile& b) { return a.relative < b.relative; });
  return files;
}

Task<Result<void>> upload_one(ObjectStore& store, std::string bucket, std::string key,
                              LocalFile file, std::shared_ptr<TreeUploadStats> stats) {
  std::function<std::string()> hash = [path = file.path] { return sha256_file_hex(path); };
  const std::string digest = co_await run_blocking<std::string>(std::move(hash));
  if (digest.empty()) co_return make_error(ProviderErrc::kInvalid, "cannot read " + file.path);
  auto head = co_await store.head_object(bucket, key);
  if (!head) co_return head.error();
  if (*head) {
    const auto held = (*head)->metadata.find(kDigestMetadata);
    if (held != (*head)->metadata.end() && held->second == digest && (*head)->size == file.size) {
      ++stats->files_skipped;
      stats->bytes_skipped += file.size;
      co_return Result<void>{};
    }
  }
  UploadOptions options;
  options.metadata[kDigestMetadata] = digest;
  auto sent = co_await store.upload_file(bucket, key, file.path, std::move(options));
  if (!sent) co_return sent.error();
  ++stats->files_sent;
  stats->bytes_sent += file.size;
  co_return Result<void>{};
}

}  // namespace

Task<Result<TreeUploadStats>> upload_tree(ObjectStore& store, std::string bucket,
                                          std::string prefix, std::string local_dir,
                                          TreeUploadOptions options) {
  std::function<Result<std::vector<LocalFile>>()> list = [local_dir] { return walk(local_dir); };
  auto files = co_await run_blocking<Result<std::vector<LocalFile>>>(std::move(list));
  if (!files) co_return files.error();
  auto shared = std::make_shared<std::vector<LocalFile>>(std::move(*files));
  auto stats = std::make_shared<TreeUploadStats>();
  PieceWork work = [&store, bucket, prefix, shared, stats](std::size_t index) {
    const LocalFile& file = (*shared)[index];
    return upload_one(store, bucket, prefix + file.relative, file, stats);
  };
  auto done = co_await run_parallel(shared->size(), options.files_in_flight, std::move(work));
  if (!done) co_return done.error();
  logger("s3")->info(
      "tree uploaded bucket={} prefix={} files_sent={} files_skipped={} "
      "bytes_sent={} bytes_skipped={}",
      bucket, prefix, stats->files_sent, stats->files_skipped, stats->bytes_sent,
      stats->bytes_skipped);
  co_return *stats;
}

}  // namespace skyd::providers::storage
