#pragma once
// Files for object store tests: random contents, written and read back whole (test sizes only).

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace skyd::testing {

// `size` bytes from a seeded generator: the same seed, the same bytes.
inline std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

// Writes `content` to `path`, making its directories.
inline void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace skyd::testing
