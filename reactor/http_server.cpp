#include "reactor/http_server.hpp"

#include "reactor/http_head.hpp"
#include "reactor/log.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/tls_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

namespace skyd::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using UnixProtocol = asio::local::stream_protocol;
using TcpStream = beast::tcp_stream;
using UnixStream = beast::basic_stream<UnixProtocol>;
using TlsStream = TlsSocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---- Router ----------------------------------------------------------------------------------

void Router::add(std::string method, std::string pattern, std::string help, Handler handler) {
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(help), std::move(handler)});
}

namespace {
Task<Response> call_at_home(asio::any_io_executor home, const Handler& handler, Request& request) {
  // A connection already served at home needs no hop there and back.
  const asio::any_io_executor here = co_await asio::this_coro::executor;
  if (here == home) co_return co_await handler(request);
  // Named, not a temporary inside the co_await (g++ 12 may destroy such a lambda twice).
  std::function<Task<Response>()> at_home = [&handler, &request] { return handler(request); };
  co_return co_await ShardPool::call_on<Response>(std::move(home), std::move(at_home));
}
}  // namespace

Router pinned_to(asio::any_io_executor home, const Router& router) {
  Router pinned;
  for (const auto& route : router.routes()) {
    pinned.add(route.method, route.pattern, route.help,
               [home, handler = route.handler](Request& request) {
                 return call_at_home(home, handler, request);
               });
  }
  return pinned;
}

namespace {
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

bool match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string>& params) {
  const auto want = segments(pattern);
  const auto have = segments(path);
  if (want.size() != have.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      found[std::string(want[i].substr(1, want[i].size() - 2))] = std::string(have[i]);
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}
}  // namespace

std::variant<const Handler*, Response> Router::resolve(Request& request) const {
  bool path_known = false;
  for (const auto& route : routes_) {
    if (!match(route.pattern, request.path, request.path_params)) continue;
    path_known = true;
    if (route.method == request.method) return &route.handler;
  }
  if (path_known) {
    return Response::error(405, "method_not_allowed",
                           request.method + " is not allowed on " + request.path);
  }
  return Response::error(404, "not_found", "no route for " + request.method + " " + request.path);
}

// ---- Server state ----------------------------------------------------------------------------

namespace {

// Lets drain() reach a session on its own shard: close it if it sits idle, or at once when forced.
struct SessionControl {
  asio::any_io_executor executor;
  asio::cancellation_signal cancel;  // ends the session coroutine, handler included
  bool idle = false;                 // touched only on the session's executor
  bool alive = true;                 // touched only on the session's executor
  std::function<void()> cancel_io;
};

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> server_context(const CertifiedKey& certificate) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  context->use_certificate_chain(asio::buffer(certificate.certificate_pem), ec);
  if (!ec)
    context->use_private_key(asio::buffer(certificate.private_key_pem), asio::ssl::context::pem,
                             ec);
  if (ec) return make_error(NetErrc::kTlsFailed, "bad server certificate or key: " + ec.message());
  // Resumption tickets last TLS 1.3's longest, seven days (OpenSSL's default is two hours): a
  // controller that restarts days after its nodes came up still resumes with each of them.
  SSL_CTX_set_timeout(context->native_handle(), 7 * 24 * 3600);
  // A connection between requests (a long poll's) holds no record buffers.
  configure_for_tls_socket(context->native_handle());
  return context;
}

// The SNI callback's state: the selector and the contexts made for the names seen so far.
struct NameSelector {
  CertificateForName by_name;
  std::mutex mutex;
  std::unordered_map<std::string, std::unique_ptr<asio::ssl::context>> contexts;

  static int on_server_name(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<NameSelector*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_NOACK;
    std::lock_guard lock(self->mutex);
    auto known = self->contexts.find(name);
    if (known == self->contexts.end()) {
      // Only names with a certificate are kept: a client cannot grow this map at will.
      auto certificate = self->by_name(name);
      if (!certificate) return SSL_TLSEXT_ERR_NOACK;
      auto made = server_context(*certificate);
      if (!made) {
        logger("http")->warn("no usable certificate for name={} error=\"{}\"", name,
                             made.error().message());
        return SSL_TLSEXT_ERR_NOACK;
      }
      known = self->contexts.emplace(name, std::move(*made)).first;
    }
    SSL_set_SSL_CTX(ssl, known->second->native_handle());
    return SSL_TLSEXT_ERR_OK;
  }
};

