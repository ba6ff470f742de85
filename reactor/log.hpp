#pragma once
// One named spdlog logger per module, all sharing the sinks chosen at start-up. Messages are an
// event phrase plus key=value pairs: `job transition job=42 from=RUNNING to=RECOVERING`.

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace skyd {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  std::string file;            // also append to this file when set
  bool timestamps = true;      // off under systemd: journald stamps every line itself
};

// What was logged below a warning reaches the file at the latest this long after (warnings and
// errors at once).
inline constexpr std::chrono::seconds kLogFlushInterval{1};

void init_logging(const LogOptions& options);

// The module's logger, created on first use with the shared sinks.
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace skyd
