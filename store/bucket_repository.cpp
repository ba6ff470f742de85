#include "store/bucket_repository.hpp"

#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"

namespace skyd::store {
namespace {

#define SKYD_BUCKET_COLUMNS                                                                  \
  "store, name, region, state, created_by_skyd, persistent, owner_uid, owner_name, job_id, " \
  "uploaded_digest, size_bytes, detail, "                                                    \
  "(extract(epoch FROM created_at) * 1000000)::bigint AS created_us, "                       \
  "(extract(epoch FROM updated_at) * 1000000)::bigint AS updated_us "

constexpr const char* kFind =
    "SELECT " SKYD_BUCKET_COLUMNS "FROM buckets WHERE store = $1 AND name = $2";
// A deleted bucket's row takes the new life; a live one is a conflict (affected = 0).
constexpr const char* kInsert = R"(
INSERT INTO buckets (store, name, region, state, created_by_skyd, persistent, owner_uid,
                     owner_name, job_id, detail)
VALUES ($1, $2, $3, $4, $5::boolean, $6::boolean, $7::bigint, $8, $9::bigint, $10)
ON CONFLICT (store, name) DO UPDATE SET
  region = EXCLUDED.region, state = EXCLUDED.state, created_by_skyd = EXCLUDED.created_by_skyd,
  persistent = EXCLUDED.persistent, owner_uid = EXCLUDED.owner_uid,
  owner_name = EXCLUDED.owner_name, job_id = EXCLUDED.job_id, detail = EXCLUDED.detail,
  uploaded_digest = NULL, size_bytes = NULL, created_at = now(), updated_at = now(),
  deleted_at = NULL
WHERE buckets.state = 'deleted')";
constexpr const char* kSetState = R"(
UPDATE buckets SET state = $3, detail = $4, updated_at = now(),
  deleted_at = CASE WHEN $3 = 'deleted' THEN now() ELSE deleted_at END
WHERE store = $1 AND name = $2)";
constexpr const char* kRecordUpload = R"(
UPDATE buckets SET uploaded_digest = $3, size_bytes = $4::bigint, updated_at = now()
WHERE store = $1 AND name = $2)";
constexpr const char* kRecordSize = R"(
UPDATE buckets SET size_bytes = $3::bigint WHERE store = $1 AND name = $2)";
constexpr const char* kList =
    "SELECT " SKYD_BUCKET_COLUMNS "FROM buckets WHERE state <> 'deleted' ORDER BY name, store";
constexpr const char* kDueForDeletion = "SELECT " SKYD_BUCKET_COLUMNS R"(
FROM buckets b
WHERE b.state = 'deleting'
   OR (b.state IN ('creating', 'ready') AND b.created_by_skyd AND NOT b.persistent
       AND (b.job_id IS NULL
            OR EXISTS (SELECT 1 FROM jobs j WHERE j.id = b.job_id AND j.ended_at IS NOT NULL)))
ORDER BY name)";

// A mount names the bucket by `name:`, or by a URL (a string, or a storage `source:`) whose
// bucket part is the name.
constexpr const char* kOpenJobsUsing = R"(
SELECT j.id FROM jobs j
WHERE j.ended_at IS NULL
  AND EXISTS (
    SELECT 1 FROM jsonb_array_elements(j.spec -> 'tasks') AS task,
                  jsonb_each(coalesce(task -> 'file_mounts', '{}'::jsonb)) AS mount
    WHERE mount.value ->> 'name' = $1
       OR (CASE jsonb_typeof(mount.value) WHEN 'string' THEN mount.value #>> '{}'
                ELSE mount.value ->> 'source' END) ~ ('^[a-z0-9]+://' || $1 || '(/|$)'))
ORDER BY j.id)";

#undef SKYD_BUCKET_COLUMNS

BucketState state_of(std::string_view text) {
  if (text == "ready") return BucketState::kReady;
  if (text == "deleting") return BucketState::kDeleting;
  if (text == "deleted") return BucketState::kDeleted;
  return BucketState::kCreating;
}

