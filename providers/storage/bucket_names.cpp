#include "providers/storage/bucket_names.hpp"

#include <array>

namespace skyd::providers::storage {
namespace {

bool lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Four dot-separated decimal numbers of 0..255: what S3 refuses as looking like an IP address.
bool looks_like_ipv4(std::string_view name) {
  int groups = 0;
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = name.find('.', start);
    const auto end = dot == std::string_view::npos ? name.size() : dot;
    const std::string_view group = name.substr(start, end - start);
    if (group.empty() || group.size() > 3) return false;
    int value = 0;
    for (char c : group) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++groups;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return groups == 4;
}

std::string quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

}  // namespace

std::optional<std::string> s3_bucket_name_problem(std::string_view name) {
  const std::string what = "bucket name " + quoted(name);
  if (name.size() < 3 || name.size() > 63)
    return what + " must be 3 to 63 characters long (it has " + std::to_string(name.size()) + ")";
  for (char c : name) {
    if (!lower_or_digit(c) && c != '.' && c != '-') {
      return what + " may hold only lowercase letters, digits, dots and hyphens (not '" +
             std::string(1, c) + "')";
    }
  }
  if (!lower_or_digit(name.front()) || !lower_or_digit(name.back()))
    return what + " must start and end with a lowercase letter or a digit";
  if (name.find("..") != std::string_view::npos) return what + " must not hold two adjacent dots";
  if (looks_like_ipv4(name)) return what + " must not be formatted as an IP address";
  static constexpr std::array<std::string_view, 3> kPrefixes = {"xn--", "sthree-", "amzn-s3-demo-"};
  for (auto prefix : kPrefixes)
    if (name.starts_with(prefix))
      return what + " must not start with '" + std::string(prefix) + "'";
  static constexpr std::array<std::string_view, 3> kSuffixes = {"-s3alias", "--ol-s3", "--x-s3"};
  for (auto suffix : kSuffixes)
    if (name.ends_with(suffix)) return what + " must not end with '" + std::string(suffix) + "'";
  return std::nullopt;
}

bool is_bucket_url(std::string_view text) {
  return text.starts_with("s3://");
}

BucketUrlParse parse_bucket_url(std::string_view text) {
  BucketUrlParse out;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    out.problem = quoted(text) + " is not a bucket URL (expected s3://BUCKET[/PREFIX])";
    return out;
  }
  const std::string_view scheme = text.substr(0, scheme_end);
  if (scheme != "s3") {
    out.problem = quoted(text) + ": the store '" + std::string(scheme) +
                  "' is not supported (expected s3://BUCKET[/PREFIX])";
    return out;
  }
  const std::string_view rest = text.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  const std::string_view bucket = rest.substr(0, slash);
  if (bucket.empty()) {
    out.problem = quoted(text) + " names no bucket (expected s3://BUCKET[/PREFIX])";
    return out;
  }
  if (auto problem = s3_bucket_name_problem(bucket)) {
    out.problem = quoted(text) + ": " + *problem;
    return out;
  }
  BucketUrl url;
  url.store = std::string(scheme);
  url.bucket = std::string(bucket);
  if (slash != std::string_view::npos) url.prefix = std::string(rest.substr(slash + 1));
  out.url = std::move(url);
  return out;
}

}  // namespace skyd::providers::storage
