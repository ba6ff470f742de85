#include "store/embedded_postgres.hpp"
#include "store/database_health.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <thread>

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

bool alive(int pid) {  // a zombie has ended
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  const std::string stat = skyd::testing::read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

TEST(EmbeddedPostgres, ASupervisedServerThatDiesIsRestartedPastWhatItLeft) {
  skyd::testing::TempDir state;
  ::chmod(state.path().c_str(), 0755);
  EmbeddedPostgresOptions options = testing::embedded_options(state.path());
  options.restart_backoff.initial = std::chrono::milliseconds(100);
  EmbeddedPostgres server(options);
  auto conninfo = server.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();
  DatabaseHealth health;
  server.supervise(health);
  // A backend that cannot notice its postmaster died (stopped) keeps the dead server's shared
  // memory: a new server refuses to start until it is gone.
  PGconn* held = PQconnectdb(conninfo->c_str());
  ASSERT_EQ(PQstatus(held), CONNECTION_OK);
  const int backend = PQbackendPID(held);
  ASSERT_EQ(::kill(backend, SIGSTOP), 0);
  const int postmaster = server.postmaster_pid();
  ASSERT_GT(postmaster, 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  for (int i = 0; i < 3000 && health.recoveries() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(health.recoveries(), 1u) << "the server did not come back";
  EXPECT_TRUE(health.up());
  EXPECT_NE(server.postmaster_pid(), postmaster);
  EXPECT_FALSE(alive(backend)) << "the stopped backend of the dead server was cleared";
  ::kill(backend, SIGKILL);  // whatever happened, nothing stopped outlives the test
  EXPECT_EQ(query_value(*conninfo, "SELECT 1"), "1");
  PQfinish(held);
  ASSERT_TRUE(server.stop());
  EXPECT_EQ(health.recoveries(), 1u) << "a stop is not a death";
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
