// skylet: the agent that runs task attempts on a node (see daemon/skylet/README.md).
#include "daemon/skylet/agent.hpp"
#include "daemon/skylet/container_runtime.hpp"
#include "daemon/skylet/gcs_token_relay.hpp"
#include "daemon/skylet/private_root.hpp"
#include "daemon/skylet/spot_watcher.hpp"
#include "daemon/version.hpp"
#include "reactor/log.hpp"
#include "reactor/process.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/signals.hpp"
#include "reactor/small_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace {

constexpr const char* kUsage =
    "usage: skylet --listen HOST:PORT --token-file FILE --work-dir DIR [--ready-fd N]\n"
    "              [--tls-cert FILE --tls-key FILE] [--metadata-url URL]\n"
    "              [--metadata-flavor ec2|gce] [--metadata-interval-ms N]\n"
    "              [--log-cap-bytes N] [--cancel-grace-ms N] [--log-level LEVEL]\n"
    "              [--private-root SANDBOX [--bind SOURCE /DESTINATION]...]\n"
    "              [--notice-signal TERM|INT|HUP|USR1|USR2] [--pid-file FILE]\n"
    "              [--storage-credentials FILE] [--gcs-credentials FILE] [--rclone PATH]\n"
    "              [--mount-timeout-ms N] [--drain-timeout-ms N] [--container-runtime NAME]\n"
    "              [--container-gpus]\n"
    "\n"
    "The node agent: runs task attempts, keeps their logs by offset, reports spot notices.\n"
    "Every API call must carry 'Authorization: Bearer <token>'. PORT 0 picks a free port; with\n"
    "--ready-fd the chosen port is written to that descriptor once the API listens.\n"
    "--pid-file is written before anything else, so whoever started skylet can always stop it.\n"
    "Buckets are mounted with rclone using --storage-credentials (an AWS shared-credentials file,\n"
    "mode 0600, owned by skylet's user) or else the instance profile from the metadata service.\n"
    "GCS buckets use --gcs-credentials (a service-account key JSON, the same checks) or else, on\n"
    "Compute Engine (--metadata-flavor gce), the VM's service account through a loopback token\n"
    "relay fed by the metadata server.\n"
    "--container-runtime runs tasks that ask for a container image (image_id: docker:IMAGE) with\n"
    "that program (a name on PATH or a path); by default docker if its daemon answers, else "
    "podman.\n"
    "--container-gpus gives those containers the node's GPUs (--gpus all on docker,\n"
    "--device nvidia.com/gpu=all on podman).\n"
    "--metadata-flavor says whose metadata service --metadata-url is: EC2's (polled every\n"
    "--metadata-interval-ms) or Compute Engine's (long-polled for changes).\n";

struct Flags {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;
  std::string token_file, work_dir, tls_cert, tls_key, metadata_url, pid_file, log_level = "info";
  int ready_fd = -1;
  skyd::skylet::SpotWatchOptions::Flavor metadata_flavor =
      skyd::skylet::SpotWatchOptions::Flavor::kEc2;
  long metadata_interval_ms = 5000, cancel_grace_ms = 10000;
  unsigned long long log_cap_bytes = 1ull << 30;
  int notice_signal = 0;
  std::string private_root;                    // sandbox for a private mount namespace and root
  std::vector<skyd::skylet::BindMount> binds;  // --bind SOURCE DESTINATION
  std::string storage_credentials, gcs_credentials, rclone = "/usr/bin/rclone";
  std::string container_runtime;
  bool container_gpus = false;
  long mount_timeout_ms = 30000, drain_timeout_ms = 600000;
};

// Keys for buckets are for skylet alone: a regular file (not a link), owned by skylet's user,
// that nobody else may read or write.
std::string credentials_file_problem(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return "cannot be read";
  if (!S_ISREG(info.st_mode)) return "is not a regular file";
  if (info.st_uid != ::geteuid())
    return "is owned by uid " + std::to_string(info.st_uid) + ", not skylet's";
  if ((info.st_mode & 077) != 0) return "must have mode 0600 (nobody else may read it)";
  return {};
}

