#pragma once
// Running an attempt's scripts inside a container (`resources.image_id: docker:IMAGE`): which
// runtime this node has (docker if its daemon answers, else podman, or the one skylet was told
// to use), and the argv that runs one script in the image as the task's user. The runtime's own
// settings (storage, cgroup manager, OCI runtime, ulimits) are its config files', not skylet's.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/identity.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyd::skylet {

// Finds the node's container runtime once, on the first attempt that asks, and remembers it.
class ContainerRuntime {
 public:
  // `name`: a program name or path to use alone; empty: docker, then podman. `environment` is
  // the runtime's (PATH to search, its config variables).
  ContainerRuntime(std::string name, std::map<std::string, std::string> environment)
      : name_(std::move(name)), environment_(std::move(environment)) {}

  // The runtime's program path, or an error saying which were tried and why none answered. A
  // probe is `PROGRAM version`, run off the reactor thread's way (a child process, awaited, at
  // most 20 seconds). A failure is not remembered: a daemon started later is found.
  Task<Result<std::string>> find(asio::any_io_executor executor);

 private:
  std::string name_;
  std::map<std::string, std::string> environment_;
  std::optional<std::string> found_;
};

// One script run in a container.
struct ContainerRun {
  std::string runtime;                 // program path
  std::string image;                   // without the `docker:` prefix
  std::string name;                    // the container's name: skyd-<attempt>-setup|run
  UserIdentity user;                   // --user UID:GID (and its supplementary groups)
  std::string workdir;                 // bound at the same path, and the working directory
  std::vector<std::string> binds;      // more host paths bound at the same path (the attempt's dir)
  std::vector<std::string> env_names;  // passed as `-e NAME`: the value is the
                                       // runtime process's, never on a command line
  std::map<std::string, std::string> env_literal;  // `-e NAME=VALUE`: names the runtime itself
                                                   // reads (PATH, HOME, ...), not secrets
  std::string script;                              // run as `/bin/sh SCRIPT`
  // Rootless podman (skylet not root): `--userns=keep-id`, so the user is the same uid inside as
  // outside and owns its files in the bound directories.
  bool keep_id = false;
  // The node's GPUs (skylet's --container-gpus): `--gpus all` on docker (the NVIDIA container
  // toolkit), `--device nvidia.com/gpu=all` on podman (CDI).
  bool gpus = false;
  // A private registry's login (registry_login.hpp): options before `run` and after it.
  std::vector<std::string> before_command;
  std::vector<std::string> after_command;
};
std::vector<std::string> container_run_argv(const ContainerRun& run);

// Names the runtime process reads for itself: the task's value of one of these goes to the
// container as `-e NAME=VALUE`, while the runtime keeps skylet's.
bool is_runtime_variable(const std::string& name);

// What a killed skylet left: removes every container `record` names ("RUNTIME\tNAME" lines, as
// attempts append them; only docker or podman at an absolute path and skyd-* names), then empties
// it. Run when skylet starts, before any attempt: none of those containers is this skylet's.
Task<void> sweep_leftover_containers(asio::any_io_executor executor, std::string record,
                                     std::map<std::string, std::string> environment);

// Whether `name` is a plain program name or an absolute path (what `--container-runtime` takes).
bool valid_runtime_name(const std::string& name);

}  // namespace skyd::skylet
