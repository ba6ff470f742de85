#include "reactor/http_client.hpp"

#include "reactor/command_socket.hpp"
#include "reactor/event.hpp"
#include "reactor/metrics.hpp"
#include "reactor/timeout.hpp"
#include "reactor/tls_sessions.hpp"
#include "reactor/tls_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <deque>
#include <list>
#include <unordered_map>

namespace skyd::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using TcpStream = beast::tcp_stream;
using UnixStream = beast::basic_stream<asio::local::stream_protocol>;
using TlsStream = TlsSocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Records one request's time (connection, retries and body included) per remote host, however
// the request ends. Unix-socket peers share the host label "unix".
class LatencyScope {
 public:
  explicit LatencyScope(const Endpoint& endpoint)
      : host_(endpoint.transport == Endpoint::Transport::kUnix      ? "unix"
              : endpoint.transport == Endpoint::Transport::kCommand ? "command"
                                                                    : endpoint.host) {}
  LatencyScope(const LatencyScope&) = delete;
  LatencyScope& operator=(const LatencyScope&) = delete;
  ~LatencyScope() {
    static auto& seconds = metrics::registry().histogram(
        "skyd_http_client_request_duration_seconds",
        "Outgoing HTTP request latency (cloud APIs, skylets), by host", {"host"});
    seconds.with({host_}).observe(Clock::now() - started_);
  }

 private:
  std::string host_;
  Clock::time_point started_ = Clock::now();
};

struct Limits {
  std::size_t max_body_bytes;
  std::size_t max_header_bytes;
};

// What one exchange on a connection produced. `response_started` tells whether the peer sent
// anything, which decides if a failure on a reused connection may be retried on a fresh one.
struct Exchange {
  Result<Response> response = Response{};
  bool response_started = false;
  bool keep_alive = false;
};

Error classify(const boost::system::error_code& ec, std::string_view stage,
               const Endpoint& endpoint, const Limits& limits) {
  const std::string where = std::string(stage) + " " + endpoint.to_string();
  if (ec == beast::error::timeout) return make_error(NetErrc::kTimedOut, where + " timed out");
  if (ec == bhttp::error::body_limit) {
    return make_error(NetErrc::kBodyTooLarge, "response body from " + endpoint.to_string() +
                                                  " exceeds the limit of " +
                                                  std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    return make_error(NetErrc::kBodyTooLarge,
                      "response header from " + endpoint.to_string() + " exceeds " +
                          std::to_string(limits.max_header_bytes) + " bytes");
  }
  if (ec == asio::error::operation_aborted) return make_error(ec, where + " cancelled");
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated ||
      ec == asio::error::broken_pipe) {
    return make_error(NetErrc::kClosed, where + ": connection closed by peer");
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return make_error(NetErrc::kProtocol, where + ": " + ec.message());
  }
  return make_error(NetErrc::kConnectFailed, where + ": " + ec.message());
}

// An exchange is three coroutines, so that the frame waiting for an answer (a long poll, for as
// long as it waits) holds only what reading takes: a single coroutine's frame has room for every
// local of every branch, 18 KiB here.
template <typename Stream>
Task<Result<void>> send_request(Stream& stream, const Endpoint& endpoint, const Request& request,
                                const std::string& user_agent, Clock::time_point deadline,
                                const Limits& limits) {
  auto& lowest = beast::get_lowest_layer(stream);

  bhttp::request<bhttp::string_body> message{bhttp::string_to_verb(request.method), request.target,
                                             11};
  message.set(bhttp::field::host, endpoint.host_header());
  message.set(bhttp::field::user_agent, user_agent);
  for (const auto& [name, value] : request.headers) message.set(name, value);
  message.body() = request.body;
  message.keep_alive(true);
  message.prepare_payload();

  lowest.expires_at(deadline);
  auto [write_error, written] = co_await bhttp::async_write(stream, message, kTuple);
  if (write_error) co_return classify(write_error, "sending to", endpoint, limits);
  co_return Result<void>{};
}

