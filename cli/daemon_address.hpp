#pragma once
// Where `sky` finds skyd: a Unix socket on this machine, or a controller reached over SSH
// (`ssh://user@host[:port][/path/to/skyd.sock]`), where `skyd dial-stdio` joins ssh's stdin and
// stdout to the daemon's socket. The SSH login is the identity: the daemon sees the remote user
// as the peer, as it sees a local one. An address is kept as its text: a socket path or a URL.

#include "reactor/error.hpp"
#include "reactor/http_types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::cli {

struct SshHost {
  std::string user;  // empty: ssh's own default (its config, or the local user)
  std::string host;
  std::optional<int> port;  // empty: ssh's own default
  std::string socket_path;  // the daemon's socket on the host; empty: skyd's default lookup
};

bool is_ssh_address(std::string_view address);
// Errors say what part is wrong and show the expected form.
Result<SshHost> parse_ssh_address(std::string_view address);

// The argv that reaches the daemon on `host`: the ssh client ($SKYD_SSH_COMMAND, split at spaces,
// else `ssh`), sharing one connection per host under `control_dir` (ControlMaster), running
// `skyd dial-stdio` there. Nothing the user typed reaches the remote shell unquoted.
std::vector<std::string> ssh_dial_command(const SshHost& host, const std::string& control_dir);

// ssh forwarding 127.0.0.1:local_port here to `remote_address` (host:port, as seen from the
// host) until it is stopped, on a connection of its own: how the dashboard, which listens on the
// controller's loopback only, reaches a laptop's browser.
std::vector<std::string> ssh_forward_command(const SshHost& host, int local_port,
                                             const std::string& remote_address);

// The directory for ssh's shared connections: ~/.sky/ssh, made private (0700) when missing.
Result<std::string> ssh_control_dir();

// The endpoint an address names, for the HTTP client.
Result<http::Endpoint> endpoint_for(const std::string& address);

// The address `sky` uses: --host or --socket, else $SKYD_HOST, else $SKYD_SOCKET, else the
// current context (`sky context use`), else the local socket. An unreadable contexts file, or a
// current context it lacks, is an error rather than a silent fall back to this machine.
Result<std::string> find_daemon_address(const std::optional<std::string>& flag);

}  // namespace skyd::cli
