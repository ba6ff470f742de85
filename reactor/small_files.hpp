#pragma once
// Small files read and written whole: keys, tokens, pid files, markers, configuration. These calls
// block: use them at start-up, in short-lived tools, or inside run_blocking, never on a shard for a
// file of unbounded size.

#include "reactor/error.hpp"

#include <filesystem>
#include <string>

namespace skyd {

// The whole file; empty when it is missing or unreadable.
std::string read_small_file(const std::string& path);

// Replaces `path` with `text` atomically (a temporary renamed over it, so a reader never sees half
// a file), readable as `perms` says (by default by the owner only).
Result<void> write_small_file(const std::string& path, const std::string& text,
                              std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write);

}  // namespace skyd
