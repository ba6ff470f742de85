// Private registries (SKYPILOT_DOCKER_USERNAME/PASSWORD/SERVER): what skylet reads from the
// task's variables, the login line, and a real login through a stand-in runtime that records
// its arguments and its standard input, so the password is seen to travel on stdin alone.

#include "daemon/skylet/registry_login.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/skylet/container_attempts.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace skyd::skylet {
namespace {

using testing::read_text;
using testing::run_co;
using testing::TempDir;

const std::map<std::string, std::string> kLogin = {
    {"SKYPILOT_DOCKER_USERNAME", "alice"},
    {"SKYPILOT_DOCKER_PASSWORD", "pa$$ 'word"},
    {"SKYPILOT_DOCKER_SERVER", "registry.test:5000"}};

// A runtime that answers `version`, records a login's arguments and stdin (exit `login_code`) and
// a run's arguments (exit 0).
std::string stand_in_runtime(const TempDir& dir, int login_code) {
  const std::string path = dir.file("podman");
  std::ofstream(path) << "#!/bin/sh\n"
                         "if [ \"$1\" = version ]; then exit 0; fi\n"
                         "if [ \"$1\" = login ]; then\n"
                         "  printf '%s\\n' \"$@\" > "
                      << dir.file("login.args") << "\n  cat > " << dir.file("login.stdin")
                      << "\n  echo 'unauthorized: bad credentials'\n  exit " << login_code
                      << "\nfi\n"
                         "if [ \"$1\" = run ]; then printf '%s\\n' \"$@\" > "
                      << dir.file("run.args")
                      << "; exit 0; fi\n"
                         "if [ \"$1\" = rm ]; then exit 0; fi\n"
                         "exit 3\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(RegistryLogin, AllThreeVariablesOrNone) {
  auto none = registry_login_from({{"OTHER", "x"}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto all = registry_login_from(kLogin);
  ASSERT_TRUE(all && *all);
  EXPECT_EQ((*all)->username, "alice");
  EXPECT_EQ((*all)->server, "registry.test:5000");
  auto partial = kLogin;
  partial.erase("SKYPILOT_DOCKER_SERVER");
  auto refused = registry_login_from(partial);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("SKYPILOT_DOCKER_SERVER is missing"), std::string::npos);
  auto optionlike = kLogin;
  optionlike["SKYPILOT_DOCKER_SERVER"] = "--tls-verify=false";
  EXPECT_FALSE(registry_login_from(optionlike));
}

TEST(RegistryLogin, TheLineNamesTheUserAndServerAndNeverThePassword) {
  const RegistryLogin login{"alice", "secret", "registry.test:5000"};
  // The login is kept in the attempt's own directory: each runtime is told where.
  const RegistryAuth docker = registry_auth("/usr/bin/docker", "/w/a/registry");
  EXPECT_EQ(
      registry_login_argv("/usr/bin/docker", docker, login),
      (std::vector<std::string>{"/usr/bin/docker", "--config", "/w/a/registry", "login",
                                "--username", "alice", "--password-stdin", "registry.test:5000"}));
  const RegistryAuth podman = registry_auth("/usr/bin/podman", "/w/a/registry");
  EXPECT_EQ(
      registry_login_argv("/usr/bin/podman", podman, login),
      (std::vector<std::string>{"/usr/bin/podman", "login", "--authfile", "/w/a/registry/auth.json",
                                "--username", "alice", "--password-stdin", "registry.test:5000"}));
  ContainerRun run;
  run.runtime = "/usr/bin/docker";
  run.before_command = docker.before_command;
  const auto argv = container_run_argv(run);
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(argv.begin(), argv.begin() + 4),
            (std::vector<std::string>{"/usr/bin/docker", "--config", "/w/a/registry", "run"}));
  EXPECT_EQ(image_on_server("team/app:1", "registry.test:5000"), "registry.test:5000/team/app:1");
  EXPECT_EQ(image_on_server("registry.test:5000/team/app:1", "registry.test:5000"),
            "registry.test:5000/team/app:1");
}

TEST(RegistryLogin, ThePasswordReachesTheRuntimeOnItsStandardInput) {
  TempDir dir;
  const std::string runtime = stand_in_runtime(dir, 0);
  const RegistryLogin login{"alice", "pa$$ 'word", "registry.test:5000"};
  const std::vector<std::string> environment = {"PATH=/usr/bin:/bin"};
  const RegistryAuth auth = registry_auth(runtime, dir.file("registry"));
  auto done = run_co<Result<void>>([&]() -> Task<Result<void>> {
    auto executor = co_await asio::this_coro::executor;
    co_return co_await log_in_to_registry(executor, runtime, auth, login, environment);
  });
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_EQ(read_text(dir.file("login.stdin")), "pa$$ 'word");
  EXPECT_EQ(read_text(dir.file("login.args")),
            "login\n--authfile\n" + dir.file("registry") +
                "/auth.json\n--username\nalice\n--password-stdin\nregistry.test:5000\n");
}

// An attempt of team/app:1 with kLogin's variables, on a node whose runtime is the stand-in.
Ran run_private_image(const TempDir& dir, int login_code) {
  ContainerRuntime runtime(stand_in_runtime(dir, login_code), {{"PATH", "/usr/bin:/bin"}});
  const NodePaths paths = plain_node_paths(dir, &runtime);
  AttemptSpec spec;
  spec.id = "private";
  spec.workdir = dir.path();
  spec.container_image = "team/app:1";
  spec.env = kLogin;
  spec.run = "touch ran\n";
  return run_co<Ran>([&] { return run_attempt(spec, &paths); });
}

TEST(RegistryLogin, TheAttemptLogsInFirstAndRunsTheImageFromTheServer) {
  TempDir dir;
  const Ran ran = run_private_image(dir, 0);
  EXPECT_EQ(phase_of(ran.status), "SUCCEEDED") << ran.output;
  EXPECT_EQ(read_text(dir.file("login.stdin")), "pa$$ 'word");
  const std::string run = read_text(dir.file("run.args"));
  EXPECT_NE(run.find("\nregistry.test:5000/team/app:1\n"), std::string::npos) << run;
  EXPECT_EQ(run.find("pa$$"), std::string::npos) << "the password is a name for `-e`, not a value";
  EXPECT_NE(ran.output.find("[skylet: logged in to registry.test:5000]"), std::string::npos)
      << ran.output;
  // The run reads the attempt's own login, which is gone once the attempt ends.
  const std::string auth_file = dir.file("attempts/private/registry/auth.json");
  EXPECT_NE(run.find("\n--authfile\n" + auth_file + "\n"), std::string::npos) << run;
  EXPECT_NE(read_text(dir.file("login.args")).find(auth_file), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("attempts/private/registry")));
}

TEST(RegistryLogin, AFailedLoginFailsTheAttemptBeforeAnythingRunsAndKeepsThePasswordOut) {
  TempDir dir;
  const Ran ran = run_private_image(dir, 1);
  EXPECT_EQ(phase_of(ran.status), "FAILED_CONTAINER") << ran.output;
  const std::string error(ran.status.find("container_error")->as_string().value_or(""));
  EXPECT_NE(error.find("resources.image_id: docker:team/app:1"), std::string::npos) << error;
  EXPECT_NE(error.find("unauthorized: bad credentials"), std::string::npos) << error;
  EXPECT_EQ(read_text(dir.file("login.stdin")), "pa$$ 'word");
  EXPECT_EQ(error.find("pa$$"), std::string::npos);
  EXPECT_EQ(ran.output.find("pa$$"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("run.args"))) << "nothing ran";
}

}  // namespace
}  // namespace skyd::skylet
