#include "store/migrations.hpp"
#include "store/pg_pool.hpp"
#include "store/store_errc.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace skyd::store {
namespace {

using skyd::testing::run_co;
using testing::TestDatabase;

Task<void> concurrent_migrations(std::string conninfo) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  // Two pools: two skyd processes starting at once.
  PgPool first(executor, testing::test_pool_options(conninfo, 1));
  PgPool second(executor, testing::test_pool_options(conninfo, 1));
  auto [a, b] = co_await (apply_migrations(first, embedded_migrations()) &&
                          apply_migrations(second, embedded_migrations()));
  CO_ASSERT_OK(a);
  CO_ASSERT_OK(b);
  const int latest = embedded_migrations().back().version;
  EXPECT_EQ(a->current_version, latest);
  EXPECT_EQ(b->current_version, latest);
  EXPECT_EQ(a->applied.size() + b->applied.size(), embedded_migrations().size())
      << "each migration is applied by exactly one of the two";

  auto rows = co_await first.query(
      "SELECT count(*) AS n, count(DISTINCT version) AS d "
      "FROM schema_migrations",
      Params{});
  CO_ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, "n"), static_cast<std::int64_t>(embedded_migrations().size()));
  EXPECT_EQ(rows->int64(0, "d"), rows->int64(0, "n"));

  // A third run later finds nothing to do.
  auto again = co_await apply_migrations(first, embedded_migrations());
  CO_ASSERT_OK(again);
  EXPECT_TRUE(again->applied.empty());
}

TEST(Migrations, AppliedTwiceConcurrentlyAreAppliedOnce) {
  TestDatabase db;
  run_co<void>([&] { return concurrent_migrations(db.conninfo()); });
}

Task<void> edited_migration(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo, 1));
  std::vector<Migration> original = {{1, "0001_first", "CREATE TABLE a (x integer)"}};
  CO_ASSERT_OK(co_await apply_migrations(pool, original));
  std::vector<Migration> edited = {{1, "0001_first", "CREATE TABLE a (x bigint)"}};
  auto refused = co_await apply_migrations(pool, edited);
  CO_ASSERT(!refused);
  EXPECT_NE(refused.error().detail.find("edited"), std::string::npos) << refused.error().detail;
}

TEST(Migrations, RefusesAMigrationEditedAfterItWasApplied) {
  TestDatabase db;
  run_co<void>([&] { return edited_migration(db.conninfo()); });
}

Task<void> failing_migration(std::string conninfo) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo, 1));
  std::vector<Migration> migrations = {
      {1, "0001_ok", "CREATE TABLE a (x integer)"},
      {2, "0002_bad", "CREATE TABLE b (x integer); SELECT no_such_column FROM a"}};
  auto failed = co_await apply_migrations(pool, migrations);
  CO_ASSERT(!failed);
  EXPECT_NE(failed.error().detail.find("0002_bad"), std::string::npos);
  auto rows = co_await pool.query(
      "SELECT (SELECT count(*) FROM schema_migrations) AS applied, "
      "to_regclass('b') IS NULL AS b_missing",
      Params{});
  CO_ASSERT_OK(rows);
  EXPECT_EQ(rows->int64(0, "applied"), 1);
  EXPECT_TRUE(rows->boolean(0, "b_missing")) << "a failed migration is rolled back whole";
}

TEST(Migrations, AFailingMigrationIsRolledBackAndNotRecorded) {
  TestDatabase db;
  run_co<void>([&] { return failing_migration(db.conninfo()); });
}

}  // namespace
}  // namespace skyd::store
