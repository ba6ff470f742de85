// skylet: the agent that runs a task on a node (see daemon/skylet/README.md).
#include "daemon/version.hpp"

#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << "skylet " << skyd::kVersion << "\n";
      return 0;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << "usage: skylet --listen ADDR:PORT --token-file FILE --work-dir DIR\n"
                   "The node agent: runs task attempts, keeps their logs, reports health and spot notices.\n";
      return 0;
    }
  }
  std::cerr << "skylet: the node agent's API is not built yet; see --help\n";
  return 2;
}
