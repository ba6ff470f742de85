#include "providers/local/stale_mounts.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace skyd::providers {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<std::string> mount_points_under(const std::string& dir) {
  std::vector<std::string> points;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  const std::string prefix = dir.ends_with('/') ? dir : dir + "/";
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point;
    if (!(fields >> id >> parent >> device >> root >> point)) continue;
    point = unescape(point);
    if (point.starts_with(prefix)) points.push_back(point);
  }
  // Deepest first: a mount inside another goes before it.
  std::sort(points.begin(), points.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return points;
}

bool fusermount_detach(const std::string& point) {
  const char* argv[] = {"fusermount3", "-uz", point.c_str(), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "fusermount3", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
    return false;
  // A lazy unmount returns at once; one that does not within 10 s is killed, never waited on.
  int status = 0;
  for (int tick = 0; tick < 1000; ++tick) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (done < 0 && errno != EINTR) return false;
    ::usleep(10000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return false;
}

}  // namespace

int detach_mounts_under(const std::string& dir) {
  int detached = 0;
  for (const auto& point : mount_points_under(dir)) {
    const bool done =
        ::geteuid() == 0 ? ::umount2(point.c_str(), MNT_DETACH) == 0 : fusermount_detach(point);
    if (done) ++detached;
  }
  return detached;
}

}  // namespace skyd::providers
