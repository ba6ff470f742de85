// The bucket rows a job's storage mounts write before skyd acts (store/bucket_repository.hpp).
#include "store/bucket_repository.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

namespace skyd::store {
namespace {

using skyd::testing::run_co;
using testing::TestDatabase;

BucketRecord bucket_of(std::string name, JobId job, bool made, bool persistent) {
  BucketRecord bucket;
  bucket.store = "s3";
  bucket.name = std::move(name);
  bucket.region = "us-east-1";
  bucket.state = made ? BucketState::kCreating : BucketState::kReady;
  bucket.created_by_skyd = made;
  bucket.persistent = persistent;
  bucket.owner_uid = 1001;
  bucket.owner_name = "alice";
  bucket.job_id = job;
  return bucket;
}

Task<void> end_job(PgPool& pool, JobId job) {
  auto ended = co_await pool.query("UPDATE jobs SET ended_at = now() WHERE id = $1::bigint",
                                   make_params(job.value));
  EXPECT_TRUE(ended) << ended.error().message();
}

Task<std::vector<std::string>> names(Task<Result<std::vector<BucketRecord>>> listing) {
  auto buckets = co_await std::move(listing);
  EXPECT_TRUE(buckets) << buckets.error().message();
  std::vector<std::string> out;
  if (buckets)
    for (const auto& bucket : *buckets) out.push_back(bucket.name);
  co_return out;
}

using Names = std::vector<std::string>;
// Named once: g++ 12 cannot keep a braced list alive across a co_await.
const Names kNone;
const Names kScratch{"scratch"};
const Names kTheirs{"theirs"};
const Names kBoth{"scratch", "theirs"};

Task<void> life_of_a_bucket(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  BucketRepository buckets(pool);
  auto job = co_await jobs.create_job(testing::sample_job("train", 1, 1001));
  CO_ASSERT_OK(job);

  // Written before the create call; a second writer learns it is taken.
  CO_ASSERT_OK(co_await buckets.insert(bucket_of("scratch", *job, true, false)));
  auto again = co_await buckets.insert(bucket_of("scratch", *job, true, false));
  CO_ASSERT(!again);
  EXPECT_EQ(again.error().code, StoreErrc::kConflict);
  CO_ASSERT_OK(co_await buckets.insert(bucket_of("theirs", *job, false, true)));
  CO_ASSERT_OK(co_await buckets.set_state("s3", "scratch", BucketState::kReady, "created"));
  const std::string digest(64, 'a');
  CO_ASSERT_OK(co_await buckets.record_upload("s3", "scratch", digest, 4096));
  auto found = co_await buckets.find("s3", "scratch");
  CO_ASSERT_OK(found);
  CO_ASSERT(found->has_value());
  EXPECT_EQ((*found)->state, BucketState::kReady);
  EXPECT_EQ((*found)->uploaded_digest, digest);
  EXPECT_EQ((*found)->size_bytes, 4096);
  EXPECT_EQ(co_await names(buckets.list()), kBoth);

  // Nothing is due while its job runs; once it ends, only the one skyd made and need not keep.
  EXPECT_EQ(co_await names(buckets.due_for_deletion()), kNone);
  co_await end_job(pool, *job);
  EXPECT_EQ(co_await names(buckets.due_for_deletion()), kScratch);
  CO_ASSERT_OK(co_await buckets.set_state("s3", "scratch", BucketState::kDeleting, "deleting"));
  EXPECT_EQ(co_await names(buckets.due_for_deletion()), kScratch) << "a cut-short delete";
  CO_ASSERT_OK(co_await buckets.set_state("s3", "scratch", BucketState::kDeleted, "deleted"));
  EXPECT_EQ(co_await names(buckets.due_for_deletion()), kNone);
  EXPECT_EQ(co_await names(buckets.list()), kTheirs);

  // A deleted bucket's name may live again, as a new row.
  auto next = co_await jobs.create_job(testing::sample_job("next", 1, 1001));
  CO_ASSERT_OK(next);
  CO_ASSERT_OK(co_await buckets.insert(bucket_of("scratch", *next, true, true)));
  auto reborn = co_await buckets.find("s3", "scratch");
  CO_ASSERT_OK(reborn);
  EXPECT_EQ((*reborn)->state, BucketState::kCreating);
  EXPECT_EQ((*reborn)->job_id->value, next->value);
  EXPECT_FALSE((*reborn)->uploaded_digest.has_value());
}

TEST(BucketRepository, ABucketIsWrittenBeforeEachStepAndDueOnlyOnceItsJobEnded) {
  TestDatabase db;
  run_co<void>([&] { return life_of_a_bucket(db.conninfo()); });
}

Task<void> users_of_a_bucket(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  BucketRepository buckets(pool);
  auto job_with_spec = [&](std::string spec) {
    NewJob job = testing::sample_job("user", 1, 1001);
    job.spec_json = std::move(spec);
    return jobs.create_job(job);
  };
  auto by_name = co_await job_with_spec(
      R"({"tasks":[{"run":"x","file_mounts":{"/c":{"name":"ckpt","mode":"MOUNT"}}}]})");
  auto by_url =
      co_await job_with_spec(R"({"tasks":[{"run":"x","file_mounts":{"/d":"s3://ckpt/sub/dir"}}]})");
  auto by_source = co_await job_with_spec(
      R"({"tasks":[{"run":"x","file_mounts":{"/d":{"source":"s3://ckpt","mode":"COPY"}}}]})");
  auto other = co_await job_with_spec(
      R"({"tasks":[{"run":"x","file_mounts":{"/d":"s3://ckpt-old/x","/e":{"name":"ckpts"}}}]})");
  CO_ASSERT(by_name && by_url && by_source && other);
  auto users = co_await buckets.open_jobs_using("ckpt");
  CO_ASSERT_OK(users);
  std::vector<std::int64_t> ids;
  for (const auto& id : *users) ids.push_back(id.value);
  const std::vector<std::int64_t> expected{by_name->value, by_url->value, by_source->value};
  EXPECT_EQ(ids, expected);
  co_await end_job(pool, *by_url);
  auto after = co_await buckets.open_jobs_using("ckpt");
  CO_ASSERT_OK(after);
  EXPECT_EQ(after->size(), 2u);
}

TEST(BucketRepository, TheOpenJobsUsingABucketAreFoundByNameOrUrl) {
  TestDatabase db;
  run_co<void>([&] { return users_of_a_bucket(db.conninfo()); });
}

}  // namespace
}  // namespace skyd::store
