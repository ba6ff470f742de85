// skyd's catalog settings: catalog_dir (made absolute), catalog_refresh and its interval, and the
// refusal of a refresh with nowhere to write or nothing to ask; autostop's idle time.
#include "daemon/config.hpp"
#include "reactor/small_files.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>

namespace skyd::daemon {
namespace {

std::string config_file(const std::string& text) {
  const std::string path = std::filesystem::temp_directory_path().string() + "/skyd-config-" +
                           std::to_string(::getpid()) + "-" +
                           std::to_string(std::hash<std::string>{}(text)) + ".yaml";
  EXPECT_TRUE(write_small_file(path, text));
  return path;
}

TEST(ConfigCatalog, CatalogDirAndRefreshAreRead) {
  const auto file = config_file(
      "aws_enabled: true\ncatalog_dir: relative/catalog\ncatalog_refresh: true\n"
      "catalog_refresh_interval: 6h\naws_pricing_endpoint: http://127.0.0.1:9\n");
  auto invocation = parse_command_line({"--config", file, "--state-dir", "/tmp/x"});
  std::filesystem::remove(file);
  ASSERT_TRUE(invocation) << invocation.error().detail;
  const auto& config = invocation->config;
  EXPECT_EQ(config.catalog_dir,
            (std::filesystem::current_path() / "relative/catalog").lexically_normal().string());
  EXPECT_TRUE(config.catalog_refresh);
  EXPECT_EQ(config.catalog_refresh_interval, std::chrono::hours(6));
  EXPECT_EQ(config.aws_pricing_endpoint, "http://127.0.0.1:9");
  EXPECT_NE(config.to_json().dump().find("\"catalog_refresh\":true"), std::string::npos);
}

TEST(ConfigCatalog, RefreshNeedsADirectoryAndAws) {
  for (const char* text : {"catalog_refresh: true\naws_enabled: true\n",
                           "catalog_refresh: true\ncatalog_dir: /tmp/c\n"}) {
    const auto file = config_file(text);
    auto invocation = parse_command_line({"--config", file});
    std::filesystem::remove(file);
    ASSERT_FALSE(invocation) << text;
    EXPECT_NE(invocation.error().detail.find("catalog_refresh needs catalog_dir"),
              std::string::npos)
        << invocation.error().detail;
  }
}

TEST(ConfigAutostop, IdleIsADurationOrOffAndUnsetByDefault) {
  auto unset =
      parse_command_line({"--state-dir", "/tmp/x", "--config", config_file("shards: 1\n")});
  ASSERT_TRUE(unset) << unset.error().detail;
  EXPECT_FALSE(unset->config.autostop_idle) << "decided at start: on only on a controller VM";
  EXPECT_NE(unset->config.to_json().dump().find("\"autostop_idle_ms\":null"), std::string::npos);
  auto five = parse_command_line({"--config", config_file("autostop_idle: 5m\n")});
  ASSERT_TRUE(five) << five.error().detail;
  EXPECT_EQ(five->config.autostop_idle, Duration(std::chrono::minutes(5)));
  auto off = parse_command_line({"--config", config_file("autostop_idle: \"off\"\n")});
  ASSERT_TRUE(off) << off.error().detail;
  EXPECT_EQ(off->config.autostop_idle, Duration::zero());
  auto bad = parse_command_line({"--config", config_file("autostop_idle: soon\n")});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find(":1: 'autostop_idle': expected a duration"), std::string::npos)
      << bad.error().detail;
}

}  // namespace
}  // namespace skyd::daemon