struct Server::State {
  std::vector<asio::any_io_executor> executors;
  Router router;
  ServerOptions options;
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_acceptors;
  std::vector<std::unique_ptr<asio::ssl::context>> tls_contexts;  // parallel to tcp_acceptors
  std::vector<std::unique_ptr<NameSelector>> name_selectors;
  std::vector<std::unique_ptr<UnixProtocol::acceptor>> unix_acceptors;
  std::uint16_t last_tcp_port = 0;

  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> accept_failures{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::int64_t> running{0};  // listener loops and sessions
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> next_executor{0};

  std::mutex sessions_mutex;
  std::uint64_t next_session_id = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<SessionControl>> sessions;

  asio::steady_timer drained;  // on executors[0]; cancelled when `running` reaches zero

  State(std::vector<asio::any_io_executor> all, Router routes, ServerOptions opts)
      : executors(std::move(all)),
        router(std::move(routes)),
        options(opts),
        drained(executors.front(), Clock::time_point::max()) {}

  asio::any_io_executor pick_executor() { return executors[next_executor++ % executors.size()]; }

  std::pair<std::uint64_t, std::shared_ptr<SessionControl>> register_session(
      asio::any_io_executor executor) {
    auto control = std::make_shared<SessionControl>();
    control->executor = std::move(executor);
    std::lock_guard lock(sessions_mutex);
    const auto id = next_session_id++;
    sessions[id] = control;
    return {id, control};
  }

  void unregister_session(std::uint64_t id) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
  }

  // Asks every session to close: the idle ones, or all of them when forced.
  void close_sessions(bool force) {
    std::lock_guard lock(sessions_mutex);
    for (auto& [id, control] : sessions) {
      asio::post(control->executor, [control, force] {
        if (!control->alive) return;
        if (force) {
          control->cancel.emit(asio::cancellation_type::terminal);
        } else if (control->idle && control->cancel_io) {
          control->cancel_io();
        }
      });
    }
  }
};

namespace {

using StatePtr = std::shared_ptr<Server::State>;

// Counts a listener loop or session as running; the last one out wakes a waiting drain().
struct RunningGuard {
  StatePtr state;
  explicit RunningGuard(StatePtr s) : state(std::move(s)) { ++state->running; }
  ~RunningGuard() {
    if (--state->running == 0) {
      asio::post(state->executors.front(), [s = state] { s->drained.cancel(); });
    }
  }
};

void log_exception(std::exception_ptr error) {
  if (error && !is_cancellation(error))
    logger("http")->error("server task failed error=\"{}\"", describe(error));
}

Request to_request(bhttp::request<bhttp::string_body>&& message, const PeerCredentials& peer) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  auto [path, query] = split_target(request.target);
  request.path = std::move(path);
  request.query = std::move(query);
  request.peer = peer;
  return request;
}

Task<Response> dispatch(StatePtr state, Request& request) {
  auto resolved = state->router.resolve(request);
  if (auto* response = std::get_if<Response>(&resolved)) co_return std::move(*response);
  const Handler& handler = *std::get<const Handler*>(resolved);
  try {
    co_return co_await handler(request);
  } catch (...) {
    const auto error = std::current_exception();
    if (is_cancellation(error)) throw;
    logger("http")->error("handler failed method={} path={} error=\"{}\"", request.method,
                          request.path, describe(error));
  }
  co_return Response::error(500, "internal", "internal error while handling " + request.path);
}

template <typename Stream>
class ChunkWriter final : public ResponseStream {
 public:
  ChunkWriter(Stream& stream, Duration io_timeout, const std::atomic<bool>& draining)
      : stream_(stream), io_timeout_(io_timeout), draining_(draining) {}
  bool closing() const override { return draining_; }
  Task<bool> write(std::string chunk) override {
    if (!ok_) co_return false;
    if (chunk.empty()) co_return true;
    beast::get_lowest_layer(stream_).expires_after(io_timeout_);
    auto [ec, written] =
        co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(chunk)), kTuple);
    ok_ = !ec;
    co_return ok_;
  }
  bool ok() const { return ok_; }

 private:
  Stream& stream_;
  Duration io_timeout_;
  const std::atomic<bool>& draining_;
  bool ok_ = true;
};

