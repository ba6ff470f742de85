#pragma once
// The checkpoint a task reports: $SKYPILOT_PROGRESS_FILE, one file per attempt, holds the seconds
// of work its last checkpoint holds, as one newline-terminated integer (`echo 3600 >
// "$SKYPILOT_PROGRESS_FILE"`). skylet reads it when asked for the attempt's status or output;
// anything else there is ignored (docs/deadline-policy.md, "Reported progress").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skyd::skylet {

// A longer file is not a progress report; reading stops there.
inline constexpr std::size_t kMaxProgressFileBytes = 64;
// More than a century of work is not a number a task means.
inline constexpr std::int64_t kMaxProgressSeconds = 100ll * 366 * 24 * 3600;

struct ProgressRead {
  enum class Kind { kNothing, kSeconds, kBad };
  Kind kind = Kind::kNothing;  // kNothing: no file, or an empty one (not written yet)
  std::int64_t seconds = 0;
  std::string why;  // kBad: what is wrong, with the content (printable, shortened)
};

// Digits and a final newline, blanks around them allowed; at most kMaxProgressSeconds.
ProgressRead parse_progress(std::string_view text);

// Reads at most kMaxProgressFileBytes without following a link and without waiting on a FIFO: a
// regular file only. Short, so it may run on the shard.
ProgressRead read_progress_file(const std::string& path);

}  // namespace skyd::skylet
