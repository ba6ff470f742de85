#pragma once
// Running one attempt to its end for the container tests: its final status and its log.

#include "daemon/skylet/attempt.hpp"
#include "tests/support/test_support.hpp"

#include <string>

namespace skyd::skylet {

struct Ran {
  Json status;
  std::string output;
};

inline Task<Ran> run_attempt(AttemptSpec spec, const NodePaths* paths) {
  Attempt attempt(co_await asio::this_coro::executor, std::move(spec), *paths, 1 << 20);
  if (co_await attempt.prepare()) co_await attempt.run();
  co_return Ran{attempt.status(), attempt.log().read(0, 1 << 20)};
}

inline std::string phase_of(const Json& status) {
  return std::string(status.find("phase")->as_string().value_or(""));
}

// A node's paths in `dir` with `runtime` and a plain PATH: nothing of the host's runtime config.
inline NodePaths plain_node_paths(const testing::TempDir& dir, ContainerRuntime* runtime) {
  NodePaths paths;
  paths.attempts_dir = dir.file("attempts");
  paths.pgid_file = dir.file("pgids");
  paths.base_env = {{"PATH", "/usr/bin:/bin"}};
  paths.containers = runtime;
  return paths;
}

}  // namespace skyd::skylet
