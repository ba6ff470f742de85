#include "daemon/api.hpp"


#include "daemon/api_json.hpp"
#include "daemon/api_validation.hpp"
#include "daemon/controller/controller.hpp"
#include "daemon/controller/job_logs.hpp"
#include "daemon/database_gate.hpp"
#include "daemon/metrics_endpoint.hpp"
#include "daemon/volumes_api.hpp"
#include "reactor/blocking.hpp"
#include "reactor/log.hpp"
#include "reactor/numbers.hpp"
#include "store/store_errc.hpp"

#include <boost/asio/steady_timer.hpp>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <variant>

namespace skyd::daemon {
namespace {

constexpr std::size_t kLogChunk = 256 * 1024;

UserIdentity identity_of(const http::PeerCredentials& peer) {
  return UserIdentity{peer.uid, peer.gid, peer.groups};
}


std::optional<std::int64_t> job_id_of(const http::Request& request) {
  return parse_id(request.path_params.at("id"));
}

Task<http::Response> health(DaemonInfo info, Controller* controller, http::Request& request) {
  Json body = Json::object();
  const auto database =
      controller ? controller->database_health().status() : store::DatabaseHealth::Status{};
  body.set("status", database.up ? "ok" : "degraded");
  if (!database.up) body.set("reason", database.reason);
  body.set("version", info.version);
  body.set("pid", static_cast<long long>(::getpid()));
  body.set("shards", static_cast<long long>(info.shards));
  body.set("state_dir", info.state_dir);
  body.set("installation", info.installation);
  body.set(
      "uptime_seconds",
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - info.started_at).count());
  if (request.peer.known) body.set("caller_uid", static_cast<long long>(request.peer.uid));
  body.set("dashboard_url", info.dashboard_url.empty() ? Json(nullptr) : Json(info.dashboard_url));
  co_return http::Response::json(200, body);
}

Task<http::Response> submit(Controller* controller, DaemonInfo info, http::Request& request) {
  if (!request.peer.known)
    co_return http::Response::error(403, "forbidden", "the caller's identity is unknown");
  const Caller caller = caller_of(request, info);
  // Reading a pipeline with long scripts takes a while, and naming the user may ask NSS: both
  // off the shard.
  std::function<std::pair<Result<SubmitBody>, std::string>()> check =
      [body = std::move(request.body), uid = caller.uid] {
        return std::pair{parse_submit_body(body), user_name_of(uid)};
      };
  auto [checked, user_name] =
      co_await run_blocking<std::pair<Result<SubmitBody>, std::string>>(std::move(check));
  if (!checked) co_return http::Response::error(400, "bad_request", checked.error().detail);
  SubmitRequest submission;
  submission.name = std::move(checked->name);
  submission.pipeline = std::move(checked->pipeline);
  submission.pipeline_json = std::move(checked->pipeline_json);
  submission.priority = checked->priority;
  submission.uploads = std::move(checked->uploads);
  submission.num_jobs = checked->num_jobs;
  submission.submission_key = std::move(checked->submission_key);
  submission.owner = identity_of(request.peer);
  submission.user_name = std::move(user_name);
  auto ids = co_await controller->submit(std::move(submission));
  if (!ids) co_return response_for_error(ids.error(), "submitting the job");
  // "job_id" is the first (rank 0) job, as before batches; "job_ids" every job by rank.
  Json reply = Json::object();
  reply.set("job_id", static_cast<long long>(ids->front().value));
  Json list = Json::array();
  for (const store::JobId id : *ids) list.push_back(static_cast<long long>(id.value));
  reply.set("job_ids", std::move(list));
  co_return http::Response::json(201, reply);
}

Task<http::Response> queue(Controller* controller, DaemonInfo info, http::Request& request) {
  const Caller caller = caller_of(request, info);
  store::QueueFilter filter;
  // Everyone may see every job (SkyPilot's --all-users); acting on one is another matter.
  const bool all_users = request.query_param("all_users").value_or("0") == "1";
  if (!all_users) filter.user_uid = caller.uid;
  filter.open_only = request.query_param("skip_finished").value_or("0") == "1";
  if (auto name = request.query_param("name")) filter.name = std::string(*name);
  if (request.query_param("limit")) {
    const auto limit = request.query_int("limit");
    if (!limit || *limit < 1)
      co_return http::Response::error(400, "bad_request", "limit: expected a positive integer");
    filter.limit = static_cast<int>(std::min<std::int64_t>(*limit, 1'000'000));
  }
  auto jobs = co_await controller->list(filter);
  if (!jobs) co_return response_for_error(jobs.error(), "listing jobs");
  Json list = Json::array();
  const store::TimePoint now = store::TimePoint::clock::now();
  for (const auto& job : *jobs) {
    Json item = job_to_json(job, now);
    if (auto reason = controller->waiting_reason(job.id)) item.set("details", *reason);
    list.push_back(std::move(item));
  }
  Json reply = Json::object();
  reply.set("jobs", std::move(list));
  // With summary=1, the totals over every page (SkyPilot's queue: total and status_counts).
  if (request.query_param("summary").value_or("0") == "1") {
    auto summary = co_await controller->queue_summary(filter.user_uid, filter.open_only);
    if (!summary) co_return response_for_error(summary.error(), "counting jobs");
    reply.set("total", static_cast<long long>(summary->jobs));
    Json counts = Json::object();
    for (const auto& [status, count] : summary->unfinished_tasks)
      counts.set(std::string(store::to_string(status)), static_cast<long long>(count));
    reply.set("status_counts", std::move(counts));
  }
  co_return http::Response::json(200, reply);
}

// The job named by the path. Every job is visible; with `own_only`, a job of someone else's is
// refused unless the caller is privileged (its logs are its owner's).
Task<std::variant<store::JobRecord, http::Response>> visible_job(Controller* controller,
                                                                 DaemonInfo info,
                                                                 http::Request& request,
                                                                 bool own_only) {
  auto id = job_id_of(request);
  if (!id) co_return http::Response::error(400, "bad_request", "job ids are positive integers");
  auto job = co_await controller->get(store::JobId{*id});
  if (!job) co_return response_for_error(job.error(), "reading the job");
  const Caller caller = caller_of(request, info);
  if (own_only && !caller.privileged && job->user_uid != static_cast<std::int64_t>(caller.uid)) {
    co_return http::Response::error(
        403, "forbidden",
        "job " + std::to_string(*id) + " belongs to " + job->user_name +
            "; only they or a member of the admin group can read its logs or act on it");
  }
  co_return std::move(*job);
}

Task<http::Response> get_job(Controller* controller, DaemonInfo info, http::Request& request) {
  auto found = co_await visible_job(controller, info, request, false);
  if (auto* refused = std::get_if<http::Response>(&found)) co_return std::move(*refused);
  co_return http::Response::json(200, job_to_json(std::get<store::JobRecord>(found)));
}

Json cancel_reply(const CancelOutcome& outcome) {
  auto ids = [](const std::vector<std::int64_t>& values) {
    Json list = Json::array();
    for (auto value : values) list.push_back(static_cast<long long>(value));
    return list;
  };
  Json reply = Json::object();
  reply.set("scheduled", ids(outcome.scheduled));
  reply.set("already_finished", ids(outcome.already_finished));
  reply.set("not_found", ids(outcome.not_found));
  reply.set("not_permitted", ids(outcome.not_permitted));
  return reply;
}

Task<http::Response> cancel_one(Controller* controller, DaemonInfo info, http::Request& request) {
  auto id = job_id_of(request);
  if (!id) co_return http::Response::error(400, "bad_request", "job ids are positive integers");
  std::vector<store::JobId> ids{store::JobId{*id}};
  auto outcome = co_await controller->cancel(ids, caller_of(request, info));
  if (!outcome) co_return response_for_error(outcome.error(), "cancelling the job");
  if (!outcome->not_permitted.empty()) {
    co_return http::Response::error(403, "forbidden",
                                    "job " + std::to_string(*id) + " belongs to another user");
  }
  co_return http::Response::json(200, cancel_reply(*outcome));
}

Task<http::Response> cancel_many(Controller* controller, DaemonInfo info, http::Request& request) {
  auto body = parse_cancel_body(request.body);
  if (!body) co_return http::Response::error(400, "bad_request", body.error().detail);
  const Caller caller = caller_of(request, info);
  std::vector<store::JobId> ids;
  if (!body->ids.empty()) {
    for (const auto id : body->ids) ids.push_back(store::JobId{id});
  } else {
    // A name, all (the caller's own) or all users'.
    auto found = co_await controller->open_jobs_named(body->name, caller, body->all_users);
    if (!found) co_return response_for_error(found.error(), "finding the jobs to cancel");
    ids = std::move(*found);
  }
  auto outcome = co_await controller->cancel(ids, caller);
  if (!outcome) co_return response_for_error(outcome.error(), "cancelling jobs");
  co_return http::Response::json(200, cancel_reply(*outcome));
}

Task<http::Response> preempt(Controller* controller, DaemonInfo info, http::Request& request) {
  auto id = job_id_of(request);
  if (!id) co_return http::Response::error(400, "bad_request", "job ids are positive integers");
  auto found = co_await visible_job(controller, info, request, true);
  if (auto* refused = std::get_if<http::Response>(&found)) co_return std::move(*refused);
  auto cluster = co_await controller->preempt(store::JobId{*id});
  if (!cluster) {
    if (cluster.error().code == boost::system::errc::invalid_argument ||
        cluster.error().code == providers::ProviderErrc::kInvalid ||
        cluster.error().code == providers::ProviderErrc::kNotFound) {
      co_return http::Response::error(409, "not_preemptible", cluster.error().detail);
    }
    co_return response_for_error(cluster.error(), "preempting the job");
  }
  Json reply = Json::object();
  reply.set("cluster", *cluster);
  co_return http::Response::json(202, reply);
}

// Streams a job's logs: each task's attempts in order, each after its marker line; with follow,
// until the job ends. Reads the controller's log files (the job's own shard writes them).
struct LogStream {
  Controller* controller;
  std::int64_t job_id;
  std::optional<int> task;
  bool follow;
  bool controller_log;
  std::optional<int> node = std::nullopt;  // one node's output (0 is the head)
};

Task<bool> pump_file(http::ResponseStream& out, const std::string& path, std::uint64_t& offset) {
  for (;;) {
    std::string bytes = JobLogs::read(path, offset, kLogChunk);
    if (bytes.empty()) co_return true;
    offset += bytes.size();
    if (!co_await out.write(std::move(bytes))) co_return false;
  }
}

// Sends the complete lines of `path` past `offset`, or everything when `whole`: the lines of a
// multi-node task's nodes are sent file by file and must never be cut into each other. A line
// longer than a read goes as it is.
Task<bool> pump_lines(http::ResponseStream& out, const std::string& path, std::uint64_t& offset,
                      bool whole) {
  for (;;) {
    std::string bytes = JobLogs::read(path, offset, kLogChunk);
    if (bytes.empty()) co_return true;
    if (!whole && bytes.size() < kLogChunk) {
      const std::size_t end = bytes.rfind('\n');
      if (end == std::string::npos) co_return true;  // the rest of the line comes later
      bytes.resize(end + 1);
    }
    offset += bytes.size();
    if (!co_await out.write(std::move(bytes))) co_return false;
  }
}

Task<void> stream_logs(LogStream spec, http::ResponseStream& out) {
  JobLogs logs(spec.controller->options().logs_root(), spec.job_id);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::uint64_t controller_offset = 0;
  std::map<std::tuple<int, int, int>, std::uint64_t> offsets;  // (task, attempt, node) -> sent
  std::map<int, std::size_t> markers_sent;                     // task -> attempts announced
  for (;;) {
    auto job = co_await spec.controller->get(store::JobId{spec.job_id});
    if (!job) co_return;
    const bool ended = job->ended_at.has_value();
    if (spec.controller_log) {
      if (!co_await pump_file(out, logs.controller_log(), controller_offset)) co_return;
    } else {
      for (const auto& task : job->tasks) {
        if (spec.task && *spec.task != task.task_index) continue;
        const auto attempts = logs.attempts(task.task_index);
        for (std::size_t a = 0; a < attempts.size(); ++a) {
          if (markers_sent[task.task_index] <= a) {
            if (!co_await out.write(attempts[a].marker + "\n")) co_return;
            markers_sent[task.task_index] = a + 1;
          }
          const int attempt = attempts[a].attempt;
          if (attempts[a].nodes == 1 || spec.node) {
            // One node's bytes, as they come.
            const int rank = spec.node.value_or(0);
            auto& offset = offsets[{task.task_index, attempt, rank}];
            if (!co_await pump_file(out, logs.attempt_log(task.task_index, attempt, rank), offset))
              co_return;
            continue;
          }
          // Every node's lines (each carries its node), whole lines only until the end.
          const bool whole = ended || !spec.follow || out.closing();
          for (int rank = 0; rank < attempts[a].nodes; ++rank) {
            auto& offset = offsets[{task.task_index, attempt, rank}];
            if (!co_await pump_lines(out, logs.attempt_log(task.task_index, attempt, rank), offset,
                                     whole))
              co_return;
          }
        }
      }
    }
    // A stopping skyd ends its followers cleanly instead of holding its stop for the grace.
    if (ended || !spec.follow || out.closing()) co_return;
    // Followers poll the files the job's shard appends to; a quarter second keeps `sky jobs logs`
    // close to live without measurable cost.
    pause.expires_after(std::chrono::milliseconds(250));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

Task<http::Response> job_logs(Controller* controller, DaemonInfo info, http::Request& request) {
  auto found = co_await visible_job(controller, info, request, true);
  if (auto* refused = std::get_if<http::Response>(&found)) co_return std::move(*refused);
  const auto& job = std::get<store::JobRecord>(found);
  const std::int64_t id = job.id.value;
  LogStream spec{controller, id, std::nullopt, request.query_param("follow").value_or("1") != "0",
                 request.query_param("controller").value_or("0") == "1"};
  if (auto task = request.query_param("task")) {
    const auto index = request.query_int("task").value_or(-1);
    if (index < 0 || index >= static_cast<std::int64_t>(job.tasks.size())) {
      co_return http::Response::error(
          404, "not_found", "job " + std::to_string(id) + " has no task " + std::string(*task));
    }
    spec.task = static_cast<int>(index);
  }
  if (request.query_param("node")) {
    const auto rank = request.query_int("node").value_or(-1);
    if (rank < 0 || rank > std::numeric_limits<int>::max())
      co_return http::Response::error(400, "bad_request", "node: expected a node rank (0, 1, ...)");
    spec.node = static_cast<int>(rank);
  }
  http::Response response;
  response.set_header("Content-Type", "text/plain; charset=utf-8");
  response.stream = [spec](http::ResponseStream& out) { return stream_logs(spec, out); };
  co_return response;
}

// `sky storage ls`: every bucket skyd has used and not deleted.
Task<http::Response> list_buckets(Controller* controller, http::Request&) {
  auto buckets = co_await controller->buckets();
  if (!buckets) co_return response_for_error(buckets.error(), "listing buckets");
  Json list = Json::array();
  for (const auto& bucket : *buckets) {
    Json item = Json::object();
    item.set("name", bucket.name);
    item.set("store", bucket.store);
    item.set("region", bucket.region);
    item.set("state", std::string(store::to_string(bucket.state)));
    item.set("created_by_skyd", bucket.created_by_skyd);
    item.set("persistent", bucket.persistent);
    item.set("owner", bucket.owner_name);
    item.set("owner_uid", static_cast<long long>(bucket.owner_uid));
    item.set("job_id",
             bucket.job_id ? Json(static_cast<long long>(bucket.job_id->value)) : Json(nullptr));
    item.set("size_bytes",
             bucket.size_bytes ? Json(static_cast<long long>(*bucket.size_bytes)) : Json(nullptr));
    item.set("created_at_us", static_cast<long long>(bucket.created_us));
    item.set("updated_at_us", static_cast<long long>(bucket.updated_us));
    list.push_back(std::move(item));
  }
  Json reply = Json::object();
  reply.set("buckets", std::move(list));
  co_return http::Response::json(200, reply);
}

Task<http::Response> delete_bucket(Controller* controller, DaemonInfo info,
                                   http::Request& request) {
  if (!request.peer.known)
    co_return http::Response::error(403, "forbidden", "the caller's identity is unknown");
  const std::string name = request.path_params.at("name");
  auto done = co_await controller->delete_bucket(name, caller_of(request, info));
  if (!done) co_return response_for_error(done.error(), "deleting bucket " + name);
  Json reply = Json::object();
  reply.set("name", name);
  reply.set("outcome", *done);
  co_return http::Response::json(200, reply);
}

}  // namespace

Caller caller_of(const http::Request& request, const DaemonInfo& info) {
  Caller caller;
  caller.uid = request.peer.known ? request.peer.uid : static_cast<uid_t>(-1);
  caller.privileged =
      request.peer.known && (request.peer.uid == 0 || request.peer.uid == ::geteuid() ||
                             (info.admin_group && request.peer.in_group(*info.admin_group)));
  return caller;
}

std::string user_name_of(uid_t uid) {
  if (const passwd* user = ::getpwuid(uid)) return user->pw_name;
  return std::to_string(uid);
}

http::Response response_for_error(const Error& error, std::string_view doing) {
  if (error.code == store::StoreErrc::kNotFound)
    return http::Response::error(404, "not_found", error.detail);
  if (error.code == boost::system::errc::permission_denied)
    return http::Response::error(403, "forbidden", error.detail);
  if (error.code == boost::system::errc::device_or_resource_busy)
    return http::Response::error(409, "in_use", error.detail);
  if (error.code == boost::system::errc::invalid_argument)
    return http::Response::error(400, "invalid", error.detail);
  const bool retryable = store::is_retryable(error) || error.code == store::StoreErrc::kTimedOut;
  logger("api")->error("request failed doing=\"{}\" error=\"{}\"", doing, error.message());
  // PostgreSQL's own text stays in the log: callers learn what skyd was doing.
  if (retryable) return database_unavailable("while " + std::string(doing));
  return http::Response::error(
      500, "internal", "internal error while " + std::string(doing) + "; skyd's log has why");
}

// Uploads: PUT /v1/uploads/{digest}?size=S&offset=N with the next bytes, GET ...?size=S for how
// far it has come. Always the caller's own upload; skyd never reads a path a client names.
Json upload_json(const UploadState& state) {
  Json body = Json::object();
  body.set("size", static_cast<long long>(state.size));
  body.set("received", static_cast<long long>(state.received));
  body.set("complete", state.complete);
  return body;
}

http::Response upload_error_response(const Error& error) {
  if (error.code.category() != upload_category())
    return response_for_error(error, "storing the upload");
  switch (static_cast<UploadErrc>(error.code.value())) {
    case UploadErrc::kInvalid:
    case UploadErrc::kMismatch:
      return http::Response::error(400, "bad_request", error.detail);
    case UploadErrc::kWrongOffset:
      return http::Response::error(409, "wrong_offset", error.detail);
    case UploadErrc::kBusy: {
      auto busy = http::Response::error(409, "busy", error.detail);
      busy.set_header("Retry-After", "1");
      return busy;
    }
    case UploadErrc::kIo:
      return http::Response::error(507, "insufficient_storage", error.detail);
  }
  return response_for_error(error, "storing the upload");
}

Task<http::Response> upload(Controller* controller, http::Request& request) {
  if (!request.peer.known)
    co_return http::Response::error(403, "forbidden", "the caller's identity is unknown");
  const std::string digest = request.path_params.at("digest");
  const auto size = request.query_int("size");
  if (!size || *size < 0)
    co_return http::Response::error(400, "bad_request",
                                    "size: expected the upload's size in bytes");
  Result<UploadState> state = UploadState{};
  if (request.method == "PUT") {
    const auto offset = request.query_int("offset");
    if (!offset || *offset < 0)
      co_return http::Response::error(400, "bad_request", "offset: expected a byte offset");
    state = co_await controller->uploads().put(
        identity_of(request.peer), digest, static_cast<std::uint64_t>(*size),
        static_cast<std::uint64_t>(*offset), std::move(request.body));
  } else {
    state = co_await controller->uploads().state(identity_of(request.peer), digest,
                                                 static_cast<std::uint64_t>(*size));
  }
  if (!state) co_return upload_error_response(state.error());
  co_return http::Response::json(200, upload_json(*state));
}

http::Router make_api_router(const DaemonInfo& info, Controller* controller) {
  http::Router router;
  router.add(
      "GET", "/v1/health", "daemon health (ok, or degraded with a reason), version and uptime",
      [info, controller](http::Request& request) { return health(info, controller, request); });
  if (!controller) return router;
  router.add("GET", "/metrics", "Prometheus metrics",
             [controller](http::Request&) { return metrics_response(controller); });
  // Every job route needs the database: while it is away they answer 503 at once.
  auto jobs_route = [&router, controller](const char* method, const char* path, const char* help,
                                          http::Handler handler) {
    router.add(method, path, help, needing_database(controller, std::move(handler)));
  };
  jobs_route("POST", "/v1/jobs", "submit a managed job",
             [controller, info](http::Request& r) { return submit(controller, info, r); });
  jobs_route("GET", "/v1/jobs", "the job queue",
             [controller, info](http::Request& r) { return queue(controller, info, r); });
  jobs_route("GET", "/v1/jobs/{id}", "one job and its tasks",
             [controller, info](http::Request& r) { return get_job(controller, info, r); });
  jobs_route("GET", "/v1/jobs/{id}/logs", "the job's logs (chunked; follow)",
             [controller, info](http::Request& r) { return job_logs(controller, info, r); });
  jobs_route("POST", "/v1/jobs/{id}/cancel", "cancel a job",
             [controller, info](http::Request& r) { return cancel_one(controller, info, r); });
  jobs_route("POST", "/v1/jobs/cancel", "cancel jobs by ids, name or all",
             [controller, info](http::Request& r) { return cancel_many(controller, info, r); });
  router.add("GET", "/v1/uploads/{digest}", "how much of an upload has arrived (?size=S)",
             [controller](http::Request& r) { return upload(controller, r); });
  router.add("PUT", "/v1/uploads/{digest}", "the next bytes of an upload (?size=S&offset=N)",
             [controller](http::Request& r) { return upload(controller, r); });
  jobs_route("POST", "/v1/jobs/{id}/preempt", "preempt the job's local spot machines",
             [controller, info](http::Request& r) { return preempt(controller, info, r); });
  jobs_route("GET", "/v1/storage", "the buckets task file_mounts use",
             [controller](http::Request& r) { return list_buckets(controller, r); });
  jobs_route("DELETE", "/v1/storage/{name}", "delete a bucket skyd made (forget one it did not)",
             [controller, info](http::Request& r) { return delete_bucket(controller, info, r); });
  add_volume_routes(router, info, controller);
  return router;
}

}  // namespace skyd::daemon
