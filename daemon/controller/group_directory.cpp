#include "daemon/controller/group_directory.hpp"

namespace skyd::daemon {

bool GroupDirectory::settled() const {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!ips[i] && !ended[i]) return false;
  }
  return true;
}

std::string GroupDirectory::hosts() const {
  std::string lines;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!ips[i]) continue;
    for (std::size_t rank = 0; rank < ips[i]->size(); ++rank) {
      lines += (*ips[i])[rank] + " " + tasks[i] + "-" + std::to_string(rank) + "." + name + "\n";
    }
  }
  return lines;
}

}  // namespace skyd::daemon
