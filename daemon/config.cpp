#include "daemon/config.hpp"

#include "reactor/signals.hpp"

#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

namespace skyd::daemon {
namespace {

Error config_error(std::string message) {
  return make_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                    std::move(message));
}

std::string home_dir() {
  const char* home = std::getenv("HOME");
  return home && *home ? home : "/";
}

// "a,b,,c" -> {"a", "b", "c"}
std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

Result<void> apply_file(const std::string& path, DaemonConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    return config_error(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const YAML::Exception& e) {
    return config_error(path + ": " + e.what());
  }
  if (root.IsNull()) return {};
  if (!root.IsMap())
    return config_error(path + ": expected a mapping of settings at the top level");
  static const std::set<std::string> kKnown = {"state_dir",
                                               "socket",
                                               "socket_group",
                                               "admin_group",
                                               "max_upload_bytes",
                                               "shards",
                                               "db",
                                               "log_level",
                                               "skylet_binary",
                                               "db_pool_size",
                                               "db_restart_delay",
                                               "launch_backoff",
                                               "node_lost_after",
                                               "log_poll_wait",
                                               "log_polls_per_second",
                                               "failure_check_grace",
                                               "local_preemption_grace",
                                               "local_preemption_mean_interval",
                                               "aws_enabled",
                                               "aws_regions",
                                               "aws_endpoint",
                                               "aws_skylet_port",
                                               "aws_requests_per_second",
                                               "aws_security_groups",
                                               "aws_images",
                                               "aws_image_root_device",
                                               "aws_request_timeout",
                                               "gcp_enabled",
                                               "gcp_project",
                                               "gcp_regions",
                                               "gcp_endpoint",
                                               "gcp_tpu_endpoint",
                                               "gcp_images",
                                               "gcp_service_account",
                                               "gcp_access_token",
                                               "gcp_skylet_port",
                                               "gcp_requests_per_second",
                                               "gcp_use_public_ip",
                                               "gcp_request_timeout",
                                               "kubernetes_enabled",
                                               "kubeconfig",
                                               "kubernetes_context",
                                               "kubernetes_image",
                                               "kubernetes_skylet_port",
                                               "max_running_jobs",
                                               "max_launches_in_flight",
                                               "max_reattachments_in_flight",
                                               "max_launches_per_region",
                                               "log_retention",
                                               "dashboard",
                                               "spot_notice_signal",
                                               "catalog_dir",
                                               "aws_pricing_endpoint",
                                               "aws_instance_profile",
                                               "bucket_store",
                                               "s3_endpoint",
                                               "s3_region",
                                               "gcs_endpoint",
                                               "catalog_refresh",
                                               "catalog_refresh_interval",
                                               "autostop_idle"};
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    const auto where = path + ":" + std::to_string(entry.first.Mark().line + 1) + ": ";
    if (!kKnown.contains(key)) return config_error(where + "unknown setting '" + key + "'");
    try {
      if (key == "state_dir") config.state_dir = entry.second.as<std::string>();
      if (key == "socket") config.socket = entry.second.as<std::string>();
      if (key == "socket_group") config.socket_group = entry.second.as<std::string>();
      if (key == "admin_group") config.admin_group = entry.second.as<std::string>();
      if (key == "max_upload_bytes") config.max_upload_bytes = entry.second.as<std::uint64_t>();
      if (key == "shards") config.shards = entry.second.as<std::size_t>();
      if (key == "db") config.db = entry.second.as<std::string>();
      if (key == "log_level") config.log_level = entry.second.as<std::string>();
      if (key == "skylet_binary") config.skylet_binary = entry.second.as<std::string>();
      if (key == "db_pool_size") config.db_pool_size = entry.second.as<std::size_t>();
      if (key == "aws_enabled") config.aws_enabled = entry.second.as<bool>();
      for (auto [name, limit] :
           {std::pair{"max_running_jobs", &config.max_running_jobs},
            {"max_launches_in_flight", &config.max_launches_in_flight},
            {"max_reattachments_in_flight", &config.max_reattachments_in_flight},
            {"max_launches_per_region", &config.max_launches_per_region}}) {
        if (key != name) continue;
        *limit = entry.second.as<int>();
        if (*limit < 0) return config_error(where + "'" + key + "' must be 0 (no limit) or more");
      }
      if (key == "aws_endpoint") config.aws_endpoint = entry.second.as<std::string>();
      if (key == "aws_skylet_port") config.aws_skylet_port = entry.second.as<int>();
      if (key == "log_polls_per_second") {
        config.log_polls_per_second = entry.second.as<double>();
        if (!(config.log_polls_per_second >= 0) || !std::isfinite(config.log_polls_per_second))
          return config_error(where + "'log_polls_per_second' must be 0 (no limit) or more");
      }
      if (key == "aws_requests_per_second") {
        config.aws_requests_per_second = entry.second.as<double>();
        if (config.aws_requests_per_second <= 0)
          return config_error(where + "'aws_requests_per_second' must be more than 0");
      }
      if (key == "aws_regions") config.aws_regions = comma_list(entry.second.as<std::string>());
      if (key == "aws_security_groups")
        config.aws_security_groups = comma_list(entry.second.as<std::string>());
      if (key == "aws_images") {
        for (const auto& pair : comma_list(entry.second.as<std::string>())) {
          const auto eq = pair.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
            return config_error(where + "'aws_images': expected REGION=AMI[,REGION=AMI...], got '" +
                                pair + "'");
          config.aws_images[pair.substr(0, eq)] = pair.substr(eq + 1);
        }
      }
      if (key == "aws_image_root_device") {
        config.aws_image_root_device = entry.second.as<std::string>();
        if (!config.aws_image_root_device.starts_with("/dev/"))
          return config_error(where +
                              "'aws_image_root_device': expected a device such as /dev/xvda");
      }
      if (key == "gcp_enabled") config.gcp_enabled = entry.second.as<bool>();
      if (key == "kubernetes_enabled") config.kubernetes_enabled = entry.second.as<bool>();
      if (key == "kubeconfig") config.kubeconfig = entry.second.as<std::string>();
      if (key == "kubernetes_context") config.kubernetes_context = entry.second.as<std::string>();
      if (key == "kubernetes_image") config.kubernetes_image = entry.second.as<std::string>();
      if (key == "kubernetes_skylet_port") config.kubernetes_skylet_port = entry.second.as<int>();
      if (key == "gcp_project") config.gcp_project = entry.second.as<std::string>();
      if (key == "gcp_regions") config.gcp_regions = comma_list(entry.second.as<std::string>());
      if (key == "gcp_endpoint") config.gcp_endpoint = entry.second.as<std::string>();
      if (key == "gcp_tpu_endpoint") config.gcp_tpu_endpoint = entry.second.as<std::string>();
      if (key == "gcp_service_account") config.gcp_service_account = entry.second.as<std::string>();
      if (key == "gcp_access_token") config.gcp_access_token = entry.second.as<std::string>();
      if (key == "gcp_skylet_port") config.gcp_skylet_port = entry.second.as<int>();
      if (key == "gcp_use_public_ip") config.gcp_use_public_ip = entry.second.as<bool>();
      if (key == "gcp_requests_per_second") {
        config.gcp_requests_per_second = entry.second.as<double>();
        if (config.gcp_requests_per_second <= 0)
          return config_error(where + "'gcp_requests_per_second' must be more than 0");
      }
      if (key == "gcp_images") {
        for (const auto& pair : comma_list(entry.second.as<std::string>())) {
          const auto eq = pair.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
            return config_error(where +
                                "'gcp_images': expected REGION=IMAGE[,REGION=IMAGE...], got '" +
                                pair + "'");
          config.gcp_images[pair.substr(0, eq)] = pair.substr(eq + 1);
        }
      }
      if (key == "dashboard") config.dashboard = entry.second.as<std::string>();
      if (key == "catalog_dir") config.catalog_dir = entry.second.as<std::string>();
      if (key == "aws_pricing_endpoint") {
        config.aws_pricing_endpoint = entry.second.as<std::string>();
      }
      if (key == "catalog_refresh") config.catalog_refresh = entry.second.as<bool>();
      if (key == "aws_instance_profile")
        config.aws_instance_profile = entry.second.as<std::string>();
      if (key == "s3_endpoint") config.s3_endpoint = entry.second.as<std::string>();
      if (key == "s3_region") config.s3_region = entry.second.as<std::string>();
      if (key == "gcs_endpoint") config.gcs_endpoint = entry.second.as<std::string>();
      if (key == "bucket_store") {
        config.bucket_store = entry.second.as<std::string>();
        if (config.bucket_store != "s3" && config.bucket_store != "gcs" &&
            config.bucket_store != "local")
          return config_error(where + "'bucket_store': expected s3, gcs or local");
      }
      if (key == "spot_notice_signal") {
        auto parsed = parse_notice_signal(entry.second.as<std::string>());
        if (!parsed) {
          return config_error(where + "'spot_notice_signal': expected " +
                              std::string(kNoticeSignalNames));
        }
        config.spot_notice_signal = parsed->name;
      }
      Duration* duration = key == "launch_backoff"             ? &config.launch_backoff
                           : key == "node_lost_after"          ? &config.node_lost_after
                           : key == "log_poll_wait"            ? &config.log_poll_wait
                           : key == "failure_check_grace"      ? &config.failure_check_grace
                           : key == "local_preemption_grace"   ? &config.local_preemption_grace
                           : key == "log_retention"            ? &config.log_retention
                           : key == "aws_request_timeout"      ? &config.aws_request_timeout
                           : key == "gcp_request_timeout"      ? &config.gcp_request_timeout
                           : key == "db_restart_delay"         ? &config.db_restart_delay
                           : key == "catalog_refresh_interval" ? &config.catalog_refresh_interval
                                                               : nullptr;
      if (key == "autostop_idle") {
        const auto text = entry.second.as<std::string>();
        auto parsed = text == "off" ? Result<Duration>(Duration::zero()) : parse_duration(text);
        if (!parsed) {
          return config_error(where + "'autostop_idle': " + parsed.error().detail + " (or off)");
        }
        config.autostop_idle = *parsed;
      }
      if (duration || key == "local_preemption_mean_interval") {
        auto parsed = parse_duration(entry.second.as<std::string>());
        if (!parsed) return config_error(where + "'" + key + "': " + parsed.error().detail);
        if (key == "log_poll_wait" && *parsed < std::chrono::milliseconds(100)) {
          // Zero would have every quiet node's runner ask its skylet again at once, forever.
          return config_error(where + "'log_poll_wait': expected 100ms or more, got '" +
                              entry.second.as<std::string>() + "'");
        }
        if (duration)
          *duration = *parsed;
        else
          config.local_preemption_mean_interval = *parsed;
      }
    } catch (const YAML::Exception&) {
      return config_error(where + "'" + key + "' has the wrong type");
    }
  }
  config.config_file = path;
  return {};
}

