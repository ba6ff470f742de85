// The commands a SkyPilot user types, end to end: a real skyd (embedded PostgreSQL, local
// provider, real skylets) driven through the real `sky` binary.
#include "reactor/json.hpp"
#include "tests/support/skyd_harness.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

namespace skyd::testing {
namespace {

std::string local_task(const std::string& name, const std::string& run,
                       const std::string& extra = "") {
  return "name: " + name + "\nresources:\n  infra: local\n" + extra + "run: |\n  " + run + "\n";
}

// Polls until `probe` holds (a stream's output that a task writes at its own pace).
template <typename Probe>
bool eventually(Probe probe, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(Cli, QueueVerboseShowsWhereEachTaskRanAndRefreshIsAccepted) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("hello.yaml", local_task("hello", "echo hi"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);
  auto queue = skyd.sky({"jobs", "queue", "-v", "-r"});
  ASSERT_EQ(queue.exit_code, 0) << queue.err;
  for (const char* header :
       {"STATUS", "STARTED", "INFRA", "RESOURCES", "COST", "ON-DEMAND COST", "DETAILS"}) {
    EXPECT_TRUE(contains(queue.out, header)) << header << "\n" << queue.out;
  }
  EXPECT_TRUE(contains(queue.out, "Local (local-a)")) << queue.out;
  EXPECT_TRUE(contains(queue.out, "1x(local-small)")) << queue.out;
  EXPECT_TRUE(contains(queue.out, "$0.0000")) << queue.out;
  EXPECT_EQ(skyd.sky({"jobs", "queue", "--refresh"}).exit_code, 0);
}

TEST(Cli, QueueJsonIsOneFlatRecordPerTaskWithSkyPilotsFieldNames) {
  SkydHarness skyd;
  const auto yaml =
      skyd.write_file("pipe.yaml", "name: pipe\n---\n" + local_task("prep", "echo prep") + "---\n" +
                                       local_task("train", "true"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);
  auto listed = skyd.sky({"jobs", "queue", "-o", "json"});
  auto records = parse_json(listed.out);
  ASSERT_TRUE(records && records->as_array()) << listed.out;
  ASSERT_EQ(records->as_array()->size(), 2u) << listed.out;
  const Json& train = (*records->as_array())[1];
  EXPECT_EQ(train.find("job_id")->as_int(), 1);
  EXPECT_EQ(train.find("task_id")->as_int(), 1);
  EXPECT_EQ(train.find("job_name")->as_string(), "pipe");
  EXPECT_EQ(train.find("task_name")->as_string(), "train");
  EXPECT_EQ(train.find("status")->as_string(), "SUCCEEDED");
  EXPECT_EQ(train.find("infra")->as_string(), "Local (local-a)");
  EXPECT_EQ(train.find("cloud")->as_string(), "Local");
  EXPECT_EQ(train.find("recovery_count")->as_int(), 0);
  for (const char* field :
       {"submitted_at", "start_at", "end_at", "last_recovered_at", "job_duration"})
    EXPECT_TRUE(train.find(field) && train.find(field)->as_double()) << field << listed.out;
  EXPECT_FALSE(train.find("user_name")->as_string().value_or("").empty());
  EXPECT_EQ(train.find("user_hash")->as_string().value_or("").size(), 8u);
  EXPECT_TRUE(train.find("accelerators")->is_null()) << "no accelerator on local-small";
  EXPECT_EQ(train.find("cluster_resources")->as_string(), "1x(local-small)");
  EXPECT_TRUE(train.find("failure_reason")->is_null());
  EXPECT_EQ(train.find("job_status")->as_string(), "SUCCEEDED");  // skyd's extras
  EXPECT_TRUE(train.find("exit_codes")->as_array());
}

TEST(Cli, NumJobsSubmitsCopiesThatEachSeeTheirRankAndTheirCount) {
  SkydHarness skyd;
  const std::string workdir = skyd.dir() + "/shard-src";
  std::filesystem::create_directories(workdir);
  std::ofstream(workdir + "/data.txt") << "shared input\n";
  const auto yaml = skyd.write_file(
      "sweep.yaml", local_task("sweep",
                               "echo \"slice rank=$SKYPILOT_JOB_RANK of=$SKYPILOT_NUM_JOBS"
                               " job=$SKYPILOT_MANAGED_JOB_ID $(cat data.txt)\"",
                               "workdir: " + workdir + "\n"));
  auto launched = skyd.sky({"jobs", "launch", "-y", "--num-jobs", "4", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "Jobs submitted, IDs: 1-4\n")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "submitted as 4 jobs")) << launched.out;
  ASSERT_TRUE(skyd.wait_for_all_jobs(4, "SUCCEEDED")) << skyd.sky({"jobs", "queue"}).out;

  std::set<long long> ranks;
  for (long long id = 1; id <= 4; ++id) {
    auto job = parse_json(skyd.job_json(id));
    ASSERT_TRUE(job) << skyd.job_json(id);
    EXPECT_EQ(job->find("name")->as_string(), "sweep") << "SkyPilot's batch shares one name";
    EXPECT_EQ(job->find("num_jobs")->as_int(), 4);
    const long long rank = job->find("job_rank")->as_int().value_or(-1);
    ranks.insert(rank);
    auto logs = skyd.sky({"jobs", "logs", std::to_string(id), "--no-follow"});
    EXPECT_TRUE(contains(logs.out, "slice rank=" + std::to_string(rank) +
                                       " of=4 job=" + std::to_string(id) + " shared input"))
        << logs.out;
  }
  EXPECT_EQ(ranks, (std::set<long long>{0, 1, 2, 3}));

  // A job launched alone is rank 0 of 1.
  const auto alone = skyd.write_file(
      "alone.yaml",
      local_task("alone", "echo \"alone rank=$SKYPILOT_JOB_RANK of=$SKYPILOT_NUM_JOBS\""));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", alone}).exit_code, 0);
  EXPECT_TRUE(contains(skyd.sky({"jobs", "logs", "5", "--no-follow"}).out, "alone rank=0 of=1"));
}

TEST(Cli, NumJobsOutsideItsRangeIsRefusedBeforeAnythingIsSubmitted) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("one.yaml", local_task("one", "true"));
  for (const char* bad : {"0", "-2", "10001", "many"}) {
    auto refused = skyd.sky({"jobs", "launch", "-y", "--num-jobs", bad, yaml});
    EXPECT_EQ(refused.exit_code, 2) << bad << refused.out << refused.err;
    EXPECT_TRUE(contains(refused.err, "--num-jobs: expected a number of jobs from 1 to 10000"))
        << refused.err;
  }
  EXPECT_TRUE(skyd.job_statuses().empty());
}

TEST(Cli, QueueCountsEveryJobInProgressNotOnlyThePageItShows) {
  SkydHarness skyd(std::map<std::string, std::string>{{"max_running_jobs", "1"}});
  const auto yaml = skyd.write_file("wait.yaml", local_task("wait", "sleep 600"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "--num-jobs", "60", yaml}).exit_code, 0);
  auto queue = skyd.sky({"jobs", "queue"});
  ASSERT_EQ(queue.exit_code, 0) << queue.err;
  // Every one of the 60 is in progress (59 wait for the one slot), though 50 rows are shown.
  std::smatch line;
  ASSERT_TRUE(std::regex_search(queue.out, line, std::regex("In progress tasks: ([^\n]*)")))
      << queue.out;
  long long counted = 0;
  const std::string counts = line[1].str();
  const std::regex count_of_status("(\\d+) [A-Z_]+");
  for (std::sregex_iterator it(counts.begin(), counts.end(), count_of_status), end; it != end;
       ++it) {
    counted += std::stoll((*it)[1].str());
  }
  EXPECT_EQ(counted, 60) << queue.out;
  EXPECT_TRUE(contains(queue.out, "Only showing the latest 50 managed jobs")) << queue.out;
  EXPECT_FALSE(contains(queue.out, "\n10  ")) << "job 10 is past the page\n" << queue.out;

