#pragma once
// Names that become one entry of a directory (a bucket, a cluster, an attempt): checked where the
// path is built, so no name can reach outside the directory it is meant for.

#include <cstddef>
#include <string_view>

namespace skyd {

// 1 to `max_length` of [A-Za-z0-9._-], not starting with '.': never ".", "..", a hidden entry or
// a path with a '/'.
inline bool is_plain_file_name(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length || name.front() == '.') return false;
  for (const char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) return false;
  }
  return true;
}

// The longest name most Linux filesystems accept for one entry.
inline constexpr std::size_t kMaxFileNameLength = 255;

}  // namespace skyd
