#pragma once
// skyd's configuration: defaults, then the config file, then command-line flags. The effective
// result is what `skyd --print-config` shows.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

struct DaemonConfig {
  std::string state_dir;     // everything skyd keeps: embedded PostgreSQL, logs, snapshots
  std::string socket;        // the API's Unix socket; defaults to <state_dir>/skyd.sock
  std::string socket_group;  // group allowed to use the socket
  std::string admin_group;   // members may cancel and read the logs of every user's jobs
  std::uint64_t max_upload_bytes = 2ull << 30;  // one workdir archive or mounted file
  std::size_t shards = 0;                       // 0: one per core
  std::string db;                               // PostgreSQL conninfo; empty: the embedded server
  std::string log_level = "info";
  std::string skylet_binary;     // default: `skylet` beside the skyd executable
  std::size_t db_pool_size = 4;  // PostgreSQL connections per shard
  // The embedded PostgreSQL died: wait this long before restarting it (doubled after each failed
  // restart, up to 30 s).
  Duration db_restart_delay = std::chrono::milliseconds(500);
  Duration launch_backoff = std::chrono::seconds(60);  // first wait after a round with no capacity
  Duration node_lost_after = std::chrono::seconds(15);
  Duration log_poll_wait = std::chrono::seconds(5);  // a quiet node's long poll ends after this
  // Quiet nodes' long polls answered per second at most, in all: the window widens past
  // log_poll_wait with many nodes (daemon/controller/poll_window.hpp); 0: no bound (the window
  // stays log_poll_wait).
  double log_polls_per_second = 0;
  Duration failure_check_grace = std::chrono::seconds(5);
  Duration local_preemption_grace = std::chrono::seconds(10);
  std::optional<Duration>
      local_preemption_mean_interval;    // random preemptions of local spot machines
  bool aws_enabled = false;              // launch on EC2 (credentials: env, ~/.aws, instance role)
  std::vector<std::string> aws_regions;  // regions swept for leaks and described; empty: as used
  std::string aws_endpoint;              // EC2 endpoint override (else AWS_ENDPOINT_URL_EC2 / _URL)
  std::string aws_pricing_endpoint;  // Price List override (else AWS_ENDPOINT_URL_PRICING / _URL)
  std::string aws_instance_profile;  // name or ARN every EC2 node gets (its bucket mounts' role)
  // Where a task bucket that names no store lives: "s3", "gcs", or "local" (the local provider's
  // directories, no cloud). Empty: "s3" when an S3 endpoint is set or AWS is enabled at AWS's
  // own endpoint, else "gcs" when gcs_endpoint is set or GCP is enabled at Google's own
  // endpoint, else "local".
  std::string bucket_store;
  std::string s3_endpoint;  // S3 override (else AWS_ENDPOINT_URL_S3 / _URL); nodes get it too
  std::string s3_region = "us-east-1";  // where skyd makes buckets
  // Cloud Storage's JSON API endpoint (scheme, host, port); empty: https://storage.googleapis.com.
  // Nodes get it too. GCS buckets are made in gcp_project, with the GCP credentials.
  std::string gcs_endpoint;
  // Settles bucket_store's default; called once the file and flags are read.
  std::string effective_bucket_store() const;
  // Every cloud store task buckets may live in ("s3", "gcs"), the default one first; empty with
  // "local". S3 when it is the default, s3_endpoint is set or AWS is enabled at AWS's own
  // endpoint; GCS likewise with gcs_endpoint or GCP at Google's own.
  std::vector<std::string> bucket_stores() const;
  std::string effective_gcs_endpoint() const;
  int aws_skylet_port = 46590;
  double aws_requests_per_second = 20;  // EC2 calls per second per region, across all shards
  std::vector<std::string> aws_security_groups;   // SecurityGroupId.N of every node
  std::map<std::string, std::string> aws_images;  // region -> AMI carrying skylet
  // The root device of an image EC2 resolves from an SSM parameter (an AMI's own is looked up).
  std::string aws_image_root_device = "/dev/xvda";
  Duration aws_request_timeout =
      std::chrono::seconds(20);          // one EC2 call; its answer is lost after
  bool gcp_enabled = false;              // launch on Compute Engine (docs/gcp-provider.md)
  std::string gcp_project;               // the project instances are made in (required with GCP)
  std::vector<std::string> gcp_regions;  // the regions used (documentation; lists cover all)
  // Compute Engine endpoint override (else CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE, then
  // https://compute.googleapis.com).
  std::string gcp_endpoint;
  // Cloud TPU API endpoint override (else CLOUDSDK_API_ENDPOINT_OVERRIDES_TPU, then
  // https://tpu.googleapis.com).
  std::string gcp_tpu_endpoint;
  std::map<std::string, std::string> gcp_images;  // region -> image carrying skylet
  std::string gcp_service_account;                // email every node runs as; empty: none
  // A fixed OAuth 2.0 access token (tests, or a token minted outside skyd). Secret: never printed.
  std::string gcp_access_token;
  int gcp_skylet_port = 46590;
  double gcp_requests_per_second = 20;  // Compute Engine calls per second, across all shards
  bool gcp_use_public_ip = false;       // nodes get an external address and are reached by it
  Duration gcp_request_timeout = std::chrono::seconds(20);  // one Compute Engine call
  // Launch pods on Kubernetes (docs/kubernetes-provider.md): the kubeconfig (empty: KUBECONFIG,
  // then ~/.kube/config) and its context (empty: its current-context).
  bool kubernetes_enabled = false;
  std::string kubeconfig;
  std::string kubernetes_context;
  std::string kubernetes_image;  // the node image carrying skylet; empty: the default
  int kubernetes_skylet_port = 46590;
  int max_running_jobs = 0;  // 0: no limit; more jobs wait in PENDING
  // Tasks being launched at once (STARTING or RECOVERING, until RUNNING); 0: no limit. Without a
  // bound, thousands of submissions all start their launch together and each one's writes wait
  // behind every other's, so none reaches RUNNING for minutes.
  int max_launches_in_flight = 256;
  // RUNNING tasks re-attached at once after a restart (asking their nodes), apart from launches:
  // a re-attachment is two calls per node, a launch minutes of waiting. 0: no limit.
  int max_reattachments_in_flight = 1024;
  int max_launches_per_region = 0;  // 0: no limit; launch calls in flight per cloud region
  Duration log_retention = std::chrono::hours(24 * 30);
  std::string spot_notice_signal;  // sent to tasks on a spot notice (USR1, TERM...); empty: none
  std::string dashboard;           // "127.0.0.1:PORT" (port 0: any free one); empty: no dashboard
  // A catalog directory in SkyPilot's layout (aws/vms.csv, gcp/vms.csv); each file there
  // replaces that cloud's built-in catalog. Empty: the built-in catalog.
  std::string catalog_dir;
  bool catalog_refresh = false;  // rebuild catalog_dir/aws from the AWS APIs (needs aws_enabled)
  Duration catalog_refresh_interval = std::chrono::hours(24);
  // Autostop (daemon/autostop.hpp): stop the EC2 instance skyd runs on after this long with no
  // open job and no client. Zero ("off"): never; unset: 10 minutes on a controller VM (tagged
  // skyd-role=controller by `sky controller up`), off anywhere else.
  std::optional<Duration> autostop_idle;
  std::string config_file;  // where the file settings came from, if any
  bool print_config = false;

  Json to_json() const;  // for --print-config; never includes secrets (db passwords are masked)
};

// What a command line asks for: run the daemon with a config, or print something and exit.
struct Invocation {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  DaemonConfig config;
};

// Parses flags (and the config file they or the defaults name). Errors say which flag or which
// file, line and key is wrong.
Result<Invocation> parse_command_line(const std::vector<std::string>& args);

std::string usage();

// The default state directory: /var/lib/skyd for root, ~/.sky/skyd for anyone else.
std::string default_state_dir();

// "500ms", "60s", "5m", "2h" or a bare number of seconds.
Result<Duration> parse_duration(const std::string& text);

// "host=/tmp/x password=secret" -> "host=/tmp/x password=***".
std::string mask_conninfo(const std::string& conninfo);

}  // namespace skyd::daemon
