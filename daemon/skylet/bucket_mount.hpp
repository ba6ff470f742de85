#pragma once
// A bucket a task attempt wants on its node (the storage kind of file_mounts): which bucket and
// prefix, where it appears, and how. The controller sends a list of these with the attempt
// (AttemptRequest.mounts); skylet mounts or copies them before setup. JSON, one per entry:
//   {"destination": "/checkpoint", "mode": "MOUNT"|"MOUNT_CACHED"|"COPY", "store": "s3"|"gcs",
//    "bucket": "my-ckpt", "prefix": "" | "dir/sub", "endpoint": "" | "http://127.0.0.1:9000",
//    "region": "us-east-1"}
// An empty endpoint means the store's own (S3's for the region, https://storage.googleapis.com);
// a GCS mount's region is empty.

#include "daemon/spec/task.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <string>
#include <vector>

namespace skyd::skylet {

// The task's own modes (SkyPilot's): kMount, a FUSE mount whose writes reach the bucket when
// their file is closed; kMountCached, a FUSE mount with a local write-back cache drained when the
// attempt ends; kCopy, the bucket's objects downloaded into the destination before setup.
using spec::MountMode;

enum class Store { kS3, kGcs };
std::string_view to_string(Store store);

struct BucketMount {
  std::string destination;  // absolute, or relative to the task user's home ("~/x" or "x")
  MountMode mode = MountMode::kMount;
  Store store = Store::kS3;
  std::string bucket;
  std::string prefix;    // "" (the whole bucket) or "dir/sub", no leading or trailing '/'
  std::string endpoint;  // "" or an http(s) URL (an S3-compatible server, a GCS emulator)
  std::string region;    // "" or a region name (us-east-1)

  friend bool operator==(const BucketMount&, const BucketMount&) = default;
};

Json to_json(const BucketMount& mount);

// Every field is checked by name; errors (kProtocol) say which entry and field, and what was
// expected: an unknown mode or store, a destination that is not a path on the node, a bucket name
// outside its store's rules, a prefix with empty, "." or ".." parts, an endpoint that is not an
// http(s) URL, an unknown field.
Result<BucketMount> bucket_mount_from_json(const Json& json, const std::string& field);
// `mounts` of an attempt: absent or null is no mounts; two mounts at one destination are refused.
Result<std::vector<BucketMount>> bucket_mounts_from_json(const Json* json);

}  // namespace skyd::skylet
