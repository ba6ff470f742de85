#pragma once
// The daemon's HTTP API on its Unix socket (HTTP/1.1 + JSON): route table and handlers.
//
//   GET  /v1/health                  status ("ok", or "degraded" with a "reason" while the
//                                    database is away), version, uptime, shards, dashboard_url
//   POST /v1/jobs                    submit {"name", "pipeline", "priority"?} -> {"job_id"}
//   GET  /v1/jobs                    the queue (?all_users=1, ?skip_finished=1, ?name=, ?limit=)
//   GET  /v1/jobs/{id}               one job with its tasks
//   GET  /v1/jobs/{id}/logs          chunked log stream (?task=N, ?follow=0|1, ?controller=1)
//   POST /v1/jobs/{id}/cancel        cancel one job
//   POST /v1/jobs/cancel             cancel by {"ids":[..]}, {"name":..} or {"all":true}
//   POST /v1/jobs/{id}/preempt       local provider: preempt the job's spot machines now
//   GET  /metrics                    Prometheus text format (daemon/metrics_endpoint.hpp)
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

struct DaemonInfo {
  std::string version;
  std::string state_dir;
  std::size_t shards = 0;
  Clock::time_point started_at = Clock::now();
  std::optional<gid_t> socket_group;
  std::string dashboard_url;  // empty when the dashboard is off (health shows null)
};

http::Router make_api_router(const DaemonInfo& info, Controller* controller);

}  // namespace skyd::daemon
