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
  std::string store;  // "s3" or "gcs"
  std::string endpoint;
  std::string region;  // S3's; empty for GCS

  friend bool operator==(const StoreAddress&, const StoreAddress&) = default;
};

// One store the keeper keeps buckets in, and how nodes reach it.
struct KeptStore {
  providers::storage::ObjectStore* store = nullptr;  // not owned; outlives the keeper
  StoreAddress address;
};

// Which stores task buckets may live in: `default_store` takes an entry that names none ("s3",
// "gcs", or "local": the local provider's directories, no cloud), `reachable` lists the cloud
// stores this skyd is configured for ("s3", "gcs").
struct BucketStores {
  std::string default_store = "local";
  std::vector<std::string> reachable;

  bool reaches(std::string_view store) const;
};

// The store of one storage entry: its `store:` ("s3", "gcs", or another store's name), else its
// bucket URL's ("s3://" is s3, "gs://" gcs), else `default_store`.
std::string store_of(const spec::FileMount& mount, std::string_view default_store);

struct BucketUser {
  store::JobId job;
  std::int64_t uid = 0;
  std::string name;
};

class BucketKeeper {
 public:
  // `stores` holds one entry per reachable store; an entry naming no store goes to
  // `default_store`.
  BucketKeeper(std::vector<KeptStore> stores, std::string default_store,
               store::BucketRepository& rows)
      : stores_(std::move(stores)), default_store_(std::move(default_store)), rows_(rows) {}
  // Whether buckets of `store` ("s3", "gcs") are kept here.
  bool keeps(std::string_view store) const { return find(store) != nullptr; }
  std::vector<std::string> stores() const;

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
  Task<std::optional<std::uint64_t>> measure(std::string store, std::string bucket);
  // `sky storage delete`: a bucket skyd made is emptied and deleted; one it did not make is only
  // forgotten. Returns what was done ("deleted" or "forgotten").
  Task<Result<std::string>> delete_bucket(store::BucketRecord bucket);

 private:
  const KeptStore* find(std::string_view store) const;
  Task<Result<void>> ensure_bucket(const KeptStore& kept, const BucketUser& user,
                                   const spec::FileMount& mount, const std::string& bucket,
                                   bool named);
  Task<Result<void>> fill(const KeptStore& kept, const spec::FileMount& mount,
                          const std::string& bucket, const std::string& directory);
  Task<Result<void>> remove(const store::BucketRecord& bucket);

  std::vector<KeptStore> stores_;
  std::string default_store_;
  store::BucketRepository& rows_;
};

// Why the pipeline's file_mounts cannot be served by `stores`, naming the entry; empty when they
// can. With default_store "local" (the local provider's directories) any store is taken.
std::string storage_problem(const spec::Pipeline& pipeline, const BucketStores& stores);
// The same with one store: "s3", "gcs" or "local".
std::string storage_problem(const spec::Pipeline& pipeline, std::string_view store);

}  // namespace skyd::daemon
