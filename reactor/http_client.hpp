#pragma once
// HTTP/1.1 client over TCP, TLS and Unix sockets, with a keep-alive connection pool per endpoint.
// One Client belongs to one shard: create it on that shard and call it only from there (each shard
// has its own, so no locks). Every request has a deadline; DNS is asynchronous; TLS verifies the
// peer's host name against the system trust store plus an optional CA, or against a pinned CA.

#include "reactor/http_types.hpp"
#include "reactor/tls_sessions.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace skyd::http {

struct ClientOptions {
  Duration connect_timeout = std::chrono::seconds(5);   // DNS + TCP connect + TLS handshake
  Duration request_timeout = std::chrono::seconds(30);  // the whole exchange, unless overridden
  std::size_t max_body_bytes = 64u << 20;               // a larger response is refused
  std::size_t max_header_bytes = 64u << 10;
  std::size_t max_idle_per_endpoint = 16;
  std::size_t max_connections_per_endpoint = 64;    // further requests wait for a free connection
  Duration idle_expiry = std::chrono::seconds(30);  // older idle connections are not reused
  std::string ca_file;                              // extra CA file to trust
  std::string ca_pem;                               // extra CA (PEM) to trust
  bool use_system_trust = true;
  std::string user_agent = "skyd";
};

struct RequestOptions {
  std::optional<Duration> timeout;  // overrides ClientOptions::request_timeout
};

struct ClientStats {
  std::uint64_t connections_opened = 0;
  std::uint64_t requests = 0;
  std::uint64_t reused = 0;   // requests sent on a pooled connection
  std::uint64_t resumed = 0;  // TLS connections that resumed an earlier session (no certificate)
};

// Receives the body of a streamed response piece by piece; return false to stop reading.
using BodyChunkHandler = std::function<bool(std::string_view)>;

class Client {
 public:
  explicit Client(asio::any_io_executor executor, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends the request and reads the whole response. Errors: kTimedOut past the deadline,
  // kBodyTooLarge, kConnectFailed, kTlsFailed (with the verification failure), kClosed, kBadUrl;
  // operation_aborted when the caller is cancelled. A non-2xx status is a Response, not an error.
  Task<Result<Response>> request(Endpoint endpoint, Request request, RequestOptions options = {});

  // Like request, but hands the body to `on_chunk` as it arrives (chunked log follow). The
  // timeout bounds each wait for data rather than the whole stream. The returned Response has
  // the status and headers and an empty body; an error status's body (its message) is kept in
  // the Response instead of being handed on.
  Task<Result<Response>> stream(Endpoint endpoint, Request request, BodyChunkHandler on_chunk,
                                RequestOptions options = {});

  ClientStats stats() const;

  // The TLS sessions of pinned peers (TlsSessions): saved by a controller that restarts, so that
  // it resumes with its nodes. Only on the client's executor.
  TlsSessions& pinned_sessions();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skyd::http
