#pragma once
// GET /metrics: the process-wide registry (reactor/metrics.hpp) in the Prometheus text format,
// with the job counts per status read from the database at scrape time. Served on the API socket
// and on the dashboard port.

#include "reactor/http_server.hpp"

namespace skyd::daemon {

class Controller;

// When the database cannot be read, skyd_jobs keeps its last values and
// skyd_metrics_db_errors_total counts the failure; the scrape still succeeds.
Task<http::Response> metrics_response(Controller* controller);

}  // namespace skyd::daemon
