#include "daemon/dashboard/dashboard.hpp"

#include "daemon/api_json.hpp"
#include "daemon/controller/controller.hpp"
#include "daemon/controller/job_logs.hpp"
#include "daemon/database_gate.hpp"
#include "daemon/metrics_endpoint.hpp"
#include "reactor/log.hpp"
#include "reactor/numbers.hpp"
#include "reactor/utf8.hpp"
#include "store/store_errc.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>

namespace skyd::daemon {
namespace {

constexpr std::size_t kLogPage = 256 * 1024;
constexpr int kQueueLimit = 500;

double seconds_since_epoch(store::TimePoint time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

http::Response asset_response(std::string_view name) {
  for (const auto& asset : dashboard_assets()) {
    if (asset.name != name) continue;
    auto response =
        http::Response::text(200, std::string(asset.text), std::string(content_type_of(name)));
    response.set_header("Cache-Control", "no-cache");
    return response;
  }
  return http::Response::error(404, "not_found", "no such file");
}

// The store's own text stays in the log; the page gets a message of ours.
http::Response failure(const Error& error) {
  if (error.code == store::StoreErrc::kNotFound)
    return http::Response::error(404, "not_found", error.detail);
  if (error.code == boost::system::errc::invalid_argument)
    return http::Response::error(400, "bad_request", error.detail);
  logger("dashboard")->error("request failed error=\"{}\"", error.message());
  return database_unavailable("the job store did not answer");
}

std::optional<std::int64_t> job_id_of(const http::Request& request) {
  return parse_id(request.path_params.at("id"));
}

// A query parameter that must be a number of at least `min` when given.
Result<std::optional<std::int64_t>> number_param(const http::Request& request,
                                                 std::string_view name, std::int64_t min) {
  if (!request.query_param(name)) return std::optional<std::int64_t>();
  const auto value = request.query_int(name);
  if (!value || *value < min) {
    return invalid_argument(std::string(name) + ": expected an integer of at least " +
                            std::to_string(min));
  }
  return std::optional<std::int64_t>(value);
}

Json where_of(const store::JobEvent& event) {
  auto details = parse_json(event.details_json);
  Json out = Json::object();
  for (const char* key : {"cloud", "region", "zone", "instance_type"}) {
    const Json* value = details ? details->find(key) : nullptr;
    out.set(key, value ? *value : Json(nullptr));
  }
  return out;
}

Task<http::Response> index_page(http::Request&) {
  co_return asset_response("index.html");
}

Task<http::Response> static_file(http::Request& request) {
  co_return asset_response(request.path_params.at("file"));
}

Task<http::Response> jobs(Controller* controller, http::Request& request) {
  store::QueueFilter filter;
  filter.limit = kQueueLimit;
  if (auto name = request.query_param("name"); name && !name->empty())
    filter.name = std::string(*name);
  auto limit = number_param(request, "limit", 1);
  if (!limit) co_return failure(limit.error());
  if (*limit) filter.limit = static_cast<int>(std::min<std::int64_t>(**limit, kQueueLimit));
  if (auto statuses = request.query_param("status"); statuses && !statuses->empty()) {
    std::string_view rest = *statuses;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto word = rest.substr(0, comma);
      auto status = store::parse_job_status(word);
      if (!status)
        co_return http::Response::error(400, "bad_request",
                                        "unknown status '" + std::string(word) + "'");
      filter.statuses.push_back(*status);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  const std::string user(request.query_param("user").value_or(""));
  auto found = co_await controller->list(filter);
  if (!found) co_return failure(found.error());
  const auto now = std::chrono::system_clock::now();
  Json list = Json::array();
  for (const auto& job : *found) {
    if (!user.empty() && job.user_name != user) continue;
    list.push_back(job_to_json(job, now));
  }
  Json reply = Json::object();
  reply.set("jobs", std::move(list));
  reply.set("now", seconds_since_epoch(now));
  co_return http::Response::json(200, reply);
}

Task<http::Response> job(Controller* controller, http::Request& request) {
  auto id = job_id_of(request);
  if (!id) co_return failure(invalid_argument("job ids are positive integers"));
  auto record = co_await controller->get(store::JobId{*id});
  if (!record) co_return failure(record.error());
  auto events = co_await controller->events(store::JobId{*id});
  if (!events) co_return failure(events.error());
  co_return http::Response::json(
      200, dashboard_job_json(*record, *events, std::chrono::system_clock::now()));
}

// The job's logs as one text: each task's attempts in order, each after its marker line (what
// `sky jobs logs` prints), read from `offset` of that text.
Task<http::Response> logs(Controller* controller, http::Request& request) {
  auto id = job_id_of(request);
  if (!id) co_return failure(invalid_argument("job ids are positive integers"));
  auto asked = number_param(request, "offset", 0);
  if (!asked) co_return failure(asked.error());
  auto record = co_await controller->get(store::JobId{*id});
  if (!record) co_return failure(record.error());
  const auto offset = static_cast<std::uint64_t>(asked->value_or(0));
  const JobLogs files(controller->options().logs_root(), *id);
  std::string out;
  std::uint64_t position = 0;  // start of the current segment in the whole text
  auto take = [&](std::uint64_t size, auto read) {
    if (out.size() < kLogPage && position + size > offset) {
      const std::uint64_t from = offset > position ? offset - position : 0;
      out += read(from, kLogPage - out.size());
    }
    position += size;
  };
  for (const auto& task : record->tasks) {
    for (const auto& attempt : files.attempts(task.task_index)) {
      const std::string marker = attempt.marker + "\n";
      take(marker.size(), [&](std::uint64_t from, std::size_t limit) {
        return marker.substr(static_cast<std::size_t>(from), limit);
      });
      const std::string path = files.attempt_log(task.task_index, attempt.attempt, 0);
      take(JobLogs::size_of(path),
           [&](std::uint64_t from, std::size_t limit) { return JobLogs::read(path, from, limit); });
    }
  }
  // A full page may end inside a character: that one starts the next page instead, so the JSON
  // writer only replaces bytes that are not UTF-8 in the task's output itself.
  if (out.size() >= kLogPage) out.resize(utf8_complete_length(out));
  Json reply = Json::object();
  reply.set("offset", static_cast<long long>(offset));
  reply.set("next_offset", static_cast<long long>(offset + out.size()));
  reply.set("text", std::move(out));
  reply.set("ended", record->ended_at.has_value());
  co_return http::Response::json(200, reply);
}

}  // namespace

Result<DashboardAddress> parse_dashboard_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return invalid_argument("the dashboard address must be HOST:PORT, got '" + std::string(text) +
                            "'");
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return invalid_argument("the dashboard port must be a number from 0 to 65535, got '" +
                            std::string(port_text) + "'");
  if (host == "localhost") host = "127.0.0.1";
  if (host != "::1" && !host.starts_with("127."))
    return invalid_argument(
        "the dashboard listens on loopback only (127.0.0.1, ::1 or localhost), got '" + host +
        "'; reach it remotely through an SSH tunnel");
  return DashboardAddress{host, static_cast<std::uint16_t>(port)};
}

Json dashboard_job_json(const store::JobRecord& record, const std::vector<store::JobEvent>& events,
                        store::TimePoint now) {
  Json out = job_to_json(record, now);
  // The job's ledger: its tasks' runs (view attempt_costs).
  double total = 0;
  double on_demand = 0;
  for (const auto& task : record.tasks) {
    total += task.cost_usd;
    on_demand += task.on_demand_cost_usd;
  }
  out.set("cost_usd", total);
  out.set("on_demand_cost_usd", on_demand);

  Json timeline = Json::array();
  Json recoveries = Json::array();
  std::map<int, const store::JobEvent*> last_running;  // task -> its latest RUNNING event
  std::map<int, std::size_t> open_recovery;            // task -> index in `recoveries`
  std::vector<Json> recovery_rows;
  for (const auto& event : events) {
    Json row = Json::object();
    row.set("at", seconds_since_epoch(event.at));
    row.set("task", event.task_index ? Json(*event.task_index) : Json(nullptr));
    row.set("from", event.from ? Json(store::to_string(*event.from)) : Json(nullptr));
    row.set("to", store::to_string(event.to));
    row.set("reason", event.reason);
    if (auto details = parse_json(event.details_json)) row.set("details", std::move(*details));
    timeline.push_back(std::move(row));
    const int task = event.task_index.value_or(0);
    if (event.to == store::JobStatus::kRunning) {
      if (auto open = open_recovery.find(task); open != open_recovery.end()) {
        recovery_rows[open->second].set("to", where_of(event));
        recovery_rows[open->second].set("recovered_at", seconds_since_epoch(event.at));
        open_recovery.erase(open);
      }
      last_running[task] = &event;
    }
    if (event.from == store::JobStatus::kRunning && event.to == store::JobStatus::kRecovering) {
      Json recovery = Json::object();
      recovery.set("task", task);
      recovery.set("at", seconds_since_epoch(event.at));
      recovery.set("reason", event.reason);
      const auto before = last_running.find(task);
      recovery.set("from",
                   before == last_running.end() ? Json(nullptr) : where_of(*before->second));
      recovery.set("to", nullptr);
      recovery.set("recovered_at", nullptr);
      open_recovery[task] = recovery_rows.size();
      recovery_rows.push_back(std::move(recovery));
    }
  }
  for (auto& row : recovery_rows) recoveries.push_back(std::move(row));
  out.set("events", std::move(timeline));
  out.set("recoveries", std::move(recoveries));
  return out;
}

void add_dashboard_routes(http::Router& router, Controller* controller) {
  router.add("GET", "/", "the dashboard page", index_page);
  router.add("GET", "/static/{file}", "the dashboard's scripts and styles", static_file);
  router.add(
      "GET", "/api/jobs", "the job queue (?status=, ?name=, ?user=, ?limit=)",
      needing_database(controller, [controller](http::Request& r) { return jobs(controller, r); }));
  router.add(
      "GET", "/api/jobs/{id}", "one job with its timeline, recoveries and cost",
      needing_database(controller, [controller](http::Request& r) { return job(controller, r); }));
  router.add(
      "GET", "/api/jobs/{id}/logs", "the job's logs from ?offset=N",
      needing_database(controller, [controller](http::Request& r) { return logs(controller, r); }));
  router.add("GET", "/metrics", "Prometheus metrics",
             [controller](http::Request&) { return metrics_response(controller); });
}

}  // namespace skyd::daemon
