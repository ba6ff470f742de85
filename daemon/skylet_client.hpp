#pragma once
// The controller's side of the skylet API: start an attempt on a node, read its status and its
// output by offset, cancel it, and read the node's events. Every call carries the cluster's token
// and a deadline. Use from one shard (it holds that shard's HTTP client).

#include "daemon/skylet/bucket_mount.hpp"
#include "providers/provider.hpp"
#include "reactor/http_client.hpp"
#include "reactor/identity.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

struct AttemptRequest {
  std::string attempt_id;
  std::string setup;
  std::string run;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> setup_env;
  std::string workdir;
  bool hold_run = false;  // setup runs at once; the run waits for release()
  std::optional<UserIdentity> user =
      std::nullopt;  // run setup and run as this identity (root skylet)
  // A multi-node task's node ("head, rank=0," and no ip; "worker1, rank=1," and its ip): skylet
  // prefixes each line of its output as SkyPilot does. Empty: output as it is.
  std::string log_label = {};
  std::string log_ip = {};
  // Buckets skylet mounts or copies, in order, before setup; a failure ends the attempt
  // FAILED_MOUNT.
  std::vector<skylet::BucketMount> mounts = {};
  // `resources.image_id: docker:IMAGE` without the prefix: setup and run go in this image on the
  // node's container runtime; no runtime ends the attempt FAILED_CONTAINER. Empty: on the node.
  std::string container_image = {};
};

struct AttemptStatus {
  // SETTING_UP (buckets are mounted first, then setup runs), READY (setup done, the run held),
  // RUNNING, SUCCEEDED, FAILED, FAILED_SETUP, FAILED_MOUNT (a bucket could not be mounted or
  // copied: mount_error says which and why), FAILED_CONTAINER (the task asks for a container image
  // and the node has no container runtime or the registry login failed: container_error says
  // so), CANCELLED. An attempt is
  // reported ended only once its MOUNT_CACHED buckets are drained and every bucket is unmounted.
  std::string phase;
  std::optional<int> setup_exit_code;
  std::optional<int> exit_code;
  std::uint64_t log_bytes = 0;
  std::string mount_error;      // FAILED_MOUNT: "bucket NAME at DESTINATION: reason"
  std::string container_error;  // FAILED_CONTAINER: "resources.image_id: ... none found (...)"
  // The seconds of work the task's last checkpoint holds, as it reported them in
  // $SKYPILOT_PROGRESS_FILE; nothing before its first report.
  std::optional<std::int64_t> progress_seconds;
  bool finished() const { return phase != "SETTING_UP" && phase != "READY" && phase != "RUNNING"; }
  bool ready() const { return phase == "READY"; }
};

struct LogChunk {
  std::string bytes;
  std::uint64_t next_offset = 0;
  bool complete = false;                         // the attempt ended and every byte has been read
  std::optional<std::int64_t> progress_seconds;  // as in AttemptStatus
  // How many node events (spot notices) the node has had; absent from a skylet that does not
  // carry them on its output.
  std::optional<std::size_t> node_events;
};

class SkyletClient {
 public:
  SkyletClient(http::Client& client, std::string token)
      : client_(client), token_(std::move(token)) {}

  Task<Result<AttemptStatus>> start(providers::Node node, AttemptRequest request);
  Task<Result<AttemptStatus>> status(providers::Node node, std::string attempt_id);
  // Output from `offset`; waits up to `wait` for new bytes when there are none yet, and gives
  // the answer `patience` beyond that before the call fails.
  // With `events_since`, a node event past it also ends the wait (and node_events says so).
  Task<Result<LogChunk>> logs(providers::Node node, std::string attempt_id, std::uint64_t offset,
                              Duration wait, Duration patience,
                              std::optional<std::size_t> events_since = std::nullopt);
  Task<Result<AttemptStatus>> cancel(providers::Node node, std::string attempt_id);
  // Lets a held attempt's run start.
  Task<Result<AttemptStatus>> release(providers::Node node, std::string attempt_id);
  // The node's events from index `since` (spot notices); waits up to `wait` for one.
  Task<Result<std::vector<Json>>> events(providers::Node node, std::size_t since, Duration wait);

 private:
  Task<Result<http::Response>> call(const providers::Node& node, std::string method,
                                    std::string target, std::string body, Duration timeout);
  http::Client& client_;
  std::string token_;
};

Json to_json(const AttemptRequest& request);

}  // namespace skyd::daemon
