#include "cli/daemon_address.hpp"

#include "cli/contexts.hpp"
#include "cli/local_socket.hpp"
#include "reactor/shell_quote.hpp"

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace skyd::cli {
namespace {

constexpr std::string_view kSshScheme = "ssh://";
constexpr const char* kSshForm = "expected ssh://[user@]host[:port][/path/to/skyd.sock]";

Error bad_address(std::string_view address, const std::string& what) {
  return make_error(NetErrc::kBadUrl,
                    "bad host '" + std::string(address) + "': " + what + " (" + kSshForm + ")");
}

std::vector<std::string> ssh_program() {
  const char* command = std::getenv("SKYD_SSH_COMMAND");
  std::vector<std::string> words;
  if (command && *command) {
    std::istringstream split(command);
    for (std::string word; split >> word;) words.push_back(word);
  }
  if (words.empty()) words.push_back("ssh");
  return words;
}

}  // namespace

bool is_ssh_address(std::string_view address) {
  return address.starts_with(kSshScheme);
}

Result<SshHost> parse_ssh_address(std::string_view address) {
  if (!is_ssh_address(address)) return bad_address(address, "not an ssh:// URL");
  std::string_view rest = address.substr(kSshScheme.size());
  SshHost parsed;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    parsed.socket_path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    parsed.user = std::string(rest.substr(0, at));
    rest = rest.substr(at + 1);
    if (parsed.user.empty()) return bad_address(address, "empty user name before '@'");
  }
  if (rest.starts_with('[')) {  // [v6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad_address(address, "unclosed '[' in the host");
    parsed.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad_address(address, "junk after ']'");
  } else {
    const auto colon = rest.find(':');
    parsed.host = std::string(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (parsed.host.empty()) return bad_address(address, "no host");
  // ssh reads a word that starts with '-' as an option: never let a host or user be one.
  if (parsed.host.front() == '-' || parsed.user.starts_with('-'))
    return bad_address(address, "a host or user may not start with '-'");
  if (!rest.empty()) {
    const std::string_view digits = rest.substr(1);
    int port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535)
      return bad_address(address, "the port must be a number from 1 to 65535");
    parsed.port = port;
  }
  return parsed;
}

namespace {

// ssh to `host` with `connection` options, then `options` before the host, and `remote` (if
// any) as the command line the remote shell runs.
std::vector<std::string> ssh_to(const SshHost& host, const std::vector<std::string>& connection,
                                const std::vector<std::string>& options,
                                const std::string& remote) {
  std::vector<std::string> argv = ssh_program();
  for (const auto& option : connection) argv.insert(argv.end(), {"-o", option});
  if (host.port) argv.insert(argv.end(), {"-p", std::to_string(*host.port)});
  if (!host.user.empty()) argv.insert(argv.end(), {"-l", host.user});
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"--", host.host});
  if (!remote.empty()) argv.push_back(remote);
  return argv;
}

}  // namespace

std::vector<std::string> ssh_dial_command(const SshHost& host, const std::string& control_dir) {
  std::string remote = "skyd dial-stdio";
  if (!host.socket_path.empty()) remote += " --socket " + single_quoted(host.socket_path);
  // One SSH connection per host serves every call while it is warm: a `queue` is one round trip.
  return ssh_to(host,
                {"ControlMaster=auto", "ControlPath=" + control_dir + "/%C", "ControlPersist=300"},
                {}, remote);
}

std::vector<std::string> ssh_forward_command(const SshHost& host, int local_port,
                                             const std::string& remote_address) {
  // A connection of its own: a forward made through the shared one would belong to its master
  // and outlive this command.
  return ssh_to(host, {"ControlMaster=no", "ControlPath=none"},
                {"-N", "-o", "ExitOnForwardFailure=yes", "-L",
                 "127.0.0.1:" + std::to_string(local_port) + ":" + remote_address},
                "");
}

Result<std::string> ssh_control_dir() {
  const char* home = non_empty_env("HOME");
  if (!home)
    return make_error(NetErrc::kConnectFailed,
                      "HOME is not set: no place for ssh's shared connections");
  const std::string dir = std::string(home) + "/.sky/ssh";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(NetErrc::kConnectFailed, "cannot make " + dir + ": " + ec.message());
  // Whoever can reach a control socket can use the connection: it stays the user's alone.
  if (::chmod(dir.c_str(), 0700) != 0)
    return make_error(NetErrc::kConnectFailed, "cannot make " + dir + " private");
  return dir;
}

Result<http::Endpoint> endpoint_for(const std::string& address) {
  if (!is_ssh_address(address)) return http::Endpoint::unix_socket(address);
  auto host = parse_ssh_address(address);
  if (!host) return host.error();
  auto control_dir = ssh_control_dir();
  if (!control_dir) return control_dir.error();
  return http::Endpoint::through_command(ssh_dial_command(*host, *control_dir));
}

Result<std::string> find_daemon_address(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return *flag;
  if (const char* host = non_empty_env("SKYD_HOST")) return std::string(host);
  if (non_empty_env("SKYD_SOCKET")) return find_local_socket(std::nullopt);
  auto context = current_context_host();
  if (!context) return context.error();
  if (*context) return **context;
  return find_local_socket(std::nullopt);
}

}  // namespace skyd::cli
