#pragma once
// UTF-8 checks for text that crosses a boundary: request bodies, task output put into JSON.
// Valid means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF.

#include <cstddef>
#include <string_view>

namespace skyd {

// The length of the valid UTF-8 sequence that starts `text` (1 to 4), or 0 when the first bytes
// are not one (a stray continuation byte, a truncated or overlong sequence, a surrogate).
std::size_t utf8_sequence_length(std::string_view text);

// How many bytes an invalid start should be replaced as one U+FFFD: the longest prefix of `text`
// that could still begin a valid sequence, at least 1 (Unicode's "maximal subpart").
std::size_t utf8_invalid_length(std::string_view text);

// The offset of the first byte that is not part of valid UTF-8; text.size() when all of it is.
std::size_t first_invalid_utf8(std::string_view text);
inline bool is_valid_utf8(std::string_view text) {
  return first_invalid_utf8(text) == text.size();
}

// `text` without a trailing sequence that was cut short (1 to 3 bytes that begin a valid sequence
// but end before it does): what to send when more bytes of the same text will follow.
std::size_t utf8_complete_length(std::string_view text);

// U+FFFD REPLACEMENT CHARACTER, encoded.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

}  // namespace skyd
