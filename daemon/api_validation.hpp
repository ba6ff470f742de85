#pragma once
// What the API accepts in a request body, checked by pure functions (no socket, no database): the
// handlers in api.cpp call them, and so does the fuzzer (tests/fuzz/api_fuzz.cpp). An error's
// detail names the field and what was expected; it is the message of the 400 answer. Its code is
// errc::invalid_argument.

#include "daemon/spec/task.hpp"
#include "reactor/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::daemon {

// SkyPilot's range for a managed job's priority (higher runs first) and its default, for a job
// whose body and tasks give none.
inline constexpr std::int64_t kMinPriority = -1000;
inline constexpr std::int64_t kMaxPriority = 1000;
inline constexpr int kDefaultPriority = 0;

// The largest request body the API reads: room for a job with an 8 MiB setup and an 8 MiB run
// script, escaped in JSON, and its environment.
inline constexpr std::size_t kMaxApiBodyBytes = 64u << 20;
// How many ids one cancel request may name.
inline constexpr std::size_t kMaxCancelIds = 10000;

// Local files a task uses, sent before the submit (PUT /v1/uploads/{digest}): skyd never opens
// the paths the pipeline names, only what the caller uploaded.
struct UploadRef {
  enum class Kind { kDirectory, kFile };  // a directory travels as a tar archive
  int task = 0;
  bool workdir = false;     // the task's workdir, or
  std::string destination;  // the file_mounts destination whose local source this is
  std::string digest;       // SHA-256 of the upload
  Kind kind = Kind::kDirectory;
};

struct SubmitBody {
  std::string name;
  int priority = kDefaultPriority;
  spec::Pipeline pipeline;    // read and checked by the task spec's parser
  std::string pipeline_json;  // the pipeline object as it is stored
  std::vector<UploadRef> uploads;
  int num_jobs = 1;  // copies of the job, ranks 0..num_jobs-1
  // The caller's name for this submission: asked again with it, skyd makes no second job.
  std::optional<std::string> submission_key;
};

// A submission key: 16 to 64 of [0-9a-f-] (`sky` sends 32 hex digits).
inline constexpr std::size_t kMinSubmissionKey = 16;
inline constexpr std::size_t kMaxSubmissionKey = 64;

// POST /v1/jobs: {"name": job name, "pipeline": {name?, tasks} (task_json.hpp), "priority"?:
// integer, "num_jobs"?: 1..spec::kMaxNumJobs (copies, each with its SKYPILOT_JOB_RANK), "uploads"?:
// [{"task": i, "workdir": true | "destination": dest, "digest": sha256, "kind": "directory" |
// "file"}], "submission_key"?: the caller's key for this submission}. Every workdir and every
// local-path file mount needs exactly one upload, and an upload must name one of them.
Result<SubmitBody> parse_submit_body(std::string_view body);
// The "uploads" list against the pipeline it belongs to (nullptr: none).
Result<std::vector<UploadRef>> upload_refs(const Json* listed, const spec::Pipeline& pipeline);

struct CancelBody {
  std::vector<std::int64_t> ids;    // "ids": [id, ...]
  std::optional<std::string> name;  // "name": the open jobs with that name
  bool all = false;                 // "all": true: the caller's own open jobs
  bool all_users = false;           // "all_users": true: every user's open jobs
};

// POST /v1/jobs/cancel: exactly one of "ids", "name", "all" and "all_users".
Result<CancelBody> parse_cancel_body(std::string_view body);

}  // namespace skyd::daemon
