#include "cli/daemon_address.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace skyd::cli {
namespace {

TEST(SshAddress, TakesUserHostPortAndSocket) {
  auto parsed = parse_ssh_address("ssh://alice@ctl.example.com:2222/run/skyd/skyd.sock");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->user, "alice");
  EXPECT_EQ(parsed->host, "ctl.example.com");
  EXPECT_EQ(parsed->port, 2222);
  EXPECT_EQ(parsed->socket_path, "/run/skyd/skyd.sock");

  auto bare = parse_ssh_address("ssh://ctl");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->user, "");
  EXPECT_FALSE(bare->port);
  EXPECT_EQ(bare->socket_path, "");

  auto v6 = parse_ssh_address("ssh://bob@[::1]:22");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 22);
}

TEST(SshAddress, RefusesWhatSshWouldMisread) {
  for (const char* bad :
       {"ssh://", "ssh://@host", "ssh://host:0", "ssh://host:99999", "ssh://host:22x",
        "ssh://-oProxyCommand=touch%20x", "ssh://-l@host", "ssh://[::1", "http://host"}) {
    auto parsed = parse_ssh_address(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().detail.find("ssh://[user@]host"), std::string::npos) << bad;
  }
}

TEST(SshAddress, TheDialCommandSharesOneConnectionAndQuotesTheSocketForTheRemoteShell) {
  ::unsetenv("SKYD_SSH_COMMAND");
  auto host = parse_ssh_address("ssh://alice@ctl:2222/tmp/it's here/skyd.sock");
  ASSERT_TRUE(host);
  const auto argv = ssh_dial_command(*host, "/home/alice/.sky/ssh");
  const std::vector<std::string> expected{
      "ssh",
      "-o",
      "ControlMaster=auto",
      "-o",
      "ControlPath=/home/alice/.sky/ssh/%C",
      "-o",
      "ControlPersist=300",
      "-p",
      "2222",
      "-l",
      "alice",
      "--",
      "ctl",
      "skyd dial-stdio --socket '/tmp/it'\\''s here/skyd.sock'"};
  EXPECT_EQ(argv, expected);
}

TEST(SshAddress, SkydSshCommandReplacesTheClient) {
  ::setenv("SKYD_SSH_COMMAND", "/usr/bin/ssh -F /etc/skyd/ssh_config", 1);
  auto host = parse_ssh_address("ssh://ctl");
  ASSERT_TRUE(host);
  const auto argv = ssh_dial_command(*host, "/c");
  ::unsetenv("SKYD_SSH_COMMAND");
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[0], "/usr/bin/ssh");
  EXPECT_EQ(argv[1], "-F");
  EXPECT_EQ(argv[2], "/etc/skyd/ssh_config");
  EXPECT_EQ(argv.back(), "skyd dial-stdio");
}

TEST(SshAddress, TheDashboardForwardHasAConnectionOfItsOwnThatEndsWithIt) {
  ::unsetenv("SKYD_SSH_COMMAND");
  auto host = parse_ssh_address("ssh://ctl");
  ASSERT_TRUE(host);
  const std::vector<std::string> expected{
      "ssh", "-o", "ControlMaster=no",         "-o", "ControlPath=none",
      "-N",  "-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:4000:127.0.0.1:8266",
      "--",  "ctl"};
  EXPECT_EQ(ssh_forward_command(*host, 4000, "127.0.0.1:8266"), expected);
}

}  // namespace
}  // namespace skyd::cli
