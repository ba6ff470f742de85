#include "daemon/api_validation.hpp"
#include "daemon/api.hpp"
#include "reactor/http_types.hpp"
#include "reactor/json.hpp"
#include "store/store_errc.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// A submit body around one task given as JSON text.
std::string submit_with_task(const std::string& task, const std::string& extra = "") {
  return R"({"name":"job-1",)" + extra + R"("pipeline":{"name":"job-1","tasks":[)" + task + "]}}";
}

std::string submit_error(const std::string& body) {
  auto parsed = parse_submit_body(body);
  EXPECT_FALSE(parsed) << body.substr(0, 200);
  if (parsed) return {};
  EXPECT_EQ(parsed.error().code, boost::system::errc::invalid_argument);
  return parsed.error().detail;
}

TEST(SubmitBody, ASubmissionKeyIsReadOrRefusedByName) {
  const std::string task = R"({"run":"echo hi"})";
  auto keyed = parse_submit_body(
      submit_with_task(task, R"("submission_key":"0123456789abcdef0123456789abcdef",)"));
  ASSERT_TRUE(keyed) << keyed.error().detail;
  EXPECT_EQ(keyed->submission_key, "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(parse_submit_body(submit_with_task(task))->submission_key);
  for (const char* bad :
       {R"("short")", R"("0123456789ABCDEF0123")", R"("0123456789abcdef; rm")",
        "12345678901234567890",
        R"("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")"}) {
    EXPECT_CONTAINS(
        submit_error(submit_with_task(task, std::string(R"("submission_key":)") + bad + ",")),
        "submission_key: expected 16 to 64 lowercase hex digits");
  }
}

TEST(SubmitBody, AValidBodyIsReadWithItsPipeline) {
  auto parsed = parse_submit_body(submit_with_task(R"({"name":"train","run":"echo hi"})"));
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(parsed->name, "job-1");
  EXPECT_EQ(parsed->priority, kDefaultPriority);
  ASSERT_EQ(parsed->pipeline.tasks.size(), 1u);
  EXPECT_EQ(parsed->pipeline.tasks[0].run, "echo hi");
  EXPECT_CONTAINS(parsed->pipeline_json, R"("tasks":[)");
}

TEST(SubmitBody, APoolIsNotAJob) {
  EXPECT_CONTAINS(
      submit_error(submit_with_task(R"({"name":"workers","setup":"x","pool":{"workers":2}})")),
      "pipeline.tasks[0].pool: a pool is created with `sky jobs pool apply`, not submitted as a "
      "job");
}

TEST(SubmitBody, NumJobsIsAWholeNumberWithinTheDocumentedLimit) {
  const std::string task = R"({"name":"train","run":"echo hi"})";
  auto single = parse_submit_body(submit_with_task(task));
  ASSERT_TRUE(single) << single.error().detail;
  EXPECT_EQ(single->num_jobs, 1);
  auto batch = parse_submit_body(submit_with_task(task, R"("num_jobs":10000,)"));
  ASSERT_TRUE(batch) << batch.error().detail;
  EXPECT_EQ(batch->num_jobs, 10000);
  for (const char* bad : {"0", "-3", "10001", "2.5", "\"4\"", "true", "9223372036854775807"}) {
    const std::string detail =
        submit_error(submit_with_task(task, std::string(R"("num_jobs":)") + bad + ","));
    EXPECT_CONTAINS(detail, "num_jobs: expected an integer from 1 to 10000, got ");
  }
}

TEST(SubmitBody, ALocalPathNeedsItsUploadAndAnUploadNeedsItsPath) {
  const std::string digest(64, 'a');
  const std::string task = R"({"run":"ls","workdir":"/home/alice/src"})";
  EXPECT_CONTAINS(submit_error(submit_with_task(task)),
                  "pipeline.tasks[0].workdir: a local path must be uploaded first");
  auto uploaded = parse_submit_body(submit_with_task(
      task, R"("uploads":[{"task":0,"workdir":true,"digest":")" + digest + R"("}],)"));
  ASSERT_TRUE(uploaded) << uploaded.error().detail;
  ASSERT_EQ(uploaded->uploads.size(), 1u);
  EXPECT_TRUE(uploaded->uploads[0].workdir);
  EXPECT_CONTAINS(submit_error(submit_with_task(
                      R"({"run":"ls"})",
                      R"("uploads":[{"task":0,"workdir":true,"digest":")" + digest + R"("}],)")),
                  "names no workdir or local file mount");
  EXPECT_CONTAINS(submit_error(submit_with_task(
                      task, R"("uploads":[{"task":0,"workdir":true,"digest":"../x"}],)")),
                  "uploads[0].digest: expected 64 lowercase hex digits");
}

TEST(SubmitBody, ABucketNameOutsideS3sRulesIsNamedByItsField) {
  const std::string detail = submit_error(
      submit_with_task(R"({"file_mounts":{"/x":{"name":"../../../../tmp/x","mode":"MOUNT"}}})"));
  EXPECT_CONTAINS(detail,
                  "pipeline.tasks[0].file_mounts./x.name: bucket name `../../../../tmp/x` "
                  "holds `/`");
  EXPECT_CONTAINS(submit_error(submit_with_task(R"({"file_mounts":{"/x":"s3://UP/x"}})")),
                  "pipeline.tasks[0].file_mounts./x: the bucket `UP` of s3://UP/x");
}

TEST(SubmitBody, JobAndTaskNamesFollowTheRules) {
  EXPECT_CONTAINS(submit_error(R"({"pipeline":{"tasks":[{}]}})"), "name: expected a job name");
  EXPECT_CONTAINS(submit_error(R"({"name":7,"pipeline":{"tasks":[{}]}})"),
                  "name: expected a job name");
  EXPECT_CONTAINS(submit_error(R"({"name":"9lives","pipeline":{"tasks":[{}]}})"),
                  "name: expected a job name: a letter, then letters, digits, `-`, `_` or `.`, "
                  "ending in a letter or digit, at most 248 characters, got `9lives`");
  EXPECT_CONTAINS(
      submit_error(R"({"name":")" + std::string(249, 'a') + R"(","pipeline":{"tasks":[{}]}})"),
      "name: expected a job name");
  EXPECT_CONTAINS(submit_error(submit_with_task(R"({"name":"a---b"})")),
                  "pipeline.tasks[0].name: expected a task name");
  EXPECT_CONTAINS(submit_error(R"({"name":"ok","pipeline":{"name":"-x","tasks":[{}]}})"),
                  "pipeline.name: expected a job name");
}

TEST(SubmitBody, NulBytesAndInvalidUtf8AreNamedByTheirField) {
  EXPECT_EQ(submit_error(submit_with_task(R"({"envs":{"A":"x\u0000y"}})")),
            "pipeline.tasks[0].envs.A: holds a NUL byte (\\u0000)");
  EXPECT_EQ(submit_error(submit_with_task("{\"secrets\":{\"S\":\"\xff\"}}")),
            "pipeline.tasks[0].secrets.S: is not valid UTF-8 (byte 0xff)");
  EXPECT_EQ(submit_error(R"({"name":"a\u0000","pipeline":{"tasks":[{}]}})"),
            "name: holds a NUL byte (\\u0000)");
  EXPECT_EQ(submit_error(submit_with_task(R"({"run":"echo \ud800"})")),
            "pipeline.tasks[0].run: holds an unpaired surrogate escape (a \\ud800-\\udbff without "
            "its pair)");
  EXPECT_EQ(submit_error(submit_with_task(R"({"envs":{"A\u0000":"x"}})")),
            "pipeline.tasks[0].envs: a key holds a NUL byte (\\u0000)");
  EXPECT_EQ(
      submit_error(std::string("{\"name\":\"a\",\"pipeline\":{\"tasks\":[{\"run\":\"a\x01\"}]}}")),
      "pipeline.tasks[0].run: holds a raw control character (byte 0x01); escape it");
}

TEST(SubmitBody, ThePipelinesPriorityIsTheJobsUnlessTheBodyContradictsIt) {
  const std::string task = R"({"run":"x","resources":{"priority":700}})";
  EXPECT_EQ(parse_submit_body(submit_with_task(task))->priority, 700);
  EXPECT_EQ(parse_submit_body(submit_with_task(task, R"("priority":700,)"))->priority, 700);
  EXPECT_EQ(submit_error(submit_with_task(task, R"("priority":5,)")),
            "priority: 5, but the pipeline's resources.priority is 700");
}

TEST(SubmitBody, PriorityIsAnIntegerInSkyPilotsRange) {
  for (const char* good : {"-1000", "0", "1000", "null"}) {
    auto parsed =
        parse_submit_body(submit_with_task("{}", std::string(R"("priority":)") + good + ","));
    ASSERT_TRUE(parsed) << good << ": " << parsed.error().detail;
  }
  EXPECT_EQ(parse_submit_body(submit_with_task("{}", R"("priority":-1000,)"))->priority, -1000);
  for (const char* bad : {"1001", "-1001", "4294967796", "9223372036854775807",
                          "18446744073709551615", "5.5", "5.0", "1e3", "\"high\"", "true", "[1]"}) {
    EXPECT_CONTAINS(submit_error(submit_with_task("{}", std::string(R"("priority":)") + bad + ",")),
                    "priority: expected an integer from -1000 to 1000, got ");
  }
}

TEST(SubmitBody, TheBodyItselfIsChecked) {
  EXPECT_CONTAINS(submit_error("not json"), "the body is not valid JSON");
  EXPECT_CONTAINS(submit_error("[1]"),
                  "the body must be a JSON object {name, pipeline, priority, num_jobs, uploads, "
                  "submission_key}");
  EXPECT_CONTAINS(submit_error(submit_with_task("{}", R"("user":"root",)")),
                  "unknown field `user`; expected name, pipeline, priority");
  EXPECT_CONTAINS(submit_error(R"({"name":"a","pipeline":"x"})"),
                  "pipeline: expected the job's pipeline, an object {name, tasks}");
  EXPECT_CONTAINS(submit_error(R"({"name":"a","pipeline":{"tasks":[]}})"),
                  "pipeline.tasks: expected a non-empty list of tasks");
  EXPECT_CONTAINS(submit_error("\"\xc3\""), "the body: is not valid UTF-8");
}

TEST(SubmitBody, AScriptOver8MiBIsRefusedByTaskAndField) {
  Json task = Json::object();
  task.set("name", "big");
  task.set("run", std::string((8u << 20) + 1, 'x'));
  const std::string detail = submit_error(submit_with_task(task.dump()));
  EXPECT_CONTAINS(detail,
                  "pipeline.tasks[0].run: the script of task `big` is 8388609 bytes; a "
                  "script may be at most 8388608 bytes (8 MiB)");
}

TEST(CancelBody, ExactlyOneWellFormedSelector) {
  EXPECT_EQ(parse_cancel_body(R"({"ids":[1,2]})")->ids, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(parse_cancel_body(R"({"name":"train-1"})")->name, "train-1");
  EXPECT_TRUE(parse_cancel_body(R"({"all":true})")->all);
  auto error = [](const std::string& body) {
    auto parsed = parse_cancel_body(body);
    EXPECT_FALSE(parsed) << body;
    return parsed ? std::string() : parsed.error().detail;
  };
  EXPECT_CONTAINS(error(R"({"ids":[1,"2"]})"),
                  "ids[1]: expected a job id (a positive integer), got \"2\"");
  EXPECT_CONTAINS(error(R"({"ids":[0]})"), "ids[0]: expected a job id");
  EXPECT_CONTAINS(error(R"({"ids":[1.5]})"), "ids[0]: expected a job id");
  EXPECT_CONTAINS(error(R"({"ids":[]})"), "ids: expected a list of 1 to 10000 job ids");
  // A name that is not a string used to mean "every open job".
  EXPECT_CONTAINS(error(R"({"name":5})"), "name: expected a job name");
  EXPECT_CONTAINS(error(R"({"all":"yes"})"), "all: expected true or false");
  EXPECT_CONTAINS(error(R"({"all":false})"), "give exactly one of");
  EXPECT_CONTAINS(error(R"({"ids":[1],"all":true})"), "give exactly one of");
  EXPECT_CONTAINS(error(R"({"idz":[1]})"), "unknown field `idz`; expected ids, name, all");
  EXPECT_CONTAINS(error(R"({"all_users":"yes"})"), "all_users: expected true or false");
  EXPECT_CONTAINS(error(R"({"name":"a","all_users":true})"), "give exactly one of");
  auto everyone = parse_cancel_body(R"({"all_users":true})");
  ASSERT_TRUE(everyone);
  EXPECT_TRUE(everyone->all_users);
  EXPECT_FALSE(everyone->all);
  EXPECT_CONTAINS(error(R"({"name":"a\u0000"})"), "name: holds a NUL byte");
}

TEST(ApiErrors, TheStoresOwnTextNeverReachesTheCaller) {
  const std::string postgres_text =
      "ERROR:  invalid byte sequence for encoding \"UTF8\": 0x00 (relation jobs_name_idx)";
  const Error internal = make_error(store::StoreErrc::kQuery, postgres_text);
  const http::Response response = response_for_error(internal, "submitting the job");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("UTF8"), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("jobs_name_idx"), std::string::npos) << response.body;
  EXPECT_EQ(http::error_message_of(response),
            "internal error while submitting the job; skyd's log has why");
  const http::Response unavailable =
      response_for_error(make_error(store::StoreErrc::kUnavailable, postgres_text), "listing jobs");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.body.find("jobs_name_idx"), std::string::npos) << unavailable.body;
}

}  // namespace
}  // namespace skyd::daemon
