#include "daemon/spec/git_workdir.hpp"

#include <algorithm>

namespace skyd::spec {
namespace {

bool printable_without_spaces(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

bool GitWorkdir::over_ssh() const {
  return !url.starts_with("https://");
}

std::string git_url_problem(std::string_view url) {
  constexpr std::string_view kForms =
      "expected a git URL: https://host/path, ssh://[user@]host[:port]/path or "
      "[user@]host:path";
  if (url.empty() || url.front() == '-' || !printable_without_spaces(url))
    return std::string(kForms);
  for (std::string_view scheme : {"https://", "ssh://"}) {
    if (!url.starts_with(scheme)) continue;
    const std::string_view rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size())
      return std::string(kForms) + " (a host and a path)";
    return "";
  }
  if (url.find("://") != std::string_view::npos) {
    return std::string(kForms) + " (only https:// and ssh:// schemes; a local path or file:// " +
           "is not a place a node can clone from)";
  }
  // scp-like: [user@]host:path, where host has no '/' (git's own rule for telling it from a path).
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == url.size() ||
      url.substr(0, colon).find('/') != std::string_view::npos) {
    return std::string(kForms);
  }
  return "";
}

std::string git_ref_problem(std::string_view ref) {
  if (ref.empty() || ref.front() == '-' || !printable_without_spaces(ref) ||
      ref.find("..") != std::string_view::npos ||
      ref.find_first_of("~^:?*[\\") != std::string_view::npos || ref.ends_with(".lock") ||
      ref.ends_with('/') || ref.ends_with('.')) {
    return "expected a branch, tag or commit (git's ref rules)";
  }
  return "";
}

}  // namespace skyd::spec