template <typename Stream>
Task<Exchange> read_whole(Stream& stream, beast::flat_buffer& buffer, const Endpoint& endpoint,
                          bool head, const Limits& limits) {
  Exchange result;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  // A HEAD answer's Content-Length describes the resource; no body follows.
  if (head) parser.skip(true);
  auto [read_error, read] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  result.response_started = parser.got_some();
  if (read_error) {
    result.response = classify(read_error, "reading from", endpoint, limits);
    co_return result;
  }
  auto& reply = parser.get();
  Response response;
  response.status = static_cast<int>(reply.result_int());
  for (const auto& field : reply) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(reply.body());
  result.keep_alive = reply.keep_alive();
  result.response = std::move(response);
  co_return result;
}

template <typename Stream>
Task<Exchange> read_streamed(Stream& stream, beast::flat_buffer& buffer, const Endpoint& endpoint,
                             Duration idle_timeout, const Limits& limits,
                             BodyChunkHandler* on_chunk) {
  Exchange result;
  auto& lowest = beast::get_lowest_layer(stream);
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  lowest.expires_after(idle_timeout);
  auto [header_error, header_bytes] =
      co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
  result.response_started = parser.got_some();
  if (header_error) {
    result.response = classify(header_error, "reading from", endpoint, limits);
    co_return result;
  }
  Response response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  // On the heap, taken only by a stream: as a local it would be in every exchange's coroutine
  // frame, 16 KiB for each request in flight (a long poll per supervised node).
  constexpr std::size_t kChunk = 16 * 1024;
  auto chunk = std::make_unique_for_overwrite<char[]>(kChunk);
  bool wanted = true;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.get();
    parser.get().body().size = kChunk;
    lowest.expires_after(idle_timeout);
    auto [read_error, read] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    if (read_error && read_error != bhttp::error::need_buffer) {
      result.response = classify(read_error, "reading from", endpoint, limits);
      co_return result;
    }
    const std::size_t got = kChunk - parser.get().body().size;
    // An error's body is its message, not the stream asked for: it is kept for the caller.
    if (response.status >= 300) {
      if (response.body.size() + got > limits.max_body_bytes) {
        wanted = false;
        break;
      }
      response.body.append(chunk.get(), got);
      continue;
    }
    if (got > 0 && !(*on_chunk)(std::string_view(chunk.get(), got))) {
      wanted = false;
      break;
    }
  }
  result.keep_alive = wanted && parser.get().keep_alive();
  result.response = std::move(response);
  co_return result;
}

template <typename Stream>
Task<Exchange> exchange_on(Stream& stream, beast::flat_buffer& buffer, const Endpoint& endpoint,
                           const Request& request, const std::string& user_agent,
                           Clock::time_point deadline, Duration idle_timeout, const Limits& limits,
                           BodyChunkHandler* on_chunk) {
  auto sent = co_await send_request(stream, endpoint, request, user_agent, deadline, limits);
  if (!sent) {
    Exchange failed;
    failed.response = sent.error();
    co_return failed;
  }
  if (on_chunk)
    co_return co_await read_streamed(stream, buffer, endpoint, idle_timeout, limits, on_chunk);
  const bool head = request.method == "HEAD";
  co_return co_await read_whole(stream, buffer, endpoint, head, limits);
}

// One pooled connection of any transport.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Task<Exchange> exchange(const Endpoint& endpoint, const Request& request,
                                  const std::string& user_agent, Clock::time_point deadline,
                                  Duration idle_timeout, const Limits& limits,
                                  BodyChunkHandler* on_chunk) = 0;
  Clock::time_point idle_since;
};

template <typename Stream>
class StreamConnection final : public Connection {
 public:
  explicit StreamConnection(Stream stream) : stream_(std::move(stream)) {}
  // A connection carried by a child command owns the child: it ends with the connection.
  StreamConnection(Stream stream, pid_t command) : stream_(std::move(stream)), command_(command) {}
  ~StreamConnection() override {
    if (command_ <= 0) return;
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    end_command(command_);
  }
  Task<Exchange> exchange(const Endpoint& endpoint, const Request& request,
                          const std::string& user_agent, Clock::time_point deadline,
                          Duration idle_timeout, const Limits& limits,
                          BodyChunkHandler* on_chunk) override {
    co_return co_await exchange_on(stream_, buffer_, endpoint, request, user_agent, deadline,
                                   idle_timeout, limits, on_chunk);
  }

