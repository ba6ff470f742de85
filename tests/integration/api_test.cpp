// Bad input at the API, the real boundary: raw requests on a real skyd's socket (bypassing the
// CLI's own checks) get a 400 that names the field and change nothing; the CLI refuses the same.
#include "reactor/json.hpp"
#include "reactor/utf8.hpp"
#include "tests/support/skyd_harness.hpp"

#include <unistd.h>

#include <filesystem>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

// A submit body with one local task, `fields` spliced into the task object.
std::string submit_body(const std::string& fields, const std::string& name = "api-job",
                        const std::string& extra = "") {
  return R"({"name":")" + name + R"(",)" + extra +
         R"("pipeline":{"tasks":[{"name":"t","resources":{"cloud":"local"},"run":"true")" +
         (fields.empty() ? "" : "," + fields) + "}]}}";
}

// The queue as the API lists it (every user's jobs).
std::size_t jobs_in_queue(SkydHarness& skyd) {
  auto reply = skyd.api("GET", "/v1/jobs?all_users=1");
  auto body = parse_json(reply.body);
  if (reply.status != 200 || !body) {
    ADD_FAILURE() << reply.status << " " << reply.body;
    return 0;
  }
  return body->find("jobs")->as_array()->size();
}

#define EXPECT_400_NAMING(reply, text)                                  \
  do {                                                                  \
    const ApiReply& r = (reply);                                        \
    EXPECT_EQ(r.status, 400) << r.body;                                 \
    EXPECT_TRUE(contains(r.message, text)) << "message: " << r.message; \
  } while (0)

TEST(ApiValidation, ABucketNameThatWouldLeaveTheStateDirectoryIsA400AndRunsNothing) {
  SkydHarness skyd;
  const std::string outside = "/tmp/skyd-escape-" + std::to_string(::getpid());
  const std::string bucket = "../../../../../../../../.." + outside;
  auto reply =
      skyd.api("POST", "/v1/jobs",
               submit_body(R"("file_mounts":{"~/x":{"name":")" + bucket + R"(","mode":"MOUNT"}})"));
  EXPECT_400_NAMING(reply, "pipeline.tasks[0].file_mounts.~/x.name: bucket name `" + bucket +
                               "` holds `/`; a bucket name has only lowercase letters");
  auto url = skyd.api("POST", "/v1/jobs", submit_body(R"("file_mounts":{"~/x":"s3://../x"})"));
  EXPECT_400_NAMING(url, "pipeline.tasks[0].file_mounts.~/x: the bucket `..` of s3://../x");
  EXPECT_EQ(jobs_in_queue(skyd), 0u);
  EXPECT_FALSE(fs::exists(outside));

  // The CLI refuses the same YAML with the file position.
  const auto yaml =
      skyd.write_file("escape.yaml",
                      "name: t\nresources:\n  infra: local\nrun: 'true'\nfile_mounts:\n  ~/x:\n"
                      "    name: ../../../../tmp/x\n    mode: MOUNT\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml});
  EXPECT_EQ(launched.exit_code, 1) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.err, yaml + ":7:11: file_mounts.~/x.name: bucket name"))
      << launched.err;
}

TEST(ApiValidation, NumJobsOutsideOneToTheLimitIsA400AndMakesNoJob) {
  SkydHarness skyd;
  for (const char* bad : {"0", "-1", "10001", "1.5", "\"3\""}) {
    EXPECT_400_NAMING(
        skyd.api("POST", "/v1/jobs",
                 submit_body("", "api-job", std::string("\"num_jobs\":") + bad + ",")),
        "num_jobs: expected an integer from 1 to 10000");
  }
  EXPECT_EQ(jobs_in_queue(skyd), 0u);
  // One call, many jobs: the answer lists them by rank, the first as "job_id".
  auto made = skyd.api("POST", "/v1/jobs", submit_body("", "api-job", R"("num_jobs":3,)"));
  ASSERT_EQ(made.status, 201) << made.body;
  auto reply = parse_json(made.body);
  ASSERT_TRUE(reply && reply->find("job_ids") && reply->find("job_ids")->as_array()) << made.body;
  const auto& ids = *reply->find("job_ids")->as_array();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(reply->find("job_id")->as_int(), ids[0].as_int());
  EXPECT_EQ(jobs_in_queue(skyd), 3u);
  for (std::size_t rank = 0; rank < ids.size(); ++rank) {
    auto job = parse_json(skyd.job_json(*ids[rank].as_int()));
    EXPECT_EQ(job->find("job_rank")->as_int(), static_cast<long long>(rank));
    EXPECT_EQ(job->find("num_jobs")->as_int(), 3);
  }
}

TEST(ApiValidation, JobAndTaskNamesFollowSkyPilotsRules) {
  SkydHarness skyd;
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs", submit_body("", "9lives")),
                    "name: expected a job name: a letter");
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs", submit_body("", std::string(249, 'j'))),
                    "at most 248 characters");
  EXPECT_400_NAMING(
      skyd.api("POST", "/v1/jobs",
               R"({"name":"ok","pipeline":{"tasks":[{"name":"a---b","run":"true"}]}})"),
      "pipeline.tasks[0].name: expected a task name");
  EXPECT_EQ(jobs_in_queue(skyd), 0u);
}

