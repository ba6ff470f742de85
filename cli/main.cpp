// Temporary entry point for the spec work: dispatches `jobs launch` and `show-gpus` only.
#include "cli/launch_command.hpp"
#include "cli/show_gpus_command.hpp"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "jobs" && args[1] == "launch") {
    return skyd::cli::jobs_launch_command({args.begin() + 2, args.end()});
  }
  if (!args.empty() && args[0] == "show-gpus") {
    return skyd::cli::show_gpus_command({args.begin() + 1, args.end()});
  }
  std::cerr << "usage: sky jobs launch ... | sky show-gpus ...\n";
  return 2;
}
