#pragma once
// What one shard holds for the jobs it owns: its database pool and repository, its HTTP client,
// its local provider, and the coroutines of its jobs. Everything here is used only on that shard.

#include "daemon/controller/bucket_keeper.hpp"
#include "providers/aws/aws_provider.hpp"
#include "providers/gcp/gcp_provider.hpp"
#include "providers/kubernetes/kube_provider.hpp"
#include "providers/local/local_provider.hpp"
#include "reactor/http_client.hpp"
#include "reactor/task_group.hpp"
#include "store/bucket_repository.hpp"
#include "store/job_repository.hpp"
#include "store/launch_repository.hpp"
#include "store/pg_pool.hpp"

#include <cstdint>
#include <map>
#include <memory>

namespace skyd::daemon {

class Admission;
class JobRunner;
class PollWindow;

struct ShardContext {
  std::size_t index = 0;
  asio::any_io_executor executor;
  std::unique_ptr<store::PgPool> db;
  std::unique_ptr<store::JobRepository> jobs;
  std::unique_ptr<store::LaunchRepository> launches;
  std::unique_ptr<http::Client> http;
  std::string tls_session_path;  // where its TLS sessions with the nodes are kept (none: not kept)
  std::unique_ptr<providers::LocalProvider> local;
  std::unique_ptr<providers::aws::AwsProvider> aws;
  std::unique_ptr<providers::gcp::GcpProvider> gcp;
  std::unique_ptr<providers::kubernetes::KubeProvider> kubernetes;
  std::map<std::string, providers::Provider*> clouds;  // by catalog cloud name: the usable ones
  // Task buckets in cloud stores (docs/storage.md): one ObjectStore per reachable store ("s3",
  // "gcs"); no keeper when they are the local provider's directories.
  std::unique_ptr<store::BucketRepository> buckets;
  std::map<std::string, std::unique_ptr<providers::storage::ObjectStore>> object_stores;
  std::unique_ptr<BucketKeeper> bucket_keeper;

  providers::Provider* provider_for(const std::string& cloud) const {
    auto found = clouds.find(cloud);
    return found == clouds.end() ? nullptr : found->second;
  }
  std::map<std::int64_t, std::unique_ptr<JobRunner>> runners;  // the jobs this shard supervises
  std::unique_ptr<TaskGroup> group;
  std::unique_ptr<TaskGroup> cleanups;  // teardowns: awaited, never cancelled, at shutdown
  Admission* admission = nullptr;       // shared by every shard, homed on shard 0
  PollWindow* poll_window = nullptr;    // shared by every shard: quiet nodes' long polls
  bool stopping = false;                // set by the controller's stop: no job starts any more
};

}  // namespace skyd::daemon
