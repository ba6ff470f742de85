// Managed jobs whose task asks for a container (image_id: docker:IMAGE) on EC2 and Compute
// Engine, against fakecloud in process mode: the node's boot asks for a container runtime,
// fakecloud starts the node's real skylet with the one its machines carry (a real podman with
// runc, configured in the test's directory), and setup and run go inside a busybox image built
// here.
#include "tests/support/clouds_world.hpp"
#include "tests/support/podman_image.hpp"

#include <unistd.h>

#include <string>

namespace skyd::testing {
namespace {

// fakecloud for both clouds, whose machines carry podman with the test's image; skyd at it.
struct ContainerClouds {
  ContainerClouds()
      : podman(podman_with_image(dir)),
        cloud(dir, {}, podman),
        skyd(both_clouds(cloud, {}), aws_environment()) {}
  ~ContainerClouds() {
    skyd.sky({"jobs", "cancel", "-u", "-y"});
    skyd.no_machines_left();
  }
  TempDir dir;
  std::map<std::string, std::string> podman;
  FakeCloudProcess cloud;
  SkydHarness skyd;
};

std::string boxed_task(const std::string& cloud, const std::string& instance_type) {
  return "name: boxed-" + cloud + "\nresources:\n  cloud: " + cloud +
         "\n  instance_type: " + instance_type +
         "\n  use_spot: true\n  image_id: docker:" + kBusyboxImage +
         "\nenvs:\n  WHO: you\nsetup: echo \"setup sees $(cat /etc/skyd-image)\"\nrun: |\n"
         "  cat /etc/skyd-image\n  echo \"hi $WHO from rank $SKYPILOT_NODE_RANK\"\n";
}

// The container runtime fakecloud started the job's node's skylet with (its boot asked for one).
std::string node_runtime(ContainerClouds& world, const std::string& cloud) {
  const std::string view = cloud == "gcp" ? "/_admin/gcp/instances" : "/_admin/instances";
  auto listed = parse_json(admin_call(world.cloud, "GET", view));
  const Json* instances = listed ? listed->find("instances") : nullptr;
  if (!instances || !instances->as_array() || instances->as_array()->empty()) return "no instance";
  const Json* runtime = instances->as_array()->front().find("container_runtime");
  return runtime ? std::string(runtime->as_string().value_or("")) : "none";
}

void expect_ran_in_the_image(ContainerClouds& world, const std::string& cloud,
                             const std::string& instance_type) {
  const auto yaml = world.skyd.write_file("boxed.yaml", boxed_task(cloud, instance_type));
  auto launched = world.skyd.sky({"jobs", "launch", "-y", yaml}, std::chrono::seconds(180));
  EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  // /etc/skyd-image is the image's alone: the host has none.
  EXPECT_TRUE(contains(launched.out, "setup sees inside the busybox image\n")) << launched.out;
  EXPECT_TRUE(contains(launched.out, "inside the busybox image\nhi you from rank 0\n"))
      << launched.out;
  const auto launches = controller_log_of(world.skyd, 1);
  EXPECT_TRUE(contains(launches, "on " + cloud + "/")) << launches;
  EXPECT_EQ(node_runtime(world, cloud), "podman") << "the node's boot asked for a runtime";
  EXPECT_EQ(podman_ps(world.dir), "") << "no container outlives the job";
  EXPECT_TRUE(world.skyd.no_machines_left());
}

TEST(CloudContainerJobs, AnEc2SpotTaskWithADockerImageRunsInItAndSucceeds) {
  if (::access("/usr/bin/podman", X_OK) != 0)
    GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  ContainerClouds world;
  expect_ran_in_the_image(world, "aws", "m6i.large");
}

TEST(CloudContainerJobs, AComputeEngineSpotTaskWithADockerImageRunsInItAndSucceeds) {
  if (::access("/usr/bin/podman", X_OK) != 0)
    GTEST_SKIP() << "podman is not installed (/usr/bin/podman)";
  ContainerClouds world;
  expect_ran_in_the_image(world, "gcp", "n2-standard-8");
}

}  // namespace
}  // namespace skyd::testing
