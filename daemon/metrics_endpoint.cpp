#include "daemon/metrics_endpoint.hpp"

#include "daemon/controller/controller.hpp"
#include "daemon/version.hpp"
#include "reactor/metrics.hpp"
#include "store/store_errc.hpp"

namespace skyd::daemon {

Task<http::Response> metrics_response(Controller* controller) {
  auto& registry = metrics::registry();
  registry.gauge("skyd_build_info", "The running skyd's version (always 1)", {"version"})
      .with({std::string(kVersion)})
      .set(1);
  if (controller) {
    const bool database_up = controller->database_health().up();
    registry.gauge("skyd_database_up", "1 while the database answers, 0 while it is away", {})
        .with()
        .set(database_up ? 1 : 0);
    // While the database is away the job counts keep their last values.
    Result<std::map<store::JobStatus, std::int64_t>> counts =
        store::make_error(store::StoreErrc::kUnavailable, "the database is away");
    if (database_up) counts = co_await controller->count_by_status();
    if (counts) {
      auto& jobs = registry.gauge("skyd_jobs", "Jobs by status (from the database)", {"status"});
      for (const auto status : store::kAllJobStatuses) {
        const auto found = counts->find(status);
        jobs.with({std::string(store::to_string(status))})
            .set(found == counts->end() ? 0.0 : static_cast<double>(found->second));
      }
    }
    // The cost ledger, summed from the database at each scrape: a gauge, since it is read, not
    // counted by this process (it starts where the database is after a restart).
    Result<std::vector<store::MarketCost>> costs =
        store::make_error(store::StoreErrc::kUnavailable, "the database is away");
    if (database_up) costs = co_await controller->cost_by_market();
    if (costs) {
      auto& spent =
          registry.gauge("skyd_job_cost_dollars",
                         "Spent on job runs so far, by market (from the database)", {"market"});
      auto& on_demand = registry.gauge(
          "skyd_job_on_demand_equivalent_dollars",
          "What the same job runs would have cost on demand, by market they ran in", {"market"});
      for (const char* market : {"spot", "on-demand"}) {
        double cost = 0;
        double equivalent = 0;
        for (const auto& row : *costs) {
          if (row.market != market) continue;
          cost = row.cost_usd;
          equivalent = row.on_demand_cost_usd;
        }
        spent.with({market}).set(cost);
        on_demand.with({market}).set(equivalent);
      }
    }
    if (!counts || !costs) {
      registry
          .counter("skyd_metrics_db_errors_total",
                   "Scrapes whose job counts or costs could not be read from the database", {})
          .with()
          .inc();
    }
  }
  co_return http::Response::text(200, registry.expose(), std::string(metrics::kContentType));
}

}  // namespace skyd::daemon
