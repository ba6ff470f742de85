#include "daemon/daemon.hpp"

#include "daemon/api.hpp"
#include "daemon/api_validation.hpp"
#include "daemon/autostop.hpp"
#include "daemon/catalog_refresher.hpp"
#include "daemon/controller/controller.hpp"
#include "daemon/dashboard/dashboard.hpp"
#include "daemon/version.hpp"
#include "providers/aws/aws_auth.hpp"
#include "providers/catalog/catalog_dir.hpp"
#include "providers/gcp/gcp_auth.hpp"
#include "providers/kubernetes/kubeconfig.hpp"
#include "reactor/crypto.hpp"
#include "reactor/descriptor_limit.hpp"
#include "reactor/identity.hpp"
#include "reactor/log.hpp"
#include "reactor/memory_trim.hpp"
#include "reactor/metrics.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/signals.hpp"
#include "reactor/small_files.hpp"
#include "reactor/systemd.hpp"
#include "store/database_health.hpp"
#include "store/embedded_postgres.hpp"

#include <grp.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace skyd::daemon {
namespace {

Error io_error(const std::error_code& ec, std::string what) {
  return make_error(boost::system::error_code(ec.value(), boost::system::system_category()),
                    std::move(what));
}

Result<void> prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return io_error(ec, "cannot create the state directory " + dir);
  // Jobs' logs are read through the API, which checks who asks; on disk they are skyd's alone.
  ::chmod((dir + "/logs").c_str(), 0700);
  // Local machines run their jobs as the jobs' users, who must pass through to their homes
  // (dir/local/...: each directory below says what it lets them see).
  struct stat info {};
  if (can_switch_users() && ::stat(dir.c_str(), &info) == 0 && (info.st_mode & S_IXOTH) == 0)
    ::chmod(dir.c_str(), (info.st_mode & 07777) | S_IXGRP | S_IXOTH);
  return {};
}

// The group whose members may act on every job (config admin_group); none when unset.
Result<std::optional<gid_t>> admin_group_of(const DaemonConfig& config) {
  if (config.admin_group.empty()) return std::optional<gid_t>();
  const group* found = ::getgrnam(config.admin_group.c_str());
  if (!found)
    return make_error(NetErrc::kBadUrl, "admin group '" + config.admin_group + "' does not exist");
  return std::optional<gid_t>(found->gr_gid);
}

// The secret skylet tokens derive from: made once, kept in the state directory (0600).
Result<std::string> controller_key(const std::string& state_dir) {
  const std::string path = state_dir + "/controller.key";
  if (std::string key = read_small_file(path); key.size() >= 32) return key;
  const std::string key = random_hex(32);
  if (auto written = write_small_file(path, key); !written) return written.error();
  return key;
}

// The CA that signs every cloud cluster's skylet certificate: made once, kept in the state
// directory (0600) so a restarted skyd still verifies the nodes it launched before.
Result<CertifiedKey> skylet_authority(const std::string& state_dir) {
  const std::string path = state_dir + "/skylet-ca.pem";
  const std::string pem = read_small_file(path);
  if (const auto split = pem.find("-----BEGIN PRIVATE KEY-----"); split != std::string::npos)
    return CertifiedKey{pem.substr(0, split), pem.substr(split)};
  // A damaged authority is not replaced: the nodes it signed for would stop verifying.
  if (!pem.empty()) {
    return make_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                      path + " holds no private key; restore it from a backup");
  }
  auto made = make_certificate_authority("skyd skylet CA", 3650, KeyKind::kEd25519);
  if (!made) return made.error();
  auto written = write_small_file(path, made->certificate_pem + made->private_key_pem);
  if (!written) return written.error();
  return made;
}

