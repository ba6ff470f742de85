#include "reactor/utc_time.hpp"

namespace skyd {

std::string format_utc(std::time_t when, const char* format) {
  std::tm utc{};
  gmtime_r(&when, &utc);
  char buffer[64];
  const std::size_t length = std::strftime(buffer, sizeof buffer, format, &utc);
  return std::string(buffer, length);
}

std::string format_utc_now(const char* format) {
  return format_utc(std::time(nullptr), format);
}

}  // namespace skyd