// A one-value file (token, PEM) without its trailing newline.
std::string read_file(const std::string& path) {
  std::string text = skyd::read_small_file(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

int fail(const std::string& message) {
  std::cerr << "skylet: " << message << "\n";
  return 2;
}

skyd::Task<int> wait_for_stop() {
  co_return co_await skyd::wait_for_stop_signal();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace skyd;
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "skylet " << kVersion << "\n";
      return 0;
    } else if (arg == "--listen") {
      const std::string value = next();
      const auto colon = value.rfind(':');
      if (colon == std::string::npos) return fail("--listen expects HOST:PORT");
      flags.listen_host = value.substr(0, colon);
      flags.listen_port = static_cast<std::uint16_t>(std::atoi(value.c_str() + colon + 1));
    } else if (arg == "--token-file") {
      flags.token_file = next();
    } else if (arg == "--work-dir") {
      flags.work_dir = next();
    } else if (arg == "--pid-file") {
      flags.pid_file = next();
    } else if (arg == "--ready-fd") {
      flags.ready_fd = std::atoi(next().c_str());
    } else if (arg == "--tls-cert") {
      flags.tls_cert = next();
    } else if (arg == "--tls-key") {
      flags.tls_key = next();
    } else if (arg == "--metadata-url") {
      flags.metadata_url = next();
    } else if (arg == "--metadata-flavor") {
      const std::string flavor = next();
      if (flavor != "ec2" && flavor != "gce") return fail("--metadata-flavor expects ec2 or gce");
      flags.metadata_flavor = flavor == "gce" ? skyd::skylet::SpotWatchOptions::Flavor::kGce
                                              : skyd::skylet::SpotWatchOptions::Flavor::kEc2;
    } else if (arg == "--metadata-interval-ms") {
      flags.metadata_interval_ms = std::atol(next().c_str());
    } else if (arg == "--log-cap-bytes") {
      flags.log_cap_bytes = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--cancel-grace-ms") {
      flags.cancel_grace_ms = std::atol(next().c_str());
    } else if (arg == "--log-level") {
      flags.log_level = next();
    } else if (arg == "--notice-signal") {
      auto parsed = parse_notice_signal(next());
      if (!parsed) return fail("--notice-signal expects " + std::string(kNoticeSignalNames));
      flags.notice_signal = parsed->number;
    } else if (arg == "--storage-credentials") {
      flags.storage_credentials = next();
    } else if (arg == "--gcs-credentials") {
      flags.gcs_credentials = next();
    } else if (arg == "--rclone") {
      flags.rclone = next();
    } else if (arg == "--container-runtime") {
      flags.container_runtime = next();
      if (!skyd::skylet::valid_runtime_name(flags.container_runtime))
        return fail("--container-runtime expects a program name or an absolute path");
    } else if (arg == "--container-gpus") {
      flags.container_gpus = true;
    } else if (arg == "--mount-timeout-ms") {
      flags.mount_timeout_ms = std::atol(next().c_str());
    } else if (arg == "--drain-timeout-ms") {
      flags.drain_timeout_ms = std::atol(next().c_str());
    } else if (arg == "--private-root") {
      flags.private_root = next();
    } else if (arg == "--bind") {
      skylet::BindMount mount;
      mount.source = next();
      mount.destination = next();
      if (mount.destination.empty() || mount.destination.front() != '/')
        return fail("--bind expects SOURCE /DESTINATION");
      flags.binds.push_back(std::move(mount));
    } else {
      return fail("unknown option '" + arg + "' (see skylet --help)");
    }
  }
  if (flags.token_file.empty() || flags.work_dir.empty())
    return fail("--token-file and --work-dir are required");
  if (!flags.pid_file.empty()) {
    // First: a starter killed before it recorded this process still finds it through the file.
    if (auto written = write_small_file(flags.pid_file, std::to_string(::getpid())); !written)
      return fail("cannot write " + flags.pid_file + ": " + written.error().message());
  }
  if (!flags.storage_credentials.empty()) {
    if (auto problem = credentials_file_problem(flags.storage_credentials); !problem.empty())
      return fail("--storage-credentials " + flags.storage_credentials + " " + problem);
  }
  if (!flags.gcs_credentials.empty()) {
    if (auto problem = credentials_file_problem(flags.gcs_credentials); !problem.empty())
      return fail("--gcs-credentials " + flags.gcs_credentials + " " + problem);
  }
  if (flags.mount_timeout_ms <= 0 || flags.drain_timeout_ms < 0)
    return fail("--mount-timeout-ms must be positive and --drain-timeout-ms not negative");
  if (!flags.binds.empty() && flags.private_root.empty())
    return fail("--bind needs --private-root");
  if (!flags.private_root.empty()) {
    // Before any thread exists: the namespace and the root belong to the whole process.
    if (auto entered = skylet::enter_private_root(flags.private_root, flags.binds); !entered) {
      return fail(entered.error().detail);
    }
  }
  const std::string token = read_file(flags.token_file);
  if (token.size() < 16)
    return fail("the token in " + flags.token_file + " is missing or too short");

  init_logging(LogOptions{.level = flags.log_level, .file = {}, .timestamps = true});
  ShardPool pool(1);
  skylet::AgentOptions options;
  options.token = token;
  options.work_dir = flags.work_dir;
  options.log_cap_bytes = flags.log_cap_bytes;
  options.cancel_grace = std::chrono::milliseconds(flags.cancel_grace_ms);
  options.notice_signal = flags.notice_signal;
  options.mounts.rclone = flags.rclone;
  options.container_runtime = flags.container_runtime;
  options.container_gpus = flags.container_gpus;
  options.mounts.credentials.shared_credentials_file = flags.storage_credentials;
  options.mounts.credentials.metadata_url = flags.metadata_url;
  options.mounts.credentials.gcs_service_account_file = flags.gcs_credentials;
  options.mounts.mount_timeout = std::chrono::milliseconds(flags.mount_timeout_ms);
  options.mounts.drain_timeout = std::chrono::milliseconds(flags.drain_timeout_ms);
  // Tasks see a normal login-like environment (HOME, PATH, USER...) beneath their own variables.
  for (const auto& entry : environment_with({}, {"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
                                                 "WATCHDOG_USEC", "WATCHDOG_PID", "SKYD_SOCKET"})) {
    const auto eq = entry.find('=');
    options.base_env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  pool.start();
  // On Compute Engine without a key file, rclone's GCS tokens come from the metadata server
  // through a loopback relay (gcs_token_relay.hpp).
  std::unique_ptr<skylet::GcsTokenRelay> relay;
  if (flags.gcs_credentials.empty() && !flags.metadata_url.empty() &&
      flags.metadata_flavor == skylet::SpotWatchOptions::Flavor::kGce) {
    auto started = skylet::GcsTokenRelay::start(pool.executor(0), flags.metadata_url);
    if (!started) return fail("the GCS token relay: " + started.error().message());
    relay = std::move(*started);
    options.mounts.credentials.gcs_token_url = relay->url();
    options.mounts.credentials.gcs_refresh_secret = relay->secret();
  }
  // A previous skylet killed with buckets mounted: its mounts go before any attempt starts.
  const std::string records = skylet::mount_records_dir(flags.work_dir);
  auto sweep_executor = pool.executor(0);
  pool.submit<void>(0, [sweep_executor,
                        records] { return skylet::sweep_leftover_mounts(sweep_executor, records); })
      .get();
  // Containers a killed skylet left running go too (the attempts record them).
  const std::string containers = flags.work_dir + "/containers";
  auto container_env = options.base_env;
  pool.submit<void>(0,
                    [sweep_executor, containers, container_env] {
                      return skylet::sweep_leftover_containers(sweep_executor, containers,
                                                               container_env);
                    })
      .get();
  skylet::Agent agent(pool.executor(0), options);
  http::ServerOptions server_options;
  server_options.max_body_bytes = skylet::kMaxRequestBodyBytes;
  http::Server server(pool.executors(), agent.router(), server_options);
  Result<void> listening;
  if (!flags.tls_cert.empty()) {
    listening = server.listen_tls(
        flags.listen_host, flags.listen_port,
        CertifiedKey{read_file(flags.tls_cert) + "\n", read_file(flags.tls_key) + "\n"});
  } else {
    listening = server.listen_tcp(flags.listen_host, flags.listen_port);
  }
  if (!listening) {
    std::cerr << "skylet: " << listening.error().message() << "\n";
    return 1;
  }
  server.start();
  if (!flags.metadata_url.empty()) {
    skylet::SpotWatchOptions watch{flags.metadata_url,
                                   std::chrono::milliseconds(flags.metadata_interval_ms),
                                   flags.metadata_flavor};
    auto* target = &agent;
    pool.spawn(0, [watch, target] {
      return skylet::watch_spot_notices(
          watch, [target](Json event) { target->publish_event(std::move(event)); });
    });
  }
  logger("skylet")->info("skylet ready listen={}:{} work_dir={}", flags.listen_host,
                         server.tcp_port(), flags.work_dir);
  if (flags.ready_fd >= 0) {
    const std::string port = std::to_string(server.tcp_port()) + "\n";
    if (::write(flags.ready_fd, port.data(), port.size()) < 0) return 1;
    ::close(flags.ready_fd);
  }

  const int signal = pool.submit<int>(0, [] { return wait_for_stop(); }).get();
  logger("skylet")->info("skylet stopping signal={}", signal);
  auto* target = &agent;
  pool.submit<void>(0, [target] { return target->shutdown(); }).get();
  pool.submit<void>(0, [&server] { return server.drain(std::chrono::seconds(2)); }).get();
  if (relay) pool.submit<void>(0, [&relay] { return relay->stop(); }).get();
  pool.stop();
  return 0;
}
