// A managed job whose task asks for a container (image_id: docker:IMAGE) through a real skyd on
// the local provider: its skylet runs setup and run in the image with a real podman, whose
// storage and settings live in the test's own directory.
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

constexpr const char* kImage = "localhost/skyd-busybox:job";

// podman's config for this test alone (runc and cgroupfs for hybrid cgroup hosts, an nproc
// limit that needs no CAP_SYS_RESOURCE, its state and exit files under the test's directory), and a
// busybox image imported into its storage.
std::map<std::string, std::string> podman_with_image(const TempDir& dir) {
  std::ofstream(dir.file("containers.conf"))
      << "[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n"
         "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
         "tmp_dir = \""
      << dir.file("podman-tmp") << "\"\n";
  std::ofstream(dir.file("storage.conf"))
      << "[storage]\ndriver = \"vfs\"\ngraphroot = \"" << dir.file("storage") << "\"\nrunroot = \""
      << dir.file("runroot") << "\"\n";
  const fs::path root = dir.file("rootfs");
  fs::create_directories(root / "bin");
  fs::create_directories(root / "etc");
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  for (const char* tool : {"sh", "echo", "cat", "id", "env"})
    fs::create_symlink("busybox", root / "bin" / tool);
  std::ofstream(root / "etc/skyd-image") << "inside the busybox image\n";
  std::map<std::string, std::string> env = {{"CONTAINERS_CONF", dir.file("containers.conf")},
                                            {"CONTAINERS_STORAGE_CONF", dir.file("storage.conf")}};
  // The paths are the test's own temporary directory's: no characters a shell would read.
  const std::string command = "tar -C " + root.string() + " -cf " + dir.file("rootfs.tar") +
                              " . && CONTAINERS_CONF=" + env["CONTAINERS_CONF"] +
                              " CONTAINERS_STORAGE_CONF=" + env["CONTAINERS_STORAGE_CONF"] +
                              " podman import " + dir.file("rootfs.tar") + " " + kImage +
                              " >/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return env;
}

std::string podman_ps(const TempDir& dir) {
  const std::string command = "CONTAINERS_CONF=" + dir.file("containers.conf") +
                              " CONTAINERS_STORAGE_CONF=" + dir.file("storage.conf") +
                              " podman ps -a -q > " + dir.file("ps.out") + " 2>&1";
  if (std::system(command.c_str()) != 0) return "podman ps failed";
  std::ifstream in(dir.file("ps.out"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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
