#pragma once
// What a task's git workdir needs from the user's machine, found as SkyPilot finds it: an HTTPS
// repository's token from GIT_TOKEN (the task's envs or secrets, else this shell's), an SSH
// repository's private key from GIT_SSH_KEY_PATH (the task's, else this shell's), else
// ~/.ssh/id_rsa, else ~/.ssh/id_ed25519. Both travel as the task's secrets (never printed, never
// on a command line); the node's checkout reads them from its environment.

#include "daemon/spec/task.hpp"
#include "reactor/error.hpp"

namespace skyd::cli {

// Errors name the setting: a GIT_SSH_KEY_PATH that cannot be read, a key too large to be one.
Result<void> attach_git_credentials(spec::Task& task);

}  // namespace skyd::cli
