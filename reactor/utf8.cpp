#include "reactor/utf8.hpp"

namespace skyd {
namespace {

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// For a lead byte: how long its sequence is and the range its first continuation byte must be
// in (this is what excludes overlong forms, surrogates and code points past U+10FFFF).
struct Lead {
  std::size_t length = 0;  // 0: not a lead byte
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
};

Lead lead_of(unsigned char byte) {
  if (byte < 0x80) return {1};
  if (byte < 0xC2) return {};  // a continuation byte, or C0/C1 (overlong two-byte forms)
  if (byte < 0xE0) return {2};
  if (byte == 0xE0) return {3, 0xA0, 0xBF};
  if (byte == 0xED) return {3, 0x80, 0x9F};  // U+D800..U+DFFF are surrogates
  if (byte < 0xF0) return {3};
  if (byte == 0xF0) return {4, 0x90, 0xBF};
  if (byte < 0xF4) return {4};
  if (byte == 0xF4) return {4, 0x80, 0x8F};  // nothing past U+10FFFF
  return {};
}

// How many bytes from the start of `text` agree with a valid sequence (all of it when valid).
std::size_t matching_prefix(std::string_view text, const Lead& lead) {
  if (lead.length == 0) return 0;
  std::size_t matched = 1;
  while (matched < lead.length && matched < text.size()) {
    const auto byte = static_cast<unsigned char>(text[matched]);
    const bool fits =
        matched == 1 ? byte >= lead.second_min && byte <= lead.second_max : is_continuation(byte);
    if (!fits) break;
    ++matched;
  }
  return matched;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text) {
  if (text.empty()) return 0;
  const Lead lead = lead_of(static_cast<unsigned char>(text[0]));
  return matching_prefix(text, lead) == lead.length && lead.length > 0 ? lead.length : 0;
}

std::size_t utf8_invalid_length(std::string_view text) {
  if (text.empty()) return 0;
  const std::size_t matched = matching_prefix(text, lead_of(static_cast<unsigned char>(text[0])));
  return matched == 0 ? 1 : matched;
}

std::size_t first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII runs are the common case.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0) return i;
    i += length;
  }
  return text.size();
}

std::size_t utf8_complete_length(std::string_view text) {
  // A cut sequence is at most 3 bytes long: look back for its lead byte.
  for (std::size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    const std::size_t start = text.size() - back;
    const auto byte = static_cast<unsigned char>(text[start]);
    if (is_continuation(byte)) continue;
    const Lead lead = lead_of(byte);
    const bool cut = lead.length > back && matching_prefix(text.substr(start), lead) == back;
    return cut ? start : text.size();
  }
  return text.size();
}

}  // namespace skyd