std::vector<BucketRecord> buckets_of(const QueryResult& rows) {
  std::vector<BucketRecord> buckets;
  for (std::size_t row = 0; row < rows.size(); ++row) {
    BucketRecord bucket;
    bucket.store = rows.text(row, "store");
    bucket.name = rows.text(row, "name");
    bucket.region = rows.text(row, "region");
    bucket.state = state_of(rows.text(row, "state"));
    bucket.created_by_skyd = rows.boolean(row, "created_by_skyd");
    bucket.persistent = rows.boolean(row, "persistent");
    bucket.owner_uid = rows.int64(row, "owner_uid");
    bucket.owner_name = rows.text(row, "owner_name");
    if (auto job = rows.optional_int64(row, "job_id")) bucket.job_id = JobId{*job};
    bucket.uploaded_digest = rows.optional_text(row, "uploaded_digest");
    bucket.size_bytes = rows.optional_int64(row, "size_bytes");
    bucket.detail = rows.text(row, "detail");
    bucket.created_us = rows.int64(row, "created_us");
    bucket.updated_us = rows.int64(row, "updated_us");
    buckets.push_back(std::move(bucket));
  }
  return buckets;
}

Task<Result<std::vector<BucketRecord>>> query_buckets(PgPool& pool, const char* sql,
                                                      Params params) {
  auto rows = co_await pool.query(sql, std::move(params));
  if (!rows) co_return rows.error();
  try {
    co_return buckets_of(*rows);
  } catch (const std::exception& e) {
    co_return make_error(StoreErrc::kQuery, e.what());
  }
}

Task<Result<void>> update(PgPool& pool, const char* sql, Params params) {
  auto rows = co_await pool.query(sql, std::move(params));
  if (!rows) co_return rows.error();
  if (rows->affected() == 0) co_return make_error(StoreErrc::kNotFound, "no such bucket");
  co_return Result<void>{};
}

}  // namespace

std::string_view to_string(BucketState state) {
  switch (state) {
    case BucketState::kCreating:
      return "creating";
    case BucketState::kReady:
      return "ready";
    case BucketState::kDeleting:
      return "deleting";
    case BucketState::kDeleted:
      return "deleted";
  }
  return "creating";
}

Task<Result<std::optional<BucketRecord>>> BucketRepository::find(std::string store,
                                                                 std::string name) {
  auto found = co_await query_buckets(pool_, kFind, make_params(store, name));
  if (!found) co_return found.error();
  if (found->empty()) co_return std::optional<BucketRecord>();
  co_return std::optional<BucketRecord>(std::move(found->front()));
}

Task<Result<void>> BucketRepository::insert(BucketRecord bucket) {
  std::optional<std::int64_t> job;
  if (bucket.job_id) job = bucket.job_id->value;
  auto params = make_params(bucket.store, bucket.name, bucket.region, to_string(bucket.state),
                            bucket.created_by_skyd, bucket.persistent, bucket.owner_uid,
                            bucket.owner_name, job, bucket.detail);
  auto rows = co_await pool_.query(kInsert, std::move(params));
  if (!rows) co_return rows.error();
  if (rows->affected() == 0) {
    co_return make_error(StoreErrc::kConflict, "bucket " + bucket.name + " is already recorded");
  }
  co_return Result<void>{};
}

Task<Result<void>> BucketRepository::set_state(std::string store, std::string name,
                                               BucketState state, std::string detail) {
  co_return co_await update(pool_, kSetState,
                            make_params(store, name, to_string(state), std::move(detail)));
}

Task<Result<void>> BucketRepository::record_upload(std::string store, std::string name,
                                                   std::string digest, std::int64_t size_bytes) {
  co_return co_await update(pool_, kRecordUpload,
                            make_params(store, name, std::move(digest), size_bytes));
}

Task<Result<void>> BucketRepository::record_size(std::string store, std::string name,
                                                 std::int64_t size_bytes) {
  co_return co_await update(pool_, kRecordSize, make_params(store, name, size_bytes));
}

Task<Result<std::vector<BucketRecord>>> BucketRepository::list() {
  co_return co_await query_buckets(pool_, kList, Params{});
}

Task<Result<std::vector<BucketRecord>>> BucketRepository::due_for_deletion() {
  co_return co_await query_buckets(pool_, kDueForDeletion, Params{});
}

Task<Result<std::vector<JobId>>> BucketRepository::open_jobs_using(std::string name) {
  auto rows = co_await pool_.query(kOpenJobsUsing, make_params(name));
  if (!rows) co_return rows.error();
  std::vector<JobId> jobs;
  try {
    for (std::size_t row = 0; row < rows->size(); ++row)
      jobs.push_back(JobId{rows->int64(row, "id")});
  } catch (const std::exception& e) {
    co_return make_error(StoreErrc::kQuery, e.what());
  }
  co_return jobs;
}

}  // namespace skyd::store
