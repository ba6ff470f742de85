#include "daemon/skylet/private_root.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace skyd::skylet {
namespace fs = std::filesystem;
namespace {

Error failure(const std::string& what) {
  return make_error(boost::system::error_code(errno, boost::system::system_category()),
                    "private root: " + what + ": " + std::strerror(errno));
}

std::string top_level(const std::string& path) {
  const auto next = path.find('/', 1);
  return path.substr(1, next == std::string::npos ? std::string::npos : next - 1);
}

Result<void> bind(const std::string& source, const std::string& target, bool recursive) {
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0),
              nullptr) != 0) {
    return failure("bind " + source + " on " + target);
  }
  return {};
}

// Makes `target` (inside the new root) a mount point of the same kind as `source`.
void make_mount_point(const std::string& source, const std::string& target) {
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    fs::create_directories(target, ec);
  } else {
    fs::create_directories(fs::path(target).parent_path(), ec);
    std::ofstream(target, std::ios::app).close();
  }
}

}  // namespace

Result<void> enter_private_root(const std::string& sandbox, const std::vector<BindMount>& mounts) {
  if (::unshare(CLONE_NEWNS) != 0) return failure("unshare");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return failure("make / private");

  const std::string root = sandbox + "/root";
  const std::string layers = sandbox + "/layers";  // overlay upper and work dirs, on a tmpfs
  std::error_code ec;
  fs::create_directories(root, ec);
  fs::create_directories(layers, ec);
  if (::mount("tmpfs", root.c_str(), "tmpfs", 0, "mode=0755") != 0) return failure("tmpfs root");
  if (::mount("tmpfs", layers.c_str(), "tmpfs", 0, "mode=0700") != 0)
    return failure("tmpfs layers");

  // A destination inside a host directory that does not have it yet needs that directory as an
  // overlay, so the new entry lands in the machine's layer, not on the host.
  std::set<std::string> overlaid;
  for (const auto& mount : mounts) {
    const std::string top = top_level(mount.destination);
    if (fs::exists("/" + top, ec) && !fs::exists(mount.destination, ec)) overlaid.insert(top);
  }

  for (const auto& entry : fs::directory_iterator("/", ec)) {
    const std::string name = entry.path().filename().string();
    const std::string host = "/" + name;
    const std::string target = root + host;
    if (fs::is_symlink(host, ec)) {
      fs::create_symlink(fs::read_symlink(host, ec), target, ec);
      continue;
    }
    make_mount_point(host, target);
    if (overlaid.contains(name)) {
      const std::string upper = layers + "/upper/" + name, work = layers + "/work/" + name;
      fs::create_directories(upper, ec);
      fs::create_directories(work, ec);
      const std::string options = "lowerdir=" + host + ",upperdir=" + upper + ",workdir=" + work;
      if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
        return failure("overlay " + host);
    } else if (auto bound = bind(host, target, true); !bound) {
      return bound;
    }
  }

  for (const auto& mount : mounts) {
    const std::string target = root + mount.destination;
    make_mount_point(mount.source, target);
    if (auto bound = bind(mount.source, target, true); !bound) return bound;
  }
  if (::chroot(root.c_str()) != 0) return failure("chroot");
  if (::chdir("/") != 0) return failure("chdir");
  return {};
}

}  // namespace skyd::skylet