 private:
  Stream stream_;
  beast::flat_buffer buffer_;
  pid_t command_ = -1;
};

std::string tls_failure(TlsStream& stream, const boost::system::error_code& ec) {
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK)
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  return ec.message();
}

// The trust stores of pinned authorities, each parsed once and shared by every connection to
// that authority's nodes (a restart re-attaching thousands of nodes parsed one PEM per handshake).
// A connection holds its own reference; a store dropped from here lives on with its connections.
class PinnedStores {
 public:
  PinnedStores() = default;
  PinnedStores(const PinnedStores&) = delete;
  PinnedStores& operator=(const PinnedStores&) = delete;
  ~PinnedStores() { clear(); }

  // The store trusting exactly the certificates in `ca_pem`; nullptr when it holds none.
  X509_STORE* of(const std::string& ca_pem) {
    if (auto known = stores_.find(ca_pem); known != stores_.end()) return known->second;
    X509_STORE* store = parse(ca_pem);
    if (!store) return nullptr;
    if (stores_.size() >= kMostKept) clear();  // authorities are few; a flood is not kept
    stores_.emplace(ca_pem, store);
    return store;
  }

 private:
  static constexpr std::size_t kMostKept = 64;

  static X509_STORE* parse(const std::string& ca_pem) {
    X509_STORE* store = X509_STORE_new();
    if (!store) return nullptr;
    BIO* pem = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
    int added = 0;
    while (pem) {
      X509* certificate = PEM_read_bio_X509(pem, nullptr, nullptr, nullptr);
      if (!certificate) break;
      if (X509_STORE_add_cert(store, certificate) == 1) ++added;
      X509_free(certificate);
    }
    ERR_clear_error();  // the end of the PEM reads as an error
    BIO_free(pem);
    if (added > 0) return store;
    X509_STORE_free(store);
    return nullptr;
  }

  void clear() {
    for (auto& entry : stores_) X509_STORE_free(entry.second);
    stores_.clear();
  }

  std::unordered_map<std::string, X509_STORE*> stores_;
};

// Makes the connection trust the certificates in `ca_pem` and nothing else: a shared store
// (~3 KiB per authority) in place of a whole SSL context per authority (~16 KiB, kept for the
// client's life). False when `ca_pem` holds no certificate.
bool trust_only(TlsStream& stream, const std::string& ca_pem, PinnedStores& stores) {
  X509_STORE* store = stores.of(ca_pem);
  return store && SSL_set1_verify_cert_store(stream.native_handle(), store) == 1;
}

// Handshakes with pinned peers (skyd's nodes) by what became of the session offered: a full one
// costs ~1 ms of CPU on each side, a resumed one a fraction of that.
void count_pinned_handshake(bool resumed, bool offered) {
  static auto& handshakes = metrics::registry().counter(
      "skyd_tls_handshakes_total",
      "TLS handshakes with nodes: resumed, full (no session kept) or refused (a session was "
      "offered and the node did not take it)",
      {"kind"});
  static auto& resumed_count = handshakes.with({"resumed"});
  static auto& full_count = handshakes.with({"full"});
  static auto& refused_count = handshakes.with({"refused"});
  (resumed ? resumed_count : offered ? refused_count : full_count).inc();
}

// Why a pinned peer's kept session was let go: a connect to it was refused, or it had no
// connection left for an idle expiry.
void count_dropped_session(const char* reason) {
  static auto& dropped = metrics::registry().counter(
      "skyd_tls_sessions_dropped_total",
      "TLS sessions with nodes let go: unreachable (a connect to the node was refused or found no "
      "route), or unused (no connection to it was left for an idle expiry)",
      {"reason"});
  dropped.with({reason}).inc();
}

