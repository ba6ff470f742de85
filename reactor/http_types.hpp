#pragma once
// HTTP value types shared by the client and the server. Beast stays inside http_client.cpp and
// http_server.cpp; the rest of the project speaks these plain structs.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Finds a header by case-insensitive name.
const std::string* find_header(const Headers& headers, std::string_view name);

// Who is on the other end of a Unix socket (SO_PEERCRED, and SO_PEERGROUPS for the supplementary
// groups the peer had when it connected); unknown over TCP.
struct PeerCredentials {
  bool known = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::vector<gid_t> groups;  // supplementary groups

  bool in_group(gid_t group) const;
};

struct Request {
  std::string method = "GET";
  std::string target = "/";  // path and query, as sent
  Headers headers;
  std::string body;

  // Filled in by the server.
  std::string path;
  std::map<std::string, std::string> path_params;  // {name} segments of the matched route
  std::map<std::string, std::string> query;        // decoded query parameters
  PeerCredentials peer;

  const std::string* header(std::string_view name) const { return find_header(headers, name); }
  std::optional<std::string_view> query_param(std::string_view name) const;
  // A query parameter that is a whole number in canonical decimal (reactor/numbers.hpp: no sign
  // but '-', no leading zeros, no spaces); nullopt when absent or not such a number.
  std::optional<std::int64_t> query_int(std::string_view name) const;
};

// Where a streaming handler writes its chunks. write() returns false once the client is gone.
// closing() turns true when the server drains: a stream that would go on indefinitely (a
// follower) ends then, cleanly, instead of holding the server's stop until its grace expires.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual Task<bool> write(std::string chunk) = 0;
  virtual bool closing() const = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the server sends the headers, then a chunked body written by this function.
  std::function<Task<void>(ResponseStream&)> stream;

  const std::string* header(std::string_view name) const { return find_header(headers, name); }
  void set_header(std::string name, std::string value);

  static Response json(int status, const Json& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain");
  // The error body every API error uses: {"error":{"code":...,"message":...}}.
  static Response error(int status, std::string_view code, std::string_view message);
};

// The {"error":{...}} message of a response, or its raw body when it has none.
std::string error_message_of(const Response& response);

// Percent-decoding and the split of a target into path and query.
std::string percent_decode(std::string_view text);
std::string percent_encode(std::string_view text);
std::pair<std::string, std::map<std::string, std::string>> split_target(std::string_view target);

// Where a client connects: http://host:port, https://host:port, unix:/path/to.sock, or a command
// whose stdin and stdout carry the connection (`ssh HOST skyd dial-stdio`, as ssh's ProxyCommand).
struct Endpoint {
  enum class Transport { kTcp, kTls, kUnix, kCommand };
  Transport transport = Transport::kTcp;
  std::string host;                  // TCP and TLS
  std::uint16_t port = 0;            // TCP and TLS
  std::string unix_path;             // Unix socket
  std::vector<std::string> command;  // kCommand: argv, argv[0] looked up on PATH
  // TLS only: when set, only this CA (PEM) is trusted for this endpoint, which pins a cluster's
  // own certificate authority; otherwise the client's trust store applies.
  std::string pinned_ca_pem;
  // TLS only: the name the server's certificate must carry, also sent as SNI; empty: `host`. Lets
  // a node reached by IP prove a name its cluster's certificate was issued for.
  std::string tls_name;

  static Result<Endpoint> parse(std::string_view url);
  static Endpoint unix_socket(std::string path);
  static Endpoint through_command(std::vector<std::string> argv);
  // Identifies the connection pool this endpoint's connections go to.
  std::string pool_key() const;
  std::string to_string() const;
  // What a request's Host header carries (RFC 9110): "host", or "host:port" when the port is not
  // the scheme's default (IPv6 in brackets); "localhost" over a Unix socket or a command. Signers
  // (SigV4's signed `host`) use the same value.
  std::string host_header() const;
};

std::string_view to_string(Endpoint::Transport transport);

}  // namespace skyd::http
