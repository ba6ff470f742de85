#pragma once
// A TLS stream for many long-lived, mostly idle connections (a long poll per supervised node, on
// skyd's side as the client and on the node's as the server). OpenSSL reads and writes the socket
// itself and the stream waits for readiness with asio between records, so it holds no buffers of
// its own: asio::ssl::stream keeps a BIO pair and two record buffers, ~69 KiB per connection made
// and zeroed for each connection and kept for as long as it lives. With SSL_MODE_RELEASE_BUFFERS
// on the context, a connection waiting for its answer costs its SSL object alone (~10 KiB).
// Meets beast's AsyncReadStream and AsyncWriteStream; deadlines and cancellation as tcp_stream's
// (beast::error::timeout past the deadline, operation_aborted when the caller is cancelled).

#include "reactor/coro.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace skyd::http {

// What every context of TlsSocket connections is set with: a connection between records (a long
// poll waiting) holds no record buffers (SSL_MODE_RELEASE_BUFFERS).
void configure_for_tls_socket(SSL_CTX* context);

class TlsSocket {
 public:
  using executor_type = asio::any_io_executor;
  enum class Role { kClient, kServer };

  // Takes a connected socket; `context` gives the settings (verification mode, trust; a server's
  // certificate).
  TlsSocket(asio::ip::tcp::socket socket, SSL_CTX* context, Role role = Role::kClient);
  TlsSocket(TlsSocket&&) noexcept = default;
  TlsSocket& operator=(TlsSocket&&) noexcept = default;
  ~TlsSocket() = default;

  executor_type get_executor() { return socket_.get_executor(); }
  SSL* native_handle() { return ssl_.get(); }
  asio::ip::tcp::socket& socket() { return socket_; }

  // Bounds every later wait for the socket, like beast::tcp_stream's.
  void expires_at(Clock::time_point deadline) { deadline_ = deadline; }
  void expires_after(Duration limit) { deadline_ = Clock::now() + limit; }
  void expires_never() { deadline_ = Clock::time_point::max(); }
  // Ends the operation under way (operation_aborted), like beast::tcp_stream's.
  void cancel();

  // The handshake of the stream's role; a client has set the name and the verification on
  // native_handle() first.
  Task<boost::system::error_code> handshake();

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      first = asio::mutable_buffer(*it);
      if (first.size() > 0) break;
    }
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer into) {
          start(read_some(into), std::move(handler));
        },
        token, first);
  }

  // Writes at most one record's worth, copied first: beast hands an HTTP message over as many
  // small buffers, which become one record instead of one each.
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    std::string bytes(std::min<std::size_t>(asio::buffer_size(buffers), kMaxWrite), '\0');
    asio::buffer_copy(asio::buffer(bytes), buffers);
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, std::string copy) {
          start(write_some(std::move(copy)), std::move(handler));
        },
        token, std::move(bytes));
  }

 private:
  using Outcome = std::pair<boost::system::error_code, std::size_t>;
  static constexpr std::size_t kMaxWrite = 16 * 1024;

  struct FreeSsl {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  // Runs `operation` and hands its outcome to `handler`. A cancellation of the caller's
  // operation (its slot) cancels the wait inside, here and at once: Asio 1.81's forwarding into
  // co_spawn runs later and may find the caller's handler gone.
  template <typename Handler>
  void start(Task<Outcome> operation, Handler handler) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    cancelled_ = false;
    if (slot.is_connected()) {
      slot.assign([this](asio::cancellation_type) {
        cancelled_ = true;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
      });
    }
    asio::co_spawn(
        get_executor(), std::move(operation),
        [slot, handler = std::move(handler)](std::exception_ptr failed, Outcome outcome) mutable {
          if (slot.is_connected()) slot.clear();
          if (failed) outcome = {asio::error::operation_aborted, 0};
          std::move(handler)(outcome.first, outcome.second);
        });
  }

  // Calls `step` (an SSL_* call, given where to put the bytes it moved) until it succeeds,
  // waiting for the socket each time OpenSSL asks to; any other failure ends it.
  template <typename Step>
  Task<Outcome> until_done(Step step);
  Task<Outcome> read_some(asio::mutable_buffer into);
  Task<Outcome> write_some(std::string bytes);
  // Waits until the socket is ready for `what`: beast::error::timeout past the deadline.
  Task<boost::system::error_code> wait(asio::ip::tcp::socket::wait_type what);
  // The error for SSL_get_error's `kind` after a call that failed.
  boost::system::error_code failure(int kind, int saved_errno) const;

  asio::ip::tcp::socket socket_;
  std::unique_ptr<SSL, FreeSsl> ssl_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool cancelled_ = false;  // the caller's operation was cancelled before its wait began
};

}  // namespace skyd::http
