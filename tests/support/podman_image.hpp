#pragma once
// podman for one integration test: its config and storage in the test's own directory (runc and
// cgroupfs for hybrid cgroup hosts, an nproc limit that needs no CAP_SYS_RESOURCE, its state and
// exit files under the directory), and a busybox image imported into that storage without a
// registry. The variables returned point podman there; whoever runs it (skyd, fakecloud) gets them.

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace skyd::testing {

// The image holds /etc/skyd-image ("inside the busybox image"), which the host does not.
inline constexpr const char* kBusyboxImage = "localhost/skyd-busybox:job";

inline std::map<std::string, std::string> podman_with_image(const TempDir& dir) {
  namespace fs = std::filesystem;
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
                              " podman import " + dir.file("rootfs.tar") + " " + kBusyboxImage +
                              " >/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return env;
}

// `podman ps -a -q` in the test's storage: "" when no container is left.
inline std::string podman_ps(const TempDir& dir) {
  const std::string command = "CONTAINERS_CONF=" + dir.file("containers.conf") +
                              " CONTAINERS_STORAGE_CONF=" + dir.file("storage.conf") +
                              " podman ps -a -q > " + dir.file("ps.out") + " 2>&1";
  if (std::system(command.c_str()) != 0) return "podman ps failed";
  std::ifstream in(dir.file("ps.out"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace skyd::testing
