#include "daemon/skylet/attempt.hpp"
#include "tests/support/test_support.hpp"

#include <filesystem>
#include <fstream>

namespace skyd::skylet {
namespace {

using testing::run_co;
using testing::TempDir;

Json attempt_body(std::string id) {
  Json body = Json::object();
  body.set("attempt_id", std::move(id));
  body.set("run", "true");
  return body;
}

TEST(AttemptSpec, AnIdThatIsNotAPlainFileNameIsRefused) {
  const std::vector<std::string> ids = {
      "..", ".", ".hidden", "a/b", "../x", "a b", std::string(129, 'a')};
  for (const auto& id : ids) {
    auto spec = AttemptSpec::from_json(attempt_body(id));
    ASSERT_FALSE(spec) << id;
    EXPECT_NE(spec.error().detail.find("attempt_id must be 1-128 of"), std::string::npos)
        << spec.error().detail;
  }
  EXPECT_TRUE(AttemptSpec::from_json(attempt_body("train-a2-17-attempt-2.node-0")));
  EXPECT_TRUE(AttemptSpec::from_json(attempt_body(std::string(128, 'a'))));
}

TEST(AttemptSpec, NulBytesAndBrokenEnvironmentKeysAreRefusedByField) {
  Json body = attempt_body("ok");
  body.set("run", std::string("echo a\0b", 8));
  EXPECT_EQ(AttemptSpec::from_json(body).error().detail, "run holds a NUL byte");

  body = attempt_body("ok");
  body.set("workdir", 7);
  EXPECT_EQ(AttemptSpec::from_json(body).error().detail, "workdir must be a string");

  body = attempt_body("ok");
  Json env = Json::object();
  env.set("A=B", "x");
  body.set("env", env);
  EXPECT_NE(AttemptSpec::from_json(body).error().detail.find("env: a key must be a name"),
            std::string::npos);

  env = Json::object();
  env.set("A", std::string("x\0y", 3));
  body.set("env", env);
  EXPECT_EQ(AttemptSpec::from_json(body).error().detail, "env.A holds a NUL byte");
}

struct Ran {
  std::string phase;
  std::string output;
};

Task<Ran> run_attempt(AttemptSpec spec, const NodePaths* paths) {
  Attempt attempt(co_await asio::this_coro::executor, std::move(spec), *paths, 1 << 20);
  if (co_await attempt.prepare()) co_await attempt.run();
  co_return Ran{std::string(to_string(attempt.phase())), attempt.log().read(0, 1 << 20)};
}

TEST(Attempt, AScriptLongerThanAnArgumentRunsFromAFile) {
  TempDir dir;
  NodePaths paths;
  paths.attempts_dir = dir.file("attempts");
  paths.pgid_file = dir.file("pgids");
  paths.base_env = {{"PATH", "/usr/bin:/bin"}};
  AttemptSpec spec;
  spec.id = "long-1";
  spec.workdir = dir.path();
  // 1 MiB: far past MAX_ARG_STRLEN (128 KiB), the limit of `bash -c SCRIPT`.
  spec.run = "echo start\n: " + std::string(1 << 20, 'x') + "\necho \"$0 $# end\"\n";
  const Ran ran = run_co<Ran>([&] { return run_attempt(spec, &paths); });
  EXPECT_EQ(ran.phase, "SUCCEEDED") << ran.output;
  EXPECT_EQ(ran.output, "start\n" + dir.file("attempts/long-1/run.sh") + " 0 end\n");
  const auto perms = std::filesystem::status(dir.file("attempts/long-1/run.sh")).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::optional<long long> status_progress(const Attempt& attempt) {
  const Json status = attempt.status();
  const Json* progress = status.find("progress_seconds");
  if (!progress) return std::nullopt;
  return progress->as_int();
}

Task<std::vector<std::optional<long long>>> report_progress(AttemptSpec spec,
                                                            const NodePaths* paths) {
  Attempt attempt(co_await asio::this_coro::executor, std::move(spec), *paths, 1 << 20);
  std::vector<std::optional<long long>> seen;
  if (!co_await attempt.prepare()) co_return seen;
  seen.push_back(status_progress(attempt));  // nothing reported yet
  co_await attempt.run();
  seen.push_back(status_progress(attempt));  // what the run left in the file
  const std::string path = attempt.progress_path();
  for (const char* text : {"garbage\n", "", "7200", "7200\n"}) {
    std::ofstream(path, std::ios::trunc) << text;
    seen.push_back(status_progress(attempt));
  }
  co_return seen;
}

TEST(Attempt, TheStatusCarriesTheCheckpointTheTaskReportedAndIgnoresGarbage) {
  TempDir dir;
  NodePaths paths;
  paths.attempts_dir = dir.file("attempts");
  paths.pgid_file = dir.file("pgids");
  paths.base_env = {{"PATH", "/usr/bin:/bin"}};
  AttemptSpec spec;
  spec.id = "progress-1";
  spec.workdir = dir.path();
  spec.env = {{"SKYPILOT_PROGRESS_FILE", "/elsewhere"}};  // skylet's own path wins
  spec.run = "echo \"$SKYPILOT_PROGRESS_FILE\" > where; echo 3600 > \"$SKYPILOT_PROGRESS_FILE\"\n";
  const auto seen =
      run_co<std::vector<std::optional<long long>>>([&] { return report_progress(spec, &paths); });
  const std::vector<std::optional<long long>> expected = {
      std::nullopt, 3600,
      3600,   // garbage: the last good report stands
      3600,   // emptied (a rewrite seen half done)
      3600,   // no newline yet
      7200};  // the next report
  EXPECT_EQ(seen, expected);
  std::ifstream where(dir.file("where"));
  std::string path;
  std::getline(where, path);
  EXPECT_EQ(path, dir.file("attempts/progress-1/progress")) << "one file per attempt";
}

}  // namespace
}  // namespace skyd::skylet