// Writes a response; returns false when the connection can no longer be used. The answer to a
// HEAD request is its head alone: a body after it would be read as the next response.
template <typename Stream>
Task<bool> write_response(StatePtr state, Stream& stream, Response response, bool keep_alive,
                          bool head_only = false) {
  const Duration io_timeout = state->options.io_timeout;
  auto& lowest = beast::get_lowest_layer(stream);
  const bool sendable =
      std::all_of(response.headers.begin(), response.headers.end(),
                  [](const auto& header) { return sendable_header(header.first, header.second); });
  if (!sendable) {
    logger("http")->error("a handler's response header cannot be sent; answered 500");
    response = Response::error(500, "internal", "a response header cannot be sent");
  }
  if (!response.stream) {
    if (!status_has_body(response.status)) response.body.clear();
    const auto head =
        response_head(response.status, response.headers, response.body.size(), keep_alive);
    if (head_only) response.body.clear();  // after the head's Content-Length took its size
    const std::array<asio::const_buffer, 2> message{asio::buffer(*head),
                                                    asio::buffer(response.body)};
    lowest.expires_after(io_timeout);
    auto [ec, written] = co_await asio::async_write(stream, message, kTuple);
    co_return !ec;
  }
  bhttp::response<bhttp::empty_body> header{static_cast<bhttp::status>(response.status), 11};
  for (const auto& [name, value] : response.headers)
    if (!frames_the_message(name)) header.set(name, value);
  header.chunked(true);
  header.keep_alive(keep_alive);
  bhttp::response_serializer<bhttp::empty_body> serializer{header};
  lowest.expires_after(io_timeout);
  auto [ec, written] = co_await bhttp::async_write_header(stream, serializer, kTuple);
  if (ec) co_return false;
  if (head_only) co_return true;
  ChunkWriter<Stream> writer(stream, io_timeout, state->draining);
  co_await response.stream(writer);
  if (!writer.ok()) co_return false;
  lowest.expires_after(io_timeout);
  auto [last_error, last_written] =
      co_await asio::async_write(stream, bhttp::make_chunk_last(), kTuple);
  co_return !last_error;
}

template <typename Stream>
void shutdown_stream(Stream& stream) {
  boost::system::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(asio::socket_base::shutdown_both, ignored);
}

template <typename Stream>
Task<void> serve_requests(StatePtr state, Stream& stream, PeerCredentials peer,
                          std::shared_ptr<SessionControl> control) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  control->cancel_io = [&lowest] { lowest.cancel(); };
  struct ForgetStream {  // the stream dies with this frame, however it ends
    SessionControl& control;
    ~ForgetStream() { control.cancel_io = nullptr; }
  } forget{*control};
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(state->options.max_header_bytes));
    parser.body_limit(state->options.max_body_bytes);
    if (state->draining) break;
    control->idle = true;
    lowest.expires_after(state->options.idle_timeout);
    auto [ec, read] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    control->idle = false;
    if (!ec && !parser.is_done()) {
      lowest.expires_after(state->options.io_timeout);
      std::tie(ec, read) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    }
    if (ec == bhttp::error::body_limit) {
      co_await write_response(
          state, stream,
          Response::error(
              413, "body_too_large",
              "request body exceeds " + std::to_string(state->options.max_body_bytes) + " bytes"),
          false);
      break;
    }
    if (ec == bhttp::error::header_limit) {
      co_await write_response(
          state, stream,
          Response::error(431, "header_too_large",
                          "request header exceeds " +
                              std::to_string(state->options.max_header_bytes) + " bytes"),
          false);
      break;
    }
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        co_await write_response(state, stream, Response::error(400, "bad_request", ec.message()),
                                false);
      }
      break;
    }
    ++state->requests;
    const bool keep_alive = parser.get().keep_alive();
    Request request = to_request(parser.release(), peer);
    Response response = co_await dispatch(state, request);
    const bool keep = keep_alive && !state->draining;
    const bool head_only = request.method == "HEAD";
    if (!co_await write_response(state, stream, std::move(response), keep, head_only) || !keep)
      break;
  }
}

template <typename Stream>
Task<void> run_session(StatePtr state, Stream stream, PeerCredentials peer,
                       std::shared_ptr<SessionControl> control) {
  co_await serve_requests(state, stream, peer, control);
  shutdown_stream(stream);
}

Task<void> run_tls_session(StatePtr state, tcp::socket socket, asio::ssl::context& context,
                           std::shared_ptr<SessionControl> control) {
  TlsStream stream(std::move(socket), context.native_handle(), TlsStream::Role::kServer);
  stream.expires_after(state->options.io_timeout);
  const auto ec = co_await stream.handshake();
  if (ec) {
    logger("http")->debug("tls handshake failed error=\"{}\"", ec.message());
    co_return;
  }
  co_await run_session(state, std::move(stream), PeerCredentials{}, control);
}

PeerCredentials peer_of(UnixProtocol::socket& socket) {
  PeerCredentials peer;
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0)
    return peer;
  peer = PeerCredentials{true, credentials.uid, credentials.gid, credentials.pid, {}};
  // The kernel keeps the groups of the connecting process; when they do not fit it says how much
  // room they need (ERANGE).
  std::vector<gid_t> groups(64);
  for (int tries = 0; tries < 2; ++tries) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      peer.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) break;
    groups.resize(bytes / sizeof(gid_t));
  }
  return peer;
}

