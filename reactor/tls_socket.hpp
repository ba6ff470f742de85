#pragma once
// A TLS stream for many long-lived, mostly idle connections (a long poll per supervised node, on
// skyd's side as the client and on the node's as the server). OpenSSL reads and writes the socket
// itself and the stream waits for readiness with asio between records, so it holds no buffers of
// its own: asio::ssl::stream keeps a BIO pair and two record buffers, ~69 KiB per connection made
// and zeroed for each connection and kept for as long as it lives. With SSL_MODE_RELEASE_BUFFERS
// on the context, a connection waiting for its answer costs its SSL object alone (~10 KiB).
// Meets beast's AsyncReadStream and AsyncWriteStream; deadlines and cancellation as tcp_stream's
// (beast::error::timeout past the deadline, operation_aborted when the caller is cancelled).
//
// Each read, write and handshake is one composed operation (a loop of SSL calls and socket waits
// in the caller's handler, no coroutine of its own), and the deadline is one timer per stream,
// set again only when the deadline comes sooner than it is set for: ten thousand nodes' answers a
// second cost no frames, spawns or timers of their own.

#include "reactor/coro.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
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
  // The stream replaced is closed, as on destruction.
  TlsSocket& operator=(TlsSocket&& other) noexcept;
  // Closes the socket: an operation still under way ends (operation_aborted) and lets go of the
  // stream's state, which it shares.
  ~TlsSocket();

  executor_type get_executor() { return state_->socket.get_executor(); }
  SSL* native_handle() { return state_->ssl.get(); }
  asio::ip::tcp::socket& socket() { return state_->socket; }

  // Bounds every later wait for the socket, like beast::tcp_stream's.
  void expires_at(Clock::time_point deadline) { state_->deadline = deadline; }
  void expires_after(Duration limit) { expires_at(Clock::now() + limit); }
  void expires_never() { expires_at(Clock::time_point::max()); }
  // Ends the operation under way (operation_aborted), like beast::tcp_stream's.
  void cancel();

  // The handshake of the stream's role; a client has set the name and the verification on
  // native_handle() first.
  template <typename Token>
  auto async_handshake(Token&& token) {
    return transfer(Call::kHandshake, asio::mutable_buffer(), std::forward<Token>(token));
  }
  Task<boost::system::error_code> handshake();

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      first = asio::mutable_buffer(*it);
      if (first.size() > 0) break;
    }
    return transfer(Call::kRead, first, std::forward<Token>(token));
  }

  // Writes at most one record's worth, copied first into the operation: beast hands an HTTP
  // message over as many small buffers, which become one record instead of one each. A retry
  // passes OpenSSL the same bytes, as it requires, from the copy (which may move with the
  // operation: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    std::string copy(std::min<std::size_t>(asio::buffer_size(buffers), kMaxWrite), '\0');
    asio::buffer_copy(asio::buffer(copy), buffers);
    return transfer(Call::kWrite, asio::mutable_buffer(), std::forward<Token>(token),
                    std::move(copy));
  }

 private:
  static constexpr std::size_t kMaxWrite = 16 * 1024;
  enum class Call { kHandshake, kRead, kWrite };
  using WaitType = asio::ip::tcp::socket::wait_type;

  struct FreeSsl {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  // What one SSL call came to: done (with the bytes it moved), failed, or waiting for the socket.
  struct Step {
    bool done = false;
    boost::system::error_code error;
    std::size_t moved = 0;
    WaitType wait_for = WaitType::wait_read;
  };

  // Everything an operation and the deadline timer touch, at one address for the stream's life
  // (the stream itself may move between operations). Each operation holds it until it ends; the
  // timer holds it weakly: a deadline that fires after the stream is gone finds nothing.
  struct State : std::enable_shared_from_this<State> {
    State(asio::ip::tcp::socket socket, SSL_CTX* context, Role role);
    Step call(Call what, asio::mutable_buffer buffer);
    // Before a wait of an operation that began after `cancels_before` cancels: the error that
    // ends it instead (cancelled since, past the deadline), else the deadline timer armed for it.
    boost::system::error_code before_wait(std::uint64_t cancels_before);
    // After a wait: its error as the caller sees it (a wait the deadline cut is a timeout).
    boost::system::error_code after_wait(boost::system::error_code waited);
    // Sets the timer for the deadline; when it fires it cuts the wait under way, if any.
    void arm();
    void close();
    boost::system::error_code failure(int kind, int saved_errno) const;

    asio::ip::tcp::socket socket;
    std::unique_ptr<SSL, FreeSsl> ssl;
    asio::steady_timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  // the timer's expiry, if set
    int waits = 0;              // socket waits under way (a read's and a write's, at most)
    std::uint64_t cancels = 0;  // cancel() calls so far
  };

  // One operation: SSL calls until one completes or fails, a socket wait each time OpenSSL asks.
  // Completing without any wait is posted, never inline in the initiating call.
  struct Transfer {
    std::shared_ptr<State> state;
    Call what;
    asio::mutable_buffer into;  // a read's
    std::string out;            // a write's bytes
    enum class Stage { kStart, kWaiting, kPosted } stage = Stage::kStart;
    boost::system::error_code error{};
    std::size_t moved = 0;
    std::uint64_t cancels_before = 0;  // cancel() calls before the operation began

    asio::mutable_buffer buffer() {
      return what == Call::kWrite ? asio::mutable_buffer(out.data(), out.size()) : into;
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code waited = {}) {
      switch (stage) {
        case Stage::kPosted:
          return self.complete(error, moved);
        case Stage::kWaiting:
          --state->waits;
          if (auto failed = state->after_wait(waited)) return self.complete(failed, 0);
          if (self.cancelled() != asio::cancellation_type::none)
            return self.complete(asio::error::operation_aborted, 0);
          break;
        case Stage::kStart:
          // Any cancellation of the caller's ends the wait under way, as tcp_stream's does.
          self.reset_cancellation_state(asio::enable_total_cancellation());
          cancels_before = state->cancels;
          if (!state->ssl) return finish(self, asio::error::no_memory, 0);
          if (what != Call::kHandshake && buffer().size() == 0) return finish(self, {}, 0);
          // Nothing decrypted or buffered: wait for the socket before reading. An SSL_read that
          // finds nothing keeps its 17 KiB record buffer for the whole wait (a long poll's), one
          // that consumes a whole record gives it back (SSL_MODE_RELEASE_BUFFERS).
          if (what == Call::kRead && !SSL_has_pending(state->ssl.get()))
            return wait(self, WaitType::wait_read);
          break;
      }
      const Step step = state->call(what, buffer());
      if (step.done || step.error) return finish(self, step.error, step.moved);
      wait(self, step.wait_for);
    }

    template <typename Self>
    void wait(Self& self, WaitType wait_for) {
      if (auto failed = state->before_wait(cancels_before)) return finish(self, failed, 0);
      stage = Stage::kWaiting;
      ++state->waits;
      auto& socket = state->socket;  // `self` moves into the wait
      socket.async_wait(wait_for, std::move(self));
    }

    template <typename Self>
    void finish(Self& self, boost::system::error_code failed, std::size_t bytes) {
      if (stage == Stage::kWaiting) return self.complete(failed, bytes);
      stage = Stage::kPosted;
      error = failed;
      moved = bytes;
      asio::post(std::move(self));
    }
  };

  template <typename Token>
  auto transfer(Call what, asio::mutable_buffer into, Token&& token, std::string out = {}) {
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        Transfer{state_, what, into, std::move(out)}, token, state_->socket);
  }

  std::shared_ptr<State> state_;
};

}  // namespace skyd::http
