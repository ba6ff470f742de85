// fakecloud: EC2's Query API, instance metadata and chaos for tests (see
// tests/fakecloud/README.md).
#include "providers/gcp/gcp_auth.hpp"
#include "reactor/crypto.hpp"
#include "reactor/descriptor_limit.hpp"
#include "reactor/log.hpp"
#include "reactor/numbers.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/signals.hpp"
#include "reactor/small_files.hpp"
#include "tests/fakecloud/fake_cloud.hpp"
#include "tests/fakecloud/fake_kube.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

constexpr const char* kUsage =
    "usage: fakecloud [--listen HOST] [--port N] [--port-file FILE] [--ready-fd N]\n"
    "                 [--mode process|virtual] [--skylet PATH] [--work-dir DIR]\n"
    "                 [--config FILE.json] [--access-key ID --secret-key KEY [--session-token T]]\n"
    "                 [--role-name NAME] [--virtual-port N] [--seed N] [--log-level LEVEL]\n"
    "                 [--catalog DIR] [--instance-profile-keys ACCESS:SECRET]\n"
    "                 [--private-node-roots] [--gcp-project ID]\n"
    "                 [--gcp-service-account KEY.json] [--gcp-authorized-user FILE.json]\n"
    "                 [--gcs-dir DIR] [--node-container-runtime NAME]\n"
    "                 [--kube-config FILE [--kube-token TOKEN]] [--shards N]\n"
    "\n"
    "A fake EC2 endpoint (Query API 2016-11-15, SigV4-checked), instance metadata (IMDSv2),\n"
    "Compute Engine API v1 under /compute/v1/ (bearer tokens) and an admin API under /_admin/. "
    "Once listening it writes two lines, the EC2 port and the\n"
    "virtual nodes' skylet port (0 in process mode), to --port-file and --ready-fd.\n"
    "--instance-profile-keys: the keys an instance launched with an IamInstanceProfile gets from\n"
    "its metadata service. --private-node-roots: each process-mode skylet gets its own mount\n"
    "namespace and root (needs root). --gcp-project: the only project Compute Engine calls may\n"
    "name (default: any).\n"
    "--gcp-service-account: a service account key file (JSON, as Google's console makes them)\n"
    "whose JWTs POST /token accepts; --gcp-authorized-user: an authorized_user file whose\n"
    "refresh token it accepts. Both may be repeated.\n"
    "Cloud Storage's JSON API under /storage/v1/, /upload/storage/v1/ and /download/storage/v1/;\n"
    "--gcs-dir: where object bytes are kept (default: WORK_DIR/gcs, else a temporary directory).\n"
    "--node-container-runtime: the container runtime the machines carry (default podman), given\n"
    "to a process-mode skylet whose boot asks for one (image_id: docker:IMAGE).\n"
    "--kube-config: serve the Kubernetes API (pods) over TLS on a port of its own and write a\n"
    "kubeconfig for it to FILE (its CA, https://HOST:PORT, the bearer token: --kube-token, else\n"
    "a random one).\n"
    "--shards: threads serving connections (TLS, HTTP), default one per core; the clouds' state\n"
    "lives on the first, where every request is answered.\n";

int fail(const std::string& message) {
  std::cerr << "fakecloud: " << message << "\n";
  return 2;
}

// A FIFO is written in place (a waiting reader gets the ports); a file is replaced atomically.
bool write_port_file(const std::string& path, const std::string& text) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISFIFO(info.st_mode)) {
    std::ofstream out(path);
    out << text << std::flush;
    return static_cast<bool>(out);
  }
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  return !ec;
}