  auto page = parse_json(skyd.api("GET", "/v1/jobs?limit=5&summary=1").body);
  ASSERT_TRUE(page && page->find("total")) << "summary=1 adds the totals";
  EXPECT_EQ(page->find("total")->as_int(), 60);
  EXPECT_EQ(page->find("jobs")->as_array()->size(), 5u);
  long long in_progress = 0;
  const Json* status_counts = page->find("status_counts");
  ASSERT_TRUE(status_counts && status_counts->as_object()) << page->dump();
  for (const auto& [status, count] : *status_counts->as_object()) in_progress += *count.as_int();
  EXPECT_EQ(in_progress, 60) << page->dump();
  EXPECT_EQ(skyd.sky({"jobs", "cancel", "-a", "-y"}).exit_code, 0);
}

TEST(Cli, LaunchAsyncReturnsOnceSkydHasTheJob) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("long.yaml", local_task("long", "sleep 1000"));
  auto launched = skyd.sky({"jobs", "launch", "-y", "--async", yaml}, std::chrono::seconds(30));
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "Job submitted, ID: 1\n")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "Managed Job ID: 1\n")) << launched.out;
  EXPECT_FALSE(contains(launched.out, "Waiting for task to start")) << launched.out;
  EXPECT_TRUE(skyd.job_status(1).has_value());
}

