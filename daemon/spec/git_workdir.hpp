#pragma once
// `workdir: {url, ref}`: a git repository each node clones into ~/sky_workdir before setup,
// instead of a directory uploaded from the user's machine (SkyPilot's git workdir). The URL and
// ref reach a node's shell, so both are checked here, where the user hears of a problem with
// the file and line, and quoted where the script is written.

#include <optional>
#include <string>
#include <string_view>

namespace skyd::spec {

struct GitWorkdir {
  std::string url;  // https://…, ssh://[user@]host[:port]/path or scp-like [user@]host:path
  std::optional<std::string> ref;  // a branch, tag or commit; unset: the remote's HEAD

  bool over_ssh() const;  // ssh:// or scp-like: a key authenticates; https: GIT_TOKEN does

  friend bool operator==(const GitWorkdir&, const GitWorkdir&) = default;
};

// Empty when `url` is one of the three forms SkyPilot accepts; otherwise what is wrong with it.
// Never an option (a leading '-'), never a control character or space, never a local path.
std::string git_url_problem(std::string_view url);
// Empty when `ref` can name a branch, tag or commit (git's ref rules, no leading '-').
std::string git_ref_problem(std::string_view ref);

// The secret the CLI fills with the SSH key that opens an ssh:// or scp-like repository (read on
// the user's machine from GIT_SSH_KEY_PATH, ~/.ssh/id_rsa or ~/.ssh/id_ed25519, as SkyPilot
// looks), and the one that carries an HTTPS token (SkyPilot's GIT_TOKEN).
inline constexpr std::string_view kGitSshKeySecret = "SKYD_GIT_SSH_KEY";
inline constexpr std::string_view kGitTokenSecret = "GIT_TOKEN";

}  // namespace skyd::spec
