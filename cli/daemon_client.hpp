#pragma once
// How `sky` reaches skyd: one request at a time to its address (a local socket, or a controller
// over SSH: daemon_address.hpp), on a private io_context (the CLI is a short-lived client, not a
// reactor).

#include "reactor/http_client.hpp"

#include <optional>
#include <string>

namespace skyd::cli {

class DaemonClient {
 public:
  explicit DaemonClient(std::string address);

  // A transport failure comes back as an error whose message says how to start skyd.
  Result<http::Response> call(std::string method, std::string target, std::string body = {},
                              Duration timeout = std::chrono::seconds(30));
  Result<http::Response> stream(std::string target, http::BodyChunkHandler on_chunk,
                                Duration idle_timeout = std::chrono::hours(24));

  const std::string& address() const { return address_; }

 private:
  std::string address_;
};

}  // namespace skyd::cli