// A connect that failed for what the peer (or the way to it) answered, not for a deadline or a
// caller that gave up.
bool is_refusal(const Error& error) {
  return error.code != make_error_code(NetErrc::kTimedOut) &&
         error.code != asio::error::operation_aborted;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

class Client::Impl {
 public:
  Impl(asio::any_io_executor executor, ClientOptions options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        default_tls_(asio::ssl::context::tls_client),
        pinned_tls_(asio::ssl::context::tls_client) {
    default_tls_.set_verify_mode(asio::ssl::verify_peer);
    if (options_.use_system_trust) default_tls_.set_default_verify_paths();
    if (!options_.ca_file.empty()) default_tls_.load_verify_file(options_.ca_file);
    if (!options_.ca_pem.empty())
      default_tls_.add_certificate_authority(asio::buffer(options_.ca_pem));
    // The pinned context trusts nothing itself: each connection brings its endpoint's CA (see
    // connect), so one context serves every cluster and a connection missing its CA fails.
    pinned_tls_.set_verify_mode(asio::ssl::verify_peer);
    // An idle connection (most of them: long polls waiting) gives its 34 KiB of OpenSSL record
    // buffers back; they are taken again for the next record.
    configure_for_tls_socket(default_tls_.native_handle());
    configure_for_tls_socket(pinned_tls_.native_handle());
  }

  Task<Result<Response>> run(Endpoint endpoint, Request request, BodyChunkHandler* on_chunk,
                             RequestOptions request_options) {
    const Duration limit = request_options.timeout.value_or(options_.request_timeout);
    const Clock::time_point deadline = Clock::now() + limit;
    const Limits limits{options_.max_body_bytes, options_.max_header_bytes};
    ++stats_.requests;
    const std::string key = endpoint.pool_key();
    const LatencyScope latency(endpoint);

    // A pooled connection may have been closed by the server while idle; such a failure before
    // any response byte is retried once on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto acquired = co_await acquire(endpoint, key, deadline);
      if (!acquired) co_return acquired.error();
      auto [connection, reused] = std::move(*acquired);
      Exchange outcome = co_await connection->exchange(endpoint, request, options_.user_agent,
                                                       deadline, limit, limits, on_chunk);
      const bool ok = outcome.response.has_value();
      release(key, std::move(connection), ok && outcome.keep_alive);
      if (ok) co_return std::move(outcome.response);
      const auto& code = outcome.response.error().code;
      const bool stale = reused && !outcome.response_started &&
                         (code == NetErrc::kClosed || code == NetErrc::kConnectFailed);
      if (!stale) co_return std::move(outcome.response);
    }
    co_return make_error(NetErrc::kClosed,
                         "connection to " + endpoint.to_string() + " kept closing");
  }

  TlsSessions& pinned_sessions() { return pinned_sessions_; }

  ClientStats stats_;
  std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle_;
  std::unordered_map<std::string, std::size_t> open_;  // connections per endpoint, idle or busy
  // Endpoints the sweep found with no connection, since when: their sessions go after an expiry.
  std::unordered_map<std::string, Clock::time_point> unused_since_;
  std::unordered_map<std::string, std::list<Event*>> waiters_;  // requests waiting for a slot

 private:
  struct Acquired {
    std::unique_ptr<Connection> connection;
    bool reused;
  };

  // A pooled connection, a new one while the endpoint is under its connection limit, or else a
  // wait until another request gives one back.
  Task<Result<Acquired>> acquire(const Endpoint& endpoint, const std::string& key,
                                 Clock::time_point deadline) {
    for (;;) {
      if (auto connection = take_idle(key)) {
        ++stats_.reused;
        co_return Acquired{std::move(connection), true};
      }
      if (open_[key] < options_.max_connections_per_endpoint) {
        ++open_[key];
        bool host_short = false;
        auto connected = co_await connect(
            endpoint, key, std::min(deadline, Clock::now() + options_.connect_timeout),
            &host_short);
        if (!connected) {
          // A peer that refused or could not be routed to (a node gone) keeps no session to
          // resume. One that only took too long -- a busy node, or this host saturated by a cancel
          // of every job -- or that this host lacked descriptors or memory to reach, or whose
          // caller gave up, keeps it for the retry: dropping it would make that retry a full
          // handshake, more of the very work that timed out. A peer never reached again loses it
          // an idle expiry later (release() marks it unused).
          if (!host_short && is_refusal(connected.error()) && pinned_sessions_.forget(key))
            count_dropped_session("unreachable");
          release(key, nullptr, false);
          co_return connected.error();
        }
        co_return Acquired{std::move(*connected), false};
      }
      // Queue up; release() wakes the first waiter when a connection or a slot frees up.
      Event ready(executor_);
      auto& queue = waiters_[key];
      auto place = queue.insert(queue.end(), &ready);
      struct LeaveQueue {
        std::list<Event*>& queue;
        std::list<Event*>::iterator place;
        Event& ready;
        ~LeaveQueue() {
          if (!ready.is_set()) queue.erase(place);
        }
      } leave{queue, place, ready};
      auto waited = co_await with_timeout(as_result(ready.wait()), deadline - Clock::now(),
                                          "waiting for a connection to " + endpoint.to_string());
      if (!waited) co_return waited.error();
    }
  }

  // Returns a connection after use: kept for reuse, or closed and its slot freed.
  void release(const std::string& key, std::unique_ptr<Connection> connection, bool reusable) {
    unused_since_.erase(key);  // in use until now: a sweep counts its unused time afresh
    if (reusable && connection) {
      auto& connections = idle_[key];
      connection->idle_since = Clock::now();
      connections.push_back(std::move(connection));
      schedule_idle_sweep();
      if (connections.size() > options_.max_idle_per_endpoint) {
        connections.pop_front();
        --open_[key];
      }
    } else {
      --open_[key];
    }
    if (auto found = waiters_.find(key); found != waiters_.end() && !found->second.empty()) {
      found->second.front()->set();
      found->second.pop_front();
    }
    // Left with no connection at all (its last one closed, or a connect failed but kept the
    // session): from now on it counts as unused, so a peer never reached again lets its session
    // go after an expiry instead of keeping it for ever.
    const auto idle = idle_.find(key);
    if (open_[key] == 0 && (idle == idle_.end() || idle->second.empty())) {
      unused_since_.emplace(key, Clock::now());
      schedule_idle_sweep();
    }
  }

  // Closes idle connections past their expiry, sweeping while any is idle: a connection
  // to a machine that is gone (its job ended), or one a launch's checks left in a pool nothing
  // else uses, would otherwise keep its socket and TLS state until the same endpoint is asked
  // again, which may be never. Forgets endpoints left with nothing for a whole expiry.
  void schedule_idle_sweep() {
    if (sweep_armed_) return;
    sweep_armed_ = true;
    idle_sweep_.expires_after(options_.idle_expiry / 4);  // so none outlives 1.25 x its expiry
    idle_sweep_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the client is going away
      sweep_armed_ = false;
      drop_expired_idle();
      forget_peers_long_unused();
      if (!idle_.empty() || !unused_since_.empty()) schedule_idle_sweep();
    });
  }

  void drop_expired_idle() {
    const Clock::time_point now = Clock::now();
    for (auto entry = idle_.begin(); entry != idle_.end();) {
      auto& connections = entry->second;
      while (!connections.empty() &&
             now - connections.front()->idle_since >= options_.idle_expiry) {
        connections.pop_front();
        --open_[entry->first];
      }
      const bool unused = connections.empty();
      if (unused) forget_if_unused(entry->first);
      entry = unused ? idle_.erase(entry) : std::next(entry);
    }
  }

  // A peer left with no connection keeps its session for one idle expiry more: the next
  // connection to it often comes moments after the last one closed (a cancel's, after the long
  // poll it cuts), and a session let go then costs that connection a full handshake.
  void forget_if_unused(const std::string& key) {
    auto open = open_.find(key);
    if (open != open_.end() && open->second == 0) unused_since_.try_emplace(key, Clock::now());
    auto waiting = waiters_.find(key);
    if (waiting != waiters_.end() && waiting->second.empty()) waiters_.erase(waiting);
  }

  void forget_peers_long_unused() {
    const Clock::time_point now = Clock::now();
    for (auto peer = unused_since_.begin(); peer != unused_since_.end();) {
      const std::string& key = peer->first;
      auto open = open_.find(key);
      const bool in_use = open != open_.end() && open->second > 0;
      if (!in_use && now - peer->second < options_.idle_expiry) {
        ++peer;
        continue;
      }
      if (!in_use) {
        if (open != open_.end()) open_.erase(open);
        if (pinned_sessions_.forget(key)) count_dropped_session("unused");
      }
      peer = unused_since_.erase(peer);
    }
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    auto found = idle_.find(key);
    if (found == idle_.end()) return nullptr;
    auto& connections = found->second;
    while (!connections.empty()) {
      auto connection = std::move(connections.back());
      connections.pop_back();
      if (Clock::now() - connection->idle_since < options_.idle_expiry) return connection;
      --open_[key];
    }
    return nullptr;
  }

  // A new connection; `key` is the endpoint's pool key (its TLS session's too).
  // `host_short` is set when the connection failed for want of this host's own resources.
  Task<Result<std::unique_ptr<Connection>>> connect(const Endpoint& endpoint,
                                                    const std::string& key,
                                                    Clock::time_point deadline, bool* host_short) {
    const Limits limits{options_.max_body_bytes, options_.max_header_bytes};
    if (endpoint.transport == Endpoint::Transport::kUnix) {
      UnixStream stream(executor_);
      stream.expires_at(deadline);
      auto [ec] = co_await stream.async_connect(
          asio::local::stream_protocol::endpoint(endpoint.unix_path), kTuple);
      if (ec) co_return classify(ec, "connecting to", endpoint, limits);
      ++stats_.connections_opened;
      co_return std::make_unique<StreamConnection<UnixStream>>(std::move(stream));
    }
    if (endpoint.transport == Endpoint::Transport::kCommand) {
      auto started = start_command_socket(endpoint.command);
      if (!started) co_return started.error();
      asio::local::stream_protocol::socket socket(executor_);
      boost::system::error_code ec;
      socket.assign(asio::local::stream_protocol(), started->fd, ec);
      if (ec) {
        ::close(started->fd);
        end_command(started->pid);
        co_return classify(ec, "connecting through", endpoint, limits);
      }
      ++stats_.connections_opened;
      co_return std::make_unique<StreamConnection<UnixStream>>(UnixStream(std::move(socket)),
                                                               started->pid);
    }

    auto tcp = co_await connect_tcp(endpoint, deadline, host_short);
    if (!tcp) co_return tcp.error();
    if (endpoint.transport == Endpoint::Transport::kTcp) {
      ++stats_.connections_opened;
      co_return std::make_unique<StreamConnection<TcpStream>>(std::move(*tcp));
    }

    const bool pinned = !endpoint.pinned_ca_pem.empty();
    asio::ssl::context& context = pinned ? pinned_tls_ : default_tls_;
    TlsStream stream(tcp->release_socket(), context.native_handle());
    if (!stream.native_handle())
      co_return make_error(NetErrc::kTlsFailed, "TLS with " + endpoint.to_string() + ": no memory");
    if (pinned && !trust_only(stream, endpoint.pinned_ca_pem, pinned_stores_)) {
      co_return make_error(NetErrc::kTlsFailed, "TLS with " + endpoint.to_string() +
                                                    ": the pinned CA is not a PEM certificate");
    }
    const std::string& name = endpoint.tls_name.empty() ? endpoint.host : endpoint.tls_name;
    SSL* ssl = stream.native_handle();
    // The peer's name is checked by OpenSSL itself, as part of the chain's verification.
    const bool named = is_ip_literal(name)
                           ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
                           : SSL_set_tlsext_host_name(ssl, const_cast<char*>(name.c_str())) == 1 &&
                                 SSL_set1_host(ssl, name.c_str()) == 1;
    if (!named) {
      co_return make_error(NetErrc::kTlsFailed,
                           "TLS with " + endpoint.to_string() + ": bad peer name '" + name + "'");
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    const bool offered = pinned && pinned_sessions_.prepare(ssl, key);
    stream.expires_at(deadline);
    const boost::system::error_code ec = co_await stream.handshake();
    if (ec) {
      if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
        co_return classify(ec, "TLS handshake with", endpoint, limits);
      }
      co_return make_error(NetErrc::kTlsFailed, "TLS handshake with " + endpoint.to_string() +
                                                    " failed: " + tls_failure(stream, ec));
    }
    ++stats_.connections_opened;
    const bool resumed = SSL_session_reused(ssl) == 1;
    if (resumed) ++stats_.resumed;
    if (pinned) count_pinned_handshake(resumed, offered);
    co_return std::make_unique<StreamConnection<TlsStream>>(std::move(stream));
  }

  Task<Result<TcpStream>> connect_tcp(const Endpoint& endpoint, Clock::time_point deadline,
                                      bool* host_short) {
    const Limits limits{options_.max_body_bytes, options_.max_header_bytes};
    tcp::resolver resolver(executor_);
    // basic_stream's forwarding constructor makes Result<TcpStream> ambiguous: say which side.
    using boost::system::in_place_error;
    TcpStream stream(executor_);
    boost::system::error_code ec;
    // A node's address is a literal: no resolver (its thread) between the reactor and a connect.
    const asio::ip::address literal = asio::ip::make_address(endpoint.host, ec);
    if (!ec) {
      const tcp::endpoint address(literal, endpoint.port);
      stream.expires_at(deadline);
      std::tie(ec) = co_await stream.async_connect(address, kTuple);
    } else {
      auto resolved = co_await with_timeout(resolve(resolver, endpoint), deadline - Clock::now(),
                                            "resolving " + endpoint.host);
      if (!resolved) co_return Result<TcpStream>(in_place_error, resolved.error());
      stream.expires_at(deadline);
      std::tie(ec, std::ignore) = co_await stream.async_connect(*resolved, kTuple);
    }
    if (ec) {
      *host_short = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                    ec == asio::error::no_memory ||
                    ec == boost::system::errc::too_many_files_open_in_system;
      co_return Result<TcpStream>(in_place_error, classify(ec, "connecting to", endpoint, limits));
    }
    stream.socket().set_option(tcp::no_delay(true));
    co_return Result<TcpStream>(boost::system::in_place_value, std::move(stream));
  }

  static Task<Result<tcp::resolver::results_type>> resolve(tcp::resolver& resolver,
                                                           Endpoint endpoint) {
    auto [ec, results] =
        co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kTuple);
    if (ec)
      co_return make_error(NetErrc::kConnectFailed,
                           "resolving " + endpoint.host + ": " + ec.message());
    co_return results;
  }

  asio::any_io_executor executor_;
  ClientOptions options_;
  asio::ssl::context default_tls_;
  asio::ssl::context pinned_tls_;  // shared by every pinned endpoint; trusts nothing by itself
  TlsSessions pinned_sessions_{pinned_tls_.native_handle()};
  PinnedStores pinned_stores_;
  asio::steady_timer idle_sweep_{executor_};
  bool sweep_armed_ = false;
};

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}

Client::~Client() = default;

Task<Result<Response>> Client::request(Endpoint endpoint, Request request, RequestOptions options) {
  co_return co_await impl_->run(std::move(endpoint), std::move(request), nullptr, options);
}

Task<Result<Response>> Client::stream(Endpoint endpoint, Request request, BodyChunkHandler on_chunk,
                                      RequestOptions options) {
  co_return co_await impl_->run(std::move(endpoint), std::move(request), &on_chunk, options);
}

ClientStats Client::stats() const {
  return impl_->stats_;
}

TlsSessions& Client::pinned_sessions() {
  return impl_->pinned_sessions();
}

}  // namespace skyd::http