TEST(Cli, SecretFileGivesTheTaskItsSecretsLikeEnvFile) {
  SkydHarness skyd;
  const auto secrets = skyd.write_file("secrets.env", "# tokens\nexport HF_TOKEN='hf-123'\n");
  const auto yaml = skyd.write_file(
      "secret.yaml", local_task("secret", "test \"$HF_TOKEN\" = hf-123 && echo token-ok",
                                "secrets:\n  HF_TOKEN: null\n"));
  auto launched = skyd.sky({"jobs", "launch", "-y", "--secret-file", secrets, yaml});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "token-ok")) << launched.out;
  // A secret is never shown back: not in the stored spec skyd serves.
  EXPECT_FALSE(contains(skyd.api("GET", "/v1/jobs/1").body, "hf-123"));
}

TEST(Cli, LogsTakeAPipelineTaskByNameWithTheJobByName) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file(
      "pipe.yaml", "name: pipe\n---\n" + local_task("prep", "echo prep-output") + "---\n" +
                       local_task("train", "echo train-output; sleep 1000"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  std::string train;
  EXPECT_TRUE(eventually([&] {
    train = skyd.sky({"jobs", "logs", "-n", "pipe", "train", "--no-follow"}).out;
    return contains(train, "train-output");
  })) << train;
  EXPECT_FALSE(contains(train, "prep-output")) << train;
  auto prep = skyd.sky({"jobs", "logs", "1", "prep", "--no-follow"});
  EXPECT_TRUE(contains(prep.out, "prep-output")) << prep.out;
  EXPECT_FALSE(contains(prep.out, "train-output")) << prep.out;
  auto by_id = skyd.sky({"jobs", "logs", "1", "0", "--no-follow"});
  EXPECT_TRUE(contains(by_id.out, "prep-output")) << by_id.out;
  auto unknown = skyd.sky({"jobs", "logs", "1", "eval", "--no-follow"});
  EXPECT_EQ(unknown.exit_code, 102);
  EXPECT_TRUE(contains(unknown.err, "has no task 'eval' (its tasks: prep, train)")) << unknown.err;
}

TEST(Cli, CancelAllUsersCancelsEveryOpenJob) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("long.yaml", local_task("long", "sleep 1000"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  auto cancelled = skyd.sky({"jobs", "cancel", "-y", "--all-users"});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.err;
  // Newest first, as skyd lists them.
  EXPECT_EQ(cancelled.out, "Jobs with IDs 2, 1 are scheduled to be cancelled.\n");
  EXPECT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}));
  EXPECT_TRUE(skyd.wait_for_status(2, {"CANCELLED"}));
  auto both = skyd.sky({"jobs", "cancel", "-y", "-a", "-u"});
  EXPECT_EQ(both.exit_code, 2);
}

