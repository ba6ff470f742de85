#pragma once
// A connection carried by a child process: the child's stdin and stdout are one end of a Unix
// socket pair and the caller keeps the other, so anything that speaks over a stream socket can
// speak through `ssh HOST skyd dial-stdio`. The child's stderr stays the caller's, where ssh's
// own messages (host key, permission denied) belong. For short-lived clients, not reactor shards.

#include "reactor/error.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace skyd {

struct CommandSocket {
  int fd = -1;  // the caller's end, close-on-exec
  pid_t pid = -1;
};

// Starts argv (argv[0] looked up on PATH, never through a shell). Errors name the program.
Result<CommandSocket> start_command_socket(const std::vector<std::string>& argv);

// Ends a command whose socket the caller has closed, and reaps it: its conversation is over, so
// it is told to stop (SIGTERM, which ssh obeys at once) rather than waited on for as long as it
// likes.
void end_command(pid_t pid);

}  // namespace skyd
