#pragma once
// Checks of hex text (digests, tokens): pure, header-only.

#include <string_view>

namespace skyd {

// True for exactly `digits` lowercase hex digits.
inline bool is_lower_hex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// True for a SHA-256 as 64 lowercase hex digits.
inline bool is_sha256_hex(std::string_view text) {
  return is_lower_hex(text, 64);
}

}  // namespace skyd
