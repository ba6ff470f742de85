#pragma once
// An object store as the controller needs it to keep a job's buckets: whether a bucket is there
// and whose, making and removing one, filling one from a directory. S3 is the one store today
// (s3_bucket_store.hpp); GCS comes with the GCP provider. Errors are providers::ProviderErrc
// values: kInvalid and kAuth can never succeed as asked, kThrottled and kTransient may.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace skyd::daemon {

// Where the node's mounts reach the store: its endpoint (empty: the cloud's own) and region.
struct StoreAddress {
  std::string store;  // "s3"
  std::string endpoint;
  std::string region;
};

struct TreeUpload {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_skipped = 0;  // objects already there with the same content
  std::uint64_t files = 0;
};

class BucketStore {
 public:
  enum class Presence { kMissing, kMine, kForeign };  // foreign: it exists, but not for us

  virtual ~BucketStore() = default;
  virtual StoreAddress address() const = 0;
  virtual Task<Result<Presence>> probe(std::string bucket) = 0;
  // Making a bucket that is already ours succeeds, so a create retried after a crash does too.
  virtual Task<Result<void>> create(std::string bucket) = 0;
  // Every regular file under `directory` as `prefix` + its relative path; unchanged objects are
  // not sent again.
  virtual Task<Result<TreeUpload>> upload_tree(std::string bucket, std::string prefix,
                                               std::string directory) = 0;
  // The bucket and everything in it; a bucket already gone is success.
  virtual Task<Result<void>> remove(std::string bucket) = 0;
  // The bytes stored in it.
  virtual Task<Result<std::uint64_t>> size(std::string bucket) = 0;
};

}  // namespace skyd::daemon
