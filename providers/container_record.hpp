#pragma once
// The record of the containers a node's skylet started (`<work>/containers`, one
// "RUNTIME\tNAME" line each): skylet removes what it lists when it starts again, and the local
// provider when it stops the machine. Only a docker or podman program given by its absolute path
// and a skyd-* name are taken from the file, so the record cannot name another program.

#include "reactor/coro.hpp"
#include "reactor/file_names.hpp"
#include "reactor/process.hpp"
#include "reactor/timeout.hpp"

#include <chrono>

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

// `RUNTIME rm -f NAME`, bounded: a runtime that hangs is killed after a minute (a running
// container's stop takes the runtime's own timeout, 10 s by default).
inline Task<Result<std::string>> remove_recorded_container(asio::any_io_executor executor,
                                                           RecordedContainer container,
                                                           std::vector<std::string> environment) {
  ProcessOptions options;
  options.argv = {container.runtime, "rm", "-f", container.name};
  options.environment = std::move(environment);
  co_return co_await with_timeout(run_program(std::move(executor), std::move(options)),
                                  std::chrono::minutes(1), "removing container " + container.name);
}

}  // namespace skyd
