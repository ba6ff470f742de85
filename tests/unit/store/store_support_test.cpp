#include "store/database_health.hpp"
#include "store/embedded_postgres.hpp"
#include "store/migrations.hpp"
#include "store/pg_result.hpp"
#include "store/store_errc.hpp"

#include <gtest/gtest.h>

namespace skyd::store {
namespace {

TEST(StoreErrc, MapsSqlStatesToStoreCodes) {
  EXPECT_EQ(classify_sqlstate("23505"), StoreErrc::kConflict);
  EXPECT_EQ(classify_sqlstate("40001"), StoreErrc::kRetryable);
  EXPECT_EQ(classify_sqlstate("40P01"), StoreErrc::kRetryable);
  EXPECT_EQ(classify_sqlstate("08006"), StoreErrc::kUnavailable);
  EXPECT_EQ(classify_sqlstate("08001"), StoreErrc::kUnavailable);
  EXPECT_EQ(classify_sqlstate("57P01"), StoreErrc::kUnavailable);
  EXPECT_EQ(classify_sqlstate(""), StoreErrc::kUnavailable) << "no server answer at all";
  EXPECT_EQ(classify_sqlstate("57014"), StoreErrc::kTimedOut);
  EXPECT_EQ(classify_sqlstate("23503"), StoreErrc::kQuery);
  EXPECT_EQ(classify_sqlstate("42601"), StoreErrc::kQuery);
}

TEST(DatabaseHealth, IsDownWhileAnySourceSaysSoAndCountsItsReturns) {
  using Source = DatabaseHealth::Source;
  DatabaseHealth health;
  EXPECT_TRUE(health.up());
  health.set_down(Source::kConnection, "no answer");
  health.set_down(Source::kServer, "the server exited");
  EXPECT_FALSE(health.up());
  EXPECT_EQ(health.status().reason, "the server exited") << "the server's reason comes first";
  health.set_up(Source::kServer);
  EXPECT_FALSE(health.up());
  EXPECT_EQ(health.status().reason, "no answer");
  EXPECT_EQ(health.recoveries(), 0u);
  health.set_up(Source::kConnection);
  health.set_up(Source::kConnection);
  EXPECT_TRUE(health.up());
  EXPECT_TRUE(health.status().reason.empty());
  EXPECT_EQ(health.recoveries(), 1u) << "one return, however often a source repeats itself";
}

TEST(StoreErrc, RetryableCodes) {
  EXPECT_TRUE(is_retryable(make_error(StoreErrc::kRetryable, "")));
  EXPECT_TRUE(is_retryable(make_error(StoreErrc::kUnavailable, "")));
  EXPECT_FALSE(is_retryable(make_error(StoreErrc::kConflict, "")));
  EXPECT_FALSE(is_retryable(make_error(StoreErrc::kTimedOut, "")));
  EXPECT_EQ(make_error(StoreErrc::kConflict, "x").message(), "x (conflict)");
}

TEST(Migrations, AreEmbeddedInOrderWithDistinctVersions) {
  const auto& migrations = embedded_migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations.front().version, 1);
  EXPECT_EQ(migrations.front().name, "0001_initial");
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, migrations[i - 1].version + 1);
  }
  EXPECT_NE(migrations.front().sql.find("CREATE TABLE jobs"), std::string_view::npos);
}

TEST(Migrations, ChecksumIsStableAndSensitive) {
  EXPECT_EQ(migration_checksum("abc"), migration_checksum("abc"));
  EXPECT_NE(migration_checksum("abc"), migration_checksum("abd"));
  EXPECT_EQ(migration_checksum("").size(), 16u);
}

TEST(QueryResult, TypedAccessByColumnName) {
  QueryResult rows({"n", "s", "b"},
                   {{Param("42"), Param("x"), Param("t")}, {Param("-1"), std::nullopt, Param("f")}},
                   0);
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.int64(0, "n"), 42);
  EXPECT_EQ(rows.int64(1, "n"), -1);
  EXPECT_TRUE(rows.boolean(0, "b"));
  EXPECT_FALSE(rows.boolean(1, "b"));
  EXPECT_TRUE(rows.is_null(1, "s"));
  EXPECT_THROW(rows.text(1, "s"), std::invalid_argument);
  EXPECT_THROW(rows.int64(0, "s"), std::invalid_argument);
  EXPECT_THROW(rows.at(0, "nope"), std::out_of_range);
}

TEST(Params, ConvertValuesAndNulls) {
  const std::optional<int> none;
  auto params = make_params(std::int64_t{7}, "a", std::string("b"), true, std::nullopt, none,
                            std::optional<std::string>("c"));
  ASSERT_EQ(params.size(), 7u);
  EXPECT_EQ(params[0], "7");
  EXPECT_EQ(params[1], "a");
  EXPECT_EQ(params[2], "b");
  EXPECT_EQ(params[3], "t");
  EXPECT_FALSE(params[4]);
  EXPECT_FALSE(params[5]);
  EXPECT_EQ(params[6], "c");
}

TEST(EmbeddedLayout, UsesTheStateDirUnlessRootCannotShareIt) {
  EmbeddedPostgresOptions options;
  options.state_dir = "/var/lib/skyd-state";
  options.fallback_root = "/fb";
  auto own = plan_embedded_layout(options, false, false);
  EXPECT_EQ(own.root, "/var/lib/skyd-state/postgres");
  EXPECT_EQ(own.data_dir, "/var/lib/skyd-state/postgres/data");
  EXPECT_EQ(own.socket_dir, own.root);
  auto shared = plan_embedded_layout(options, true, true);
  EXPECT_EQ(shared.root, own.root);
  auto fallback = plan_embedded_layout(options, true, false);
  EXPECT_EQ(fallback.root.rfind("/fb/pg-", 0), 0u) << fallback.root;
  EXPECT_EQ(fallback.root, plan_embedded_layout(options, true, false).root) << "stable";
}

TEST(EmbeddedLayout, MovesATooLongSocketPathToTmp) {
  EmbeddedPostgresOptions options;
  options.state_dir = "/" + std::string(120, 'x');
  auto layout = plan_embedded_layout(options, false, false);
  EXPECT_EQ(layout.socket_dir.rfind("/tmp/skyd-pg-", 0), 0u) << layout.socket_dir;
}

}  // namespace
}  // namespace skyd::store
