#include "daemon/metrics_endpoint.hpp"

#include "daemon/controller/controller.hpp"
#include "daemon/version.hpp"
#include "reactor/metrics.hpp"
#include "store/store_errc.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

namespace skyd::daemon {
namespace {

// The cost ledger sums every run ever recorded (view attempt_costs): at 10,000 jobs one read
// costs the database ~70 ms, and a bench scraping twice a second spent a quarter of a core on it.
// A scrape reuses the last sum for 100 times as long as reading it took, so however often
// /metrics is scraped the sum costs the database at most 1% of a core, and a small ledger (a
// read of a millisecond) is read again at nearly every scrape. A sum is never older than a
// minute.
class CostLedgerCache {
 public:
  std::optional<std::vector<store::MarketCost>> fresh() {
    std::lock_guard lock(mutex_);
    if (!costs_ || Clock::now() >= fresh_until_) return std::nullopt;
    return costs_;
  }
  void keep(std::vector<store::MarketCost> costs, Duration took) {
    std::lock_guard lock(mutex_);
    costs_ = std::move(costs);
    fresh_until_ = Clock::now() + std::min<Duration>(100 * took, std::chrono::minutes(1));
  }

 private:
  std::mutex mutex_;  // scrapes come in on any shard
  std::optional<std::vector<store::MarketCost>> costs_;
  Clock::time_point fresh_until_;
};

Task<Result<std::vector<store::MarketCost>>> cost_ledger(Controller* controller) {
  static CostLedgerCache cache;
  if (auto kept = cache.fresh()) co_return std::move(*kept);
  const auto started = Clock::now();
  auto costs = co_await controller->cost_by_market();
  if (costs) cache.keep(*costs, Clock::now() - started);
  co_return costs;
}

}  // namespace

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
    // The cost ledger, summed from the database: a gauge, since it is read, not counted by this
    // process (it starts where the database is after a restart).
    Result<std::vector<store::MarketCost>> costs =
        store::make_error(store::StoreErrc::kUnavailable, "the database is away");
    if (database_up) costs = co_await cost_ledger(controller);
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
