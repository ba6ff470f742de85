#include "daemon/spec/deadline_text.hpp"

#include <cctype>
#include <cstdio>

namespace skyd::spec {
namespace {

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// Reads exactly `width` digits at `at`, advancing it.
std::optional<int> fixed_digits(std::string_view text, std::size_t& at, std::size_t width) {
  if (at + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    if (!is_digit(text[at + i])) return std::nullopt;
    value = value * 10 + (text[at + i] - '0');
  }
  at += width;
  return value;
}

bool take(std::string_view text, std::size_t& at, char expected) {
  if (at >= text.size() || text[at] != expected) return false;
  ++at;
  return true;
}

struct Unit {
  char name;
  std::chrono::seconds length;
};
constexpr Unit kUnits[] = {{'d', std::chrono::hours(24)},
                           {'h', std::chrono::hours(1)},
                           {'m', std::chrono::minutes(1)},
                           {'s', std::chrono::seconds(1)}};
// A year of seconds, many times over: beyond any deadline and far from overflowing.
constexpr std::int64_t kMaxDurationSeconds = 100ll * 366 * 24 * 3600;

}  // namespace

std::optional<std::chrono::seconds> parse_duration_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::chrono::seconds total{0};
  std::size_t next_unit = 0;  // units come largest first, each once
  std::size_t at = 0;
  while (at < text.size()) {
    std::int64_t number = 0;
    const std::size_t digits_from = at;
    while (at < text.size() && is_digit(text[at])) {
      number = number * 10 + (text[at] - '0');
      if (number > kMaxDurationSeconds) return std::nullopt;
      ++at;
    }
    if (at == digits_from || at == text.size()) return std::nullopt;
    const char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text[at++])));
    while (next_unit < std::size(kUnits) && kUnits[next_unit].name != unit) ++next_unit;
    if (next_unit == std::size(kUnits)) return std::nullopt;
    total += kUnits[next_unit++].length * number;
    if (total.count() > kMaxDurationSeconds) return std::nullopt;
  }
  return total;
}

std::string format_duration_text(std::chrono::seconds duration) {
  if (duration.count() == 0) return "0s";
  std::string out = duration.count() < 0 ? "-" : "";
  std::int64_t left = duration.count() < 0 ? -duration.count() : duration.count();
  for (const auto& unit : kUnits) {
    const std::int64_t count = left / unit.length.count();
    if (count == 0) continue;
    out += std::to_string(count) + unit.name;
    left -= count * unit.length.count();
  }
  return out;
}

bool looks_like_instant(std::string_view text) {
  return text.size() >= 5 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) &&
         is_digit(text[3]) && text[4] == '-';
}

std::optional<std::chrono::sys_seconds> parse_instant_text(std::string_view text) {
  using namespace std::chrono;
  std::size_t at = 0;
  const auto year = fixed_digits(text, at, 4);
  if (!year || !take(text, at, '-')) return std::nullopt;
  const auto month = fixed_digits(text, at, 2);
  if (!month || !take(text, at, '-')) return std::nullopt;
  const auto day = fixed_digits(text, at, 2);
  if (!day) return std::nullopt;
  if (!take(text, at, 'T') && !take(text, at, 't') && !take(text, at, ' ')) return std::nullopt;
  const auto hour = fixed_digits(text, at, 2);
  if (!hour || !take(text, at, ':')) return std::nullopt;
  const auto minute = fixed_digits(text, at, 2);
  if (!minute) return std::nullopt;
  int second = 0;
  if (take(text, at, ':')) {
    const auto given = fixed_digits(text, at, 2);
    if (!given) return std::nullopt;
    second = *given;
    if (take(text, at, '.')) {
      const std::size_t from = at;
      while (at < text.size() && is_digit(text[at])) ++at;
      if (at == from) return std::nullopt;
    }
  }
  const year_month_day date{std::chrono::year(*year), std::chrono::month(*month),
                            std::chrono::day(*day)};
  // 60 is a leap second, which RFC 3339 allows and the clock folds into the next minute.
  if (!date.ok() || *hour > 23 || *minute > 59 || second > 60) return std::nullopt;
  seconds offset{0};
  if (take(text, at, 'Z') || take(text, at, 'z')) {
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const bool east = text[at++] == '+';
    const auto offset_hours = fixed_digits(text, at, 2);
    if (!offset_hours || !take(text, at, ':')) return std::nullopt;
    const auto offset_minutes = fixed_digits(text, at, 2);
    if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) return std::nullopt;
    offset = hours(*offset_hours) + minutes(*offset_minutes);
    if (!east) offset = -offset;
  } else {
    return std::nullopt;  // a time without its zone means different instants to different people
  }
  if (at != text.size()) return std::nullopt;
  return sys_days(date) + hours(*hour) + minutes(*minute) + seconds(second) - offset;
}

std::string format_instant_text(std::chrono::sys_seconds instant) {
  using namespace std::chrono;
  const auto day = floor<days>(instant);
  const year_month_day date(day);
  const hh_mm_ss<seconds> time(instant - day);
  // Room for the widest values the types allow, so the compiler can prove nothing is cut.
  char out[96];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long long>(time.hours().count()),
                static_cast<long long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()));
  return out;
}

}  // namespace skyd::spec
