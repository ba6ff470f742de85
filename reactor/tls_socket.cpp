#include "reactor/tls_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>

#include <cerrno>

namespace skyd::http {
namespace {

// OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the peer has gone, and
// SIGPIPE's default ends the process. This is that BIO writing with send(MSG_NOSIGNAL), as asio's
// own sockets do: a vanished peer is EPIPE for the writer alone. Its writes are plain sends: kernel
// TLS (SSL_OP_ENABLE_KTLS) must stay off with it.
int send_without_sigpipe(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  int fd = -1;
  BIO_get_fd(bio, &fd);
  const auto sent =
      static_cast<int>(::send(fd, data, static_cast<std::size_t>(length), MSG_NOSIGNAL));
  if (sent <= 0 && BIO_sock_should_retry(sent)) BIO_set_retry_write(bio);
  return sent;
}

BIO_METHOD* socket_without_sigpipe() {
  static BIO_METHOD* const method = [] {
    const BIO_METHOD* socket = BIO_s_socket();
    BIO_METHOD* made = BIO_meth_new(BIO_TYPE_SOCKET, "socket without SIGPIPE");
    if (!made) return made;
    BIO_meth_set_write(made, send_without_sigpipe);
    BIO_meth_set_read(made, BIO_meth_get_read(socket));
    BIO_meth_set_puts(made, BIO_meth_get_puts(socket));
    BIO_meth_set_ctrl(made, BIO_meth_get_ctrl(socket));
    BIO_meth_set_create(made, BIO_meth_get_create(socket));
    BIO_meth_set_destroy(made, BIO_meth_get_destroy(socket));
    return made;
  }();
  return method;
}

}  // namespace

void configure_for_tls_socket(SSL_CTX* context) {
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
}

TlsSocket::TlsSocket(asio::ip::tcp::socket socket, SSL_CTX* context, Role role)
    : state_(std::make_shared<State>(std::move(socket), context, role)) {}

TlsSocket::State::State(asio::ip::tcp::socket connected, SSL_CTX* context, Role role)
    : socket(std::move(connected)), ssl(SSL_new(context)), timer(socket.get_executor()) {
  if (!ssl) return;  // the handshake reports it
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  BIO_METHOD* const method = socket_without_sigpipe();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (!bio) {
    ssl.reset();  // the handshake reports it
    return;
  }
  BIO_set_fd(bio, static_cast<int>(socket.native_handle()), BIO_NOCLOSE);
  SSL_set_bio(ssl.get(), bio, bio);
  // A write's bytes live in its operation, which moves; a retry passes the same bytes.
  SSL_set_mode(ssl.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
  }
}

TlsSocket& TlsSocket::operator=(TlsSocket&& other) noexcept {
  if (this != &other) {
    if (state_) state_->close();
    state_ = std::move(other.state_);
  }
  return *this;
}

TlsSocket::~TlsSocket() {
  if (state_) state_->close();  // moved from: nothing to close
}

void TlsSocket::State::close() {
  boost::system::error_code ignored;
  timer.cancel();
  socket.close(ignored);
}

void TlsSocket::cancel() {
  ++state_->cancels;  // an operation that has not begun its wait yet ends at it
  boost::system::error_code ignored;
  state_->socket.cancel(ignored);
}

Task<boost::system::error_code> TlsSocket::handshake() {
  auto [error, moved] = co_await async_handshake(asio::as_tuple(asio::use_awaitable));
  co_return error;
}

TlsSocket::Step TlsSocket::State::call(Call what, asio::mutable_buffer buffer) {
  ERR_clear_error();
  std::size_t moved = 0;
  int done = 0;
  switch (what) {
    case Call::kHandshake:
      done = SSL_do_handshake(ssl.get());
      break;
    case Call::kRead:
      done = SSL_read_ex(ssl.get(), buffer.data(), buffer.size(), &moved);
      break;
    case Call::kWrite:
      // Without partial writes a record goes whole.
      done = SSL_write_ex(ssl.get(), buffer.data(), buffer.size(), &moved);
      break;
  }
  if (done == 1) return Step{true, {}, moved};
  const int saved_errno = errno;
  const int kind = SSL_get_error(ssl.get(), done);
  if (kind == SSL_ERROR_WANT_READ) return Step{false, {}, 0, WaitType::wait_read};
  if (kind == SSL_ERROR_WANT_WRITE) return Step{false, {}, 0, WaitType::wait_write};
  return Step{false, failure(kind, saved_errno), 0};
}

boost::system::error_code TlsSocket::State::before_wait(std::uint64_t cancels_before) {
  if (cancels != cancels_before) return asio::error::operation_aborted;
  if (Clock::now() >= deadline) return boost::beast::error::timeout;
  // A timer set for this deadline or an earlier one stands: a deadline that only moved later (the
  // next request's) is set when the earlier one fires, so most requests set no timer at all.
  if (deadline < armed_for) arm();
  return {};
}

void TlsSocket::State::arm() {
  armed_for = deadline;
  timer.expires_at(deadline);
  timer.async_wait([weak = weak_from_this(), armed = deadline](boost::system::error_code error) {
    if (error) return;  // set again, or the stream is going
    const auto self = weak.lock();
    if (!self || self->armed_for != armed) return;
    self->armed_for = Clock::time_point::max();
    if (Clock::now() < self->deadline) {
      // The deadline moved later since: wait on for it if a wait needs it.
      if (self->waits > 0 && self->deadline != Clock::time_point::max()) self->arm();
      return;
    }
    if (self->waits == 0) return;  // the next wait finds the deadline passed
    boost::system::error_code ignored;
    self->socket.cancel(ignored);
  });
}

boost::system::error_code TlsSocket::State::after_wait(boost::system::error_code waited) {
  // A wait cut once the deadline has passed was cut by it.
  if (waited == asio::error::operation_aborted && Clock::now() >= deadline)
    return boost::beast::error::timeout;
  return waited;
}

boost::system::error_code TlsSocket::State::failure(int kind, int saved_errno) const {
  if (kind == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
  const unsigned long queued = ERR_peek_last_error();
  if (kind == SSL_ERROR_SYSCALL && queued == 0) {
    // The peer went without a close_notify, or the socket failed.
    if (saved_errno == 0) return asio::ssl::error::stream_truncated;
    return {saved_errno, boost::system::system_category()};
  }
  if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
    return asio::ssl::error::stream_truncated;
  if (queued == 0) return asio::ssl::error::unspecified_system_error;
  return {static_cast<int>(queued), asio::error::get_ssl_category()};
}

}  // namespace skyd::http
