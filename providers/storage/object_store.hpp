#pragma once
// The object store interface: buckets and objects as skyd needs them (create a bucket for a task,
// upload a directory into it, copy a prefix down, empty and delete it). S3Store is the S3
// implementation (also S3-compatible servers); a GCS store implements the same interface.
//
// A store belongs to one shard: create it there and call it only from there. Every method returns
// errors as values (providers::ProviderErrc: kNotFound, kAuth, kThrottled, kTransient, kInvalid,
// with the store's own error code and message in the detail); a cancelled caller gets the
// cancellation error, never a retry.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::storage {

// What a HEAD of the bucket says about it, as seen with the caller's credentials.
enum class BucketAccess {
  kMine,       // exists and these credentials may use it
  kNotFound,   // no bucket of that name anywhere
  kForbidden,  // exists, but these credentials may not use it (someone else's, or no rights)
};
std::string_view to_string(BucketAccess access);
// A bucket lookup's HTTP status as access (both stores answer 404 and 403 alike): 404 kNotFound,
// 403 kForbidden, else kMine.
BucketAccess bucket_access_of(int http_status);

enum class BucketCreation {
  kCreated,      // this call made it
  kAlreadyMine,  // it existed already and is usable by these credentials (not made by this call)
};
std::string_view to_string(BucketCreation creation);

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes
};

struct ObjectHead {
  std::uint64_t size = 0;
  std::string etag;                             // without quotes
  std::map<std::string, std::string> metadata;  // user metadata, names lower-case, no prefix
};

// A multipart upload as far as it went: what a caller persists to resume it after a restart.
struct MultipartState {
  struct Part {
    int number = 0;  // 1-based
    std::string etag;
  };
  std::string upload_id;
  std::uint64_t object_size = 0;
  std::uint64_t part_size = 0;
  std::vector<Part> parts;  // the finished ones, in the order they finished
};

struct UploadOptions {
  std::map<std::string, std::string> metadata;  // user metadata (names without prefix)
  std::string content_type = "application/octet-stream";
  // Resume this upload instead of starting one: only parts not in it are sent, with the part
  // size it was started with. Ignored when the file's size differs (the upload starts over).
  std::optional<MultipartState> resume;
  // Called after the upload is started and after each finished part with the state to persist;
  // returning false stops the upload (the result is then NetErrc::kCancelled, the upload is left
  // open so that it can be resumed).
  std::function<bool(const MultipartState&)> on_progress;
};

struct TransferStats {
  std::uint64_t bytes = 0;  // bytes sent (upload) or written (download) by this call
  int requests = 0;         // object or part requests that carried them
  bool multipart = false;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual std::string_view name() const = 0;  // "s3"

  virtual Task<Result<BucketAccess>> head_bucket(std::string bucket) = 0;
  // Errors: kInvalid when the name belongs to someone else (the detail says so).
  virtual Task<Result<BucketCreation>> create_bucket(std::string bucket) = 0;
  // The bucket must be empty (empty_bucket first). kNotFound when there is none.
  virtual Task<Result<void>> delete_bucket(std::string bucket) = 0;

  // Every object under `prefix` ("" for all), across pages, in key order.
  virtual Task<Result<std::vector<ObjectInfo>>> list_objects(std::string bucket,
                                                             std::string prefix) = 0;
  // Nothing when there is no such object.
  virtual Task<Result<std::optional<ObjectHead>>> head_object(std::string bucket,
                                                              std::string key) = 0;
  // Uploads a local file: one request when small, a multipart upload in parallel parts when
  // large (resumable through options.resume / on_progress). The file is read in bounded pieces.
  virtual Task<Result<TransferStats>> upload_file(std::string bucket, std::string key,
                                                  std::string path, UploadOptions options) = 0;
  // Downloads an object into `path` (replaced), streamed with bounded memory.
  virtual Task<Result<TransferStats>> download_file(std::string bucket, std::string key,
                                                    std::string path) = 0;
  // Deletes the keys (missing ones are no error), in batches the store allows.
  virtual Task<Result<void>> delete_objects(std::string bucket, std::vector<std::string> keys) = 0;
  // Deletes every object of the bucket; the number deleted.
  virtual Task<Result<std::uint64_t>> empty_bucket(std::string bucket) = 0;
};

}  // namespace skyd::providers::storage