Result<http::UnixSocketOptions> socket_options(const DaemonConfig& config) {
  http::UnixSocketOptions options;
  options.mode = 0660;
  if (!config.socket_group.empty()) {
    const group* found = ::getgrnam(config.socket_group.c_str());
    if (!found)
      return make_error(NetErrc::kBadUrl,
                        "socket group '" + config.socket_group + "' does not exist");
    options.group = found->gr_gid;
  }
  return options;
}

// Credentials that could not be found: every token request fails with why, so each GCP launch
// fails with kAuth and takes GCP out of the job's candidates with that reason.
class UnavailableToken final : public providers::gcp::AccessTokenSource {
 public:
  explicit UnavailableToken(Error why) : why_(std::move(why)) {}
  Task<Result<providers::gcp::AccessToken>> token() override { co_return why_; }
  void invalidate() override {}

 private:
  Error why_;
};

// Where each shard's Compute Engine calls get their bearer token: the configured fixed token,
// else Application Default Credentials (providers/gcp/gcp_auth) on the shard's HTTP client.
std::function<std::shared_ptr<providers::gcp::AccessTokenSource>(http::Client&)> gcp_token_source(
    const DaemonConfig& config) {
  if (!config.gcp_access_token.empty()) {
    const std::string token = config.gcp_access_token;
    return [token](http::Client&) -> std::shared_ptr<providers::gcp::AccessTokenSource> {
      return std::make_shared<providers::gcp::FixedAccessToken>(token);
    };
  }
  return [](http::Client& client) -> std::shared_ptr<providers::gcp::AccessTokenSource> {
    auto credentials = providers::gcp::GoogleCredentials::application_default(
        client, providers::gcp::process_environment());
    if (!credentials) {
      logger("skyd")->warn("gcp credentials unavailable error=\"{}\"",
                           credentials.error().message());
      return std::make_shared<UnavailableToken>(credentials.error());
    }
    return std::shared_ptr<providers::gcp::AccessTokenSource>(std::move(*credentials));
  };
}

