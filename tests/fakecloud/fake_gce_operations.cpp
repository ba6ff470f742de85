#include "tests/fakecloud/fake_gce_operations.hpp"

#include "reactor/crypto.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <ctime>

namespace skyd::fakecloud {

std::string gce_time(std::chrono::system_clock::time_point at) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[16];
  std::snprintf(millis, sizeof millis, ".%03d+00:00", static_cast<int>(ms % 1000));
  return std::string(text) + millis;
}

GceOperations::GceOperations(asio::any_io_executor executor)
    : executor_(executor), changed_(executor) {}

std::string GceOperations::key(const std::string& project, const std::string& zone,
                               const std::string& name) {
  return project + "/" + zone + "/" + name;
}

GceOperation& GceOperations::create(std::string project, std::string zone, std::string type,
                                    std::string target_link, std::string target_id,
                                    std::string user) {
  auto operation = std::make_unique<GceOperation>();
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  // GCE's names: operation-<epoch ms>-<13 hex>-<8 hex>-<8 hex>.
  const std::string hex = random_hex(16);
  operation->name = "operation-" + std::to_string(ms) + "-" + hex.substr(0, 13) + "-" +
                    hex.substr(13, 8) + "-" + hex.substr(21, 8);
  operation->id = std::to_string(4000000000000000000ULL + ms % 1000000000000ULL * 1000 + next_++);
  operation->project = std::move(project);
  operation->zone = std::move(zone);
  operation->operation_type = std::move(type);
  operation->target_link = std::move(target_link);
  operation->target_id = std::move(target_id);
  operation->user = std::move(user);
  operation->insert_time = gce_time(now);
  GceOperation& made = *operation;
  by_name_[key(made.project, made.zone, made.name)] = &made;
  operations_.push_back(std::move(operation));
  return made;
}

GceOperation* GceOperations::find(const std::string& project, const std::string& zone,
                                  const std::string& name) {
  auto it = by_name_.find(key(project, zone, name));
  return it == by_name_.end() ? nullptr : it->second;
}

GceOperation* GceOperations::by_request(const std::string& project, const std::string& zone,
                                        const std::string& request_id) {
  if (request_id.empty()) return nullptr;
  auto it = by_request_.find(key(project, zone, request_id));
  return it == by_request_.end() ? nullptr : it->second;
}

void GceOperations::remember_request(const GceOperation& operation, const std::string& request_id) {
  if (request_id.empty()) return;
  by_request_[key(operation.project, operation.zone, request_id)] =
      find(operation.project, operation.zone, operation.name);
}

void GceOperations::start(GceOperation& operation) {
  if (operation.status != "PENDING") return;
  operation.status = "RUNNING";
  operation.start_time = gce_time(std::chrono::system_clock::now());
  changed_.notify_all();
}

void GceOperations::finish(GceOperation& operation, std::string error_code, std::string message,
                           int http_status) {
  if (operation.start_time.empty())
    operation.start_time = gce_time(std::chrono::system_clock::now());
  operation.status = "DONE";
  operation.progress = 100;
  operation.end_time = gce_time(std::chrono::system_clock::now());
  operation.error_code = std::move(error_code);
  operation.error_message = std::move(message);
  operation.http_error_status = http_status;
  changed_.notify_all();
}

Task<void> GceOperations::wait_done(std::string project, std::string zone, std::string name,
                                    Duration bound) {
  asio::steady_timer limit(executor_, bound);
  for (;;) {
    const GceOperation* operation = find(project, zone, name);
    if (!operation || operation->status == "DONE" || Clock::now() >= limit.expiry()) co_return;
    using namespace asio::experimental::awaitable_operators;
    co_await (changed_.wait() || limit.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
}

}  // namespace skyd::fakecloud