skyd::Task<int> wait_for_stop() {
  co_return co_await skyd::wait_for_stop_signal();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace skyd;
  raise_descriptor_limit();  // a virtual node's connections are this process's own
  fakecloud::FakeCloudOptions options;
  std::string listen = "127.0.0.1", port_file, config, log_level = "info", kube_config;
  int port = 0, ready_fd = -1, virtual_port = 0;
  std::size_t shards = 0;  // one per core
  fakecloud::AccessKey key{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--listen") {
      listen = next();
    } else if (arg == "--port") {
      port = std::atoi(next().c_str());
    } else if (arg == "--port-file") {
      port_file = next();
    } else if (arg == "--ready-fd") {
      ready_fd = std::atoi(next().c_str());
    } else if (arg == "--mode") {
      const std::string mode = next();
      if (mode == "process")
        options.mode = fakecloud::Mode::kProcess;
      else if (mode == "virtual")
        options.mode = fakecloud::Mode::kVirtual;
      else
        return fail("--mode is process or virtual");
    } else if (arg == "--skylet") {
      options.skylet_binary = next();
    } else if (arg == "--work-dir") {
      options.work_dir = next();
    } else if (arg == "--config") {
      config = next();
    } else if (arg == "--access-key") {
      key.access_key_id = next();
    } else if (arg == "--secret-key") {
      key.secret_access_key = next();
    } else if (arg == "--session-token") {
      key.session_token = next();
    } else if (arg == "--instance-profile-keys") {
      const std::string value = next();
      const auto colon = value.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
        return fail("--instance-profile-keys expects ACCESS:SECRET");
      options.instance_profile_key = {value.substr(0, colon), value.substr(colon + 1), ""};
    } else if (arg == "--gcp-service-account" || arg == "--gcp-authorized-user") {
      const bool service_account = arg == "--gcp-service-account";
      auto file = providers::gcp::read_credentials_file(next());
      if (!file) return fail(file.error().detail);
      if (auto* key = std::get_if<providers::gcp::ServiceAccountKey>(&*file);
          key && service_account)
        options.gcp_auth.service_accounts.push_back(std::move(*key));
      else if (auto* user = std::get_if<providers::gcp::AuthorizedUser>(&*file);
               user && !service_account)
        options.gcp_auth.authorized_users.push_back(std::move(*user));
      else
        return fail(arg + " expects a file of type " +
                    (service_account ? "service_account" : "authorized_user"));
    } else if (arg == "--gcs-dir") {
      options.gcs_dir = next();
    } else if (arg == "--node-container-runtime") {
      options.node_container_runtime = next();
    } else if (arg == "--private-node-roots") {
      options.private_node_roots = true;
    } else if (arg == "--kube-config") {
      kube_config = next();
    } else if (arg == "--kube-token") {
      options.kube_token = next();
    } else if (arg == "--gcp-project") {
      options.gcp_project = next();
    } else if (arg == "--role-name") {
      options.role_name = next();
    } else if (arg == "--virtual-port") {
      virtual_port = std::atoi(next().c_str());
    } else if (arg == "--catalog") {
      options.catalog_dir = next();
    } else if (arg == "--shards") {
      const auto count = parse_int64(next());
      if (!count || *count < 0 || *count > 1024)
        return fail("--shards expects a count from 0 (one per core) to 1024");
      shards = static_cast<std::size_t>(*count);
    } else if (arg == "--seed") {
      options.seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--log-level") {
      log_level = next();
    } else {
      return fail("unknown option '" + arg + "' (see fakecloud --help)");
    }
  }
  options.keys.push_back(key);
  options.role_key = {"ASIAFAKECLOUDROLE", random_hex(20), random_hex(32)};
  if (options.mode == fakecloud::Mode::kProcess) {
    if (options.skylet_binary.empty()) return fail("process mode needs --skylet PATH");
    if (options.work_dir.empty()) return fail("process mode needs --work-dir DIR");
  }
  if (!config.empty()) {
    auto json = parse_json(read_small_file(config));
    if (!json) return fail(config + ": " + json.error().detail);
    auto chaos = fakecloud::Chaos::from_json(*json);
    if (!chaos) return fail(config + ": " + chaos.error().detail);
    options.chaos = std::move(*chaos);
  }

  init_logging(LogOptions{.level = log_level, .file = {}, .timestamps = true});
  const bool virtual_mode = options.mode == fakecloud::Mode::kVirtual;
  ShardPool pool(shards);
  const auto home = pool.executor(0);
  fakecloud::FakeCloud cloud(home, std::move(options));
  http::ServerOptions server_options;
  // Cloud Storage's chunks and single-request uploads (Go's client sends 16 MiB chunks) arrive
  // whole in one request body; larger objects come in many.
  server_options.max_body_bytes = 64u << 20;
  http::Server server(pool.executors(), http::pinned_to(home, cloud.router()), server_options);
  if (auto ok = server.listen_tcp(listen, static_cast<std::uint16_t>(port)); !ok)
    return fail(ok.error().message());
  // Virtual nodes: one listener answers the skylet API for all of them (see README), on the
  // shard that holds their state. Their requests are many and small (a long poll per node):
  // served elsewhere, each would hop to that shard and back.
  std::unique_ptr<http::Server> nodes;
  if (virtual_mode) {
    nodes = std::make_unique<http::Server>(std::vector<asio::any_io_executor>{home},
                                           cloud.virtual_node_router());
    if (auto ok =
            cloud.listen_virtual_nodes(*nodes, listen, static_cast<std::uint16_t>(virtual_port));
        !ok)
      return fail(ok.error().message());
    nodes->start();
  }
  // Kubernetes: its API server on a TLS listener of its own, described by a kubeconfig.
  std::unique_ptr<http::Server> kube;
  if (!kube_config.empty()) {
    kube = std::make_unique<http::Server>(pool.executors(),
                                          http::pinned_to(home, cloud.kube().api_router()));
    if (auto ok = kube->listen_tls(listen, 0, cloud.kube().server_certificate()); !ok)
      return fail(ok.error().message());
    if (!write_port_file(kube_config, cloud.kube().kubeconfig(kube->tcp_port())))
      return fail("cannot write " + kube_config);
    kube->start();
  }
  server.start();
  cloud.start();  // queues the chaos loops; they run once the shard does
  pool.start();
  auto* target = &cloud;
  const std::string ports = std::to_string(server.tcp_port()) + "\n" +
                            std::to_string(nodes ? nodes->tcp_port() : 0) + "\n";
  logger("fakecloud")
      ->info("fakecloud ready port={} virtual_port={}", server.tcp_port(),
             nodes ? nodes->tcp_port() : 0);
  if (!port_file.empty() && !write_port_file(port_file, ports))
    return fail("cannot write " + port_file);
  if (ready_fd >= 0) {
    if (::write(ready_fd, ports.data(), ports.size()) < 0) return 1;
    ::close(ready_fd);
  }

  const int signal = pool.submit<int>(0, [] { return wait_for_stop(); }).get();
  logger("fakecloud")
      ->info("fakecloud stopping signal={} live_instances={}", signal, cloud.live_instances());
  pool.submit<void>(0, [target] { return target->shutdown(); }).get();
  pool.submit<void>(0, [&server] { return server.drain(std::chrono::milliseconds(500)); }).get();
  if (kube) {
    auto* kube_server = kube.get();
    pool.submit<void>(0,
                      [kube_server] { return kube_server->drain(std::chrono::milliseconds(500)); })
        .get();
  }
  if (nodes) {
    auto* node_server = nodes.get();
    pool.submit<void>(0,
                      [node_server] { return node_server->drain(std::chrono::milliseconds(500)); })
        .get();
  }
  pool.stop();
  return 0;
}
