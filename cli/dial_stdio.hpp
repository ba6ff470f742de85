#pragma once
// `skyd dial-stdio`: joins this process's stdin and stdout to skyd's socket, so that a `sky` on
// another machine can speak to skyd through `ssh HOST skyd dial-stdio`. It runs as the SSH user,
// so the daemon sees that user as the peer, with the same rights as a local one. Blocking I/O:
// it is a small process of its own, not part of a reactor.

#include <optional>
#include <string>
#include <vector>

namespace skyd::cli {

// `dial-stdio [--socket PATH]`: the exit code (0 when either side ended the conversation).
int dial_stdio_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
