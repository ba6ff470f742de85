#pragma once
// A machine of the local provider that asks for absolute file_mounts destinations (`/checkpoint`)
// gets its own mount namespace and root: every top-level directory of the host is bind-mounted in
// (an overlay where a destination must be created inside it), and each destination is a private
// bind mount of its source. Nothing on the host changes and two machines never collide. Needs
// CAP_SYS_ADMIN (root); must run before the process starts any thread.

#include "reactor/error.hpp"

#include <string>
#include <vector>

namespace skyd::skylet {

struct BindMount {
  std::string source;       // a directory or file on the host
  std::string destination;  // an absolute path inside the machine
};

Result<void> enter_private_root(const std::string& sandbox, const std::vector<BindMount>& mounts);

}  // namespace skyd::skylet