TEST(Cli, AMultiNodeTasksLogsShowEveryNodeWithSkyPilotsPrefixesAndNodePicksOne) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file(
      "two.yaml",
      "name: two\nnum_nodes: 2\nresources:\n  infra: local\n"
      "setup: echo prepared $SKYPILOT_SETUP_NODE_RANK\n"
      "run: |\n  echo hello $SKYPILOT_NODE_RANK\n  echo ip $(echo \"$SKYPILOT_NODE_IPS\" "
      "| tail -1)\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  std::smatch worker_ip;
  ASSERT_TRUE(std::regex_search(launched.out, worker_ip, std::regex("\\) ip ([0-9.]+)\n")))
      << launched.out;
  const std::string ip = worker_ip[1].str();
  const std::string pid = "pid=[0-9]+";
  for (const std::string& line : {"\\(setup " + pid + "\\) prepared 0\n",
                                  "\\(setup " + pid + ", ip=" + ip + "\\) prepared 1\n",
                                  "\\(head, rank=0, " + pid + "\\) hello 0\n",
                                  "\\(worker1, rank=1, " + pid + ", ip=" + ip + "\\) hello 1\n"}) {
    EXPECT_TRUE(std::regex_search(launched.out, std::regex(line))) << line << "\n" << launched.out;
  }
  auto worker = skyd.sky({"jobs", "logs", "1", "--node", "1", "--no-follow"});
  EXPECT_EQ(worker.exit_code, 0) << worker.err;
  EXPECT_TRUE(contains(worker.out, "hello 1\n")) << worker.out;
  EXPECT_FALSE(contains(worker.out, "hello 0")) << worker.out;
  EXPECT_FALSE(contains(worker.out, "(head")) << worker.out;
  auto all = skyd.sky({"jobs", "logs", "1", "--no-follow"});
  EXPECT_TRUE(contains(all.out, "hello 0\n") && contains(all.out, "hello 1\n")) << all.out;
  EXPECT_EQ(skyd.sky({"jobs", "logs", "1", "--node", "x"}).exit_code, 2);
}

TEST(Cli, ASingleNodeTasksLogsStayAsTheTaskWroteThem) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("one.yaml", local_task("one", "echo plain"));
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_TRUE(contains(launched.out, "\nplain\n")) << launched.out;
  // SkyPilot's -r/--refresh is taken (skyd's controller never needs restarting).
  auto refreshed = skyd.sky({"jobs", "logs", "1", "-r", "--no-follow"});
  EXPECT_EQ(refreshed.exit_code, 0) << refreshed.err;
  EXPECT_TRUE(contains(refreshed.out, "plain\n")) << refreshed.out;
}

TEST(Cli, WaitingForMachinesShowsALiveLineOnATerminalAndStableLinesOtherwise) {
  // A skylet that cannot start keeps the job PENDING (launch backoff).
  SkydHarness skyd({{"skylet_binary", "/nonexistent/skylet"}, {"launch_backoff", "1s"}});
  const auto yaml = skyd.write_file("stuck.yaml", local_task("stuck", "echo never"));
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"PENDING"}, std::chrono::seconds(30)));
  // On a terminal (script(1) gives it one): one line, redrawn in place with the time waited.
  const std::string follow = binary_path("sky") + " --socket " + skyd.socket() + " jobs logs 1";
  auto tty = run_command(
      {program_on_path("timeout"), "3", program_on_path("script"), "-qec", follow, "/dev/null"});
  EXPECT_TRUE(contains(tty.out, "\r\033[K| Waiting for task to start (status: PENDING")) << tty.out;
  EXPECT_TRUE(std::regex_search(tty.out, std::regex("Waiting for task to start \\(status: "
                                                    "PENDING[^)]*\\) [0-9]+s\r")))
      << tty.out;
  // Not a terminal: the status once per change, as scripts and tests read it.
  auto piped = skyd.sky({"jobs", "logs", "1"}, std::chrono::seconds(3));
  EXPECT_TRUE(piped.out.starts_with("Waiting for task to start (status: PENDING).\n")) << piped.out;
  EXPECT_EQ(piped.out.find('\r'), std::string::npos) << piped.out;
}

