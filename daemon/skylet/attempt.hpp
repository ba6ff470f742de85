#pragma once
// One task attempt on a node: `setup` then `run`, each written to a file in the attempt's directory
// and run as `/bin/bash FILE` in its own process group, in the task's working directory, with
// exactly the environment the controller sent; or, for a task with a container image, each run
// by the node's container runtime in that image (container_runtime.hpp). Output goes to the
// attempt's log; exit codes and the phase are kept for status calls. Belongs to the skylet's single
// shard.

#include "daemon/skylet/attempt_log.hpp"
#include "daemon/skylet/bucket_mounts.hpp"
#include "daemon/skylet/container_runtime.hpp"
#include "daemon/skylet/registry_login.hpp"
#include "reactor/error.hpp"
#include "reactor/event.hpp"
#include "reactor/identity.hpp"
#include "reactor/json.hpp"

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::skylet {

// kReady: setup is done and the run waits to be released (a replacement whose predecessor may
// still run; the controller releases it once that one has stopped). kFailedMount: a bucket could
// not be mounted or copied before setup (the status's mount_error says which and why).
// kFailedContainer: the task asks for a container and this node has no container runtime, or its
// private registry's login failed (the status's container_error says so); nothing ran.
enum class Phase {
  kSettingUp,
  kReady,
  kRunning,
  kSucceeded,
  kFailed,
  kFailedSetup,
  kFailedMount,
  kFailedContainer,
  kCancelled
};
std::string_view to_string(Phase phase);
bool is_finished(Phase phase);

// An attempt id names a directory: a plain file name of at most this many characters.
inline constexpr std::size_t kMaxAttemptIdLength = 128;

struct AttemptSpec {
  std::string id;  // idempotency key: one attempt id runs once
  std::string setup;
  std::string run;
  std::map<std::string, std::string> env;        // user envs and secrets, SKYPILOT_* variables
  std::map<std::string, std::string> setup_env;  // only for setup (SKYPILOT_SETUP_NODE_RANK)
  std::string workdir;                           // the working directory; must exist
  bool hold_run = false;  // after setup, wait for release() before the run starts
  // A node of a multi-node task: its lines carry the node, as SkyPilot prints them (see
  // line_prefix.hpp). `log_label` is "head, rank=0," or "worker1, rank=1,"; `log_ip` the node's
  // address, empty on the head. No label: output as it is.
  std::string log_label;
  std::string log_ip;
  // Setup and run go as this identity (skylet must then be root); unset: as skylet.
  std::optional<UserIdentity> user;
  // Buckets mounted or copied, in order, before setup (see bucket_mount.hpp).
  std::vector<BucketMount> mounts;
  // `resources.image_id: docker:IMAGE` without the prefix: setup and run go in this image, as
  // `user` (or skylet's own identity); empty: on the node itself.
  std::string container_image;

  // Errors (kProtocol) name the field: an id that is not a plain file name, a field that is not
  // a string, a NUL byte anywhere (it would cut a C string short), an env key with '='.
  static Result<AttemptSpec> from_json(const Json& body);
};

struct NodePaths {
  std::string attempts_dir;  // <work>/attempts/<id>/{output.log,setup.sh,run.sh}
  std::string pgid_file;     // every process group started, one per line (for the provider's sweep)
  // Every container started, "RUNTIME\tNAME" a line: what the provider removes when skylet died
  // with one running (a killed runtime client leaves its container behind). Empty: none kept.
  std::string containers_file;
  std::map<std::string, std::string> base_env;  // what every task gets beneath its own env
  MountOptions mounts;                          // how buckets are mounted (rclone, credentials)
  ContainerRuntime* containers = nullptr;       // the node's runtime, found on first use
  bool container_gpus = false;                  // containers get the node's GPUs
};

class Attempt {
 public:
  Attempt(asio::any_io_executor executor, AttemptSpec spec, const NodePaths& paths,
          std::uint64_t log_cap);

  // Writes the scripts into the attempt's directory. Awaited once by the agent before it spawns
  // run(); false when they cannot be written, and the attempt has then ended FAILED (the reason in
  // its log) and run() must not be called.
  Task<bool> prepare();
  // Mounts the buckets, then runs setup and run to the end; drains and unmounts the buckets before
  // the attempt counts as ended. Spawned once by the agent, after prepare().
  Task<void> run();
  // SIGTERM to the running step's process group, SIGKILL after `grace`; completes when the attempt
  // has ended (its MOUNT_CACHED buckets drained and every bucket unmounted).
  Task<void> cancel(Duration grace);

  // Lets a held run start (at once, or as soon as setup is done). Idempotent.
  void release() { released_.set(); }
  // Sends `number` to the running step's process group (nothing once the attempt has ended).
  void signal(int number);
  // Its status; with the checkpoint the task last reported in its progress file, if any.
  Json status() const;
  // The seconds of work the task's last good report holds ($SKYPILOT_PROGRESS_FILE, read now);
  // content that is not a report is logged once and the report before it stands.
  std::optional<std::int64_t> reported_progress() const;
  std::string progress_path() const;
  Phase phase() const { return phase_; }
  AttemptLog& log() { return log_; }
  const AttemptSpec& spec() const { return spec_; }
  Task<void> wait_finished() { return finished_.wait(); }

 private:
  std::string script_path(bool is_setup) const;
  Task<std::optional<int>> run_step(bool is_setup);
  Task<Phase> run_steps();
  std::string container_name(bool is_setup) const;
  Task<void> remove_container(std::string name);
  // Finds the runtime and logs it in to the task's private registry, if any: the reason it
  // cannot run the image, or empty.
  Task<std::string> prepare_container();
  Task<std::string> log_in(RegistryLogin login);

  asio::any_io_executor executor_;
  AttemptSpec spec_;
  const NodePaths& paths_;
  AttemptLog log_;
  AttemptMounts mounts_;
  std::string mount_error_;
  std::string container_error_;
  std::string runtime_;            // the container runtime's program, once found
  std::string image_;              // the image as pulled (under a private registry's server)
  std::string registry_dir_;       // the private registry's login, this attempt's alone
  RegistryAuth registry_auth_;     // how the runtime finds it
  std::string running_container_;  // the container of the running step, if any
  bool releasing_mounts_ = false;
  Phase phase_ = Phase::kSettingUp;
  std::optional<int> setup_exit_code_;
  std::optional<int> exit_code_;
  pid_t current_group_ = 0;
  bool cancel_requested_ = false;
  Event finished_;
  Event released_;  // set by release(), and by cancel() so a held attempt ends
  mutable std::optional<std::int64_t> reported_progress_;
  mutable std::string progress_problem_;  // the last bad content logged, so it is logged once
  std::int64_t started_at_ms_ = 0;
  std::int64_t ended_at_ms_ = 0;
};

}  // namespace skyd::skylet
