#pragma once
// The record of the containers a node's skylet started (`<work>/containers`, one
// "RUNTIME\tNAME" line each): skylet removes what it lists when it starts again, and the local
// provider when it stops the machine. Only a docker or podman program given by its absolute path
// and a skyd-* name are taken from the file, so the record cannot name another program.

#include "reactor/file_names.hpp"

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace skyd {

struct RecordedContainer {
  std::string runtime;  // an absolute path to docker or podman
  std::string name;     // skyd-<attempt>-<step>
};

inline std::vector<RecordedContainer> parse_container_record(const std::string& text) {
  std::vector<RecordedContainer> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0) continue;
    RecordedContainer entry{line.substr(0, tab), line.substr(tab + 1)};
    const std::string program = std::filesystem::path(entry.runtime).filename().string();
    if (entry.runtime.front() != '/' || (program != "docker" && program != "podman")) continue;
    if (!entry.name.starts_with("skyd-") || !is_plain_file_name(entry.name, 200)) continue;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace skyd
