#pragma once
// The daemon's HTTP API on its Unix socket (HTTP/1.1 + JSON): route table and handlers.
//
//   GET  /v1/health                  status ("ok", or "degraded" with a "reason" while the
//                                    database is away), version, uptime, shards, dashboard_url
//   POST /v1/jobs                    submit {"name", "pipeline", "priority"?} -> {"job_id"}
//                                    (bodies are checked by daemon/api_validation.hpp: a 400
//                                    names the field; ids in paths are canonical decimals)
//   GET  /v1/jobs                    the queue (?all_users=1, ?skip_finished=1, ?name=, ?limit=)
//   GET  /v1/jobs/{id}               one job with its tasks
//   GET  /v1/jobs/{id}/logs          chunked log stream (?task=N, ?follow=0|1, ?controller=1)
//   POST /v1/jobs/{id}/cancel        cancel one job
//   POST /v1/jobs/cancel             cancel by {"ids":[..]}, {"name":..} or {"all":true}
//   POST /v1/jobs/{id}/preempt       local provider: preempt the job's spot machines now
//   GET  /metrics                    Prometheus text format (daemon/metrics_endpoint.hpp)
//   POST /v1/volumes, GET /v1/volumes, DELETE /v1/volumes/{name}
//                                    `sky volumes` (daemon/volumes_api.hpp)
//
// While the database is away every /v1/jobs route answers 503 with Retry-After at once.
// Who calls comes from the socket's peer credentials: a user sees and cancels their own jobs;
// root, skyd's own user and members of its socket group see and cancel all.

#include "reactor/http_server.hpp"

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

namespace skyd::daemon {

class Controller;
struct Caller;

struct DaemonInfo {
  std::string version;
  std::string state_dir;
  std::size_t shards = 0;
  Clock::time_point started_at = Clock::now();
  std::optional<gid_t> socket_group;
  std::optional<gid_t> admin_group;  // its members may act on every job (cancel, logs)
  std::string dashboard_url;         // empty when the dashboard is off (health shows null)
  std::string installation;          // the identity this controller's tags and tokens carry
};

http::Router make_api_router(const DaemonInfo& info, Controller* controller);

// Who is calling, from the socket's peer credentials: root, skyd's own user and members of the
// admin group may act on everyone's jobs and volumes; everyone else on their own.
Caller caller_of(const http::Request& request, const DaemonInfo& info);
// A user's login name, or the uid as text when it has none.
std::string user_name_of(uid_t uid);

// The answer for an error from the controller or the store: 404 (not found), 400 (invalid), 503
// (the database is unavailable), else 500. The store's own text (PostgreSQL's messages name
// tables, constraints and values) goes to the log only: the caller gets a message of ours that
// says what failed (`doing`, "submitting the job").
http::Response response_for_error(const Error& error, std::string_view doing);

}  // namespace skyd::daemon
