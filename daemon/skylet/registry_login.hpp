#pragma once
// Private registries as SkyPilot names them: a task whose variables (envs or secrets) carry
// SKYPILOT_DOCKER_USERNAME, SKYPILOT_DOCKER_PASSWORD and SKYPILOT_DOCKER_SERVER has skylet log
// the node's runtime in to SERVER before the image is pulled, and an image not already named
// under SERVER/ is looked for there. The password goes to the runtime on its standard input only:
// never on a command line, in a log or in an error.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyd::skylet {

struct RegistryLogin {
  std::string username;
  std::string password;  // empty: no login (the node's own credentials pull), the server still
                         // prefixes the image
  std::string server;
};

// None of the three variables: nullopt. Only some, or a server or username that is no single
// argv word (empty, option-like, whitespace): an error naming the variable.
Result<std::optional<RegistryLogin>> registry_login_from(
    const std::map<std::string, std::string>& env);

// Where a login is kept: a directory of the attempt's own (removed when its steps end), never the
// runtime user's config, so no other attempt (another user's, on a shared host) pulls with it.
// docker reads it with `--config DIR` before its command, podman with `--authfile DIR/auth.json`
// after it.
struct RegistryAuth {
  std::vector<std::string> before_command;
  std::vector<std::string> after_command;
};
RegistryAuth registry_auth(const std::string& runtime, const std::string& dir);

// `RUNTIME [--config DIR] login [--authfile FILE] --username USER --password-stdin SERVER`.
std::vector<std::string> registry_login_argv(const std::string& runtime, const RegistryAuth& auth,
                                             const RegistryLogin& login);

// `image` as the runtime pulls it: under SERVER/ unless it already names that server.
std::string image_on_server(const std::string& image, const std::string& server);

// Runs the login (the password written to the runtime's standard input), at most two minutes.
Task<Result<void>> log_in_to_registry(asio::any_io_executor executor, std::string runtime,
                                      RegistryAuth auth, RegistryLogin login,
                                      std::vector<std::string> environment);

}  // namespace skyd::skylet
