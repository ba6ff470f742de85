#pragma once
// Runs skyd's command-line parsing on a config file holding `text` (written to a temporary file
// named after `prefix`, removed afterwards).
#include "daemon/config.hpp"
#include "reactor/small_files.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

namespace skyd::daemon {

inline Result<Invocation> with_config(const std::string& text,
                                      const std::string& prefix = "skyd-config") {
  const std::string path = std::filesystem::temp_directory_path().string() + "/" + prefix + "-" +
                           std::to_string(::getpid()) + "-" +
                           std::to_string(std::hash<std::string>{}(text)) + ".yaml";
  EXPECT_TRUE(write_small_file(path, text));
  auto invocation = parse_command_line({"--config", path, "--state-dir", "/tmp/x"});
  std::filesystem::remove(path);
  return invocation;
}

}  // namespace skyd::daemon
