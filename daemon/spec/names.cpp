#include "daemon/spec/names.hpp"

#include "providers/storage/bucket_names.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace skyd::spec {
namespace {

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

bool is_valid_job_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (!std::isalpha(static_cast<unsigned char>(name[0])) || !is_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool is_valid_task_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (!is_alnum(name.front()) || !is_alnum(name.back())) return false;
  std::size_t separators = 0;
  for (char c : name) {
    if (is_alnum(c)) {
      separators = 0;
    } else if (c == '.' || c == '_' || c == '-') {
      if (++separators > 2) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::string bucket_name_problem(std::string_view name, std::string_view store) {
  return providers::storage::bucket_name_problem_in(store, name).value_or("");
}

std::string script_size_problem(std::string_view task_name, std::size_t bytes) {
  if (bytes <= kMaxScriptBytes) return {};
  return (task_name.empty() ? std::string("the script")
                            : "the script of task `" + std::string(task_name) + "`") +
         " is " + std::to_string(bytes) + " bytes; a script may be at most " +
         std::to_string(kMaxScriptBytes) + " bytes (8 MiB)";
}

std::string bucket_of_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::string_view rest = url.substr(scheme + 3);
  return std::string(rest.substr(0, rest.find('/')));
}

std::string store_of_url(std::string_view url) {
  return url.starts_with("gs://") ? "gcs" : "s3";
}

bool is_claim_name(std::string_view name) {
  constexpr std::size_t kMaxLength = 253;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (name.empty() || name.size() > kMaxLength) return false;
  if (!lower_alnum(name.front()) || !lower_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_alnum(c) || c == '-' || c == '.'; });
}

std::string relative_path_problem(std::string_view path) {
  if (path.empty()) return "expected a relative path inside the volume";
  if (path.starts_with('/')) return "expected a path relative to the volume's root, not `/...`";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() && end != path.size()) return "an empty component (`//`)";
    if (part == "..") return "`..` would leave the volume";
    start = end + 1;
  }
  return "";
}

}  // namespace skyd::spec
