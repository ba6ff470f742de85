#include "tests/support/test_support.hpp"

#include "reactor/small_files.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace skyd::testing {

std::string read_text(const std::string& path) {
  return read_small_file(path);
}

double metric_sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TempDir::TempDir(const std::string& base) {
  std::string pattern = base + "/skyd-t.XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed under " + base);
  path_ = pattern;
}

TempDir::~TempDir() {
  // Kept to be read after a failure that needs its logs (SKYD_KEEP_TEST_DIRS=1).
  if (std::getenv("SKYD_KEEP_TEST_DIRS")) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace skyd::testing
