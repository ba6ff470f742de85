#include "store/embedded_postgres.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <sys/stat.h>

#include <filesystem>

namespace skyd::store {
namespace {

using testing::query_value;

TEST(EmbeddedPostgres, KeepsItsDataAcrossARestartOfSkyd) {
  skyd::testing::TempDir state;
  ::chmod(state.path().c_str(), 0755);
  const EmbeddedPostgresOptions options = testing::embedded_options(state.path());
  std::string socket_dir;
  {
    EmbeddedPostgres first(options);
    auto conninfo = first.start();
    ASSERT_TRUE(conninfo) << conninfo.error().message();
    EXPECT_EQ(first.start().value(), *conninfo) << "start is idempotent";
    EXPECT_EQ(first.layout().root, state.path() + "/postgres");
    socket_dir = first.layout().socket_dir;
    query_value(*conninfo, "CREATE TABLE kept (v text)");
    query_value(*conninfo, "INSERT INTO kept VALUES ('survives')");
    ASSERT_TRUE(first.stop());
    EXPECT_FALSE(first.running());
    EXPECT_THROW(query_value(*conninfo, "SELECT 1"), std::runtime_error) << "server is down";
  }
  EmbeddedPostgres second(options);
  auto conninfo = second.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();
  EXPECT_EQ(query_value(*conninfo, "SELECT v FROM kept"), "survives");
  EXPECT_EQ(query_value(*conninfo, "SHOW listen_addresses"), "") << "no TCP listener";
  ASSERT_TRUE(second.stop());
}

TEST(EmbeddedPostgres, AdoptsAServerLeftRunningByASkydThatDied) {
  skyd::testing::TempDir state;
  ::chmod(state.path().c_str(), 0755);
  const EmbeddedPostgresOptions options = testing::embedded_options(state.path());
  EmbeddedPostgres crashed(options);
  ASSERT_TRUE(crashed.start());
  // A second instance (the restarted skyd) finds the server running and uses it.
  EmbeddedPostgres restarted(options);
  auto conninfo = restarted.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();
  EXPECT_EQ(query_value(*conninfo, "SELECT 1"), "1");
  ASSERT_TRUE(restarted.stop());
  ASSERT_TRUE(crashed.stop()) << "stopping an already stopped server succeeds";
}

TEST(EmbeddedPostgres, AsRootWithAPrivateStateDirUsesTheFallbackRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root needs the fallback location";
  skyd::testing::TempDir state;  // 0700 and owned by root: postgres cannot enter it
  skyd::testing::TempDir fallback;
  ::chmod(fallback.path().c_str(), 0755);
  EmbeddedPostgres server(testing::embedded_options(state.path(), fallback.path() + "/lib"));
  auto conninfo = server.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();
  EXPECT_EQ(server.layout().root.rfind(fallback.path() + "/lib/pg-", 0), 0u)
      << server.layout().root;
  EXPECT_EQ(query_value(*conninfo, "SELECT current_database()"), "skyd");
  ASSERT_TRUE(server.stop());
}

}  // namespace
}  // namespace skyd::store
