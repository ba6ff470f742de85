#pragma once
// How `sky` reaches skyd: finds the API socket and makes one request at a time over it, on a
// private io_context (the CLI is a short-lived client, not a reactor).

#include "reactor/http_client.hpp"

#include <optional>
#include <string>

namespace skyd::cli {

// --socket, else $SKYD_SOCKET, else $XDG_RUNTIME_DIR/skyd.sock or ~/.sky/skyd/skyd.sock (the
// first that exists), else /run/skyd/skyd.sock or /var/lib/skyd/skyd.sock.
std::string find_daemon_socket(const std::optional<std::string>& flag);

class DaemonClient {
 public:
  explicit DaemonClient(std::string socket_path);

  // A transport failure comes back as an error whose message says how to start skyd.
  Result<http::Response> call(std::string method, std::string target, std::string body = {},
                              Duration timeout = std::chrono::seconds(30));
  Result<http::Response> stream(std::string target, http::BodyChunkHandler on_chunk,
                                Duration idle_timeout = std::chrono::hours(24));

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
};

}  // namespace skyd::cli
