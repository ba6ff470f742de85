#pragma once
// Whether the database can be used now, as the parts that watch it see it: the embedded server's
// supervisor (its server process died and is being restarted) and the connection probe (a
// statement on a connection of its own fails). The database is down while any source says so;
// the reason given is the first such source's. Pools fail fast while it is down, the API answers
// 503, /v1/health says "degraded" and /metrics sets skyd_database_up to 0.
//
// One object for the whole daemon, written by the supervisor's thread and shard 0 and read by
// every shard: thread-safe. Each change of the overall state is logged once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace skyd::store {

class DatabaseHealth {
 public:
  enum class Source { kServer, kConnection };
  struct Status {
    bool up = true;
    std::string reason;                           // why it is down; empty when up
    std::chrono::steady_clock::time_point since;  // when the current state began
  };

  void set_down(Source source, std::string reason);
  void set_up(Source source);

  bool up() const { return up_.load(std::memory_order_acquire); }
  Status status() const;
  // Grows by one every time the database comes back: a pool whose connects failed retries at
  // once instead of waiting out its backoff.
  std::uint64_t recoveries() const { return recoveries_.load(std::memory_order_acquire); }

 private:
  void update_locked();

  mutable std::mutex mutex_;
  std::optional<std::string> server_down_;
  std::optional<std::string> connection_down_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::atomic<bool> up_{true};
  std::atomic<std::uint64_t> recoveries_{0};
};

}  // namespace skyd::store
