// The database going away under running jobs: skyd's embedded PostgreSQL killed with SIGKILL (skyd
// restarts it), and an external server that stops for a while. Meanwhile skyd says it is
// degraded, answers API calls at once with 503, and its jobs carry on and end right.
#include "reactor/json.hpp"
#include "store/embedded_postgres.hpp"
#include "tests/support/skyd_harness.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <sstream>
#include <thread>

namespace skyd::testing {
namespace {

std::string gated_job(const std::string& gate) {
  return "name: gated-" + gate +
         "\nresources:\n  infra: local\n"
         "file_mounts:\n  ~/gates:\n    name: gates\n    mode: MOUNT\n"
         "run: flock -s ~/gates/" +
         gate + " true\n";
}

std::string health_status(SkydHarness& skyd) {
  auto reply = skyd.api("GET", "/v1/health");
  auto body = parse_json(reply.body);
  if (reply.status != 200 || !body || !body->find("status")) return "";
  return std::string(body->find("status")->as_string().value_or(""));
}

bool wait_for_health(SkydHarness& skyd, const std::string& status,
                     std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (health_status(skyd) == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Every job's transitions, oldest first: "-PENDING PENDING-STARTING ..." per job id.
std::map<long long, std::string> transitions(const std::string& socket_dir) {
  auto rows = run_command({program_on_path("psql"), "-h", socket_dir, "-U", "postgres", "-d",
                           "skyd", "-AtF", " ", "-c",
                           "SELECT job_id, coalesce(from_status, '') || '-' || to_status "
                           "FROM job_events ORDER BY job_id, id"});
  EXPECT_EQ(rows.exit_code, 0) << rows.err;
  std::map<long long, std::string> out;
  std::istringstream lines(rows.out);
  long long job = 0;
  std::string step;
  while (lines >> job >> step) out[job] += (out[job].empty() ? "" : " ") + step;
  return out;
}

// A PostgreSQL server of the test's own, apart from skyd (an external database), in `dir`.
store::EmbeddedPostgresOptions external_server_options(const TempDir& dir) {
  ::chmod(dir.path().c_str(), 0755);  // the server's user (postgres, when root) enters it
  store::EmbeddedPostgresOptions options;
  options.state_dir = dir.path();
  options.fsync = false;
  return options;
}

// Checks, during an outage, that the API refuses at once and says when to come back.
void expect_fast_refusals(SkydHarness& skyd) {
  for (const char* target : {"/v1/jobs", "/v1/jobs/1"}) {
    auto reply = skyd.api("GET", target);
    EXPECT_EQ(reply.status, 503) << target << ": " << reply.body;
    EXPECT_TRUE(reply.headers.contains("retry-after")) << target;
    EXPECT_LT(reply.took, std::chrono::milliseconds(500)) << target;
    EXPECT_TRUE(contains(reply.body, "database")) << reply.body;
  }
  auto health = parse_json(skyd.api("GET", "/v1/health").body);
  ASSERT_TRUE(health && health->find("reason"));
  EXPECT_FALSE(health->find("reason")->as_string().value_or("").empty());
  EXPECT_TRUE(contains(skyd.api("GET", "/metrics").body, "\nskyd_database_up 0\n"));
}

TEST(DatabaseOutage, AKilledEmbeddedPostmasterIsRestartedAndFiftyJobsEndRight) {
  constexpr std::size_t kJobs = 50;
  // The restart waits three seconds: long enough to watch skyd while its database is away.
  SkydHarness skyd(std::map<std::string, std::string>{{"db_restart_delay", "3s"}});
  JobGates gates(skyd.bucket("gates"));
  gates.close("during");
  gates.close("after");
  const auto during = skyd.write_file("during.yaml", gated_job("during"));
  const auto after = skyd.write_file("after.yaml", gated_job("after"));
  for (std::size_t i = 0; i < kJobs; ++i) {
    auto launched = skyd.sky({"jobs", "launch", "-y", "-d", i % 2 ? after : during});
    ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  }
  ASSERT_TRUE(skyd.wait_for_all_jobs(kJobs, "RUNNING"));
  EXPECT_EQ(health_status(skyd), "ok");

  const int postmaster = skyd.postmaster_pid();
  ASSERT_TRUE(process_alive(postmaster));
  ::kill(postmaster, SIGKILL);
  ASSERT_TRUE(wait_for_health(skyd, "degraded", std::chrono::seconds(5)))
      << "skyd did not notice its database died";
  gates.open("during");  // half the jobs end while the database is away
  expect_fast_refusals(skyd);

  ASSERT_TRUE(wait_for_health(skyd, "ok")) << "the embedded PostgreSQL was not restarted";
  EXPECT_NE(skyd.postmaster_pid(), postmaster);
  EXPECT_TRUE(contains(skyd.api("GET", "/metrics").body, "\nskyd_database_up 1\n"));
  // Each shard's pool reconnects on its next call: the API answers again within moments.
  bool answering = false;
  for (int i = 0; i < 100 && !answering; ++i) {
    answering = skyd.api("GET", "/v1/jobs").status == 200;
    if (!answering) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(answering) << "the API answers again once the database is back";
  gates.open("after");  // the other half once it is back
  EXPECT_TRUE(skyd.wait_for_all_jobs(kJobs, "SUCCEEDED"));
  EXPECT_TRUE(skyd.no_machines_left());
  const auto history = transitions(skyd.state_dir() + "/postgres");
  ASSERT_EQ(history.size(), kJobs);
  for (const auto& [job, steps] : history) {
    EXPECT_EQ(steps, "-PENDING PENDING-STARTING STARTING-RUNNING RUNNING-SUCCEEDED")
        << "job " << job;
  }
}

TEST(DatabaseOutage, AnExternalDatabaseThatStopsForAWhileDegradesSkydUntilItIsBack) {
  TempDir server_dir;
  store::EmbeddedPostgres server(external_server_options(server_dir));
  auto conninfo = server.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();

  constexpr std::size_t kJobs = 4;
  SkydHarness skyd(std::map<std::string, std::string>{{"db", *conninfo}});
  JobGates gates(skyd.bucket("gates"));
  gates.close("during");
  const auto during = skyd.write_file("during.yaml", gated_job("during"));
  for (std::size_t i = 0; i < kJobs; ++i)
    ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", during}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_all_jobs(kJobs, "RUNNING"));

  ASSERT_TRUE(server.stop());
  ASSERT_TRUE(wait_for_health(skyd, "degraded", std::chrono::seconds(5)));
  gates.open("during");
  expect_fast_refusals(skyd);
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(wait_for_health(skyd, "ok"));
  EXPECT_TRUE(skyd.wait_for_all_jobs(kJobs, "SUCCEEDED"));
  EXPECT_TRUE(skyd.no_machines_left());
  const auto history = transitions(server.layout().socket_dir);
  ASSERT_EQ(history.size(), kJobs);
  for (const auto& [job, steps] : history) {
    EXPECT_EQ(steps, "-PENDING PENDING-STARTING STARTING-RUNNING RUNNING-SUCCEEDED")
        << "job " << job;
  }
}

// `sky jobs launch` while the database is away: it is told to come back shortly, asks again with
// the same submission key until the database is back, and the job is made once. The key asked
// again after that answers with the same job.
TEST(DatabaseOutage, ALaunchWhileTheDatabaseIsAwayGoesThroughOnceWhenItIsBack) {
  TempDir server_dir;
  store::EmbeddedPostgres server(external_server_options(server_dir));
  auto conninfo = server.start();
  ASSERT_TRUE(conninfo) << conninfo.error().message();
  SkydHarness skyd(std::map<std::string, std::string>{{"db", *conninfo}});
  const auto task =
      skyd.write_file("patient.yaml", "name: patient\nresources:\n  infra: local\nrun: true\n");

  ASSERT_TRUE(server.stop());
  ASSERT_TRUE(wait_for_health(skyd, "degraded", std::chrono::seconds(5)));
  const std::string printed = skyd.dir() + "/launch.out";
  ChildProcess launch(
      {binary_path("sky"), "--socket", skyd.socket(), "jobs", "launch", "-y", "-d", task}, {},
      printed);
  ASSERT_TRUE(wait_until([&] { return contains(read_text(printed), "asking skyd again"); },
                         std::chrono::seconds(30)))
      << read_text(printed);
  ASSERT_TRUE(server.start());
  ASSERT_EQ(launch.wait(std::chrono::seconds(90)), 0) << read_text(printed);
  EXPECT_TRUE(contains(read_text(printed), "Job submitted, ID:")) << read_text(printed);
  EXPECT_TRUE(contains(read_text(printed), "never makes a job twice")) << read_text(printed);
  ASSERT_TRUE(skyd.wait_for_all_jobs(1, "SUCCEEDED"));

  // A submission whose answer was lost, sent again: the same job, not a second one.
  const std::string body =
      R"({"name":"keyed","submission_key":"00112233445566778899aabbccddeeff",)"
      R"("pipeline":{"name":"keyed","tasks":[{"run":"true","resources":{"infra":"local"}}]}})";
  auto first = skyd.api("POST", "/v1/jobs", body);
  auto again = skyd.api("POST", "/v1/jobs", body);
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(parse_json(first.body)->find("job_id")->as_int(),
            parse_json(again.body)->find("job_id")->as_int());
  EXPECT_TRUE(skyd.wait_for_all_jobs(2, "SUCCEEDED")) << "two jobs: the launch and the keyed one";
  EXPECT_TRUE(skyd.no_machines_left());
}

}  // namespace
}  // namespace skyd::testing