std::optional<std::string> default_config_file() {
  const std::string candidates[] = {::geteuid() == 0 ? "/etc/skyd/config.yaml"
                                                     : home_dir() + "/.sky/skyd.yaml"};
  for (const auto& candidate : candidates) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace

Result<Duration> parse_duration(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const std::string unit = end ? std::string(end) : std::string();
  if (end == text.c_str() || value < 0)
    return config_error("expected a duration like 500ms, 60s or 5m, got '" + text + "'");
  double seconds = value;
  if (unit == "ms")
    seconds = value / 1000;
  else if (unit == "m")
    seconds = value * 60;
  else if (unit == "h")
    seconds = value * 3600;
  else if (unit != "" && unit != "s")
    return config_error("unknown duration unit in '" + text + "' (ms, s, m, h)");
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

std::string default_state_dir() {
  return ::geteuid() == 0 ? "/var/lib/skyd" : home_dir() + "/.sky/skyd";
}

std::string mask_conninfo(const std::string& conninfo) {
  static const std::regex kPassword(R"((password\s*=\s*)('[^']*'|\S+))");
  static const std::regex kUriPassword(R"((postgres(?:ql)?://[^:/@]+:)[^@]+@)");
  return std::regex_replace(std::regex_replace(conninfo, kPassword, "$1***"), kUriPassword,
                            "$1***@");
}

Json DaemonConfig::to_json() const {
  Json out = Json::object();
  out.set("state_dir", state_dir);
  out.set("socket", socket);
  out.set("socket_group", socket_group);
  out.set("admin_group", admin_group);
  out.set("max_upload_bytes", static_cast<long long>(max_upload_bytes));
  out.set("shards", static_cast<long long>(shards));
  out.set("db", db.empty() ? std::string("embedded") : mask_conninfo(db));
  out.set("log_level", log_level);
  out.set("config_file", config_file);
  out.set("dashboard", dashboard.empty() ? Json(nullptr) : Json(dashboard));
  out.set("skylet_binary", skylet_binary);
  out.set("aws_enabled", aws_enabled);
  out.set("max_running_jobs", max_running_jobs);
  out.set("max_launches_in_flight", max_launches_in_flight);
  out.set("max_reattachments_in_flight", max_reattachments_in_flight);
  out.set("max_launches_per_region", max_launches_per_region);
  out.set("aws_endpoint", aws_endpoint);
  out.set("aws_pricing_endpoint", aws_pricing_endpoint);
  out.set("catalog_dir", catalog_dir.empty() ? Json(nullptr) : Json(catalog_dir));
  out.set("catalog_refresh", catalog_refresh);
  out.set("aws_instance_profile", aws_instance_profile);
  out.set("gcp_enabled", gcp_enabled);
  out.set("kubernetes_enabled", kubernetes_enabled);
  out.set("kubeconfig", kubeconfig);
  out.set("kubernetes_context", kubernetes_context);
  out.set("gcp_project", gcp_project);
  out.set("gcp_endpoint", gcp_endpoint);
  out.set("gcp_tpu_endpoint", gcp_tpu_endpoint);
  out.set("gcp_service_account", gcp_service_account);
  out.set("gcp_access_token", gcp_access_token.empty() ? Json(nullptr) : Json("***"));
  out.set("gcp_requests_per_second", gcp_requests_per_second);
  out.set("bucket_store", effective_bucket_store());
  out.set("s3_endpoint", s3_endpoint);
  out.set("s3_region", s3_region);
  out.set("gcs_endpoint", effective_gcs_endpoint());
  Json stores = Json::array();
  for (const auto& store : bucket_stores()) stores.push_back(store);
  out.set("bucket_stores", std::move(stores));
  out.set("db_pool_size", static_cast<long long>(db_pool_size));
  auto ms = [](Duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  out.set("db_restart_delay_ms", ms(db_restart_delay));
  out.set("launch_backoff_ms", ms(launch_backoff));
  out.set("log_retention_ms", ms(log_retention));
  out.set("aws_request_timeout_ms", ms(aws_request_timeout));
  out.set("gcp_request_timeout_ms", ms(gcp_request_timeout));
  out.set("catalog_refresh_interval_ms", ms(catalog_refresh_interval));
  // null: decided at start (on on a controller VM, off elsewhere); 0: off.
  out.set("autostop_idle_ms", autostop_idle ? Json(ms(*autostop_idle)) : Json(nullptr));
  out.set("node_lost_after_ms", ms(node_lost_after));
  out.set("log_poll_wait_ms", ms(log_poll_wait));
  out.set("log_polls_per_second", log_polls_per_second);
  out.set("failure_check_grace_ms", ms(failure_check_grace));
  out.set("local_preemption_grace_ms", ms(local_preemption_grace));
  out.set("local_preemption_mean_interval_ms", local_preemption_mean_interval
                                                   ? Json(ms(*local_preemption_mean_interval))
                                                   : Json(nullptr));
  return out;
}

std::string DaemonConfig::effective_bucket_store() const {
  if (!bucket_store.empty()) return bucket_store;
  if (!s3_endpoint.empty()) return "s3";
  // AWS's own EC2 goes with AWS's own S3; an EC2 endpoint elsewhere (a test cloud) says nothing
  // about where S3 is, so buckets stay local unless s3_endpoint says.
  if (aws_enabled && aws_endpoint.empty()) return "s3";
  // Likewise Google's own Compute Engine goes with Google's own Cloud Storage.
  if (!gcs_endpoint.empty() || (gcp_enabled && gcp_endpoint.empty())) return "gcs";
  return "local";
}

std::vector<std::string> DaemonConfig::bucket_stores() const {
  const std::string chosen = effective_bucket_store();
  if (chosen == "local") return {};
  std::vector<std::string> stores{chosen};
  const bool s3 = !s3_endpoint.empty() || (aws_enabled && aws_endpoint.empty());
  const bool gcs = !gcs_endpoint.empty() || (gcp_enabled && gcp_endpoint.empty());
  if (chosen != "s3" && s3) stores.push_back("s3");
  if (chosen != "gcs" && gcs) stores.push_back("gcs");
  return stores;
}

std::string DaemonConfig::effective_gcs_endpoint() const {
  return gcs_endpoint.empty() ? std::string("https://storage.googleapis.com") : gcs_endpoint;
}

std::string usage() {
  return "usage: skyd [--state-dir DIR] [--socket PATH] [--socket-group GROUP] [--shards N]\n"
         "            [--db CONNINFO] [--config FILE] [--log-level LEVEL] [--print-config]\n"
         "            [--dashboard 127.0.0.1:PORT]\n"
         "            [--version] [--help]\n"
         "       skyd dial-stdio [--socket PATH]\n"
         "\n"
         "Runs the managed-jobs controller in the foreground. Everything it keeps lives under the\n"
         "state directory (default /var/lib/skyd as root, ~/.sky/skyd otherwise); the API socket "
         "is\n"
         "<state-dir>/skyd.sock unless --socket says otherwise. Without --db, skyd runs its own\n"
         "PostgreSQL server under the state directory.\n"
         "\n"
         "`skyd dial-stdio` joins its stdin and stdout to skyd's socket (--socket, else "
         "SKYD_SOCKET,\n"
         "else the usual places): `sky --host ssh://USER@HOST` runs it through ssh.\n";
}

Result<Invocation> parse_command_line(const std::vector<std::string>& args) {
  Invocation invocation;
  DaemonConfig flags;
  std::string config_file;
  std::optional<std::size_t> shards;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string& out) -> Result<void> {
      if (i + 1 >= args.size()) return config_error(arg + " needs a value");
      out = args[++i];
      return {};
    };
    Result<void> ok;
    if (arg == "--help" || arg == "-h") {
      invocation.action = Invocation::Action::kHelp;
    } else if (arg == "--version") {
      invocation.action = Invocation::Action::kVersion;
    } else if (arg == "--print-config") {
      flags.print_config = true;
    } else if (arg == "--state-dir") {
      ok = value(flags.state_dir);
    } else if (arg == "--socket") {
      ok = value(flags.socket);
    } else if (arg == "--socket-group") {
      ok = value(flags.socket_group);
    } else if (arg == "--db") {
      ok = value(flags.db);
    } else if (arg == "--config") {
      ok = value(config_file);
    } else if (arg == "--log-level") {
      ok = value(flags.log_level);
    } else if (arg == "--dashboard") {
      ok = value(flags.dashboard);
    } else if (arg == "--shards") {
      std::string text;
      ok = value(text);
      if (ok) {
        char* end = nullptr;
        const long n = std::strtol(text.c_str(), &end, 10);
        if (*end != '\0' || n < 0 || n > 1024)
          return config_error("--shards expects a number from 0 to 1024, got '" + text + "'");
        shards = static_cast<std::size_t>(n);
      }
    } else {
      return config_error("unknown option '" + arg + "' (see skyd --help)");
    }
    if (!ok) return ok.error();
  }

  DaemonConfig config;
  if (config_file.empty()) {
    if (auto found = default_config_file()) config_file = *found;
  } else if (!std::filesystem::exists(config_file)) {
    return config_error("config file " + config_file + " does not exist");
  }
  if (!config_file.empty()) {
    if (auto applied = apply_file(config_file, config); !applied) return applied.error();
  }
  if (!flags.state_dir.empty()) config.state_dir = flags.state_dir;
  if (!flags.socket.empty()) config.socket = flags.socket;
  if (!flags.socket_group.empty()) config.socket_group = flags.socket_group;
  if (!flags.db.empty()) config.db = flags.db;
  if (flags.log_level != "info") config.log_level = flags.log_level;
  if (!flags.dashboard.empty()) config.dashboard = flags.dashboard;
  if (shards) config.shards = *shards;
  config.print_config = flags.print_config;
  if (config.state_dir.empty()) config.state_dir = default_state_dir();
  config.state_dir = std::filesystem::absolute(config.state_dir).lexically_normal().string();
  if (config.socket.empty()) config.socket = config.state_dir + "/skyd.sock";
  if (!config.catalog_dir.empty()) {
    config.catalog_dir = std::filesystem::absolute(config.catalog_dir).lexically_normal().string();
  }
  if (config.gcp_enabled && config.gcp_project.empty()) {
    return config_error(
        "gcp_enabled needs gcp_project (the project Compute Engine instances are made in)");
  }
  {
    const auto stores = config.bucket_stores();
    if (std::find(stores.begin(), stores.end(), "gcs") != stores.end() &&
        config.gcp_project.empty()) {
      return config_error(
          "GCS buckets (bucket_store: gcs or gcs_endpoint) need gcp_project (the "
          "project buckets are made in)");
    }
  }
  if (config.catalog_refresh && (config.catalog_dir.empty() || !config.aws_enabled)) {
    return config_error(
        "catalog_refresh needs catalog_dir (where the refreshed files go) and "
        "aws_enabled (the APIs they come from)");
  }
  if (config.skylet_binary.empty()) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    config.skylet_binary = (self.parent_path() / "skylet").string();
  }
  invocation.config = std::move(config);
  return invocation;
}

}  // namespace skyd::daemon
