#include "daemon/skylet/agent.hpp"

#include "reactor/log.hpp"

#include <openssl/crypto.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <fstream>

namespace skyd::skylet {
namespace {

constexpr std::size_t kMaxLogChunk = 1u << 20;

// Waits for `ready()` to become true, or for `limit` to pass.
template <typename Ready>
Task<void> wait_until(Notifier& changed, Duration limit, Ready ready) {
  const auto deadline = Clock::now() + limit;
  while (!ready()) {
    if (!co_await changed.wait_until(deadline)) co_return;
  }
}

std::string home_of(const AgentOptions& options) {
  auto home = options.base_env.find("HOME");
  return home == options.base_env.end() || home->second.empty() ? std::string("/") : home->second;
}

}  // namespace

Agent::Agent(asio::any_io_executor executor, AgentOptions options)
    : executor_(executor),
      options_(std::move(options)),
      uploads_(executor, options_.work_dir + "/uploads", home_of(options_)),
      running_(executor, "attempts"),
      events_changed_(executor) {
  std::filesystem::create_directories(options_.work_dir + "/attempts");
  paths_.attempts_dir = options_.work_dir + "/attempts";
  paths_.pgid_file = options_.work_dir + "/pgids";
  paths_.containers_file = options_.work_dir + "/containers";
  paths_.base_env = options_.base_env;
  paths_.base_env["SKYPILOT_SPOT_NOTICE_FILE"] = options_.work_dir + "/spot_notice";
  paths_.mounts = options_.mounts;
  containers_ = std::make_unique<ContainerRuntime>(options_.container_runtime, options_.base_env);
  paths_.containers = containers_.get();
  paths_.container_gpus = options_.container_gpus;
  paths_.mounts.records_dir = mount_records_dir(options_.work_dir);
  paths_.mounts.home = home_of(options_);
  paths_.mounts.pgid_file = paths_.pgid_file;
  std::filesystem::create_directories(paths_.mounts.records_dir);
}

bool Agent::authorized(const http::Request& request) const {
  const std::string* header = request.header("Authorization");
  const std::string expected = "Bearer " + options_.token;
  const bool ok = header && header->size() == expected.size() &&
                  CRYPTO_memcmp(header->data(), expected.data(), expected.size()) == 0;
  if (!ok)
    logger("skylet")->warn("unauthorized request method={} path={}", request.method, request.path);
  return ok;
}

http::Router Agent::router() {
  http::Router router;
  // Every route checks the token first; the handlers below assume it passed.
  auto guarded_by = [this](http::Handler handler) -> http::Handler {
    return [this, handler](http::Request& request) -> Task<http::Response> {
      if (!authorized(request)) {
        return [](std::string path) -> Task<http::Response> {
          co_return http::Response::error(401, "unauthorized",
                                          "a valid bearer token is required for " + path);
        }(request.path);
      }
      return handler(request);
    };
  };
  auto guarded = [this, guarded_by](Task<http::Response> (Agent::*handler)(http::Request&)) {
    return guarded_by(
        [this, handler](http::Request& request) { return (this->*handler)(request); });
  };
  router.add("GET", "/health", "node health", guarded(&Agent::health));
  router.add("POST", "/tasks", "start a task attempt (idempotent by attempt_id)",
             guarded(&Agent::start_attempt));
  router.add("GET", "/tasks/{id}", "attempt status: phase, exit codes and reported progress",
             guarded(&Agent::attempt_status));
  router.add("GET", "/tasks/{id}/logs", "attempt output from ?offset=N (long poll with wait_ms)",
             guarded(&Agent::attempt_logs));
  router.add("POST", "/tasks/{id}/signal", "cancel the attempt", guarded(&Agent::signal_attempt));
  router.add("POST", "/tasks/{id}/release", "let a held attempt's run start",
             guarded(&Agent::release_attempt));
  auto upload = [this](Task<http::Response> (Uploads::*handler)(http::Request&)) {
    return [this, handler](http::Request& request) { return (uploads_.*handler)(request); };
  };
  router.add("GET", "/files/{name}", "how much of an upload arrived, and whether it is in place",
             guarded_by(upload(&Uploads::status)));
  router.add("PUT", "/files/{name}", "the next chunk of an upload at ?offset=N",
             guarded_by(upload(&Uploads::put)));
  router.add("POST", "/files/{name}/unpack", "put a complete upload in place",
             guarded_by(upload(&Uploads::unpack)));
  router.add("GET", "/events", "node events since ?since=N (long poll with wait_ms)",
             guarded(&Agent::events));
  router.add("POST", "/events", "record a node event (the local provider's spot notice)",
             guarded(&Agent::post_event));
  return router;
}

Task<http::Response> Agent::health(http::Request&) {
  Json body = Json::object();
  body.set("status", "ok");
  body.set("attempts", static_cast<long long>(attempts_.size()));
  body.set("events", static_cast<long long>(events_.size()));
  co_return http::Response::json(200, body);
}

Task<http::Response> Agent::start_attempt(http::Request& request) {
  auto body = parse_json(request.body);
  if (!body) co_return http::Response::error(400, "bad_request", body.error().detail);
  auto spec = AttemptSpec::from_json(*body);
  if (!spec) co_return http::Response::error(400, "bad_request", spec.error().detail);
  if (auto existing = attempts_.find(spec->id); existing != attempts_.end()) {
    // Started already: never twice. Asked again without a hold (a restarted controller taking
    // its running attempt back), a held run is released.
    if (!spec->hold_run) existing->second->release();
    co_return http::Response::json(200, existing->second->status());
  }
  if (spec->workdir.starts_with("~")) {
    // A cloud node's ~/sky_workdir: made here when no workdir was shipped, as SkyPilot does.
    spec->workdir = resolve_on_node(spec->workdir, home_of(options_));
    std::error_code ignored;
    std::filesystem::create_directories(spec->workdir, ignored);
  }
  if (!spec->workdir.empty() && !std::filesystem::is_directory(spec->workdir)) {
    co_return http::Response::error(400, "bad_request",
                                    "workdir " + spec->workdir + " does not exist on the node");
  }
  const std::string id = spec->id;
  auto attempt =
      std::make_unique<Attempt>(executor_, std::move(*spec), paths_, options_.log_cap_bytes);
  Attempt* started = attempt.get();
  attempts_[id] = std::move(attempt);  // first: a retry while the scripts are written finds it
  if (co_await started->prepare()) running_.spawn(started->run());
  co_return http::Response::json(201, started->status());
}

Attempt* Agent::find(const http::Request& request) {
  auto found = attempts_.find(request.path_params.at("id"));
  return found == attempts_.end() ? nullptr : found->second.get();
}

Task<http::Response> Agent::attempt_status(http::Request& request) {
  Attempt* attempt = find(request);
  if (!attempt)
    co_return http::Response::error(404, "not_found", "no attempt " + request.path_params.at("id"));
  co_return http::Response::json(200, attempt->status());
}

Task<http::Response> Agent::attempt_logs(http::Request& request) {
  Attempt* attempt = find(request);
  if (!attempt)
    co_return http::Response::error(404, "not_found", "no attempt " + request.path_params.at("id"));
  const auto offset = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, request.query_int("offset").value_or(0)));
  const auto limit = static_cast<std::size_t>(
      std::clamp<std::int64_t>(request.query_int("limit").value_or(kMaxLogChunk), 1, kMaxLogChunk));
  const auto wait_ms = std::clamp<std::int64_t>(request.query_int("wait_ms").value_or(0), 0, 60000);
  // With events_since, a node event past it also ends the wait: one long poll per node carries
  // both the output and the spot notice, so the controller holds one connection per node.
  const auto events_since = request.query_int("events_since");
  const bool events_pending =
      events_since &&
      events_.size() > static_cast<std::size_t>(std::max<std::int64_t>(0, *events_since));
  if (wait_ms > 0 && attempt->log().size() <= offset && !attempt->log().closed() &&
      !events_pending) {
    asio::steady_timer timer(executor_, std::chrono::milliseconds(wait_ms));
    using namespace asio::experimental::awaitable_operators;
    if (events_since) {
      co_await (attempt->log().wait_past(offset) || events_changed_.wait() ||
                timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    } else {
      co_await (attempt->log().wait_past(offset) ||
                timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    }
  }
  std::string bytes = attempt->log().read(offset, limit);
  const auto next = offset + bytes.size();
  http::Response response = http::Response::text(200, std::move(bytes), "application/octet-stream");
  response.set_header("X-Log-Next-Offset", std::to_string(next));
  response.set_header("X-Log-Size", std::to_string(attempt->log().size()));
  response.set_header("X-Attempt-Phase", std::string(to_string(attempt->phase())));
  // The controller follows every attempt's output, so the task's checkpoint travels with it.
  if (auto progress = attempt->reported_progress())
    response.set_header("X-Attempt-Progress", std::to_string(*progress));
  response.set_header("X-Log-Complete",
                      attempt->log().closed() && next >= attempt->log().size() ? "1" : "0");
  response.set_header("X-Node-Events", std::to_string(events_.size()));
  co_return response;
}

Task<http::Response> Agent::signal_attempt(http::Request& request) {
  Attempt* attempt = find(request);
  if (!attempt)
    co_return http::Response::error(404, "not_found", "no attempt " + request.path_params.at("id"));
  co_await attempt->cancel(options_.cancel_grace);
  co_return http::Response::json(200, attempt->status());
}

Task<http::Response> Agent::release_attempt(http::Request& request) {
  Attempt* attempt = find(request);
  if (!attempt)
    co_return http::Response::error(404, "not_found", "no attempt " + request.path_params.at("id"));
  attempt->release();
  co_return http::Response::json(200, attempt->status());
}

void Agent::publish_event(Json event) {
  event.set("seq", static_cast<long long>(events_.size() + 1));
  if (const Json* kind = event.find("kind");
      kind && kind->as_string() == std::string_view("spot_notice")) {
    std::ofstream(options_.work_dir + "/spot_notice") << event.dump() << "\n";
    // Tell the running tasks, so they can checkpoint before the machine goes.
    if (options_.notice_signal > 0) {
      for (auto& [id, attempt] : attempts_) attempt->signal(options_.notice_signal);
    }
  }
  logger("skylet")->warn("node event {}", event.dump());
  events_.push_back(std::move(event));
  events_changed_.notify_all();
}

Task<http::Response> Agent::events(http::Request& request) {
  const auto since =
      static_cast<std::size_t>(std::max<std::int64_t>(0, request.query_int("since").value_or(0)));
  const auto wait_ms = std::clamp<std::int64_t>(request.query_int("wait_ms").value_or(0), 0, 60000);
  if (wait_ms > 0) {
    co_await wait_until(events_changed_, std::chrono::milliseconds(wait_ms),
                        [&] { return events_.size() > since; });
  }
  Json list = Json::array();
  for (std::size_t i = since; i < events_.size(); ++i) list.push_back(events_[i]);
  Json body = Json::object();
  body.set("events", std::move(list));
  body.set("next", static_cast<long long>(events_.size()));
  co_return http::Response::json(200, body);
}

Task<http::Response> Agent::post_event(http::Request& request) {
  auto body = parse_json(request.body);
  if (!body || !body->is_object() || !body->find("kind")) {
    co_return http::Response::error(400, "bad_request", "an event is an object with a \"kind\"");
  }
  publish_event(std::move(*body));
  co_return http::Response::json(201, events_.back());
}

Task<void> Agent::shutdown() {
  for (auto& [id, attempt] : attempts_) co_await attempt->cancel(options_.cancel_grace);
  co_await running_.wait();
}

}  // namespace skyd::skylet
