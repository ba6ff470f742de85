#pragma once
// Where skyd's socket is on this machine, for `sky` and for `skyd dial-stdio` (which runs on the
// controller on behalf of a remote `sky`).

#include <optional>
#include <string>

namespace skyd::cli {

// The variable's value, or null when it is unset or empty.
const char* non_empty_env(const char* name);

// --socket, else $SKYD_SOCKET, else $XDG_RUNTIME_DIR/skyd.sock or ~/.sky/skyd/skyd.sock (the
// first that exists), else /run/skyd/skyd.sock or /var/lib/skyd/skyd.sock.
std::string find_local_socket(const std::optional<std::string>& flag);

}  // namespace skyd::cli
