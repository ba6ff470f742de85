#pragma once
// S3 and GCS bucket names, s3:// and gs:// URLs: pure, standard library only, so the task spec
// parser can check what a user wrote without linking the HTTP client (library skyd_storage_names).

#include <optional>
#include <string>
#include <string_view>

namespace skyd::providers::storage {

// Nothing when `name` is a valid S3 bucket name (general purpose buckets); else what is wrong
// with it, as a phrase to follow the name ("is 2 characters long; a bucket name has 3 to 63"):
// 3-63 characters of lowercase letters, digits, dots and hyphens; a letter or digit at both ends;
// no two adjacent dots; not an IPv4 address; none of S3's reserved prefixes and suffixes.
std::optional<std::string> s3_bucket_name_problem(std::string_view name);

// Nothing when `name` is a valid Cloud Storage bucket name; else what is wrong with it, in the
// same form: 3-63 characters of lowercase letters, digits, `-`, `_` and `.` (up to 222 with
// dots, each dot-separated part at most 63); a letter or digit at both ends; not an IPv4
// address; not beginning with `goog` and not holding `google` (Google reserves both).
std::optional<std::string> gcs_bucket_name_problem(std::string_view name);

// The rules of the store a URL scheme or a `store:` names: "s3" or "gcs".
std::optional<std::string> bucket_name_problem_in(std::string_view store, std::string_view name);

// A bucket URL as users write it in file_mounts: s3://bucket[/prefix] or gs://bucket[/prefix].
struct BucketUrl {
  std::string store;   // "s3" or "gcs"
  std::string bucket;  // a valid bucket name
  std::string prefix;  // the key prefix, without the leading '/' ("" for the whole bucket)
};

// The URL's parts, or (in `problem`) why it is not one: another scheme, no bucket, a bad name.
struct BucketUrlParse {
  std::optional<BucketUrl> url;
  std::string problem;
};
BucketUrlParse parse_bucket_url(std::string_view text);

// True when `text` starts with a scheme this module knows ("s3://", "gs://").
bool is_bucket_url(std::string_view text);

}  // namespace skyd::providers::storage
