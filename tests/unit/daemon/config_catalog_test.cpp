// skyd's catalog settings: catalog_dir (made absolute), catalog_refresh and its interval, and the
// refusal of a refresh with nowhere to write or nothing to ask.
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

}  // namespace
}  // namespace skyd::daemon
