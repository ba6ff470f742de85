#pragma once
// GcsStore: the ObjectStore on Google Cloud Storage's JSON API, over the reactor's HTTP client,
// authorised by an OAuth 2.0 bearer token (providers/gcp/access_token.hpp: Application Default
// Credentials, the same as Compute Engine's). A 401 drops the token and the call is tried once
// more with a new one; throttling (429, rateLimitExceeded) and passing faults (408, 5xx, lost
// connections) are retried with backoff and jitter.
//
// Uploads: a file up to `resumable_threshold` goes up in one uploadType=multipart request (its
// resource with the user metadata, then the bytes); a larger one as a resumable upload whose
// chunks (multiples of 256 KiB, `chunk_size`) are sent one after another, each read from the file
// at its offset on the blocking pool. The upload's MultipartState maps onto the session:
// upload_id = the session URI, part_size = the chunk size, parts = the chunks that landed
// (number n covers [(n-1) x part_size, n x part_size)). A resumed upload asks the session how far
// it got (`Content-Range: bytes */SIZE`) and sends from there; a session GCS forgot (404, 410)
// starts over once. Downloads are one streamed GET written as it arrives (16 KiB at a time); a
// retry asks only for the missing bytes. Deletes are one request per object, `deletes_in_flight`
// at a time (the JSON API's batch endpoint is not used: per-object calls keep each error its own).
//
// Runs on one shard: create it there and call it only from there.

#include "providers/gcp/access_token.hpp"
#include "providers/storage/gcs_api.hpp"
#include "providers/storage/object_store.hpp"
#include "reactor/backoff.hpp"
#include "reactor/http_client.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::providers::storage {

struct GcsStoreOptions {
  std::string endpoint = std::string(kGcsDefaultEndpoint);  // scheme, host and port
  std::string project;   // where buckets are made (buckets.insert's project); empty: cannot make
  std::string location;  // a new bucket's location; empty: Google's default (US)
  std::shared_ptr<gcp::AccessTokenSource> tokens;
  std::uint64_t resumable_threshold = 8ull << 20;  // larger files go up as resumable uploads
  std::uint64_t chunk_size = 8ull << 20;           // rounded up to a multiple of 256 KiB
  int list_page_size = 1000;                       // maxResults of each objects.list page
  int deletes_in_flight = 8;
  BackoffPolicy retry{std::chrono::milliseconds(200), 2.0, std::chrono::seconds(10), 0.2, 8};
  Duration request_timeout = std::chrono::seconds(60);  // one request (a chunk, a page)
  http::ClientOptions client;
};

struct GcsStoreStats {
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t throttled = 0;
  std::uint64_t token_renewals = 0;  // 401s answered with a new token
  std::uint64_t chunks_sent = 0;
};

class GcsStore final : public ObjectStore {
 public:
  GcsStore(asio::any_io_executor executor, GcsStoreOptions options);
  ~GcsStore() override;

  std::string_view name() const override { return "gcs"; }
  // buckets.get: 200 kMine, 404 kNotFound, 403 kForbidden.
  Task<Result<BucketAccess>> head_bucket(std::string bucket) override;
  // buckets.insert in the configured project. A 409 is kAlreadyMine when the bucket answers a
  // GET for these credentials, else kInvalid ("belongs to another project").
  Task<Result<BucketCreation>> create_bucket(std::string bucket) override;
  Task<Result<void>> delete_bucket(std::string bucket) override;
  Task<Result<std::vector<ObjectInfo>>> list_objects(std::string bucket,
                                                     std::string prefix) override;
  Task<Result<std::optional<ObjectHead>>> head_object(std::string bucket, std::string key) override;
  Task<Result<TransferStats>> upload_file(std::string bucket, std::string key, std::string path,
                                          UploadOptions options) override;
  Task<Result<TransferStats>> download_file(std::string bucket, std::string key,
                                            std::string path) override;
  Task<Result<void>> delete_objects(std::string bucket, std::vector<std::string> keys) override;
  Task<Result<std::uint64_t>> empty_bucket(std::string bucket) override;

  // One uploadType=multipart request of a whole (small) file.
  Task<Result<TransferStats>> upload_small(std::string bucket, std::string key, std::string path,
                                           UploadOptions options);
  // A resumable upload of `path` (resumed from options.resume when it matches the file's size).
  Task<Result<TransferStats>> upload_resumable(std::string bucket, std::string key,
                                               std::string path, UploadOptions options);

  const GcsStoreStats& stats() const { return stats_; }
  const GcsStoreOptions& options() const { return options_; }

 private:
  struct Call {
    std::string operation;  // for logs and errors: "objects.insert"
    std::string method;
    std::string bucket;
    std::string target;  // path and query on the endpoint; or
    std::string url;     // an absolute URL (a resumable session)
    http::Headers headers;
    std::string body;
    // A streamed download: chunks go to `sink` as they arrive, and a retry asks only for the
    // bytes after `*received` (Range: bytes=N-).
    http::BodyChunkHandler* sink = nullptr;
    const std::uint64_t* received = nullptr;
  };
  // One authorised request; retried on throttling and passing faults when `retry` (a 401 is
  // always tried once more with a new token). The response on 2xx and on `accepted` statuses,
  // else the classified error.
  Task<Result<http::Response>> send(Call call, std::vector<int> accepted = {}, bool retry = true);
  // How many bytes the session holds; nothing when it is complete (the object is stored);
  // kNotFound when GCS no longer knows the session (404, 410).
  Task<Result<std::optional<std::uint64_t>>> session_offset(std::string session,
                                                            std::uint64_t size);
  Task<Result<std::string>> start_session(std::string bucket, std::string key, std::uint64_t size,
                                          const UploadOptions& options);
  // Sends the file from `offset` to the end, chunk by chunk, recording chunks in `state`.
  Task<Result<void>> send_chunks(std::string path, std::shared_ptr<MultipartState> state,
                                 std::uint64_t offset, std::shared_ptr<TransferStats> sent,
                                 std::function<bool(const MultipartState&)> on_progress);

  // objects.delete of one object; a missing one is no error.
  Task<Result<void>> delete_object(std::string bucket, std::string key);

  GcsStoreOptions options_;
  std::optional<GcsEndpoint> endpoint_;
  std::optional<Error> endpoint_error_;  // the endpoint URL did not parse: every call says so
  http::Client client_;
  GcsStoreStats stats_;
};

}  // namespace skyd::providers::storage
