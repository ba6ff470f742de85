#pragma once
// `sky`'s command dispatcher: `sky jobs launch|queue|logs|cancel`, `sky show-gpus`,
// `sky daemon status`.

#include <string>
#include <vector>

namespace skyd::cli {

// Runs one command line (without the program name); returns the exit code.
int run_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