ControllerOptions controller_options(const DaemonConfig& config, std::string conninfo,
                                     std::string key, const CertifiedKey& authority) {
  ControllerOptions options;
  options.state_dir = config.state_dir;
  options.conninfo = std::move(conninfo);
  options.db_connections_per_shard = config.db_pool_size;
  options.controller_key = std::move(key);
  options.local.root_dir = config.state_dir + "/local";
  options.local.skylet_binary = config.skylet_binary;
  options.local.preemption_grace = config.local_preemption_grace;
  options.local.preemption_mean_interval = config.local_preemption_mean_interval;
  options.launch_backoff.initial = config.launch_backoff;
  options.launch_backoff.cap = config.launch_backoff * 5;
  options.node_lost_after = config.node_lost_after;
  options.log_poll_wait = config.log_poll_wait;
  options.log_polls_per_second = config.log_polls_per_second;
  options.failure_check_grace = config.failure_check_grace;
  options.local.notice_signal = config.spot_notice_signal;
  options.limits.max_running_jobs = config.max_running_jobs;
  options.limits.max_launches_in_flight = config.max_launches_in_flight;
  options.limits.max_reattachments_in_flight = config.max_reattachments_in_flight;
  options.limits.max_launches_per_region = config.max_launches_per_region;
  options.log_retention = config.log_retention;
  options.max_upload_bytes = config.max_upload_bytes;
  options.bucket_store = config.effective_bucket_store();
  options.bucket_stores = config.bucket_stores();
  options.s3_endpoint = config.s3_endpoint;
  options.s3_region = config.s3_region;
  options.gcs_endpoint = config.effective_gcs_endpoint();
  options.gcs_project = config.gcp_project;
  // GCS calls use the same credentials as Compute Engine's (replaced below when GCP is enabled).
  options.gcp_tokens = gcp_token_source(config);
  if (config.aws_enabled) {
    providers::aws::AwsProviderOptions aws;
    aws.regions = config.aws_regions;
    aws.endpoint = config.aws_endpoint;
    aws.pricing_endpoint = config.aws_pricing_endpoint;
    aws.skylet_port = static_cast<std::uint16_t>(config.aws_skylet_port);
    aws.requests_per_second = config.aws_requests_per_second;
    aws.request_timeout = config.aws_request_timeout;
    aws.security_group_ids = config.aws_security_groups;
    aws.instance_profile = config.aws_instance_profile;
    for (const auto& [region, image] : config.aws_images) aws.images[region] = image;
    aws.image_root_device = config.aws_image_root_device;
    aws.request_burst = std::max(1.0, config.aws_requests_per_second * 2.5);
    aws.controller_id = options.controller_id;
    aws.skylet_authority = authority;
    aws.notice_signal = config.spot_notice_signal;
    aws.scratch_dir = config.state_dir + "/uploads";
    options.aws = aws;
  }
  if (config.gcp_enabled) {
    providers::gcp::GcpProviderOptions gcp;
    gcp.project = config.gcp_project;
    gcp.regions = config.gcp_regions;
    gcp.endpoint = config.gcp_endpoint;
    gcp.tpu_endpoint = config.gcp_tpu_endpoint;
    gcp.images = config.gcp_images;
    gcp.service_account = config.gcp_service_account;
    gcp.skylet_port = static_cast<std::uint16_t>(config.gcp_skylet_port);
    gcp.requests_per_second = config.gcp_requests_per_second;
    gcp.request_burst = std::max(1.0, config.gcp_requests_per_second * 2.5);
    gcp.request_timeout = config.gcp_request_timeout;
    gcp.use_public_ip = config.gcp_use_public_ip;
    gcp.controller_id = options.controller_id;
    gcp.skylet_authority = authority;
    gcp.notice_signal = config.spot_notice_signal;
    gcp.scratch_dir = config.state_dir + "/uploads";
    options.gcp = gcp;
    options.gcp_tokens = gcp_token_source(config);
  }
  if (config.kubernetes_enabled) {
    providers::kubernetes::KubeProviderOptions kube;
    const std::string path = providers::kubernetes::kubeconfig_path(
        config.kubeconfig, [](const char* name) -> std::optional<std::string> {
          const char* value = std::getenv(name);
          if (!value) return std::nullopt;
          return std::string(value);
        });
    auto access = providers::kubernetes::load_kubeconfig(path, config.kubernetes_context);
    if (access) {
      kube.access = std::move(*access);
      logger("skyd")->info("kubernetes enabled kubeconfig={} context={} namespace={} server={}",
                           path, kube.access.context, kube.access.namespace_, kube.access.server);
    } else {
      // Every launch on kubernetes fails with it, naming the field.
      logger("skyd")->error("kubernetes unusable error=\"{}\"", access.error().detail);
      kube.access_error = access.error();
    }
    if (!config.kubernetes_image.empty()) kube.image = config.kubernetes_image;
    kube.skylet_port = static_cast<std::uint16_t>(config.kubernetes_skylet_port);
    kube.controller_id = options.controller_id;
    kube.skylet_authority = authority;
    kube.notice_signal = config.spot_notice_signal;
    kube.scratch_dir = config.state_dir + "/uploads";
    options.kubernetes = std::move(kube);
  }
  return options;
}

// With buckets in S3, the local provider's machines mount them with skyd's own keys, handed to
// their skylet in a file only skyd's user can read (never on a command line). Keys from the
// environment or the shared file; with neither (an instance role), the nodes ask the role too.
Result<std::string> write_storage_credentials(const DaemonConfig& config) {
  if (config.effective_bucket_store() != "s3") return std::string();
  const auto env = providers::aws::process_environment();
  std::optional<providers::aws::Credentials> credentials =
      providers::aws::credentials_from_environment(env);
  if (!credentials) {
    auto shared = providers::aws::credentials_from_shared_file(env);
    if (!shared) return shared.error();
    credentials = *shared;
  }
  if (!credentials) return std::string();
  std::string text = "[default]\naws_access_key_id = " + credentials->access_key_id +
                     "\naws_secret_access_key = " + credentials->secret_access_key + "\n";
  if (!credentials->session_token.empty())
    text += "aws_session_token = " + credentials->session_token + "\n";
  const std::string path = config.state_dir + "/storage-credentials";
  if (auto written = write_small_file(path, text); !written) return written.error();
  return path;
}

