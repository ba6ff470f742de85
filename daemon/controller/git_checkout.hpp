#pragma once
// The lines that put a task's git workdir in place on a node: they run first in the task's setup,
// as the task's user, in ~/sky_workdir, so the clone is the user's and a failure is the setup's
// (FAILED_SETUP with git's own message in the log). Credentials come from the attempt's
// environment, never from the script: GIT_TOKEN becomes an HTTP header through git's
// GIT_CONFIG_* variables, SKYD_GIT_SSH_KEY a key file of the user's own for the ssh client.

#include "daemon/spec/git_workdir.hpp"

#include <string>

namespace skyd::daemon {

// How long the checkout waits on a host that does not answer: an ssh connection (including the
// server's greeting) gets `connect_seconds`, an HTTPS transfer is dropped after `stall_seconds`
// below 1 KB/s. Without them a silent git host would hold setup until the job is cancelled.
struct GitDeadlines {
  int connect_seconds = 30;
  int stall_seconds = 60;
};

std::string git_checkout_script(const spec::GitWorkdir& git, GitDeadlines deadlines = {});

}  // namespace skyd::daemon
