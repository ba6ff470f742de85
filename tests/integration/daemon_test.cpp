// skyd as a process: it tells systemd it is ready, answers `sky daemon status` on a socket that
// is not world-writable, and stops cleanly on SIGTERM.
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <fstream>

namespace skyd::testing {
namespace {

TEST(Daemon, StartsReportsReadyAnswersStatusAndStopsOnSigterm) {
  TempDir dir;
  NotifyListener systemd(dir.file("notify"));
  const std::string socket = dir.file("state/skyd.sock");
  ChildProcess skyd({binary_path("skyd"), "--state-dir", dir.file("state"), "--shards", "2"},
                    {{"NOTIFY_SOCKET", systemd.path()}}, dir.file("skyd.out"));
  ASSERT_TRUE(systemd.wait_for("READY=1", std::chrono::seconds(20))) << "skyd never reported READY";

  struct stat info {};
  ASSERT_EQ(::stat(socket.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u) << "the API socket must not be world-writable";

  auto status = run_command({binary_path("sky"), "--socket", socket, "daemon", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("skyd is running: version"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("2 shards"), std::string::npos) << status.out;

  skyd.signal(SIGTERM);
  EXPECT_TRUE(systemd.wait_for("STOPPING=1", std::chrono::seconds(10)));
  EXPECT_EQ(skyd.wait(std::chrono::seconds(20)), 0);
  EXPECT_NE(::access(socket.c_str(), F_OK), 0) << "the socket is removed on a clean stop";
}

TEST(Daemon, SkyExplainsHowToStartSkydWhenItIsNotRunning) {
  TempDir dir;
  auto status =
      run_command({binary_path("sky"), "--socket", dir.file("none.sock"), "daemon", "status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.err.find("Start it with:  skyd --state-dir"), std::string::npos) << status.err;
}

TEST(Daemon, RefusesASecondDaemonOnTheSameSocket) {
  TempDir dir;
  NotifyListener systemd(dir.file("notify"));
  ChildProcess first({binary_path("skyd"), "--state-dir", dir.file("state")},
                     {{"NOTIFY_SOCKET", systemd.path()}}, dir.file("first.out"));
  ASSERT_TRUE(systemd.wait_for("READY=1", std::chrono::seconds(20)));
  auto second = run_command({binary_path("skyd"), "--state-dir", dir.file("state")}, {},
                            std::chrono::seconds(20));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("another server is answering"), std::string::npos) << second.err;
}

// skyd --print-config on a config file with `text`.
CommandResult print_config(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name)) << text;
  return run_command({binary_path("skyd"), "--config", dir.file(name), "--print-config"});
}

TEST(Daemon, BadFlagsAndConfigFilesGetClearErrors) {
  TempDir dir;
  auto flag = run_command({binary_path("skyd"), "--shards", "many"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_NE(flag.err.find("--shards expects a number"), std::string::npos) << flag.err;
  auto config = print_config(dir, "config.yaml", "shards: 2\nsocket_grup: skyd\n");
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_NE(config.err.find("config.yaml:2: unknown setting 'socket_grup'"), std::string::npos)
      << config.err;
  auto signal = print_config(dir, "signal.yaml", "log_level: info\nspot_notice_signal: KILL\n");
  EXPECT_EQ(signal.exit_code, 2);
  EXPECT_NE(signal.err.find("signal.yaml:2: 'spot_notice_signal': expected TERM, INT, HUP, USR1 "
                            "or USR2"),
            std::string::npos)
      << signal.err;
}

TEST(Daemon, PrintConfigMasksTheDatabasePassword) {
  auto printed = run_command({binary_path("skyd"), "--state-dir", "/tmp/x", "--db",
                              "host=db.internal user=skyd password=hunter2", "--print-config"});
  EXPECT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(printed.out.find("hunter2"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("password=***"), std::string::npos) << printed.out;
}

}  // namespace
}  // namespace skyd::testing
