#pragma once
// `sky controller up|down`: a controller VM on EC2 made and removed from the user's machine
// through the AWS provider's signed client. `up` is crash-safe: the RunInstances ClientToken is
// written to ~/.sky/controllers/NAME.json before the call, so an `up` run again after an
// interruption finds the one instance the token made instead of making a second.

#include <string>
#include <vector>

namespace skyd::cli {

int controller_command(const std::vector<std::string>& args);

// Start on demand: when `address` is the host of a context that `sky controller up` made and its
// instance is stopped (autostop), starts it, waits until it runs and skyd answers over SSH,
// records the new public address in the context, and returns the address to use. Otherwise, or
// when EC2 cannot be asked (a warning says why), returns `address` as it is.
std::string wake_controller(const std::string& address);

}  // namespace skyd::cli
