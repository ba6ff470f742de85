#pragma once
// Settings of the managed-job controller, filled from skyd's configuration.

#include "daemon/controller/admission.hpp"
#include "providers/aws/aws_provider.hpp"
#include "providers/gcp/gcp_provider.hpp"
#include "providers/kubernetes/kube_provider.hpp"
#include "providers/local/local_provider.hpp"
#include "reactor/backoff.hpp"
#include "store/database_health.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

struct ControllerOptions {
  std::string state_dir;
  std::string conninfo;  // PostgreSQL
  std::size_t db_connections_per_shard = 4;
  // Whether the database can be used now, shared with the embedded server's supervisor (not
  // owned, outlives the controller; null: the controller keeps its own).
  store::DatabaseHealth* database_health = nullptr;
  providers::LocalProviderOptions local;  // root_dir and skylet_binary filled in by skyd
  std::optional<providers::aws::AwsProviderOptions> aws;  // set when AWS is enabled
  std::optional<providers::gcp::GcpProviderOptions> gcp;  // set when GCP is enabled
  // Set when Kubernetes is enabled (its kubeconfig already read, or why it could not be).
  std::optional<providers::kubernetes::KubeProviderOptions> kubernetes;
  // Each shard's access-token source for Compute Engine and Cloud Storage, made on that shard
  // with its HTTP client. Unset: the options' own `tokens` (and no GCS).
  std::function<std::shared_ptr<providers::gcp::AccessTokenSource>(http::Client&)> gcp_tokens;
  // Where task buckets live (docs/storage.md): `bucket_store` takes an entry that names no store:
  // "s3" (at s3_endpoint, else AWS_ENDPOINT_URL_S3 / _URL, else AWS's own), "gcs" (at
  // gcs_endpoint, in gcs_project), or "local": the local provider's directories, no cloud.
  // `bucket_stores` lists every cloud store reachable ("s3", "gcs"); empty with "local".
  std::string bucket_store = "local";
  std::vector<std::string> bucket_stores;
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  std::string gcs_endpoint = "https://storage.googleapis.com";
  std::string gcs_project;  // where skyd makes GCS buckets (gcp_project)
  AdmissionLimits limits;
  Duration log_retention =
      std::chrono::hours(24 * 30);  // logs of jobs ended longer ago are removed
  // Between full launch rounds that found no capacity anywhere (SkyPilot's: 60 s x1.6, cap 300 s).
  BackoffPolicy launch_backoff{.initial = std::chrono::seconds(60),
                               .multiplier = 1.6,
                               .cap = std::chrono::seconds(300),
                               .jitter = 0.4,
                               .max_attempts = std::nullopt};
  Duration log_poll_wait = std::chrono::seconds(5);  // skylet long-poll per request
  double log_polls_per_second = 0;  // quiet nodes' answers a second at most (0: no bound)
  Duration node_lost_after = std::chrono::seconds(15);  // unreachable this long: ask the provider
  // A preemption can surface as a task failure first: wait this long, then ask the provider
  // whether the machines still stand before charging the failure to the user.
  Duration failure_check_grace = std::chrono::seconds(5);
  Duration leak_sweep_interval = std::chrono::minutes(30);
  // The installation's identity (from the database): tags and tokens carry it.
  std::string controller_id = "skyd";
  std::string
      controller_key;  // secret: skylet tokens are derived from it (state_dir/controller.key)

  std::uint64_t max_upload_bytes = 2ull << 30;         // one workdir archive or file to mount
  Duration upload_retention = std::chrono::hours(24);  // unused uploads are removed after

  std::string logs_root() const { return state_dir + "/logs/jobs"; }
  std::string uploads_root() const { return state_dir + "/incoming"; }
  std::string snapshots_root() const { return state_dir + "/snapshots"; }
};

}  // namespace skyd::daemon
