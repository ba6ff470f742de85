#pragma once
// The buckets task file_mounts use, one row each, written before skyd acts on the bucket: a row
// `creating` or `deleting` names a call that may have been made, and is finished before anything
// else touches the bucket. One repository per shard, over that shard's pool.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "store/job_repository.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::store {

enum class BucketState { kCreating, kReady, kDeleting, kDeleted };
std::string_view to_string(BucketState state);

struct BucketRecord {
  std::string store;  // "s3", "local"
  std::string name;
  std::string region;
  BucketState state = BucketState::kCreating;
  bool created_by_skyd = false;  // false: it existed before; skyd never deletes it
  bool persistent = true;
  std::int64_t owner_uid = 0;
  std::string owner_name;
  std::optional<JobId> job_id;  // the job that first used it
  std::optional<std::string> uploaded_digest;
  std::optional<std::int64_t> size_bytes;
  std::string detail;
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
};

class BucketRepository {
 public:
  explicit BucketRepository(PgPool& pool) : pool_(pool) {}

  // The bucket's row, deleted ones included; nullopt when skyd has never used it.
  Task<Result<std::optional<BucketRecord>>> find(std::string store, std::string name);
  // A new row (or a new life for a deleted one). Errors: kConflict when a live row exists.
  Task<Result<void>> insert(BucketRecord bucket);
  // Moves the bucket to `state` and says why; kDeleted stamps deleted_at.
  Task<Result<void>> set_state(std::string store, std::string name, BucketState state,
                               std::string detail);
  // Every object of the `source:` tree with this digest is in the bucket.
  Task<Result<void>> record_upload(std::string store, std::string name, std::string digest,
                                   std::int64_t size_bytes);
  Task<Result<void>> record_size(std::string store, std::string name, std::int64_t size_bytes);
  // Every bucket not deleted, by name.
  Task<Result<std::vector<BucketRecord>>> list();
  // Buckets skyd made for a job that has ended and that did not ask to keep them
  // (`persistent: false`), and deletions a crash interrupted.
  Task<Result<std::vector<BucketRecord>>> due_for_deletion();
  // The open jobs whose file_mounts name the bucket (by `name:` or in a bucket URL).
  Task<Result<std::vector<JobId>>> open_jobs_using(std::string name);

 private:
  PgPool& pool_;
};

}  // namespace skyd::store
