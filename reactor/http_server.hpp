#pragma once
// HTTP/1.1 server on Unix sockets, TCP and TLS. Listeners run on the first executor; each accepted
// connection is served on the next executor in turn (the shards), and its handlers run there.
// Limits on header and body size, idle and I/O timeouts, chunked streaming responses, and a
// graceful drain: stop accepting, close idle connections, let requests in flight finish.

#include "reactor/certs.hpp"
#include "reactor/http_types.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

namespace skyd::http {

using Handler = std::function<Task<Response>(Request&)>;

struct Route {
  std::string method;
  std::string pattern;  // "/v1/jobs/{id}/logs": {name} matches one path segment
  std::string help;
  Handler handler;
};

class Router {
 public:
  void add(std::string method, std::string pattern, std::string help, Handler handler);
  // The matching route's handler (path parameters filled into the request), or the 404/405
  // error response to send.
  std::variant<const Handler*, Response> resolve(Request& request) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// The same routes, each handler run on `home` whichever shard serves the connection: state that
// lives on one shard is served by a server whose connections (TLS, parsing) are spread over all.
// A response's stream still runs on the connection's shard, so it must not touch that state.
Router pinned_to(asio::any_io_executor home, const Router& router);

struct ServerOptions {
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_body_bytes = 8u << 20;
  Duration idle_timeout = std::chrono::seconds(60);  // between requests on a connection
  Duration io_timeout = std::chrono::seconds(30);    // reading a request, writing a response
};

// Picks the certificate for a TLS client's SNI name; nullopt keeps the listener's own. Called on
// any shard's thread, once per name (the answer is kept).
using CertificateForName = std::function<std::optional<CertifiedKey>(const std::string& name)>;

struct UnixSocketOptions {
  mode_t mode = 0660;
  std::optional<gid_t> group;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t requests = 0;
  std::int64_t open_connections = 0;
  std::uint64_t accept_failures = 0;  // each followed by a short pause (kAcceptRetryPause)
};

// How long a listener waits after a failed accept (most often: out of descriptors).
inline constexpr Duration kAcceptRetryPause = std::chrono::milliseconds(50);

class Server {
 public:
  Server(std::vector<asio::any_io_executor> executors, Router router, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listeners are added before start(). Errors name the address and the reason.
  Result<void> listen_tcp(const std::string& address, std::uint16_t port);
  Result<void> listen_tls(const std::string& address, std::uint16_t port,
                          const CertifiedKey& certificate);
  // TLS whose certificate follows the name the client asks for (one listener, many names).
  Result<void> listen_tls(const std::string& address, std::uint16_t port,
                          const CertifiedKey& fallback, CertificateForName by_name);
  // Replaces a stale socket file; refuses when another server still answers on it.
  Result<void> listen_unix(const std::string& path, UnixSocketOptions options = {});
  // A listening Unix socket inherited from systemd (LISTEN_FDS).
  Result<void> adopt_unix_listener(int fd);
  // The port of the most recent TCP or TLS listener (useful after port 0).
  std::uint16_t tcp_port() const;

  void start();
  // Stops accepting, closes idle connections, tells streaming responses to end (closing()),
  // waits up to `grace` for requests in flight, then cancels what is left and waits until it
  // has ended: once drain() returns, no handler runs any more. Await it on the first executor.
  Task<void> drain(Duration grace);
  ServerStats stats() const;

  struct State;  // shared with the sessions, which may outlive the Server object briefly

 private:
  std::shared_ptr<State> state_;
};

}  // namespace skyd::http
