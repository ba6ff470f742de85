#pragma once
// The skylet agent: the attempts on this node, their logs, and the node's events (spot notices),
// behind an HTTP API that requires the cluster's bearer token. Runs on one shard.

#include "daemon/skylet/attempt.hpp"
#include "daemon/skylet/uploads.hpp"
#include "reactor/http_server.hpp"
#include "reactor/task_group.hpp"

#include <deque>
#include <map>
#include <memory>
#include <string>

namespace skyd::skylet {

// The largest request body the agent reads: a POST /tasks carries a setup and a run script of up
// to 8 MiB each and the task's environment, escaped in JSON (a control character takes 6 bytes
// there). Twice the API's limit, so what skyd accepted always reaches the node.
inline constexpr std::size_t kMaxRequestBodyBytes = 128u << 20;

struct AgentOptions {
  std::string token;     // the per-cluster bearer token
  std::string work_dir;  // attempts/, uploads/, mounts/, pgids, spot_notice
  std::uint64_t log_cap_bytes = 1ull << 30;
  Duration cancel_grace = std::chrono::seconds(10);
  std::map<std::string, std::string> base_env;  // beneath every task's own env
  int notice_signal = 0;  // sent to running tasks' process groups on a spot notice; 0: none
  // rclone, credentials and time limits for bucket mounts; records_dir and home are filled in.
  MountOptions mounts;
  // The container runtime for tasks with a container image: a program name or path; empty:
  // docker if its daemon answers, else podman.
  std::string container_runtime;
  bool container_gpus = false;  // containers get the node's GPUs (it has accelerators)
};

class Agent {
 public:
  Agent(asio::any_io_executor executor, AgentOptions options);

  http::Router router();

  // Records a node event (a spot notice from the metadata service or the provider) and wakes
  // whoever waits on /events. The notice is also written to <work_dir>/spot_notice, whose path
  // every task finds in SKYPILOT_SPOT_NOTICE_FILE.
  void publish_event(Json event);

  // Cancels every attempt (SIGTERM, then SIGKILL after the grace) and waits for them.
  Task<void> shutdown();

 private:
  Task<http::Response> start_attempt(http::Request& request);
  Task<http::Response> attempt_status(http::Request& request);
  Task<http::Response> attempt_logs(http::Request& request);
  Task<http::Response> signal_attempt(http::Request& request);
  Task<http::Response> release_attempt(http::Request& request);
  Task<http::Response> events(http::Request& request);
  Task<http::Response> post_event(http::Request& request);
  Task<http::Response> health(http::Request& request);

  bool authorized(const http::Request& request) const;
  Attempt* find(const http::Request& request);

  asio::any_io_executor executor_;
  AgentOptions options_;
  NodePaths paths_;
  std::unique_ptr<ContainerRuntime> containers_;
  Uploads uploads_;
  std::map<std::string, std::unique_ptr<Attempt>> attempts_;
  TaskGroup running_;
  std::vector<Json> events_;
  Notifier events_changed_;
};

}  // namespace skyd::skylet