TEST(ApiValidation, NulBytesAndInvalidUtf8AreA400NamingTheFieldNeverADatabaseError) {
  SkydHarness skyd;
  // A NUL reached PostgreSQL (the spec is jsonb) and came back as a 500 with its text.
  auto nul = skyd.api("POST", "/v1/jobs", submit_body(R"("envs":{"A":"x\u0000y"})"));
  EXPECT_EQ(nul.status, 400) << nul.body;
  EXPECT_EQ(nul.message, "pipeline.tasks[0].envs.A: holds a NUL byte (\\u0000)");
  EXPECT_FALSE(contains(nul.body, "Unicode escape")) << nul.body;
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs", submit_body("\"secrets\":{\"S\":\"\xff\xfe\"}")),
                    "pipeline.tasks[0].secrets.S: is not valid UTF-8 (byte 0xff)");
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs", submit_body(R"("setup":"echo \udc00")")),
                    "pipeline.tasks[0].setup: holds an unpaired surrogate escape");
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs", submit_body("", "a\\u0000b")),
                    "name: holds a NUL byte");
  EXPECT_EQ(jobs_in_queue(skyd), 0u);
}

TEST(ApiValidation, PriorityIsRangeCheckedAndNeverTruncated) {
  SkydHarness skyd;
  for (const std::string bad : {"1001", "-1001", "4294967796", "5.5", "\"high\"", "true"}) {
    EXPECT_400_NAMING(
        skyd.api("POST", "/v1/jobs", submit_body("", "p", "\"priority\":" + bad + ",")),
        "priority: expected an integer from -1000 to 1000, got " + bad);
  }
  EXPECT_EQ(jobs_in_queue(skyd), 0u);
  auto accepted = skyd.api("POST", "/v1/jobs", submit_body("", "p", "\"priority\":-1000,"));
  ASSERT_EQ(accepted.status, 201) << accepted.body;
  auto job = parse_json(skyd.api("GET", "/v1/jobs/1").body);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->find("priority")->as_int(), -1000);
}

TEST(ApiValidation, IdsInPathsAndQueriesAreCanonicalDecimals) {
  SkydHarness skyd;
  ASSERT_EQ(skyd.api("POST", "/v1/jobs", submit_body("")).status, 201);
  EXPECT_EQ(skyd.api("GET", "/v1/jobs/1").status, 200);
  for (const std::string id : {"%201", "+1", "%2B1", "01", "1%20", "%091", "1.0", "0x1",
                               "9223372036854775808", "-1", "0"}) {
    EXPECT_400_NAMING(skyd.api("GET", "/v1/jobs/" + id), "job ids are positive integers");
    EXPECT_EQ(skyd.api("POST", "/v1/jobs/" + id + "/cancel").status, 400) << id;
    EXPECT_EQ(skyd.api("GET", "/v1/jobs/" + id + "/logs").status, 400) << id;
  }
  auto task = skyd.api("GET", "/v1/jobs/1/logs?task=00&follow=0");
  EXPECT_EQ(task.status, 404) << task.body;
  EXPECT_EQ(skyd.api("GET", "/v1/jobs?limit=%201").status, 400);
  EXPECT_EQ(skyd.api("GET", "/v1/jobs?limit=1").status, 200);
}

