#include "daemon/skylet/registry_login.hpp"

#include "reactor/process.hpp"
#include "reactor/timeout.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

namespace skyd::skylet {
namespace {

constexpr const char* kUsername = "SKYPILOT_DOCKER_USERNAME";
constexpr const char* kPassword = "SKYPILOT_DOCKER_PASSWORD";
constexpr const char* kServer = "SKYPILOT_DOCKER_SERVER";
// A pipe holds 64 KiB: a password that fits is written whole before the runtime starts.
constexpr std::size_t kMaxPassword = 16 * 1024;

bool one_word(const std::string& value) {
  return !value.empty() && !value.starts_with("-") &&
         value.find_first_of(" \t\r\n") == std::string::npos;
}

}  // namespace

Result<std::optional<RegistryLogin>> registry_login_from(
    const std::map<std::string, std::string>& env) {
  const auto username = env.find(kUsername);
  const auto password = env.find(kPassword);
  const auto server = env.find(kServer);
  const bool any = username != env.end() || password != env.end() || server != env.end();
  if (!any) return std::optional<RegistryLogin>();
  for (const auto& [found, name] :
       {std::pair{username, kUsername}, {password, kPassword}, {server, kServer}}) {
    if (found == env.end()) {
      return make_error(NetErrc::kProtocol,
                        std::string(name) + " is missing: a private registry needs " + kUsername +
                            ", " + kPassword + " and " + kServer + " together");
    }
  }
  if (!one_word(server->second))
    return make_error(NetErrc::kProtocol, std::string(kServer) + " is not a registry name");
  if (!one_word(username->second))
    return make_error(NetErrc::kProtocol, std::string(kUsername) + " is not a user name");
  if (password->second.size() > kMaxPassword)
    return make_error(NetErrc::kProtocol, std::string(kPassword) + " is longer than 16 KiB");
  return std::optional<RegistryLogin>(
      RegistryLogin{username->second, password->second, server->second});
}

RegistryAuth registry_auth(const std::string& runtime, const std::string& dir) {
  if (std::filesystem::path(runtime).filename() == "podman")
    return {{}, {"--authfile", dir + "/auth.json"}};
  return {{"--config", dir}, {}};
}

std::vector<std::string> registry_login_argv(const std::string& runtime, const RegistryAuth& auth,
                                             const RegistryLogin& login) {
  std::vector<std::string> argv = {runtime};
  argv.insert(argv.end(), auth.before_command.begin(), auth.before_command.end());
  argv.push_back("login");
  argv.insert(argv.end(), auth.after_command.begin(), auth.after_command.end());
  argv.insert(argv.end(), {"--username", login.username, "--password-stdin", login.server});
  return argv;
}

std::string image_on_server(const std::string& image, const std::string& server) {
  const std::string prefix = server + "/";
  return image.starts_with(prefix) ? image : prefix + image;
}

Task<Result<void>> log_in_to_registry(asio::any_io_executor executor, std::string runtime,
                                      RegistryAuth auth, RegistryLogin login,
                                      std::vector<std::string> environment) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    co_return make_error(boost::system::error_code(errno, boost::system::system_category()),
                         "a pipe for the registry login");
  // The password fits the pipe's buffer (registry_login_from): this write never blocks.
  const bool written = ::write(fds[1], login.password.data(), login.password.size()) ==
                       static_cast<ssize_t>(login.password.size());
  ::close(fds[1]);
  if (!written) {
    ::close(fds[0]);
    co_return make_error(NetErrc::kProtocol, "the registry password could not be handed over");
  }
  ProcessOptions options;
  options.argv = registry_login_argv(runtime, auth, login);
  options.environment = std::move(environment);
  options.extra_fds = {{0, fds[0]}};
  const std::string what = "logging in to " + login.server;
  auto logged_in = co_await with_timeout(run_program(executor, std::move(options)),
                                         std::chrono::minutes(2), what);
  ::close(fds[0]);
  if (!logged_in) co_return logged_in.error();
  co_return Result<void>{};
}

}  // namespace skyd::skylet
