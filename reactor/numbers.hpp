#pragma once
// Strict readers for numbers that arrive as text (path segments, query parameters, headers,
// directory names): the canonical decimal form only, so "01", "+1", " 1" and "1 " are not numbers
// and one number has one spelling.

#include <cstdint>
#include <optional>
#include <string_view>

namespace skyd {

// -?(0|[1-9][0-9]*) within int64 ("-0" is not a number).
std::optional<std::int64_t> parse_int64(std::string_view text);

// An id: [1-9][0-9]* within int64.
std::optional<std::int64_t> parse_id(std::string_view text);

}  // namespace skyd