// The catalog_dir's files replace the built-in ones before anything plans (a refresh may create
// the directory later, so with catalog_refresh on it need not hold files yet).
Result<void> install_catalog(const DaemonConfig& config) {
  if (config.catalog_dir.empty()) return {};
  if (config.catalog_refresh) {
    std::error_code ec;
    std::filesystem::create_directories(config.catalog_dir, ec);
  }
  auto loaded = catalog::load_catalog_dir(config.catalog_dir);
  if (!loaded) return loaded.error();
  catalog::install(std::make_shared<const catalog::Catalog>(std::move(*loaded)));
  logger("skyd")->info("catalog installed dir={}", config.catalog_dir);
  return {};
}

Task<int> wait_for_stop() {
  co_return co_await wait_for_stop_signal();
}

}  // namespace

int run_daemon(const DaemonConfig& config) {
  ignore_broken_pipes();
  if (auto prepared = prepare_state_dir(config.state_dir); !prepared) {
    std::cerr << "skyd: " << prepared.error().message() << "\n";
    return 1;
  }
  init_logging(LogOptions{.level = config.log_level,
                          .file = config.state_dir + "/logs/skyd.log",
                          .timestamps = std::getenv("JOURNAL_STREAM") == nullptr});
  auto log = logger("skyd");
  const DescriptorLimit descriptors = raise_descriptor_limit();
  log->info("open file limit {} (was {})", descriptors.now, descriptors.before);
  auto fail = [&](const std::string& what, const Error& error) {
    log->error("cannot start: {}: {}", what, error.message());
    std::cerr << "skyd: " << what << ": " << error.message() << "\n";
    return 1;
  };

  if (auto loaded = install_catalog(config); !loaded) return fail("catalog_dir", loaded.error());

  auto key = controller_key(config.state_dir);
  if (!key) return fail("controller key", key.error());
  auto authority = skylet_authority(config.state_dir);
  if (!authority) return fail("skylet certificate authority", authority.error());
  auto options = socket_options(config);
  if (!options) return fail("socket", options.error());
  auto admin_group = admin_group_of(config);
  if (!admin_group) return fail("admin group", admin_group.error());

  // The database: the configured server, or a private one under the state directory. Its
  // health outlives both the server's supervisor and the controller.
  store::DatabaseHealth database_health;
  std::optional<store::EmbeddedPostgres> embedded;
  std::string conninfo = config.db;
  if (conninfo.empty()) {
    store::EmbeddedPostgresOptions database;
    database.state_dir = config.state_dir;
    database.restart_backoff.initial = config.db_restart_delay;
    embedded.emplace(database);
    auto started = embedded->start();
    if (!started) return fail("embedded PostgreSQL", started.error());
    conninfo = *started;
    embedded->supervise(database_health);
  }

  ShardPool pool(config.shards);
  pool.start();
  auto options_for_controller = controller_options(config, conninfo, *key, *authority);
  options_for_controller.database_health = &database_health;
  auto storage_credentials = write_storage_credentials(config);
  if (!storage_credentials) return fail("storage credentials", storage_credentials.error());
  options_for_controller.local.storage_credentials = *storage_credentials;
  Controller controller(pool, std::move(options_for_controller));
  if (auto started = controller.start(); !started) {
    pool.stop();
    return fail("controller", started.error());
  }

  DaemonInfo info{
      kVersion,       config.state_dir, pool.size(), Clock::now(),
      options->group, *admin_group,     {},          controller.options().controller_id};
  // The dashboard (loopback TCP), bound first so /v1/health can tell its URL.
  std::optional<http::Server> dashboard;
  if (!config.dashboard.empty()) {
    auto address = parse_dashboard_address(config.dashboard);
    if (address) {
      http::Router routes;
      add_dashboard_routes(routes, &controller);
      dashboard.emplace(pool.executors(), std::move(routes));
      if (auto bound = dashboard->listen_tcp(address->host, address->port); !bound)
        address = bound.error();
    }
    if (!address) {
      controller.stop();
      pool.stop();
      return fail("dashboard", address.error());
    }
    const bool v6 = address->host.find(':') != std::string::npos;
    info.dashboard_url = "http://" + (v6 ? "[" + address->host + "]" : address->host) + ":" +
                         std::to_string(dashboard->tcp_port()) + "/";
  }
  http::ServerOptions api_options;
  api_options.max_body_bytes = kMaxApiBodyBytes;
  http::Server api(pool.executors(), make_api_router(info, &controller), api_options);
  Result<void> listening;
  const auto inherited = systemd::listen_fds();
  if (!inherited.empty()) {
    listening = api.adopt_unix_listener(inherited.front());
  } else {
    listening = api.listen_unix(config.socket, *options);
  }
  if (!listening) {
    controller.stop();
    pool.stop();
    return fail("API socket", listening.error());
  }
  api.start();
  if (dashboard) dashboard->start();
  for (std::size_t shard = 0; shard < pool.size(); ++shard) {
    pool.spawn(shard,
               [shard] { return metrics::measure_loop_lag(shard, std::chrono::seconds(1)); });
  }
  if (config.catalog_refresh) {
    CatalogRefreshOptions refresh;
    refresh.dir = config.catalog_dir;
    refresh.interval = config.catalog_refresh_interval;
    refresh.regions = config.aws_regions;
    refresh.aws = *controller.options().aws;  // the same endpoint, limits and credentials
    pool.spawn(0, [refresh] { return refresh_catalog_periodically(refresh); });
  }
  AutostopOptions stop_when_idle;
  stop_when_idle.idle = config.autostop_idle;
  if (controller.options().aws) {
    stop_when_idle.aws = *controller.options().aws;
  } else {
    stop_when_idle.aws.endpoint = config.aws_endpoint;
    stop_when_idle.aws.request_timeout = config.aws_request_timeout;
  }
  Autostop autostop(pool.executor(0), std::move(stop_when_idle), &controller, &api);
  pool.submit<void>(0, [&autostop] { return autostop.start(); }).get();
  pool.spawn(0, [] { return trim_memory_periodically(std::chrono::seconds(30)); });
  if (auto interval = systemd::watchdog_interval()) {
    auto shards = pool.executors();
    pool.spawn(0, [shards, every = *interval] { return systemd::feed_watchdog(shards, every); });
  }
  log->info("skyd ready version={} shards={} socket={} state_dir={} dashboard={}", kVersion,
            pool.size(), config.socket, config.state_dir,
            info.dashboard_url.empty() ? "off" : info.dashboard_url);
  systemd::notify("READY=1\nSTATUS=accepting jobs");

  const int signal = pool.submit<int>(0, [] { return wait_for_stop(); }).get();
  log->info("skyd stopping signal={}", signal);
  systemd::notify("STOPPING=1");
  pool.submit<void>(0, [&autostop] { return autostop.stop(); }).get();
  pool.submit<void>(0, [&api] { return api.drain(std::chrono::seconds(10)); }).get();
  if (dashboard)
    pool.submit<void>(0, [&dashboard] { return dashboard->drain(std::chrono::seconds(2)); }).get();
  controller.stop();  // job coroutines end; their machines keep running for the next start
  pool.stop();
  if (inherited.empty()) std::filesystem::remove(config.socket);
  if (embedded) embedded->stop();
  log->info("skyd stopped");
  return 0;
}

}  // namespace skyd::daemon
