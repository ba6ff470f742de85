#pragma once
// `--help` and `-h`, which every command and subcommand of `sky` answers with its usage text on
// stdout and exit code 0, wherever the flag stands (as SkyPilot's click commands do); words after
// `--` are the task's own.

#include <string>
#include <vector>

namespace skyd::cli {

inline bool asks_for_help(const std::vector<std::string>& args) {
  for (const auto& arg : args) {
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

}  // namespace skyd::cli
