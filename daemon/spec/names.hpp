#pragma once
// The naming rules of the task spec, as SkyPilot and the clouds check them: job and task names,
// bucket names (S3's rules), and the limits on the text a task carries to its machines.

#include <cstddef>
#include <string>
#include <string_view>

namespace skyd::spec {

// SkyPilot checks names with regexes and leaves length to the clouds, the most permissive of
// which (AWS: an EC2 tag value of 256 bytes, minus SkyPilot's "-worker") allows 248 characters.
inline constexpr std::size_t kMaxNameLength = 248;

// A job (pipeline) name, SkyPilot's cluster name rule: [a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?
bool is_valid_job_name(std::string_view name);
// A task name, SkyPilot's task rule: [a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*
bool is_valid_task_name(std::string_view name);
// What the rules say, for messages ("expected " + rule).
inline constexpr std::string_view kJobNameRule =
    "a job name: a letter, then letters, digits, `-`, `_` or `.`, ending in a letter or digit, "
    "at most 248 characters";
inline constexpr std::string_view kTaskNameRule =
    "a task name: letters and digits, joined by up to two of `.`, `_`, `-`, at most 248 "
    "characters";

// Empty when `name` follows S3's bucket naming rules (3-63 characters of lowercase letters,
// digits, `.` and `-`; a letter or digit at both ends; no `..`; not an IP address; none of S3's
// reserved prefixes and suffixes), or with `store` "gcs" Cloud Storage's (`_` allowed, no `goog`
// prefix, no `google`); otherwise what is wrong with it.
std::string bucket_name_problem(std::string_view name, std::string_view store = "s3");

// A PersistentVolumeClaim's name, Kubernetes' DNS subdomain rule: lower-case letters, digits, `-`
// and `.`, a letter or digit at both ends, at most 253 characters.
bool is_claim_name(std::string_view name);
// Empty when `path` is a relative path that stays inside its root (no leading `/`, no `..`
// component, no empty component); otherwise what is wrong with it.
std::string relative_path_problem(std::string_view path);

// The bucket a bucket URL names ("s3://my-bucket/path" -> "my-bucket"); empty for a local path.
// The store a bucket URL is in: "gcs" for gs://, else "s3" (whose rules other schemes follow).
std::string bucket_of_url(std::string_view url);
std::string store_of_url(std::string_view url);

// The most jobs one `sky jobs launch --num-jobs N` makes. SkyPilot sets no limit; a 10,000-job
// batch is one database statement of a few megabytes and is answered in about a second, and one
// `sky jobs cancel` request names at most as many ids. Larger sweeps take several launches.
inline constexpr int kMaxNumJobs = 10000;

// What a task's text must fit on its machines: a script is run from a file, so it may be long; an
// environment variable travels through execve, whose limit for one "KEY=VALUE" string is 128 KiB
// (MAX_ARG_STRLEN, the NUL included), and all of them share the argument space.
inline constexpr std::size_t kMaxScriptBytes = 8u << 20;
// Empty when a script of `bytes` fits, else what to say (naming the task when it has a name).
std::string script_size_problem(std::string_view task_name, std::size_t bytes);
inline constexpr std::size_t kMaxEnvEntryBytes = (128u << 10) - 1;
inline constexpr std::size_t kMaxEnvTotalBytes = 1u << 20;

}  // namespace skyd::spec
