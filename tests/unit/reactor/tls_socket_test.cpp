// TlsSocket on its own: what happens to an operation under way when its stream goes.
#include "reactor/tls_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>

namespace skyd::http {
namespace {

using asio::ip::tcp;

struct FreeContext {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

// A client's handshake waits for a server that never answers; the stream is destroyed (or has
// another moved over it) meanwhile. The handshake ends as aborted, once, and the state it shared
// with the stream is still there when it does.
class TlsSocketGone : public ::testing::Test {
 protected:
  TlsSocketGone() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), server_(io_) {
    context_.reset(SSL_CTX_new(TLS_client_method()));
    configure_for_tls_socket(context_.get());
  }

  // A stream whose handshake is under way, its ClientHello sent; `ended` is set when it ends.
  std::unique_ptr<TlsSocket> waiting_handshake(std::optional<boost::system::error_code>& ended,
                                               int& endings) {
    tcp::socket client(io_);
    client.connect(acceptor_.local_endpoint());
    acceptor_.accept(server_);
    auto stream = std::make_unique<TlsSocket>(std::move(client), context_.get());
    stream->expires_after(std::chrono::seconds(30));
    stream->async_handshake([&ended, &endings](boost::system::error_code error, std::size_t) {
      ended = error;
      ++endings;
    });
    io_.poll();
    return stream;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::socket server_;
  std::unique_ptr<SSL_CTX, FreeContext> context_;
};

TEST_F(TlsSocketGone, AStreamDestroyedWithAnOperationUnderWayEndsItAsAborted) {
  std::optional<boost::system::error_code> ended;
  int endings = 0;
  auto stream = waiting_handshake(ended, endings);
  ASSERT_FALSE(ended) << "the server never answered, yet the handshake ended";
  stream.reset();
  io_.run();  // returns once nothing is left to run: the deadline timer went with the stream
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, asio::error::operation_aborted);
  EXPECT_EQ(endings, 1);
}

TEST_F(TlsSocketGone, AStreamMovedOverWithAnOperationUnderWayEndsItAsAborted) {
  std::optional<boost::system::error_code> ended;
  int endings = 0;
  auto stream = waiting_handshake(ended, endings);
  ASSERT_FALSE(ended);
  tcp::socket other(io_);
  other.open(tcp::v4());
  *stream = TlsSocket(std::move(other), context_.get());
  io_.run();
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, asio::error::operation_aborted);
  EXPECT_EQ(endings, 1);
}

}  // namespace
}  // namespace skyd::http
