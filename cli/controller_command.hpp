#pragma once
// `sky controller up|down`: a controller VM on EC2 made and removed from the user's machine
// through the AWS provider's signed client. `up` is crash-safe: the RunInstances ClientToken is
// written to ~/.sky/controllers/NAME.json before the call, so an `up` run again after an
// interruption finds the one instance the token made instead of making a second.

#include <string>
#include <vector>

namespace skyd::cli {

int controller_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
