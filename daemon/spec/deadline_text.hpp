#pragma once
// The two ways a task writes time in `job_recovery` (DEADLINE): a duration ("36h", "1h30m",
// "45s", "2d") and an instant in RFC 3339 ("2026-12-24T12:00:00Z", "2026-12-24T13:00+01:00").
// Pure functions; each reader has a writer whose text it reads back to the same value, which is
// how the normalized JSON carries them from `sky` to skyd.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace skyd::spec {

// Numbers with units d, h, m, s, largest first, each at most once ("1h30m"); nothing when the
// text is not such a duration.
std::optional<std::chrono::seconds> parse_duration_text(std::string_view text);
// The exact duration in the same form: "1h30m", "45s", "0s".
std::string format_duration_text(std::chrono::seconds duration);

// True when the text is meant as an instant (it starts with a date), so that a malformed instant
// is reported as one rather than as a bad duration.
bool looks_like_instant(std::string_view text);
// YYYY-MM-DD, `T` (or a space), hh:mm[:ss[.fraction]], then `Z` or ±hh:mm. Seconds may be
// left out, as people write; fractions are dropped. Nothing when the text is not such an instant.
std::optional<std::chrono::sys_seconds> parse_instant_text(std::string_view text);
// "2026-12-24T12:00:00Z".
std::string format_instant_text(std::chrono::sys_seconds instant);

}  // namespace skyd::spec
