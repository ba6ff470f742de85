#pragma once
// A job's buckets, from its first launch to its end (docs/storage.md). Before a task launches,
// every bucket its file_mounts name is found or made, and filled from its `source:` directory;
// each step is a row written before the call (store/bucket_repository.hpp), so a crash repeats a
// call, never forgets one. When a job ends, the buckets skyd made for it with
// `persistent: false` are emptied and deleted; a bucket that existed before skyd used it never is.

#include "daemon/skylet/bucket_mount.hpp"
#include "daemon/spec/task.hpp"
#include "providers/storage/object_store.hpp"
#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "store/bucket_repository.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace skyd::daemon {

// Where the node's mounts reach the store: its endpoint (empty: the cloud's own) and region.
struct StoreAddress {
  std::string store;  // "s3"
  std::string endpoint;
  std::string region;

  friend bool operator==(const StoreAddress&, const StoreAddress&) = default;
};

struct BucketUser {
  store::JobId job;
  std::int64_t uid = 0;
  std::string name;
};

class BucketKeeper {
 public:
  BucketKeeper(providers::storage::ObjectStore& store, StoreAddress address,
               store::BucketRepository& rows)
      : store_(store), address_(std::move(address)), rows_(rows) {}
  const StoreAddress& address() const { return address_; }

  // Readies the buckets of one task and says what skylet mounts for its attempts;
  // `snapshot_mounts[n]` is where the n-th file mount's uploaded `source:` directory is (empty when
  // it has none). Errors: kInvalid or kAuth (the task cannot run as written: a bucket that is
  // missing or belongs to someone else) with the file_mounts entry named; store errors and passing
  // faults otherwise.
  Task<Result<std::vector<skylet::BucketMount>>> prepare(BucketUser user, spec::Task task,
                                                         std::vector<std::string> snapshot_mounts);
  // Deletes every bucket that is due (its job ended and it was not to persist, or a crash cut its
  // deletion short). Returns how many went; failures stay due and are logged.
  Task<std::size_t> delete_due();
  // What the bucket holds now (the sum of its objects' sizes), recorded on its row; nothing when
  // the store cannot say.
  Task<std::optional<std::uint64_t>> measure(std::string bucket);
  // `sky storage delete`: a bucket skyd made is emptied and deleted; one it did not make is only
  // forgotten. Returns what was done ("deleted" or "forgotten").
  Task<Result<std::string>> delete_bucket(store::BucketRecord bucket);

 private:
  Task<Result<void>> ensure_bucket(const BucketUser& user, const spec::FileMount& mount,
                                   const std::string& bucket, bool named);
  Task<Result<void>> fill(const spec::FileMount& mount, const std::string& bucket,
                          const std::string& directory);
  Task<Result<void>> remove(const store::BucketRecord& bucket);

  providers::storage::ObjectStore& store_;
  StoreAddress address_;
  store::BucketRepository& rows_;
};

// Why the pipeline's file_mounts cannot be served by `store` ("s3", or "local" for the local
// provider's directories), naming the entry; empty when they can.
std::string storage_problem(const spec::Pipeline& pipeline, std::string_view store);

}  // namespace skyd::daemon
