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
  if (name.size() < 3 || name.size() > 63) {
    return "is " + std::to_string(name.size()) + " characters long; a bucket name has 3 to 63";
  }
  for (char c : name) {
    if (!lower_or_digit(c) && c != '.' && c != '-') {
      return "holds `" + std::string(1, c) +
             "`; a bucket name has only lowercase letters, digits, `.` and `-`";
    }
  }
  if (!lower_or_digit(name.front()) || !lower_or_digit(name.back()))
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
  return std::nullopt;
}

std::optional<std::string> gcs_bucket_name_problem(std::string_view name) {
  const bool dotted = name.find('.') != std::string_view::npos;
  const std::size_t longest = dotted ? 222 : 63;
  if (name.size() < 3 || name.size() > longest) {
    return "is " + std::to_string(name.size()) + " characters long; a bucket name has 3 to 63 (" +
           "222 with dots)";
  }
  for (char c : name) {
    if (!lower_or_digit(c) && c != '.' && c != '-' && c != '_') {
      return "holds `" + std::string(1, c) +
             "`; a bucket name has only lowercase letters, digits, `-`, `_` and `.`";
    }
  }
  if (!lower_or_digit(name.front()) || !lower_or_digit(name.back()))
    return "must begin and end with a lowercase letter or a digit";
  for (std::size_t start = 0; start <= name.size();) {
    const auto dot = name.find('.', start);
    const auto end = dot == std::string_view::npos ? name.size() : dot;
    if (end - start > 63) return "has a dot-separated part longer than 63 characters";
    if (end == start) return "holds two adjacent periods";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (looks_like_ipv4(name)) return "is formatted as an IP address";
  if (name.starts_with("goog")) return "begins with `goog`, which Google reserves";
  if (name.find("google") != std::string_view::npos) return "holds `google`, which Google reserves";
  return std::nullopt;
}

std::optional<std::string> bucket_name_problem_in(std::string_view store, std::string_view name) {
  return store == "gcs" ? gcs_bucket_name_problem(name) : s3_bucket_name_problem(name);
}

bool is_bucket_url(std::string_view text) {
  return text.starts_with("s3://") || text.starts_with("gs://");
}

BucketUrlParse parse_bucket_url(std::string_view text) {
  BucketUrlParse out;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    out.problem = quoted(text) +
                  " is not a bucket URL (expected s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX])";
    return out;
  }
  const std::string_view scheme = text.substr(0, scheme_end);
  if (scheme != "s3" && scheme != "gs") {
    out.problem = quoted(text) + ": the store '" + std::string(scheme) +
                  "' is not supported (expected s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX])";
    return out;
  }
  const std::string store = scheme == "gs" ? "gcs" : "s3";
  const std::string_view rest = text.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  const std::string_view bucket = rest.substr(0, slash);
  if (bucket.empty()) {
    out.problem =
        quoted(text) + " names no bucket (expected " + std::string(scheme) + "://BUCKET[/PREFIX])";
    return out;
  }
  if (auto problem = bucket_name_problem_in(store, bucket)) {
    out.problem = quoted(text) + ": bucket name " + quoted(bucket) + " " + *problem;
    return out;
  }
  BucketUrl url;
  url.store = store;
  url.bucket = std::string(bucket);
  if (slash != std::string_view::npos) url.prefix = std::string(rest.substr(slash + 1));
  out.url = std::move(url);
  return out;
}

}  // namespace skyd::providers::storage
