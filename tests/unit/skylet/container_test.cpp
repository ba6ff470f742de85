// Attempts whose task asks for a container image (image_id: docker:IMAGE): run by a real podman
// in an image made here from a busybox rootfs, with its own storage and config in the test's
// directory; and the failure of a node without a runtime.

#include "daemon/skylet/attempt.hpp"
#include "daemon/skylet/container_runtime.hpp"
#include "daemon/skylet_client.hpp"
#include "reactor/process.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/skylet/container_attempts.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace skyd::skylet {
namespace {

namespace fs = std::filesystem;
using testing::run_co;
using testing::TempDir;

constexpr const char* kImage = "localhost/skyd-busybox:test";

bool podman_installed() {
  return ::access("/usr/bin/podman", X_OK) == 0;
}

// podman with its storage, runtime state and settings in `dir` (nothing shared with another
// test). runc and cgroupfs work on hybrid cgroup hosts; podman's default nproc limit (1048576)
// needs CAP_SYS_RESOURCE, so a lower one is set.
std::map<std::string, std::string> podman_environment(const TempDir& dir) {
  std::ofstream(dir.file("containers.conf"))
      << "[containers]\n"
         "default_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n"
         "[engine]\n"
         "runtime = \"runc\"\n"
         "cgroup_manager = \"cgroupfs\"\n"
         "events_logger = \"file\"\n"
         "tmp_dir = \""
      << dir.file("podman-tmp") << "\"\n";
  std::ofstream(dir.file("storage.conf"))
      << "[storage]\n"
         "driver = \"vfs\"\n"
         "graphroot = \""
      << dir.file("storage") << "\"\nrunroot = \"" << dir.file("runroot") << "\"\n";
  return {{"PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"},
          {"HOME", dir.path()},
          {"CONTAINERS_CONF", dir.file("containers.conf")},
          {"CONTAINERS_STORAGE_CONF", dir.file("storage.conf")}};
}

std::vector<std::string> entries(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (const auto& [key, value] : env) out.push_back(key + "=" + value);
  return out;
}

Task<Result<std::string>> podman(std::map<std::string, std::string> env,
                                 std::vector<std::string> args) {
  ProcessOptions options;
  options.argv = {"/usr/bin/podman"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.environment = entries(env);
  co_return co_await run_program(co_await asio::this_coro::executor, std::move(options));
}

// A busybox rootfs (a marker file shows the task ran in it) imported as kImage.
void make_image(const TempDir& dir, const std::map<std::string, std::string>& env) {
  const fs::path root = dir.file("rootfs");
  fs::create_directories(root / "bin");
  fs::create_directories(root / "etc");
  fs::create_directories(root / "tmp");
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  for (const char* tool : {"sh", "echo", "cat", "id", "env", "sleep", "true", "printf", "pwd"})
    fs::create_symlink("busybox", root / "bin" / tool);
  std::ofstream(root / "etc/skyd-image") << "inside the busybox image\n";
  std::ofstream(root / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  ProcessOptions tar;
  tar.argv = {"/bin/tar", "-C", root.string(), "-cf", dir.file("rootfs.tar"), "."};
  tar.environment = entries(env);
  auto packed = run_co<Result<std::string>>([&]() -> Task<Result<std::string>> {
    co_return co_await run_program(co_await asio::this_coro::executor, tar);
  });
  ASSERT_TRUE(packed) << packed.error().message();
  auto imported = run_co<Result<std::string>>(
      [&] {
        return podman(env, {"import", dir.file("rootfs.tar"), kImage});
      },
      std::chrono::seconds(120));
  ASSERT_TRUE(imported) << imported.error().message();
}

struct World {
  TempDir dir;
  std::map<std::string, std::string> env;
  std::unique_ptr<ContainerRuntime> runtime;
  NodePaths paths;

  World() {
    // The task's user reaches its scripts and workdir through these directories.
    ::chmod(dir.path().c_str(), 0755);
    env = podman_environment(dir);
    runtime = std::make_unique<ContainerRuntime>("podman", env);
    paths.attempts_dir = dir.file("attempts");
    paths.pgid_file = dir.file("pgids");
    paths.base_env = env;
    paths.base_env["NODE_ONLY"] = "from the node";
    paths.containers = runtime.get();
    fs::create_directories(dir.file("work"));
    ::chmod(dir.file("work").c_str(), 0777);
  }
};

TEST(Container, TheTaskRunsInTheImageAsItsUserWithItsEnvAndItsExitCode) {
  if (!podman_installed()) GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  World world;
  make_image(world.dir, world.env);
  AttemptSpec spec;
  spec.id = "box-1";
  spec.workdir = world.dir.file("work");
  spec.container_image = kImage;
  spec.user = UserIdentity{65534, 65534, {}};
  spec.env = {{"GREETING", "hello; $(not run) 'quoted'"}, {"PATH", "/bin"}};
  spec.setup_env = {{"SKYPILOT_SETUP_NODE_RANK", "0"}};
  spec.setup = "echo \"setup rank=$SKYPILOT_SETUP_NODE_RANK\"\n";
  spec.run =
      "cat /etc/skyd-image\n"
      "echo \"greeting=$GREETING\"\n"
      "echo \"uid=$(id -u) gid=$(id -g) pwd=$(pwd)\"\n"
      "echo \"rank in run=${SKYPILOT_SETUP_NODE_RANK:-unset}\"\n"
      "echo \"node only=${NODE_ONLY:-unset}\"\n"
      "echo 60 > \"$SKYPILOT_PROGRESS_FILE\"\n"
      "exit 3\n";
  const Ran ran =
      run_co<Ran>([&] { return run_attempt(spec, &world.paths); }, std::chrono::seconds(120));
  EXPECT_EQ(phase_of(ran.status), "FAILED") << ran.output;
  EXPECT_EQ(ran.status.find("setup_exit_code")->as_int(), 0) << ran.output;
  EXPECT_EQ(ran.status.find("exit_code")->as_int(), 3) << ran.output;
  const auto has = [&](const std::string& line) {
    return ran.output.find(line) != std::string::npos;
  };
  EXPECT_TRUE(has("setup rank=0\n")) << ran.output;
  EXPECT_TRUE(has("inside the busybox image\n")) << ran.output;
  EXPECT_TRUE(has("greeting=hello; $(not run) 'quoted'\n")) << ran.output;
  EXPECT_TRUE(has("uid=65534 gid=65534 pwd=" + world.dir.file("work") + "\n")) << ran.output;
  EXPECT_TRUE(has("rank in run=unset\n")) << ran.output;
  EXPECT_TRUE(has("node only=unset\n")) << "the node's variables stay outside";
  EXPECT_EQ(ran.status.find("progress_seconds")->as_int(), 60) << "the progress file is bound in";
  auto left = run_co<Result<std::string>>([&] { return podman(world.env, {"ps", "-a", "-q"}); });
  ASSERT_TRUE(left) << left.error().message();
  EXPECT_EQ(*left, "") << "--rm removed the containers";
}

// Cancels the attempt once its output says the task started.
Task<void> cancel_once_started(Attempt& attempt) {
  while (attempt.log().read(0, 1 << 20).find("started") == std::string::npos &&
         !is_finished(attempt.phase())) {
    co_await attempt.log().wait_past(attempt.log().size());
  }
  co_await attempt.cancel(std::chrono::seconds(1));
}

Task<Ran> cancel_when_started(AttemptSpec spec, const NodePaths* paths) {
  using namespace asio::experimental::awaitable_operators;
  Attempt attempt(co_await asio::this_coro::executor, std::move(spec), *paths, 1 << 20);
  if (co_await attempt.prepare()) co_await (attempt.run() && cancel_once_started(attempt));
  co_return Ran{attempt.status(), attempt.log().read(0, 1 << 20)};
}

TEST(Container, ACancelledAttemptLeavesNoContainer) {
  if (!podman_installed()) GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  World world;
  make_image(world.dir, world.env);
  AttemptSpec spec;
  spec.id = "box-cancel";
  spec.workdir = world.dir.file("work");
  spec.container_image = kImage;
  spec.run = "echo started\nsleep 600\n";
  const Ran ran = run_co<Ran>([&] { return cancel_when_started(spec, &world.paths); },
                              std::chrono::seconds(120));
  EXPECT_EQ(phase_of(ran.status), "CANCELLED") << ran.output;
  EXPECT_NE(ran.output.find("started"), std::string::npos) << ran.output;
  auto left = run_co<Result<std::string>>([&] { return podman(world.env, {"ps", "-a", "-q"}); });
  ASSERT_TRUE(left) << left.error().message();
  EXPECT_EQ(*left, "") << "the cancelled attempt's container is gone";
}

TEST(Container, ASkyletStartingAgainRemovesTheContainersAKilledOneLeft) {
  if (!podman_installed()) GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  World world;
  make_image(world.dir, world.env);
  // As a killed skylet leaves it: the container runs, its runtime client is gone.
  auto started = run_co<Result<std::string>>(
      [&] {
        return podman(world.env, {"run", "-d", "--name", "skyd-old-run", kImage, "sleep", "600"});
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(started) << started.error().message();
  const std::string record = world.dir.file("containers");
  std::ofstream(record) << "/usr/bin/podman\tskyd-old-run\n"
                        << "/bin/sh\tskyd-not-a-runtime\n";
  run_co<bool>(
      [&]() -> Task<bool> {
        co_await sweep_leftover_containers(co_await asio::this_coro::executor, record, world.env);
        co_return true;
      },
      std::chrono::seconds(60));
  auto left = run_co<Result<std::string>>([&] { return podman(world.env, {"ps", "-a", "-q"}); });
  ASSERT_TRUE(left) << left.error().message();
  EXPECT_EQ(*left, "") << "the leftover container is gone";
  EXPECT_EQ(fs::file_size(record), 0u) << "the record starts empty";
}

TEST(Container, WithoutARuntimeTheAttemptFailsNamingTheFieldAndNothingRuns) {
  TempDir dir;
  ContainerRuntime missing("skyd-no-such-runtime", {{"PATH", "/usr/bin:/bin"}});
  const NodePaths paths = plain_node_paths(dir, &missing);
  AttemptSpec spec;
  spec.id = "no-runtime";
  spec.workdir = dir.path();
  spec.container_image = "localhost/x:1";
  spec.run = "touch ran-on-the-host\n";
  const Ran ran = run_co<Ran>([&] { return run_attempt(spec, &paths); });
  EXPECT_EQ(phase_of(ran.status), "FAILED_CONTAINER") << ran.output;
  const Json* error = ran.status.find("container_error");
  ASSERT_NE(error, nullptr);
  const std::string text(error->as_string().value_or(""));
  EXPECT_NE(text.find("resources.image_id: docker:localhost/x:1 needs a container runtime "
                      "(docker or podman) on the node; none found"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("skyd-no-such-runtime is not installed"), std::string::npos) << text;
  EXPECT_NE(ran.output.find("needs a container runtime"), std::string::npos) << ran.output;
  EXPECT_FALSE(fs::exists(dir.file("ran-on-the-host"))) << "never silently on the host";
}

TEST(Container, TheStartRequestCarriesTheImageAndRefusesOneThatIsNoImageName) {
  Json body = Json::object();
  body.set("attempt_id", "a-1");
  body.set("run", "true");
  body.set("container_image", "localhost/img:1");
  auto spec = AttemptSpec::from_json(body);
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->container_image, "localhost/img:1");
  for (const char* bad : {"--privileged", "img 1", "img\n"}) {
    body.set("container_image", bad);
    auto refused = AttemptSpec::from_json(body);
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().detail.find("container_image:"), std::string::npos);
  }
}

TEST(Container, TheControllersStartRequestCarriesTheImageAsSkyletReadsIt) {
  daemon::AttemptRequest request;
  request.attempt_id = "a-1";
  request.container_image = "localhost/img:1";
  auto spec = AttemptSpec::from_json(daemon::to_json(request));
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->container_image, "localhost/img:1");
  request.container_image.clear();
  EXPECT_EQ(daemon::to_json(request).find("container_image"), nullptr) << "none: on the node";
}

TEST(Container, TheRunLinePassesSecretsByNameAndRunsAsTheUser) {
  ContainerRun run;
  run.runtime = "/usr/bin/podman";
  run.image = "localhost/img:1";
  run.name = "skyd-a-run";
  run.user = UserIdentity{1000, 1001, {1001, 27}};
  run.workdir = "/home/u/sky_workdir";
  run.binds = {"/opt/skyd/work/attempts/a"};
  run.env_names = {"TOKEN"};
  run.env_literal = {{"PATH", "/bin"}};
  run.script = "/opt/skyd/work/attempts/a/run.sh";
  const auto argv = container_run_argv(run);
  const auto after = [&](const std::string& flag, const std::string& value) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == flag && argv[i + 1] == value) return true;
    return false;
  };
  EXPECT_EQ(argv[0], "/usr/bin/podman");
  EXPECT_TRUE(after("--user", "1000:1001"));
  EXPECT_TRUE(after("--group-add", "27"));
  EXPECT_FALSE(after("--group-add", "1001")) << "the primary group is not added twice";
  EXPECT_TRUE(after("--name", "skyd-a-run"));
  EXPECT_TRUE(after("-e", "TOKEN")) << "the value comes from the runtime's environment";
  EXPECT_TRUE(after("-e", "PATH=/bin"));
  EXPECT_TRUE(after("-w", "/home/u/sky_workdir"));
  EXPECT_TRUE(after("-v", "/opt/skyd/work/attempts/a:/opt/skyd/work/attempts/a"));
  EXPECT_EQ(argv.back(), run.script) << "the script is an argument, not part of a shell line";
  const auto image = std::find(argv.begin(), argv.end(), run.image);
  ASSERT_NE(image, argv.end());
  EXPECT_EQ(*(image + 1), "/bin/sh");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--userns=keep-id"), 0) << "a root runtime";
  run.keep_id = true;
  const auto rootless = container_run_argv(run);
  EXPECT_EQ(std::count(rootless.begin(), rootless.end(), "--userns=keep-id"), 1);
  EXPECT_TRUE(is_runtime_variable("CONTAINERS_CONF"));
  EXPECT_FALSE(is_runtime_variable("HF_TOKEN"));
  EXPECT_FALSE(valid_runtime_name("podman; rm"));
  EXPECT_TRUE(valid_runtime_name("/usr/bin/podman"));
}

TEST(Container, TheNodesGpusGoToTheContainerAsEachRuntimeTakesThem) {
  ContainerRun run;
  run.runtime = "/usr/bin/docker";
  run.image = "localhost/img:1";
  run.name = "skyd-a-run";
  run.script = "/w/run.sh";
  const auto pair_before_image = [](const std::vector<std::string>& argv, const std::string& flag,
                                    const std::string& value) {
    const auto image = std::find(argv.begin(), argv.end(), "localhost/img:1");
    for (auto it = argv.begin(); it + 1 < image; ++it)
      if (*it == flag && *(it + 1) == value) return true;
    return false;
  };
  auto argv = container_run_argv(run);
  EXPECT_FALSE(pair_before_image(argv, "--gpus", "all")) << "no GPUs unless the node has some";
  run.gpus = true;
  argv = container_run_argv(run);
  EXPECT_TRUE(pair_before_image(argv, "--gpus", "all"));
  EXPECT_FALSE(pair_before_image(argv, "--device", "nvidia.com/gpu=all"));
  run.runtime = "/usr/bin/podman";
  argv = container_run_argv(run);
  EXPECT_TRUE(pair_before_image(argv, "--device", "nvidia.com/gpu=all")) << "CDI on podman";
  EXPECT_FALSE(pair_before_image(argv, "--gpus", "all"));
}

}  // namespace
}  // namespace skyd::skylet
