#pragma once
// S3 bucket names and s3:// URLs: pure, standard library only, so the task spec parser can check
// what a user wrote without linking the HTTP client (library skyd_storage_names).

#include <optional>
#include <string>
#include <string_view>

namespace skyd::providers::storage {

// Nothing when `name` is a valid S3 bucket name (general purpose buckets); else what is wrong
// with it, as a phrase to follow the name ("is 2 characters long; a bucket name has 3 to 63"):
// 3-63 characters of lowercase letters, digits, dots and hyphens; a letter or digit at both ends;
// no two adjacent dots; not an IPv4 address; none of S3's reserved prefixes and suffixes.
std::optional<std::string> s3_bucket_name_problem(std::string_view name);

// A bucket URL as users write it in file_mounts: s3://bucket[/prefix].
struct BucketUrl {
  std::string store;   // "s3"
  std::string bucket;  // a valid bucket name
  std::string prefix;  // the key prefix, without the leading '/' ("" for the whole bucket)
};

// The URL's parts, or (in `problem`) why it is not one: another scheme, no bucket, a bad name.
struct BucketUrlParse {
  std::optional<BucketUrl> url;
  std::string problem;
};
BucketUrlParse parse_bucket_url(std::string_view text);

// True when `text` starts with a scheme this module knows ("s3://").
bool is_bucket_url(std::string_view text);

}  // namespace skyd::providers::storage