TEST(ApiValidation, ABadCancelBodyCancelsNothing) {
  SkydHarness skyd;
  ASSERT_EQ(skyd.api("POST", "/v1/jobs", submit_body(R"("setup":"sleep 60")")).status, 201);
  // A name that was not a string used to mean "every open job".
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs/cancel", R"({"name":5})"),
                    "name: expected a job name");
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs/cancel", R"({"ids":[1,"1"]})"),
                    "ids[1]: expected a job id");
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs/cancel", R"({"all":"yes"})"),
                    "all: expected true or false");
  const auto status = skyd.job_status(1);
  ASSERT_TRUE(status);
  EXPECT_TRUE(*status == "PENDING" || *status == "STARTING" || *status == "RUNNING") << *status;
}

TEST(ApiValidation, DashboardLogJsonIsValidUtf8WhateverTheTaskPrinted) {
  SkydHarness skyd(std::map<std::string, std::string>{{"dashboard", "127.0.0.1:0"}});
  const auto yaml = skyd.write_file("bytes.yaml",
                                    "name: bytes\nresources:\n  infra: local\nrun: |\n  printf 'ok "
                                    "\\xff\\xfe \\xc3\\xa9 done\\n'\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", yaml}).exit_code, 0);
  auto health = parse_json(skyd.api("GET", "/v1/health").body);
  ASSERT_TRUE(health);
  auto endpoint = http::Endpoint::parse(std::string(*health->find("dashboard_url")->as_string()));
  ASSERT_TRUE(endpoint);

  auto logs = http_request(*endpoint, "GET", "/api/jobs/1/logs?offset=0");
  ASSERT_EQ(logs.status, 200) << logs.body;
  EXPECT_TRUE(is_valid_utf8(logs.body));
  auto body = parse_json(logs.body);
  ASSERT_TRUE(body) << body.error().detail;
  const std::string text(*body->find("text")->as_string());
  EXPECT_TRUE(contains(text, "ok \xEF\xBF\xBD\xEF\xBF\xBD \xC3\xA9 done\n")) << text;
  // next_offset counts the bytes of the log, not of the replacement characters.
  EXPECT_EQ(*body->find("next_offset")->as_int(), static_cast<long long>(text.size()) - 2 * 3 + 2);

  EXPECT_EQ(http_request(*endpoint, "GET", "/api/jobs/%201").status, 400);
  EXPECT_EQ(http_request(*endpoint, "GET", "/api/jobs/01/logs").status, 400);
  EXPECT_EQ(http_request(*endpoint, "GET", "/api/jobs/1/logs?offset=x").status, 400);
  EXPECT_EQ(http_request(*endpoint, "GET", "/api/jobs?limit=-1").status, 400);
}

TEST(ApiValidation, A1MiBScriptRunsAndA9MiBScriptIsRefusedAtSubmit) {
  SkydHarness skyd;
  std::string filler;
  // Lines of 64 bytes once the YAML indentation is gone: 16 Ki of them are 1 MiB.
  for (int i = 0; i < 16 * 1024; ++i) filler += "  : " + std::string(61, 'x') + "\n";
  const auto big = skyd.write_file("big.yaml",
                                   "name: big\nresources:\n  infra: local\nrun: |\n"
                                   "  echo start\n" +
                                       filler + "  echo \"end $((6 * 7))\"\n");
  ASSERT_GT(fs::file_size(big), 1u << 20);
  auto launched = skyd.sky({"jobs", "launch", "-y", big});
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "start\nend 42\n")) << launched.out.substr(0, 2000);

  std::string huge_filler;
  for (int i = 0; i < 9 * 16 * 1024; ++i) huge_filler += "  : " + std::string(61, 'x') + "\n";
  const auto huge = skyd.write_file(
      "huge.yaml", "name: huge\nresources:\n  infra: local\nrun: |\n" + huge_filler);
  auto refused = skyd.sky({"jobs", "launch", "-y", huge});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(contains(refused.err, huge + ":4:6: run: the script of task `huge` is 9437184 "
                                           "bytes; a script may be at most 8388608 bytes (8 MiB)"))
      << refused.err;

  Json task = Json::object();
  task.set("name", "huge");
  task.set("run", std::string(9u << 20, ':'));
  const std::string body = R"({"name":"huge","pipeline":{"tasks":[)" + task.dump() + "]}}";
  EXPECT_400_NAMING(skyd.api("POST", "/v1/jobs", body),
                    "pipeline.tasks[0].run: the script of task `huge` is 9437184 bytes; a script "
                    "may be at most 8388608 bytes (8 MiB)");
  EXPECT_EQ(jobs_in_queue(skyd), 1u);
}

}  // namespace
}  // namespace skyd::testing
