#include "store/database_health.hpp"

#include "reactor/log.hpp"

namespace skyd::store {

void DatabaseHealth::set_down(Source source, std::string reason) {
  std::lock_guard lock(mutex_);
  (source == Source::kServer ? server_down_ : connection_down_) = std::move(reason);
  update_locked();
}

void DatabaseHealth::set_up(Source source) {
  std::lock_guard lock(mutex_);
  (source == Source::kServer ? server_down_ : connection_down_).reset();
  update_locked();
}

DatabaseHealth::Status DatabaseHealth::status() const {
  std::lock_guard lock(mutex_);
  Status status;
  status.up = !server_down_ && !connection_down_;
  status.reason = server_down_ ? *server_down_ : connection_down_.value_or("");
  status.since = since_;
  return status;
}

void DatabaseHealth::update_locked() {
  const bool now_up = !server_down_ && !connection_down_;
  if (now_up == up_.load(std::memory_order_relaxed)) return;
  const auto now = std::chrono::steady_clock::now();
  const auto lasted = std::chrono::duration_cast<std::chrono::milliseconds>(now - since_).count();
  since_ = now;
  if (now_up) {
    recoveries_.fetch_add(1, std::memory_order_release);
    logger("store")->info("database available again after_ms={}", lasted);
  } else {
    logger("store")->warn("database unavailable reason=\"{}\"",
                          server_down_ ? *server_down_ : *connection_down_);
  }
  up_.store(now_up, std::memory_order_release);
}

}  // namespace skyd::store
