// skyd: the managed-jobs controller daemon.
#include "cli/dial_stdio.hpp"
#include "daemon/config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/version.hpp"

#include <iostream>

int main(int argc, char** argv) {
  using skyd::daemon::Invocation;
  // `skyd dial-stdio`: a remote `sky` reaching this machine's skyd through ssh.
  if (argc >= 2 && std::string_view(argv[1]) == "dial-stdio")
    return skyd::cli::dial_stdio_command(std::vector<std::string>(argv + 2, argv + argc));
  auto invocation =
      skyd::daemon::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!invocation) {
    std::cerr << "skyd: " << invocation.error().detail << "\n";
    return 2;
  }
  switch (invocation->action) {
    case Invocation::Action::kHelp:
      std::cout << skyd::daemon::usage();
      return 0;
    case Invocation::Action::kVersion:
      std::cout << "skyd " << skyd::kVersion << "\n";
      return 0;
    case Invocation::Action::kRun:
      break;
  }
  if (invocation->config.print_config) {
    std::cout << invocation->config.to_json().dump() << "\n";
    return 0;
  }
  return skyd::daemon::run_daemon(invocation->config);
}
