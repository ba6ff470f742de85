#pragma once
// Times as text in UTC ("2026-12-01", "2026-12-01T10:00:00Z"), for dates of catalog files and the
// timestamps cloud APIs take.

#include <ctime>
#include <string>

namespace skyd {

// `format` as strftime takes it, applied to `when` in UTC.
std::string format_utc(std::time_t when, const char* format);
// The same for now.
std::string format_utc_now(const char* format);

}  // namespace skyd