TEST(TaskEnvironment, SetupAndRunSeeSkyPilotsVariablesWithTheSubmitterAndThePipelinesTaskIds) {
  SkydHarness skyd;
  const std::string yaml = skyd.write_file(
      "env.yaml",
      "name: envjob\n---\n" + local_task("prep", "echo prep-id=$SKYPILOT_TASK_ID") +
          "---\nname: train\nnum_nodes: 2\nresources:\n  infra: local\n"
          "setup: |\n"
          "  echo \"setup rank=$SKYPILOT_SETUP_NODE_RANK"
          " ips=$(echo \"$SKYPILOT_SETUP_NODE_IPS\" | paste -sd, -)"
          " gpus=$SKYPILOT_SETUP_NUM_GPUS_PER_NODE\"\n"
          "run: |\n"
          "  echo \"run rank=$SKYPILOT_NODE_RANK user=$SKYPILOT_USER uid=$SKYPILOT_USER_ID"
          " login=$USER job_rank=$SKYPILOT_JOB_RANK\"\n"
          "  echo \"run id=$SKYPILOT_TASK_ID\"\n"
          "  echo \"run ids=$(echo \"$SKYPILOT_TASK_IDS\" | paste -sd, -)\"\n"
          "  echo \"run info=$SKYPILOT_CLUSTER_INFO\"\n"
          "  echo \"run ips=$(echo \"$SKYPILOT_NODE_IPS\" | paste -sd, -)\"\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  const std::string& out = launched.out;

  const passwd* me = ::getpwuid(::getuid());
  ASSERT_NE(me, nullptr);
  char uid_hex[17];
  std::snprintf(uid_hex, sizeof uid_hex, "%08x", static_cast<unsigned>(::getuid()));
  const std::string user = me->pw_name;
  for (const char* rank : {"0", "1"}) {
    EXPECT_TRUE(contains(out, "run rank=" + std::string(rank) + " user=" + user +
                                  " uid=" + uid_hex + " login=" + user + " job_rank=0"))
        << out;
  }
  // The setup of every node sees every node's address, in rank order, and the GPU count.
  std::smatch ips;
  ASSERT_TRUE(std::regex_search(out, ips, std::regex("run ips=([0-9.]+,[0-9.]+)"))) << out;
  EXPECT_TRUE(contains(out, "setup rank=0 ips=" + ips[1].str() + " gpus=0")) << out;
  EXPECT_TRUE(contains(out, "setup rank=1 ips=" + ips[1].str() + " gpus=0")) << out;
  // SkyPilot's task ids for a pipeline: <timestamp>_<job name>_<task name>_<job id>-<task>.
  const std::string stamp = "sky-managed-\\d{4}(-\\d\\d){5}-\\d{6}";
  EXPECT_TRUE(std::regex_search(out, std::regex("prep-id=" + stamp + "_envjob_prep_1-0\n"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("run id=" + stamp + "_envjob_train_1-1\n"))) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("run ids=" + stamp + "_envjob_prep_1-0," + stamp + "_envjob_train_1-1\n")))
      << out;
  EXPECT_TRUE(contains(out, "\"cloud\":\"Local\"")) << out;
  EXPECT_TRUE(contains(out, "\"cluster_name\":\"train-1\"")) << out;
}

TEST(TaskEnvironment, ASingleTasksIdCarriesTheJobsName) {
  SkydHarness skyd;
  const auto yaml = skyd.write_file("one.yaml", local_task("solo", "echo id=$SKYPILOT_TASK_ID"));
  auto launched = skyd.sky({"jobs", "launch", "-y", "-n", "renamed", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out;
  EXPECT_TRUE(std::regex_search(
      launched.out, std::regex("id=sky-managed-\\d{4}(-\\d\\d){5}-\\d{6}_renamed_1-0\n")))
      << launched.out;
}

}  // namespace
}  // namespace skyd::testing
