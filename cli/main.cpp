// sky: the command-line client of skyd.
#include "cli/commands.hpp"

int main(int argc, char** argv) {
  return skyd::cli::run_command(std::vector<std::string>(argv + 1, argv + argc));
}
