#include "cli/daemon_client.hpp"

#include "cli/daemon_address.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace skyd::cli {
namespace {

std::string not_running_message(const std::string& address, const Error& error) {
  if (is_ssh_address(address))
    return "cannot reach skyd at " + address + " (" + error.message() +
           ").\nCheck that `ssh` reaches the host and that skyd runs there: ssh HOST skyd "
           "dial-stdio";
  return "cannot reach skyd at " + address + " (" + error.message() +
         ").\nIs it running? Start it with:  skyd --state-dir DIR   (and point sky at it with "
         "SKYD_SOCKET=DIR/skyd.sock or --socket)";
}

Task<Result<http::Response>> send(http::Endpoint endpoint, http::Request request, Duration timeout,
                                  http::BodyChunkHandler on_chunk) {
  // g++ 12 mis-destroys a default argument next to a co_await in one expression: keep them apart.
  auto executor = co_await asio::this_coro::executor;
  // skyd is reached over its Unix socket or an SSH command's pipes, never TLS: loading the
  // system's CA bundle would be most of a `sky jobs queue`'s time.
  http::ClientOptions client_options;
  client_options.use_system_trust = false;
  http::Client client(executor, client_options);
  http::RequestOptions options{timeout};
  if (on_chunk) co_return co_await client.stream(endpoint, request, on_chunk, options);
  co_return co_await client.request(endpoint, request, options);
}

Result<http::Response> run(const std::string& address, http::Request request, Duration timeout,
                           http::BodyChunkHandler on_chunk) {
  auto endpoint = endpoint_for(address);
  if (!endpoint) return endpoint.error();
  asio::io_context context(1);
  auto future = asio::co_spawn(
      context, send(std::move(*endpoint), std::move(request), timeout, std::move(on_chunk)),
      asio::use_future);
  context.run();
  auto result = future.get();
  if (!result &&
      (result.error().code == NetErrc::kConnectFailed || result.error().code == NetErrc::kClosed)) {
    return make_error(result.error().code, not_running_message(address, result.error()));
  }
  return result;
}

}  // namespace

DaemonClient::DaemonClient(std::string address) : address_(std::move(address)) {}

Result<http::Response> DaemonClient::call(std::string method, std::string target, std::string body,
                                          Duration timeout) {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  return run(address_, std::move(request), timeout, nullptr);
}

Result<http::Response> DaemonClient::stream(std::string target, http::BodyChunkHandler on_chunk,
                                            Duration idle_timeout) {
  http::Request request;
  request.target = std::move(target);
  return run(address_, std::move(request), idle_timeout, std::move(on_chunk));
}

}  // namespace skyd::cli
