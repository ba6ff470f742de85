#pragma once
// A small stable hash for names and checksums (not for security): FNV-1a 64, 16 hex digits.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace skyd::store {

inline std::string fnv1a_hex(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

}  // namespace skyd::store
