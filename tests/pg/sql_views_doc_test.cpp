// Every query of docs/sql-views.md runs against the current schema: the ```sql blocks are read
// from the page at test time (so the page and the test cannot drift), Grafana's time macros are
// replaced by a fixed range, and each statement runs on a migrated database holding a job that
// ran, was preempted, recovered in another zone and succeeded. The Grafana queries must also
// return rows for that job.
#include "store/job_repository.hpp"
#include "store/pg_pool.hpp"
#include "tests/pg/pg_test_support.hpp"
#include "tests/support/test_support.hpp"

#include <fstream>
#include <regex>
#include <sstream>

namespace skyd::store {
namespace {

using skyd::testing::run_co;
using testing::TestDatabase;
using S = JobStatus;

struct DocQuery {
  std::string text;  // as documented
  std::string sql;   // with the macros replaced
  bool grafana = false;
};

std::vector<DocQuery> documented_queries() {
  std::ifstream in(std::string(SKYD_DOCS_DIR) + "/sql-views.md");
  std::stringstream page;
  page << in.rdbuf();
  std::vector<DocQuery> out;
  const std::string text = page.str();
  static const std::regex kTimeFilter(R"(\$__timeFilter\(([^)]+)\))");
  for (std::size_t at = text.find("```sql\n"); at != std::string::npos;
       at = text.find("```sql\n", at)) {
    const auto begin = at + 7;
    const auto end = text.find("```", begin);
    if (end == std::string::npos) break;
    std::istringstream lines(text.substr(begin, end - begin));
    std::string line, statement;
    while (std::getline(lines, line)) {
      if (line.rfind("--", 0) == 0) continue;
      statement += line + "\n";
      if (line.ends_with(";")) {
        DocQuery query;
        query.text = statement;
        query.grafana = statement.find("$__") != std::string::npos;
        std::string sql = std::regex_replace(statement, kTimeFilter,
                                             "($1 BETWEEN now() - interval '1 day' AND now() + "
                                             "interval '1 hour')");
        for (const auto& [macro, value] :
             {std::pair<std::string, std::string>{"$__timeFrom()", "(now() - interval '1 day')"},
              {"$__timeTo()", "(now() + interval '1 hour')"}}) {
          for (auto found = sql.find(macro); found != std::string::npos; found = sql.find(macro))
            sql.replace(found, macro.size(), value);
        }
        query.sql = sql;
        out.push_back(std::move(query));
        statement.clear();
      }
    }
    at = end + 3;
  }
  return out;
}

TransitionRequest step(JobId job, S from, S to, std::string reason) {
  TransitionRequest request;
  request.job_id = job;
  request.task_index = 0;
  request.from = from;
  request.to = to;
  request.reason = std::move(reason);
  return request;
}

Task<void> run_every_query(std::string conninfo, std::vector<DocQuery> queries) {
  PgPool pool(co_await asio::this_coro::executor, testing::test_pool_options(conninfo));
  CO_ASSERT(co_await testing::migrate(pool));
  JobRepository jobs(pool);
  auto id = co_await jobs.create_job(testing::sample_job("train", 1, 1001));
  CO_ASSERT_OK(id);
  const std::string first_zone =
      R"({"cloud":"aws","region":"us-east-1","zone":"us-east-1a","instance_type":"p3.2xlarge",)"
      R"("use_spot":true,"node_price":0.9,"nodes":2})";
  const std::string second_zone =
      R"({"cloud":"aws","region":"us-east-1","zone":"us-east-1b","instance_type":"p3.2xlarge",)"
      R"("use_spot":true,"node_price":0.9,"nodes":2})";
  std::vector<TransitionRequest> path = {
      step(*id, S::kPending, S::kStarting, "launching"),
      step(*id, S::kStarting, S::kRunning, "running"),
      step(*id, S::kRunning, S::kRecovering, "spot preemption notice"),
      step(*id, S::kRecovering, S::kRunning, "running"),
      step(*id, S::kRunning, S::kSucceeded, "exit 0")};
  path[1].placement_json = first_zone;
  path[1].details_json = first_zone;
  path[2].details_json = first_zone;
  path[3].placement_json = second_zone;
  path[3].details_json = second_zone;
  for (auto& request : path) {
    auto moved = co_await jobs.transition(request);
    CO_ASSERT_OK(moved);
  }
  // Running time is what the cost is made of: give the task an hour of it.
  auto ran =
      co_await pool.query("UPDATE tasks SET job_duration_seconds = 3600 WHERE job_id = $1::bigint",
                          make_params(id->value));
  CO_ASSERT_OK(ran);

  for (const auto& query : queries) {
    auto rows = co_await pool.query(query.sql, Params{});
    if (!rows) {
      ADD_FAILURE() << "documented query fails: " << rows.error().message() << "\n" << query.text;
      continue;
    }
    if (query.grafana) {
      EXPECT_GT(rows->size(), 0u) << "no rows from:\n" << query.text;
    }
  }
  auto cost = co_await pool.query("SELECT cost_usd FROM task_costs", Params{});
  CO_ASSERT_OK(cost);
  CO_ASSERT(cost->size() == 1);
  EXPECT_DOUBLE_EQ(cost->float64(0, "cost_usd"), 1.8) << "0.9 $/h x 2 nodes x 1 h";
}

TEST(SqlViewsDoc, EveryDocumentedQueryRuns) {
  const auto queries = documented_queries();
  std::size_t grafana = 0;
  for (const auto& query : queries) grafana += query.grafana ? 1 : 0;
  ASSERT_GE(queries.size(), 14u) << "the sql blocks of docs/sql-views.md were not found";
  ASSERT_GE(grafana, 5u) << "the Grafana section's queries were not found";
  for (const auto& query : queries) {
    EXPECT_EQ(query.sql.find("$__"), std::string::npos) << "an unknown macro in " << query.text;
  }
  TestDatabase db;
  run_co<void>([&] { return run_every_query(db.conninfo(), queries); });
}

}  // namespace
}  // namespace skyd::store
