#pragma once
// The buckets of one task attempt on this node, made ready before its setup and put away when it
// ends. MOUNT and MOUNT_CACHED are `rclone mount` processes (each in its own process group, its
// output in the attempt's directory); COPY is an `rclone copy` into the destination. Every mount
// is recorded in <work>/mounts/ before rclone starts, so a skylet killed with mounts alive unmounts
// them and stops their rclone when it starts again (sweep_leftover_mounts). Belongs to the
// attempt, on skylet's single shard.

#include "daemon/skylet/attempt_log.hpp"
#include "daemon/skylet/bucket_mount.hpp"
#include "daemon/skylet/rclone.hpp"
#include "reactor/error.hpp"
#include "reactor/identity.hpp"
#include "reactor/process.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::skylet {

struct MountOptions {
  std::string rclone = "/usr/bin/rclone";
  RcloneCredentials credentials;
  std::string records_dir;  // <work>/mounts: one file per live mount
  // Where skylet lists every process group it starts: a machine's end (the provider's sweep)
  // kills rclone with the tasks, as a real machine's power-off would.
  std::string pgid_file;
  std::string home;  // where "~/x" and relative destinations are
  // How long a bucket may take to answer and its mount to appear before the attempt fails.
  Duration mount_timeout = std::chrono::seconds(30);
  // How long the end of an attempt waits for a MOUNT_CACHED write-back cache to reach the bucket.
  Duration drain_timeout = std::chrono::minutes(10);
};

class AttemptMounts {
 public:
  AttemptMounts(asio::any_io_executor executor, const MountOptions& options, std::string attempt_id,
                std::string attempt_dir, std::optional<UserIdentity> user, AttemptLog& log);
  ~AttemptMounts();
  AttemptMounts(const AttemptMounts&) = delete;
  AttemptMounts& operator=(const AttemptMounts&) = delete;

  // Mounts or copies each bucket in order. Error: "bucket NAME at DESTINATION: rclone's reason"
  // for the first that failed (its reason also in the log); what was mounted before it stays
  // until release(). Interrupted by interrupt(): an error too.
  Task<Result<void>> establish(std::vector<BucketMount> mounts);
  // Drains each MOUNT_CACHED cache into its bucket (bounded by drain_timeout), unmounts every
  // mount, stops its rclone and forgets its record. Safe to call more than once.
  Task<void> release();
  // Stops what establish() is doing (the attempt is cancelled).
  void interrupt();

 private:
  struct Live;
  Task<Result<void>> establish_one(const BucketMount& mount, std::size_t index);
  Task<Result<std::string>> run_rclone(std::vector<std::string> argv, const BucketMount& mount,
                                       std::optional<Duration> limit);
  Task<Result<void>> start_mount(const BucketMount& mount, std::size_t index,
                                 const std::string& mountpoint);
  Task<void> drain(Live& live);
  Task<void> unmount(Live& live);
  std::vector<std::string> environment(const BucketMount& mount,
                                       const std::optional<RcloneRemoteControl>& control) const;

  asio::any_io_executor executor_;
  const MountOptions& options_;
  std::string attempt_id_;
  std::string attempt_dir_;
  std::optional<UserIdentity> user_;
  AttemptLog& log_;
  std::vector<std::unique_ptr<Live>> live_;
  pid_t running_ = 0;  // the group of a check or copy in progress
  bool interrupted_ = false;
};

// Where skylet working in `work_dir` records its live mounts.
inline std::string mount_records_dir(const std::string& work_dir) {
  return work_dir + "/mounts";
}

// Unmounts (lazily) what a previous run of skylet left mounted and kills its rclone processes, as
// its records in `records_dir` say; then forgets the records. Run once at start, before any
// attempt.
Task<void> sweep_leftover_mounts(asio::any_io_executor executor, std::string records_dir);

}  // namespace skyd::skylet
