#include "reactor/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace skyd {
namespace {

struct Sinks {
  std::mutex mutex;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  std::string pattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v";
};

Sinks& shared_sinks() {
  static Sinks sinks;
  return sinks;
}

}  // namespace

void init_logging(const LogOptions& options) {
  auto& state = shared_sinks();
  std::lock_guard lock(state.mutex);
  state.sinks.clear();
  state.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!options.file.empty()) {
    state.sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
  }
  state.level = spdlog::level::from_str(options.level);
  state.pattern = options.timestamps ? "%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v" : "%^%l%$ [%n] %v";
  spdlog::drop_all();
  // The file sink is block-buffered: a crash would lose what it holds. Warnings and errors are
  // written through at once, the rest within a second (spdlog's flusher is a thread of its own,
  // so no shard ever blocks on the file).
  spdlog::flush_every(kLogFlushInterval);
}

std::shared_ptr<spdlog::logger> logger(std::string_view module) {
  auto& state = shared_sinks();
  std::lock_guard lock(state.mutex);
  std::string name(module);
  if (auto existing = spdlog::get(name)) return existing;
  if (state.sinks.empty()) {
    state.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    if (const char* level = std::getenv("SKYD_LOG_LEVEL"))
      state.level = spdlog::level::from_str(level);
    else
      state.level = spdlog::level::warn;  // libraries and tests stay quiet unless asked
  }
  auto created = std::make_shared<spdlog::logger>(name, state.sinks.begin(), state.sinks.end());
  created->set_level(state.level);
  created->set_pattern(state.pattern);
  created->flush_on(spdlog::level::warn);
  spdlog::register_logger(created);
  return created;
}

}  // namespace skyd
