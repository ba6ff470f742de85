// The operations surface end to end: /metrics on the API socket and on the dashboard port, the
// dashboard's JSON routes, and `sky jobs dashboard`, against a real skyd driven through `sky`.
#include "reactor/json.hpp"
#include "tests/support/skyd_harness.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <thread>

namespace skyd::testing {
namespace {

// curl from PATH (scripts/install-deps.sh installs it).
std::string curl_binary() {
  return program_on_path("curl");
}

CommandResult curl_unix(const std::string& socket, const std::string& path) {
  return run_command({curl_binary(), "-sS", "--max-time", "20", "--unix-socket", socket,
                      "http://localhost" + path});
}

CommandResult curl(const std::string& url) {
  return run_command({curl_binary(), "-sS", "--max-time", "20", "-w", "\n%{http_code}", url});
}

std::string local_task(const std::string& name, const std::string& run) {
  return "name: " + name + "\nresources:\n  infra: local\nrun: |\n  " + run + "\n";
}

std::string dashboard_url(SkydHarness& skyd) {
  auto printed = skyd.sky({"jobs", "dashboard", "--no-browser"});
  EXPECT_EQ(printed.exit_code, 0) << printed.out << printed.err;
  std::smatch match;
  static const std::regex kUrl(R"(Dashboard: (http://127\.0\.0\.1:[0-9]+/))");
  if (!std::regex_search(printed.out, match, kUrl)) {
    ADD_FAILURE() << "no dashboard URL in: " << printed.out;
    return "";
  }
  return match[1];
}

TEST(MetricsEndpoint, ShowAJobsTransitionsLaunchesAndLogBytesAfterARun) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("hello.yaml", local_task("hello", "echo hello metrics"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;

  auto scraped = curl_unix(skyd.socket(), "/metrics");
  ASSERT_EQ(scraped.exit_code, 0) << scraped.err;
  const std::string& text = scraped.out;
  EXPECT_EQ(metric_sample(text, R"(skyd_job_transitions_total{to="STARTING"})"), 1) << text;
  EXPECT_EQ(metric_sample(text, R"(skyd_job_transitions_total{to="RUNNING"})"), 1) << text;
  EXPECT_EQ(metric_sample(text, R"(skyd_job_transitions_total{to="SUCCEEDED"})"), 1) << text;
  EXPECT_EQ(metric_sample(text, R"(skyd_jobs{status="SUCCEEDED"})"), 1) << text;
  EXPECT_EQ(metric_sample(text, R"(skyd_jobs{status="RUNNING"})"), 0) << text;
  EXPECT_EQ(metric_sample(text, R"(skyd_launch_attempts_total{provider="local",region="local"})"),
            1)
      << text;
  EXPECT_GE(metric_sample(text, "skyd_log_bytes_total"), 12) << text;  // "hello metrics\n" at least
  EXPECT_GT(metric_sample(text, "skyd_pg_query_duration_seconds_count"), 0) << text;
  EXPECT_TRUE(contains(text, "# TYPE skyd_reactor_loop_lag_seconds histogram")) << text;
  EXPECT_TRUE(contains(text, "# TYPE skyd_http_client_request_duration_seconds histogram")) << text;
}

TEST(MetricsEndpoint, CountRecoveriesByReasonAfterAPreemption) {
  SkydHarness skyd;
  const auto release = skyd.dir() + "/release";
  const auto yaml =
      skyd.write_file("spot.yaml",
                      "name: spot\nresources:\n  infra: local\n  use_spot: true\nrun: |\n  "
                      "while [ ! -f " +
                          release + " ]; do sleep 0.1; done\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"RUNNING"}));
  ASSERT_EQ(skyd.preempt(1).exit_code, 0);
  // RECOVERING may last less than a poll: wait for the recovery to be counted instead (the
  // daemon pushes nothing, so this polls with a deadline).
  bool recovered = false;
  for (int i = 0; i < 600 && !recovered; ++i) {
    recovered = contains(skyd.job_json(1), R"("recovery_count":1)");
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(recovered) << skyd.job_json(1);
  auto scraped = curl_unix(skyd.socket(), "/metrics");
  EXPECT_EQ(metric_sample(scraped.out, R"(skyd_job_recoveries_total{reason="preemption"})"), 1)
      << scraped.out;
  EXPECT_EQ(metric_sample(scraped.out, R"(skyd_job_transitions_total{to="RECOVERING"})"), 1)
      << scraped.out;
}

TEST(DashboardRoutes, IsOffByDefaultAndSkyJobsDashboardSaysHowToTurnItOn) {
  SkydHarness skyd;
  auto printed = skyd.sky({"jobs", "dashboard", "--no-browser"});
  EXPECT_EQ(printed.exit_code, 1);
  EXPECT_TRUE(contains(printed.err, "dashboard: 127.0.0.1:8266")) << printed.err;
}

TEST(DashboardRoutes, ServesThePageJobsTimelineCostLogsAndMetricsOnLoopback) {
  SkydHarness skyd(std::map<std::string, std::string>{{"dashboard", "127.0.0.1:0"}});
  const auto url = dashboard_url(skyd);
  ASSERT_FALSE(url.empty());
  const auto yaml = skyd.write_file("hello.yaml", local_task("hello", "echo hello dashboard"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);

  auto page = curl(url);
  EXPECT_TRUE(contains(page.out, "<title>skyd managed jobs</title>")) << page.out;
  EXPECT_TRUE(page.out.ends_with("\n200")) << page.out;
  auto script = curl(url + "static/app.js");
  EXPECT_TRUE(contains(script.out, "async function drawQueue")) << script.out;

  auto listed = curl(url + "api/jobs?status=SUCCEEDED&name=hello");
  EXPECT_TRUE(contains(listed.out, R"("id":1,"name":"hello")")) << listed.out;
  auto none = curl(url + "api/jobs?status=RUNNING");
  EXPECT_TRUE(contains(none.out, R"({"jobs":[])")) << none.out;
  auto bad = curl(url + "api/jobs?status=SLEEPING");
  EXPECT_TRUE(bad.out.ends_with("\n400")) << bad.out;

  auto job = curl(url + "api/jobs/1");
  auto body = parse_json(job.out.substr(0, job.out.rfind('\n')));
  ASSERT_TRUE(body) << job.out;
  const auto* events = body->find("events")->as_array();
  ASSERT_NE(events, nullptr);
  std::vector<std::string> path;
  for (const auto& event : *events) path.emplace_back(*event.find("to")->as_string());
  EXPECT_EQ(path, (std::vector<std::string>{"PENDING", "STARTING", "RUNNING", "SUCCEEDED"}));
  EXPECT_TRUE(body->find("cost_usd")->is_number()) << job.out;
  EXPECT_EQ(*(*events)[2].find("details")->find("cloud")->as_string(), "local") << job.out;

  auto logs = curl(url + "api/jobs/1/logs?offset=0");
  auto log_body = parse_json(logs.out.substr(0, logs.out.rfind('\n')));
  ASSERT_TRUE(log_body) << logs.out;
  const std::string text(*log_body->find("text")->as_string());
  EXPECT_TRUE(contains(text, "hello dashboard")) << text;
  const auto next = *log_body->find("next_offset")->as_int();
  EXPECT_EQ(next, static_cast<long long>(text.size()));
  auto rest = curl(url + "api/jobs/1/logs?offset=" + std::to_string(next));
  EXPECT_TRUE(contains(rest.out, R"("text":"")")) << rest.out;

  auto metrics = curl(url + "metrics");
  EXPECT_EQ(metric_sample(metrics.out, R"(skyd_job_transitions_total{to="SUCCEEDED"})"), 1)
      << metrics.out;
}

}  // namespace
}  // namespace skyd::testing
