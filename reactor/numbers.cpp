#include "reactor/numbers.hpp"

#include <charconv>

namespace skyd {

std::optional<std::int64_t> parse_int64(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  if (digits.front() == '0' && (digits.size() > 1 || negative)) return std::nullopt;
  std::int64_t value = 0;
  // from_chars reads the sign itself and refuses what int64 cannot hold.
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  if (text.empty() || text.front() == '-') return std::nullopt;
  auto value = parse_int64(text);
  if (!value || *value <= 0) return std::nullopt;
  return value;
}

}  // namespace skyd
