// The boot script's container-runtime lines run by a real bash against stand-in programs on
// PATH: which runtime skylet is started with, and what happens when none answers.

#include "providers/container_boot.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

namespace skyd::providers {
namespace {

using testing::contains;
using testing::TempDir;

// A program in `dir` that appends its arguments to `dir`/calls and exits `code`.
void stand_in(const TempDir& dir, const std::string& name, int code) {
  const std::string path = dir.file(name);
  std::ofstream(path) << "#!/bin/sh\necho \"" << name << " $*\" >> " << dir.file("calls")
                      << "\nexit " << code << "\n";
  ::chmod(path.c_str(), 0755);
}

// The lines run after `args=(base)`, then skylet's arguments printed one a line. Only `dir` and
// the basic tools' directories are on PATH, before the host's.
testing::CommandResult run_boot(const TempDir& dir, bool gpus) {
  const std::string script = dir.file("boot.sh");
  std::ofstream(script) << "set -euo pipefail\nargs=(base)\n"
                        << container_runtime_boot(gpus) << "printf '%s\\n' \"${args[@]}\"\n";
  return testing::run_command({"/bin/bash", script}, {{"PATH", dir.path() + ":/usr/bin:/bin"}});
}

TEST(ContainerBoot, SkyletGetsTheFirstRuntimeThatAnswers) {
  TempDir dir;
  stand_in(dir, "docker", 1);  // installed, its daemon down
  stand_in(dir, "podman", 0);
  stand_in(dir, "systemctl", 1);
  stand_in(dir, "apt-get", 1);
  const auto ran = run_boot(dir, true);
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, "base\n--container-runtime\n" + dir.file("podman") + "\n--container-gpus\n");
  EXPECT_FALSE(contains(testing::read_text(dir.file("calls")), "apt-get")) << "nothing installed";
}

TEST(ContainerBoot, WithoutARuntimeItInstallsDockerIoAndSaysSoWhenThatFails) {
  TempDir dir;
  stand_in(dir, "docker", 1);
  stand_in(dir, "podman", 1);
  stand_in(dir, "systemctl", 1);
  stand_in(dir, "apt-get", 1);  // no network for the package lists
  const auto ran = run_boot(dir, false);
  EXPECT_EQ(ran.exit_code, 0) << "skylet still starts: " << ran.err;
  EXPECT_EQ(ran.out, "base\n") << "no runtime flag without a runtime";
  EXPECT_TRUE(contains(ran.err, "no docker or podman that answers")) << ran.err;
  const std::string calls = testing::read_text(dir.file("calls"));
  EXPECT_TRUE(contains(calls, "systemctl start docker")) << calls;
  EXPECT_TRUE(contains(calls, "apt-get update")) << calls;
}

}  // namespace
}  // namespace skyd::providers
