#pragma once
// A git repository for workdir tests, made with the system's git: version.txt says "v1" in the
// first commit (tagged v1), "main-2" in the second, on branch main.

#include "tests/support/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace skyd::testing {

inline std::string run_git(std::vector<std::string> args) {
  args.insert(args.begin(),
              {"/usr/bin/git", "-c", "user.name=test", "-c", "user.email=test@example.com"});
  const auto done = run_command(args);
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  return done.out;
}

// Makes the repository at `path`; the commit tagged v1.
inline std::string make_versioned_repo(const std::string& path) {
  std::filesystem::create_directories(path);
  run_git({"init", "-q", "-b", "main", path});
  std::ofstream(path + "/version.txt") << "v1\n";
  run_git({"-C", path, "add", "version.txt"});
  run_git({"-C", path, "commit", "-q", "-m", "first"});
  run_git({"-C", path, "tag", "v1"});
  std::string v1 = run_git({"-C", path, "rev-parse", "HEAD"});
  while (!v1.empty() && v1.back() == '\n') v1.pop_back();
  std::ofstream(path + "/version.txt") << "main-2\n";
  run_git({"-C", path, "commit", "-q", "-am", "second"});
  return v1;
}

}  // namespace skyd::testing
