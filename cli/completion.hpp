#pragma once
// `sky completion bash`: the bash completion script for `sky` (commands, subcommands, each one's
// flags, files for YAML entrypoints). The install step writes it to bash-completion's directory.

#include <string>
#include <vector>

namespace skyd::cli {

int completion_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
