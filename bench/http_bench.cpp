// Requests per second of the HTTP client and server on loopback: one shard and all shards, over a
// Unix socket, TCP and TLS. Each shard runs its own client with `--connections` concurrent request
// loops against the server, whose sessions are spread over the same shards. Prints a table.
//
//   build/bench/http_bench [--requests N] [--connections C]

#include "reactor/certs.hpp"
#include "reactor/http_client.hpp"
#include "reactor/http_server.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/task_group.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace skyd;

namespace {

Task<http::Response> hello(http::Request&) { co_return http::Response::text(200, R"({"ok":true})", "application/json"); }

Task<void> request_loop(http::Client& client, http::Endpoint endpoint, int requests, int* failures) {
  http::Request request;
  request.target = "/hello";
  for (int i = 0; i < requests; ++i) {
    auto response = co_await client.request(endpoint, request);
    if (!response || response->status != 200) ++*failures;
  }
}

Task<int> shard_load(http::Endpoint endpoint, std::string ca_pem, int connections, int requests_per_connection) {
  auto executor = co_await asio::this_coro::executor;
  http::ClientOptions options;
  options.ca_pem = std::move(ca_pem);
  options.max_idle_per_endpoint = static_cast<std::size_t>(connections);
  http::Client client(executor, options);
  TaskGroup group(executor, "bench");
  int failures = 0;
  for (int c = 0; c < connections; ++c) group.spawn(request_loop(client, endpoint, requests_per_connection, &failures));
  co_await group.wait();
  co_return failures;
}

struct Row {
  std::string transport;
  std::size_t shards;
  int connections;
  long requests;
  double seconds;
  int failures;
};

Row measure(const std::string& transport, std::size_t shards, int connections, long total_requests) {
  ShardPool pool(shards);
  http::Router router;
  router.add("GET", "/hello", "hello", hello);
  http::Server server(pool.executors(), std::move(router));
  std::string ca_pem;
  http::Endpoint endpoint;
  char socket_dir[] = "/tmp/skyd-bench.XXXXXX";
  if (transport == "unix") {
    ::mkdtemp(socket_dir);
    const std::string path = std::string(socket_dir) + "/bench.sock";
    (void)server.listen_unix(path);
    endpoint = http::Endpoint::unix_socket(path);
  } else if (transport == "tcp") {
    (void)server.listen_tcp("127.0.0.1", 0);
    endpoint = *http::Endpoint::parse("http://127.0.0.1:" + std::to_string(server.tcp_port()));
  } else {
    auto authority = make_certificate_authority("bench CA");
    auto certificate = issue_server_certificate(*authority, "bench", {"127.0.0.1"});
    (void)server.listen_tls("127.0.0.1", 0, *certificate);
    ca_pem = authority->certificate_pem;
    endpoint = *http::Endpoint::parse("https://127.0.0.1:" + std::to_string(server.tcp_port()));
  }
  server.start();
  pool.start();

  const int per_connection = static_cast<int>(total_requests / static_cast<long>(shards * connections));
  const auto started = Clock::now();
  std::vector<std::future<int>> loads;
  for (std::size_t shard = 0; shard < shards; ++shard) {
    loads.push_back(pool.submit<int>(shard, [=] { return shard_load(endpoint, ca_pem, connections, per_connection); }));
  }
  int failures = 0;
  for (auto& load : loads) failures += load.get();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  pool.submit<void>(0, [&server] { return server.drain(std::chrono::seconds(1)); }).get();
  pool.stop();
  if (transport == "unix") {
    ::unlink((std::string(socket_dir) + "/bench.sock").c_str());
    ::rmdir(socket_dir);
  }
  return Row{transport, shards, connections, static_cast<long>(per_connection) * connections * static_cast<long>(shards),
             seconds, failures};
}

}  // namespace

int main(int argc, char** argv) {
  long requests = 200000;
  int connections = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--connections") == 0) connections = std::atoi(argv[i + 1]);
  }
  const std::size_t all = std::max(1u, std::thread::hardware_concurrency());
  std::printf("HTTP/1.1 keep-alive on loopback, client and server in one process (%ld requests a row)\n\n", requests);
  std::printf("%-9s %6s %11s %10s %9s %12s %9s\n", "TRANSPORT", "SHARDS", "CONNECTIONS", "REQUESTS", "SECONDS",
              "REQUESTS/S", "FAILURES");
  for (const char* transport : {"unix", "tcp", "tls"}) {
    for (std::size_t shards : {std::size_t{1}, all}) {
      const Row row = measure(transport, shards, connections, requests);
      std::printf("%-9s %6zu %11d %10ld %9.2f %12.0f %9d\n", row.transport.c_str(), row.shards,
                  row.connections * static_cast<int>(row.shards), row.requests, row.seconds,
                  static_cast<double>(row.requests) / row.seconds, row.failures);
      if (shards == all) break;
    }
  }
  return 0;
}