void spawn_owned(asio::any_io_executor executor, Task<void> work) {
  asio::co_spawn(executor, std::move(work), log_exception);
}

// Starts a session on its shard, counted as running and reachable by drain() until it ends.
template <typename MakeSession>
void spawn_session(const StatePtr& state, asio::any_io_executor executor,
                   MakeSession make_session) {
  auto [id, control] = state->register_session(executor);
  auto running = std::make_shared<RunningGuard>(state);
  asio::co_spawn(
      executor, make_session(control),
      asio::bind_cancellation_slot(control->cancel.slot(),
                                   [running, state, id = id, control](std::exception_ptr error) {
                                     control->alive = false;
                                     state->unregister_session(id);
                                     log_exception(error);
                                   }));
}

// Accepts connections until the listener closes, each on the next shard; `serve` starts the
// session for one accepted socket.
template <typename Acceptor, typename Serve>
Task<void> accept_loop(StatePtr state, Acceptor& acceptor, Serve serve) {
  RunningGuard running(state);
  std::uint64_t failed_in_a_row = 0;
  while (!state->draining) {
    auto executor = state->pick_executor();
    auto [ec, socket] = co_await acceptor.async_accept(executor, kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || state->draining) break;
      // Out of descriptors, most often: the connection waits in the backlog while the process
      // frees some, so pause instead of failing on it again at once (a spin that also floods
      // the log).
      ++state->accept_failures;
      if (++failed_in_a_row == 1 || failed_in_a_row % 100 == 0) {
        logger("http")->warn("accept failed error=\"{}\" in_a_row={}", ec.message(),
                             failed_in_a_row);
      }
      asio::steady_timer pause(acceptor.get_executor(), kAcceptRetryPause);
      co_await pause.async_wait(kTuple);
      continue;
    }
    failed_in_a_row = 0;
    ++state->connections_accepted;
    serve(executor, std::move(socket));
  }
}

Task<void> accept_tcp(StatePtr state, tcp::acceptor& acceptor, asio::ssl::context* tls) {
  return accept_loop(
      state, acceptor, [state, tls](asio::any_io_executor executor, tcp::socket socket) {
        socket.set_option(tcp::no_delay(true));
        if (tls) {
          spawn_session(state, executor, [&](std::shared_ptr<SessionControl> control) {
            return run_tls_session(state, std::move(socket), *tls, std::move(control));
          });
        } else {
          spawn_session(state, executor, [&](std::shared_ptr<SessionControl> control) {
            return run_session(state, TcpStream(std::move(socket)), PeerCredentials{},
                               std::move(control));
          });
        }
      });
}

Task<void> accept_unix(StatePtr state, UnixProtocol::acceptor& acceptor) {
  return accept_loop(
      state, acceptor, [state](asio::any_io_executor executor, UnixProtocol::socket socket) {
        const PeerCredentials peer = peer_of(socket);
        spawn_session(state, executor, [&](std::shared_ptr<SessionControl> control) {
          return run_session(state, UnixStream(std::move(socket)), peer, std::move(control));
        });
      });
}

Task<void> wait_for_sessions(StatePtr state, Clock::time_point deadline) {
  while (state->running > 0 && Clock::now() < deadline) {
    state->drained.expires_at(deadline);
    co_await state->drained.async_wait(kTuple);
  }
}

Error listen_error(const std::string& where, const boost::system::error_code& ec) {
  return make_error(ec, "cannot listen on " + where + ": " + ec.message());
}

}  // namespace

// ---- Server ----------------------------------------------------------------------------------

Server::Server(std::vector<asio::any_io_executor> executors, Router router, ServerOptions options)
    : state_(std::make_shared<State>(std::move(executors), std::move(router), options)) {}

Server::~Server() = default;

