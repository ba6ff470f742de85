#include "reactor/tls_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>

#include <cerrno>
#include <variant>

namespace skyd::http {
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

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
    : socket_(std::move(socket)), ssl_(SSL_new(context)) {
  if (!ssl_) return;  // handshake() reports it
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  BIO_METHOD* const method = socket_without_sigpipe();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (!bio) {
    ssl_.reset();  // handshake() reports it
    return;
  }
  BIO_set_fd(bio, static_cast<int>(socket_.native_handle()), BIO_NOCLOSE);
  SSL_set_bio(ssl_.get(), bio, bio);
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
}

void TlsSocket::cancel() {
  cancelled_ = true;  // an operation that has not begun its wait yet ends at it
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

template <typename Step>
Task<TlsSocket::Outcome> TlsSocket::until_done(Step step) {
  for (;;) {
    ERR_clear_error();
    std::size_t moved = 0;
    const int done = step(&moved);
    if (done == 1) co_return Outcome{{}, moved};
    const int saved_errno = errno;
    const int kind = SSL_get_error(ssl_.get(), done);
    if (kind != SSL_ERROR_WANT_READ && kind != SSL_ERROR_WANT_WRITE)
      co_return Outcome{failure(kind, saved_errno), 0};
    const auto what = kind == SSL_ERROR_WANT_READ ? asio::ip::tcp::socket::wait_read
                                                  : asio::ip::tcp::socket::wait_write;
    const auto waited = co_await wait(what);
    if (waited) co_return Outcome{waited, 0};
  }
}

Task<boost::system::error_code> TlsSocket::handshake() {
  if (!ssl_) co_return boost::system::error_code(asio::error::no_memory);
  auto step = [this](std::size_t*) { return SSL_do_handshake(ssl_.get()); };
  const Outcome outcome = co_await until_done(step);
  co_return outcome.first;
}

Task<TlsSocket::Outcome> TlsSocket::read_some(asio::mutable_buffer into) {
  if (into.size() == 0) co_return Outcome{};
  // Nothing decrypted or buffered: wait for the socket before reading. An SSL_read that finds
  // nothing keeps its 17 KiB record buffer for the whole wait (a long poll's), one that
  // consumes a whole record gives it back (SSL_MODE_RELEASE_BUFFERS).
  if (!SSL_has_pending(ssl_.get())) {
    const auto waited = co_await wait(asio::ip::tcp::socket::wait_read);
    if (waited) co_return Outcome{waited, 0};
  }
  auto step = [this, into](std::size_t* read) {
    return SSL_read_ex(ssl_.get(), into.data(), into.size(), read);
  };
  co_return co_await until_done(step);
}

Task<TlsSocket::Outcome> TlsSocket::write_some(std::string bytes) {
  if (bytes.empty()) co_return Outcome{};
  // Without partial writes a record goes whole; a retry passes the same bytes, as required.
  auto step = [this, &bytes](std::size_t* written) {
    return SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), written);
  };
  co_return co_await until_done(step);
}

Task<boost::system::error_code> TlsSocket::wait(asio::ip::tcp::socket::wait_type what) {
  using namespace asio::experimental::awaitable_operators;
  if (cancelled_) co_return boost::system::error_code(asio::error::operation_aborted);
  if (Clock::now() >= deadline_) co_return boost::system::error_code(boost::beast::error::timeout);
  if (deadline_ == Clock::time_point::max()) {
    auto [ready] = co_await socket_.async_wait(what, kTuple);
    co_return ready;
  }
  asio::steady_timer timer(socket_.get_executor(), deadline_);
  auto outcome = co_await (socket_.async_wait(what, kTuple) || timer.async_wait(kTuple));
  if (outcome.index() == 0) co_return std::get<0>(std::get<0>(outcome));
  // The timer ends the wait when it fires; cancelled, it is the caller's cancellation.
  const auto timer_error = std::get<0>(std::get<1>(outcome));
  if (timer_error) co_return timer_error;
  co_return boost::system::error_code(boost::beast::error::timeout);
}

boost::system::error_code TlsSocket::failure(int kind, int saved_errno) const {
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
