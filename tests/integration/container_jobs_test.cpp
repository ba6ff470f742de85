// A managed job whose task asks for a container (image_id: docker:IMAGE) through a real skyd on
// the local provider: its skylet runs setup and run in the image with a real podman, whose
// storage and settings live in the test's own directory.
#include "tests/support/podman_image.hpp"
#include "tests/support/skyd_harness.hpp"
#include "tests/support/test_support.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kImage = kBusyboxImage;

TEST(ContainerJobs, ALocalTaskWithADockerImageRunsInItAndItsExitCodeCounts) {
  if (::access("/usr/bin/podman", X_OK) != 0)
    GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  SkydHarness skyd({}, {podman_with_image(dir)});
  const auto yaml = skyd.write_file(
      "boxed.yaml", std::string("name: boxed\nresources:\n  infra: local\n  image_id: docker:") +
                        kImage +
                        "\nenvs:\n  WHO: you\nsetup: echo \"setup as $(id -u)\"\nrun: |\n"
                        "  cat /etc/skyd-image\n  echo \"hi $WHO from rank $SKYPILOT_NODE_RANK\"\n"
                        "  exit 7\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", yaml}, std::chrono::seconds(180));
  EXPECT_EQ(launched.exit_code, 100) << launched.out << launched.err;
  EXPECT_TRUE(contains(launched.out, "setup as " + std::to_string(::getuid()) + "\n"))
      << launched.out;
  EXPECT_TRUE(contains(launched.out, "inside the busybox image\nhi you from rank 0\n"))
      << launched.out;
  EXPECT_TRUE(contains(launched.out, "run failed with exit codes [7]")) << launched.out;
  EXPECT_TRUE(skyd.no_machines_left());
  EXPECT_EQ(podman_ps(dir), "") << "no container outlives the job";
}

TEST(ContainerJobs, AContainerWhoseSkyletWasKilledGoesWithItsCluster) {
  if (::access("/usr/bin/podman", X_OK) != 0)
    GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  SkydHarness skyd({}, {podman_with_image(dir)});
  const auto yaml = skyd.write_file(
      "orphan.yaml", std::string("name: orphan\nresources:\n  infra: local\n  image_id: docker:") +
                         kImage + "\nrun: |\n  echo up > started\n  sleep 600\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string node = skyd.state_dir() + "/local/clusters/orphan-1/node-0";
  ASSERT_TRUE(skyd.wait_for_file(node + "/home/sky_workdir/started", std::chrono::seconds(120)));
  EXPECT_NE(podman_ps(dir), "") << "the task runs in a container";
  // The agent dies at once: its runtime client with it, the container not.
  const int pid = std::atoi(read_text(node + "/skylet.pid").c_str());
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);
  ASSERT_EQ(skyd.sky({"jobs", "cancel", "-y", "1"}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(1, {"CANCELLED"}, std::chrono::seconds(120)));
  EXPECT_TRUE(skyd.no_machines_left());
  EXPECT_EQ(podman_ps(dir), "") << "the cluster's teardown removed the container";
}

}  // namespace
}  // namespace skyd::testing
