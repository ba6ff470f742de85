#pragma once
// The local provider: a "machine" is a skylet process on its own loopback address (127.0.x.y),
// with its own sandbox directory under the provider's root. Spot machines can be preempted the way
// clouds do it: a notice to skylet, a grace period, then SIGKILL to skylet and everything it
// started. Clusters are recorded on disk, so a restarted skyd finds (and adopts) them again.
// Runs on one shard: create it there and call it only from there.

#include "providers/provider.hpp"
#include "reactor/process.hpp"
#include "reactor/task_group.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>

namespace skyd::providers {

struct LocalProviderOptions {
  std::string root_dir;       // clusters/, buckets/
  std::string skylet_binary;  // the skylet executable
  Duration launch_timeout = std::chrono::seconds(30);
  Duration preemption_grace = std::chrono::seconds(5);  // notice -> kill
  std::optional<Duration> preemption_mean_interval;     // random preemptions of spot clusters
  std::uint64_t log_cap_bytes = 1ull << 30;
  Duration skylet_cancel_grace = std::chrono::seconds(3);
  std::string notice_signal;  // skylet --notice-signal: sent to tasks on a spot notice; empty: none
  // skylet --storage-credentials: the object store's keys for its bucket mounts (a 0600 file in
  // AWS's shared-credentials format); empty: none.
  std::string storage_credentials;
};

// What a local machine makes of the task's node settings: `ports` are honoured as they are (the
// nodes are processes on this host and share its ports); `disk_size` is honoured as a check that
// the filesystem under `root_dir` has that much free space for each of the `nodes`; `image_id`,
// `disk_tier` and `labels` are refused by name (there is no image to boot, no disk to choose, no
// cloud resource to label).
Result<void> check_local_settings(const NodeSettings& settings, const std::string& root_dir,
                                  int nodes);

class LocalProvider final : public Provider {
 public:
  LocalProvider(asio::any_io_executor executor, LocalProviderOptions options);
  ~LocalProvider() override;

  std::string_view name() const override { return "local"; }
  Task<Result<Cluster>> launch(LaunchRequest request) override;
  Task<Result<std::vector<InstanceStatus>>> describe(
      std::vector<std::string> cluster_names) override;
  Task<Result<void>> terminate(std::string cluster_name) override;
  Task<Result<std::vector<std::string>>> list_clusters() override;

  // Preempts a spot cluster in the background (notice, grace, kill). Errors: kNotFound, or kInvalid
  // for an on-demand cluster.
  Result<void> start_preemption(const std::string& cluster_name,
                                std::optional<Duration> grace = {});
  // The same, awaited to the end (tests).
  Task<Result<void>> preempt(std::string cluster_name, std::optional<Duration> grace = {});
  // Kills one node without notice, as a machine that dies silently.
  Result<void> kill_node(const std::string& cluster_name, int rank);
  // Preempts random spot clusters at the configured mean interval until cancelled.
  Task<void> run_random_preemptions();
  // Cancels background work (preemptions in progress) and waits for it.
  Task<void> shutdown();

  std::string cluster_dir(const std::string& cluster_name) const;
  std::string bucket_dir(const std::string& bucket) const;

 private:
  struct NodeRecord;
  struct ClusterRecord;
  struct Copy {
    std::string from;  // a file or directory made by skyd (a snapshot, a bucket)
    std::string to;    // in the machine's sandbox
  };
  // Copies as `owner` (skyd itself when empty).
  Task<Result<void>> copy_as(std::optional<UserIdentity> owner, Copy copy);
  Result<ClusterRecord> load(const std::string& cluster_name) const;
  Task<Result<std::pair<Node, pid_t>>> start_node(const LaunchRequest& request, int rank,
                                                  std::string ip);
  Task<void> stop_node(const NodeRecord& node, bool graceful);
  std::string next_ip();

  asio::any_io_executor executor_;
  LocalProviderOptions options_;
  TaskGroup background_;
  std::uint32_t next_address_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
  std::map<pid_t, std::unique_ptr<Process>> children_;  // skylets started by this process, reaped
};

}  // namespace skyd::providers
