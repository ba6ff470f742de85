#include "cli/git_credentials.hpp"

#include "cli/uploads.hpp"
#include "daemon/spec/spec_error.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace skyd::cli {
namespace {

constexpr std::size_t kMaxKeyBytes = 64 * 1024;  // an RSA-16384 key in PEM is under 13 KiB

// The task's own value (envs, then secrets), else this shell's.
std::optional<std::string> setting(const spec::Task& task, const std::string& name) {
  if (auto it = task.envs.find(name); it != task.envs.end()) return it->second;
  if (auto it = task.secrets.find(name); it != task.secrets.end()) return it->second;
  if (const char* value = std::getenv(name.c_str()); value && *value) return std::string(value);
  return std::nullopt;
}

Result<std::string> read_key(const std::string& path, const std::string& named_by) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) {
    return spec::make_error(spec::SpecErrc::kInvalid,
                            named_by + ": cannot read the SSH key " + path);
  }
  if (size > kMaxKeyBytes) {
    return spec::make_error(spec::SpecErrc::kInvalid,
                            named_by + ": " + path + " is too large to be an SSH private key");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<void> attach_git_credentials(spec::Task& task) {
  if (!task.git_workdir) return {};
  if (!task.git_workdir->over_ssh()) {
    const std::string token(spec::kGitTokenSecret);
    if (!task.envs.contains(token) && !task.secrets.contains(token)) {
      if (auto value = setting(task, token)) task.secrets[token] = *value;
    }
    return {};
  }
  const std::string secret(spec::kGitSshKeySecret);
  if (task.secrets.contains(secret)) return {};
  if (auto path = setting(task, "GIT_SSH_KEY_PATH")) {
    auto key = read_key(expand_home(*path), "GIT_SSH_KEY_PATH");
    if (!key) return key.error();
    task.secrets[secret] = std::move(*key);
    return {};
  }
  for (const char* fallback : {"~/.ssh/id_rsa", "~/.ssh/id_ed25519"}) {
    const std::string path = expand_home(fallback);
    if (!std::filesystem::exists(path)) continue;
    auto key = read_key(path, "the git workdir's SSH key");
    if (!key) return key.error();
    task.secrets[secret] = std::move(*key);
    return {};
  }
  return {};  // a repository that needs no key (or an agent the node has)
}

}  // namespace skyd::cli
