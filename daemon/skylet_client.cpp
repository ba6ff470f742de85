#include "daemon/skylet_client.hpp"

#include "reactor/numbers.hpp"

namespace skyd::daemon {
namespace {

Json string_map(const std::map<std::string, std::string>& values) {
  Json out = Json::object();
  for (const auto& [key, value] : values) out.set(key, value);
  return out;
}

std::optional<int> optional_int(const Json& body, const char* key) {
  const Json* value = body.find(key);
  if (!value || !value->as_int()) return std::nullopt;
  return static_cast<int>(*value->as_int());
}

Result<AttemptStatus> parse_status(const http::Response& response) {
  if (response.status >= 300) {
    return make_error(NetErrc::kProtocol, "skylet answered " + std::to_string(response.status) +
                                              ": " + http::error_message_of(response));
  }
  auto body = parse_json(response.body);
  if (!body) return body.error();
  AttemptStatus status;
  if (const Json* phase = body->find("phase"); phase && phase->as_string())
    status.phase = std::string(*phase->as_string());
  status.setup_exit_code = optional_int(*body, "setup_exit_code");
  status.exit_code = optional_int(*body, "exit_code");
  if (auto bytes = optional_int(*body, "log_bytes"))
    status.log_bytes = static_cast<std::uint64_t>(*bytes);
  if (const Json* error = body->find("mount_error"); error && error->as_string())
    status.mount_error = std::string(*error->as_string());
  if (const Json* error = body->find("container_error"); error && error->as_string())
    status.container_error = std::string(*error->as_string());
  if (const Json* progress = body->find("progress_seconds"); progress && progress->as_int())
    status.progress_seconds = static_cast<std::int64_t>(*progress->as_int());
  return status;
}

}  // namespace

Json to_json(const AttemptRequest& request) {
  Json body = Json::object();
  body.set("attempt_id", request.attempt_id);
  body.set("setup", request.setup);
  body.set("run", request.run);
  body.set("env", string_map(request.env));
  body.set("setup_env", string_map(request.setup_env));
  body.set("workdir", request.workdir);
  if (request.hold_run) body.set("hold_run", true);
  if (!request.log_label.empty()) {
    body.set("log_label", request.log_label);
    body.set("log_ip", request.log_ip);
  }
  if (request.user) body.set("user", to_json(*request.user));
  if (!request.container_image.empty()) body.set("container_image", request.container_image);
  if (!request.mounts.empty()) {
    Json mounts = Json::array();
    for (const auto& mount : request.mounts) mounts.push_back(skylet::to_json(mount));
    body.set("mounts", std::move(mounts));
  }
  return body;
}

Task<Result<http::Response>> SkyletClient::call(const providers::Node& node, std::string method,
                                                std::string target, std::string body,
                                                Duration timeout) {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  request.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  co_return co_await client_.request(node.skylet, std::move(request), {timeout});
}

Task<Result<AttemptStatus>> SkyletClient::start(providers::Node node, AttemptRequest attempt) {
  auto response =
      co_await call(node, "POST", "/tasks", to_json(attempt).dump(), std::chrono::seconds(30));
  if (!response) co_return response.error();
  co_return parse_status(*response);
}

Task<Result<AttemptStatus>> SkyletClient::status(providers::Node node, std::string attempt_id) {
  auto response = co_await call(node, "GET", "/tasks/" + attempt_id, {}, std::chrono::seconds(10));
  if (!response) co_return response.error();
  co_return parse_status(*response);
}

Task<Result<LogChunk>> SkyletClient::logs(providers::Node node, std::string attempt_id,
                                          std::uint64_t offset, Duration wait, Duration patience,
                                          std::optional<std::size_t> events_since) {
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  std::string target = "/tasks/" + attempt_id + "/logs?offset=" + std::to_string(offset) +
                       "&wait_ms=" + std::to_string(wait_ms);
  if (events_since) target += "&events_since=" + std::to_string(*events_since);
  auto response = co_await call(node, "GET", std::move(target), {}, wait + patience);
  if (!response) co_return response.error();
  if (response->status != 200) {
    co_return make_error(NetErrc::kProtocol, "skylet answered " + std::to_string(response->status) +
                                                 ": " + http::error_message_of(*response));
  }
  LogChunk chunk;
  chunk.bytes = std::move(response->body);
  chunk.next_offset = offset + chunk.bytes.size();
  if (const std::string* next = response->header("X-Log-Next-Offset")) {
    const auto parsed = parse_int64(*next);
    if (!parsed || *parsed < 0)
      co_return make_error(NetErrc::kProtocol, "skylet sent a bad X-Log-Next-Offset: " + *next);
    chunk.next_offset = static_cast<std::uint64_t>(*parsed);
  }
  const std::string* complete = response->header("X-Log-Complete");
  chunk.complete = complete && *complete == "1";
  if (const std::string* progress = response->header("X-Attempt-Progress")) {
    const auto parsed = parse_int64(*progress);
    if (parsed && *parsed >= 0) chunk.progress_seconds = *parsed;
  }
  if (const std::string* events = response->header("X-Node-Events")) {
    const auto parsed = parse_int64(*events);
    if (parsed && *parsed >= 0) chunk.node_events = static_cast<std::size_t>(*parsed);
  }
  co_return chunk;
}

Task<Result<AttemptStatus>> SkyletClient::cancel(providers::Node node, std::string attempt_id) {
  auto response = co_await call(node, "POST", "/tasks/" + attempt_id + "/signal",
                                R"({"signal":"cancel"})", std::chrono::seconds(60));
  if (!response) co_return response.error();
  co_return parse_status(*response);
}

Task<Result<AttemptStatus>> SkyletClient::release(providers::Node node, std::string attempt_id) {
  auto response = co_await call(node, "POST", "/tasks/" + attempt_id + "/release", "{}",
                                std::chrono::seconds(10));
  if (!response) co_return response.error();
  co_return parse_status(*response);
}

Task<Result<std::vector<Json>>> SkyletClient::events(providers::Node node, std::size_t since,
                                                     Duration wait) {
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  auto response = co_await call(
      node, "GET", "/events?since=" + std::to_string(since) + "&wait_ms=" + std::to_string(wait_ms),
      {}, wait + std::chrono::seconds(10));
  if (!response) co_return response.error();
  if (response->status != 200) {
    co_return make_error(NetErrc::kProtocol, "skylet answered " + std::to_string(response->status) +
                                                 ": " + http::error_message_of(*response));
  }
  auto body = parse_json(response->body);
  if (!body) co_return body.error();
  std::vector<Json> events;
  if (const Json* list = body->find("events"); list && list->as_array()) events = *list->as_array();
  co_return events;
}

}  // namespace skyd::daemon