Result<void> Server::listen_tcp(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error(NetErrc::kBadUrl, "bad listen address '" + address + "'");
  auto acceptor = std::make_unique<tcp::acceptor>(state_->executors.front());
  const tcp::endpoint endpoint(ip, port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  const std::string where = address + ":" + std::to_string(port);
  if (ec) return listen_error(where, ec);
  state_->last_tcp_port = acceptor->local_endpoint().port();
  state_->tcp_acceptors.push_back(std::move(acceptor));
  state_->tls_contexts.push_back(nullptr);
  return {};
}

Result<void> Server::listen_tls(const std::string& address, std::uint16_t port,
                                const CertifiedKey& certificate) {
  auto context = server_context(certificate);
  if (!context) return context.error();
  if (auto listening = listen_tcp(address, port); !listening) return listening;
  state_->tls_contexts.back() = std::move(*context);
  return {};
}

Result<void> Server::listen_tls(const std::string& address, std::uint16_t port,
                                const CertifiedKey& fallback, CertificateForName by_name) {
  if (auto listening = listen_tls(address, port, fallback); !listening) return listening;
  auto selector = std::make_unique<NameSelector>();
  selector->by_name = std::move(by_name);
  SSL_CTX* native = state_->tls_contexts.back()->native_handle();
  SSL_CTX_set_tlsext_servername_callback(native, &NameSelector::on_server_name);
  SSL_CTX_set_tlsext_servername_arg(native, selector.get());
  state_->name_selectors.push_back(std::move(selector));
  return {};
}

Result<void> Server::listen_unix(const std::string& path, UnixSocketOptions options) {
  struct stat existing {};
  if (lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return make_error(NetErrc::kBadUrl,
                        "cannot listen on " + path + ": a file that is not a socket is in the way");
    }
    UnixProtocol::socket probe(state_->executors.front());
    boost::system::error_code ec;
    probe.connect(UnixProtocol::endpoint(path), ec);  // local and at start-up only
    if (!ec)
      return make_error(NetErrc::kBadUrl,
                        "cannot listen on " + path + ": another server is answering there");
    ::unlink(path.c_str());
  }
  auto acceptor = std::make_unique<UnixProtocol::acceptor>(state_->executors.front());
  boost::system::error_code ec;
  acceptor->open(UnixProtocol(), ec);
  // The socket must never exist with looser permissions than asked for, not even briefly.
  const mode_t previous = ::umask(0777 & ~options.mode);
  if (!ec) acceptor->bind(UnixProtocol::endpoint(path), ec);
  ::umask(previous);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return listen_error(path, ec);
  if (::chmod(path.c_str(), options.mode) != 0 ||
      (options.group && ::chown(path.c_str(), static_cast<uid_t>(-1), *options.group) != 0)) {
    return make_error(boost::system::error_code(errno, boost::system::system_category()),
                      "cannot set the permissions of " + path);
  }
  state_->unix_acceptors.push_back(std::move(acceptor));
  return {};
}

Result<void> Server::adopt_unix_listener(int fd) {
  boost::system::error_code ec;
  auto acceptor = std::make_unique<UnixProtocol::acceptor>(state_->executors.front());
  acceptor->assign(UnixProtocol(), fd, ec);
  if (ec) return listen_error("inherited socket " + std::to_string(fd), ec);
  state_->unix_acceptors.push_back(std::move(acceptor));
  return {};
}

std::uint16_t Server::tcp_port() const {
  return state_->last_tcp_port;
}

void Server::start() {
  auto& executor = state_->executors.front();
  for (std::size_t i = 0; i < state_->tcp_acceptors.size(); ++i) {
    spawn_owned(executor,
                accept_tcp(state_, *state_->tcp_acceptors[i], state_->tls_contexts[i].get()));
  }
  for (auto& acceptor : state_->unix_acceptors)
    spawn_owned(executor, accept_unix(state_, *acceptor));
}

Task<void> Server::drain(Duration grace) {
  using namespace asio::experimental::awaitable_operators;
  StatePtr state = state_;
  state->draining = true;
  boost::system::error_code ignored;
  for (auto& acceptor : state->tcp_acceptors) acceptor->close(ignored);
  for (auto& acceptor : state->unix_acceptors) acceptor->close(ignored);
  state->close_sessions(false);

  co_await wait_for_sessions(state, Clock::now() + grace);
  if (state->running > 0) {
    logger("http")->warn("drain grace expired, closing connections open={}", state->running.load());
    state->close_sessions(true);
    // Handlers borrow what the server's owner destroys once drain() returns: every session must
    // have ended first. A cancelled session ends at its next suspension (blocking work it
    // awaits finishes first), so this wait is short; it says so if it is not.
    while (state->running > 0) {
      co_await wait_for_sessions(state, Clock::now() + std::chrono::seconds(5));
      if (state->running > 0)
        logger("http")->warn("drain waits for cancelled connections open={}",
                             state->running.load());
    }
  }
}

ServerStats Server::stats() const {
  std::lock_guard lock(state_->sessions_mutex);
  return ServerStats{state_->connections_accepted, state_->requests,
                     static_cast<std::int64_t>(state_->sessions.size()), state_->accept_failures};
}

}  // namespace skyd::http
