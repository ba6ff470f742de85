#include "cli/daemon_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace skyd::cli {
namespace {

std::string not_running_message(const std::string& socket_path, const Error& error) {
  return "cannot reach skyd at " + socket_path + " (" + error.message() +
         ").\nIs it running? Start it with:  skyd --state-dir DIR   (and point sky at it with "
         "SKYD_SOCKET=DIR/skyd.sock or --socket)";
}

Task<Result<http::Response>> send(http::Endpoint endpoint, http::Request request, Duration timeout,
                                  http::BodyChunkHandler on_chunk) {
  // g++ 12 mis-destroys a default argument next to a co_await in one expression: keep them apart.
  auto executor = co_await asio::this_coro::executor;
  http::Client client(executor);
  http::RequestOptions options{timeout};
  if (on_chunk) co_return co_await client.stream(endpoint, request, on_chunk, options);
  co_return co_await client.request(endpoint, request, options);
}

Result<http::Response> run(const std::string& socket_path, http::Request request, Duration timeout,
                           http::BodyChunkHandler on_chunk) {
  asio::io_context context(1);
  auto future = asio::co_spawn(
      context, send(http::Endpoint::unix_socket(socket_path), std::move(request), timeout, std::move(on_chunk)),
      asio::use_future);
  context.run();
  auto result = future.get();
  if (!result && (result.error().code == NetErrc::kConnectFailed || result.error().code == NetErrc::kClosed)) {
    return make_error(result.error().code, not_running_message(socket_path, result.error()));
  }
  return result;
}

}  // namespace

std::string find_daemon_socket(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return *flag;
  if (const char* env = std::getenv("SKYD_SOCKET"); env && *env) return env;
  std::vector<std::string> candidates;
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime) {
    candidates.push_back(std::string(runtime) + "/skyd.sock");
  }
  if (const char* home = std::getenv("HOME"); home && *home && ::geteuid() != 0) {
    candidates.push_back(std::string(home) + "/.sky/skyd/skyd.sock");
  }
  candidates.push_back("/run/skyd/skyd.sock");
  candidates.push_back("/var/lib/skyd/skyd.sock");
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) return candidate;
  }
  return candidates.front();
}

DaemonClient::DaemonClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

Result<http::Response> DaemonClient::call(std::string method, std::string target, std::string body, Duration timeout) {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  return run(socket_path_, std::move(request), timeout, nullptr);
}

Result<http::Response> DaemonClient::stream(std::string target, http::BodyChunkHandler on_chunk, Duration idle_timeout) {
  http::Request request;
  request.target = std::move(target);
  return run(socket_path_, std::move(request), idle_timeout, std::move(on_chunk));
}

}  // namespace skyd::cli
