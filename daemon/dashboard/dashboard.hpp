#pragma once
// The `sky jobs dashboard` web UI: a read-only page over the job queue, each job's tasks,
// timeline, recoveries, estimated cost and logs, served on a loopback TCP port (config
// `dashboard`). The page polls the JSON routes below once a second, so it updates without a
// reload. Over TCP there are no peer credentials: whoever reaches the port sees every job, which
// is why skyd binds it to loopback only (remote access: an SSH tunnel; docs/operations.md).
//
//   GET /                         the page (index.html; app.js and style.css beside it)
//   GET /api/jobs                 the queue (?status=RUNNING,PENDING ?name= ?user= ?limit=)
//   GET /api/jobs/{id}            one job: tasks, cost, events (timeline) and recoveries
//   GET /api/jobs/{id}/logs       {"offset","next_offset","text","ended"} from ?offset=N
//   GET /metrics                  Prometheus text format (as on the API socket)

#include "reactor/error.hpp"
#include "reactor/http_server.hpp"
#include "reactor/json.hpp"
#include "store/job_repository.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::daemon {

class Controller;

struct DashboardAsset {
  std::string_view name;  // file name under daemon/dashboard/assets
  std::string_view text;
};

// The files of daemon/dashboard/assets, embedded at build time (embed_assets.cmake).
const std::vector<DashboardAsset>& dashboard_assets();

struct DashboardAddress {
  std::string host;
  std::uint16_t port = 0;  // 0: any free port (tests)
};

// "127.0.0.1:8266", "[::1]:8266" or "localhost:8266". Anything but a loopback host is refused.
Result<DashboardAddress> parse_dashboard_address(std::string_view text);

void add_dashboard_routes(http::Router& router, Controller* controller);

// The job page's JSON: job_to_json plus per task "cost_usd", the job's "cost_usd", "events" and
// "recoveries" (each with where the task ran before and where it ran next). Pure, for tests.
Json dashboard_job_json(const store::JobRecord& job, const std::vector<store::JobEvent>& events,
                        store::TimePoint now);

}  // namespace skyd::daemon
