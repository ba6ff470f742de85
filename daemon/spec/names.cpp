#include "daemon/spec/names.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace skyd::spec {
namespace {

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Four dot-separated runs of 1-3 digits: what S3 refuses as "formatted as an IP address".
bool looks_like_ipv4(std::string_view name) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view part = name.substr(start, dot - start);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
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

std::string bucket_name_problem(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) {
    return "is " + std::to_string(name.size()) + " characters long; a bucket name has 3 to 63";
  }
  for (char c : name) {
    if (!is_lower_or_digit(c) && c != '.' && c != '-') {
      return "holds `" + std::string(1, c) +
             "`; a bucket name has only lowercase letters, digits, `.` and `-`";
    }
  }
  if (!is_lower_or_digit(name.front()) || !is_lower_or_digit(name.back()))
    return "must begin and end with a lowercase letter or a digit";
  if (name.find("..") != std::string_view::npos) return "holds two adjacent periods";
  if (looks_like_ipv4(name)) return "is formatted as an IP address";
  static constexpr std::array<std::string_view, 3> kReservedPrefixes = {"xn--", "sthree-",
                                                                        "amzn-s3-demo-"};
  for (auto prefix : kReservedPrefixes) {
    if (name.starts_with(prefix))
      return "begins with `" + std::string(prefix) + "`, which S3 reserves";
  }
  static constexpr std::array<std::string_view, 5> kReservedSuffixes = {
      "-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};
  for (auto suffix : kReservedSuffixes) {
    if (name.ends_with(suffix)) return "ends with `" + std::string(suffix) + "`, which S3 reserves";
  }
  return {};
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

std::string prefix_of_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  rest.remove_prefix(slash);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return std::string(rest);
}

std::string store_of_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::string_view name = url.substr(0, scheme);
  if (name == "gs") return "gcs";
  if (name == "cos") return "ibm";
  return std::string(name);
}

}  // namespace skyd::spec
