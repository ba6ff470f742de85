#pragma once
// skyd's configuration: defaults, then the config file, then command-line flags. The effective
// result is what `skyd --print-config` shows.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

struct DaemonConfig {
  std::string state_dir;     // everything skyd keeps: embedded PostgreSQL, logs, snapshots
  std::string socket;        // the API's Unix socket; defaults to <state_dir>/skyd.sock
  std::string socket_group;  // group allowed to use the socket (and to see every job)
  std::size_t shards = 0;    // 0: one per core
  std::string db;            // PostgreSQL conninfo; empty: the embedded server
  std::string log_level = "info";
  std::string config_file;   // where the file settings came from, if any
  bool print_config = false;

  Json to_json() const;  // for --print-config; never includes secrets (db passwords are masked)
};

// What a command line asks for: run the daemon with a config, or print something and exit.
struct Invocation {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  DaemonConfig config;
};

// Parses flags (and the config file they or the defaults name). Errors say which flag or which
// file, line and key is wrong.
Result<Invocation> parse_command_line(const std::vector<std::string>& args);

std::string usage();

// The default state directory: /var/lib/skyd for root, ~/.sky/skyd for anyone else.
std::string default_state_dir();

// "host=/tmp/x password=secret" -> "host=/tmp/x password=***".
std::string mask_conninfo(const std::string& conninfo);

}  // namespace skyd::daemon
