#pragma once
// S3Store: the ObjectStore on Amazon S3 and S3-compatible servers, over the reactor's HTTP
// client. Requests are signed with SigV4 (providers/aws/aws_auth: the same signer and credential
// chain as EC2), each with x-amz-content-sha256 = the hex SHA-256 of its body; throttling
// (SlowDown, 503) and passing faults (5xx, lost connections) are retried with backoff and jitter,
// and requests are paced per bucket by token buckets (reactor/token_bucket.hpp) as EC2 calls are.
// Large files go up as multipart uploads, `parts_in_flight` parts of `part_size` at a time, each
// read from the file at its offset on the blocking pool: memory stays under
// parts_in_flight x part_size per upload, and downloads likewise.
//
// Runs on one shard: create it there and call it only from there.

#include "providers/aws/aws_auth.hpp"
#include "providers/storage/object_store.hpp"
#include "providers/storage/s3_api.hpp"
#include "reactor/backoff.hpp"
#include "reactor/http_client.hpp"
#include "reactor/token_bucket.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::providers::storage {

struct S3StoreOptions {
  std::string region = "us-east-1";  // where buckets are made and requests are signed for
  // Empty: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then https://s3.<region>.amazonaws.com.
  // An override may be http:// (a local S3 server).
  std::string endpoint;
  S3Addressing addressing = S3Addressing::kAuto;
  std::uint64_t part_size = 8ull << 20;  // multipart part size; at least 5 MiB on S3
  // Files up to this size go up in one PutObject; larger ones as multipart uploads.
  std::uint64_t multipart_threshold = 8ull << 20;
  int parts_in_flight = 4;      // parallel parts of one upload or download
  bool ranged_download = true;  // parallel ranged GETs; false: one streamed GET
  int list_page_size = 1000;    // MaxKeys of each ListObjectsV2 page
  // Token buckets per bucket, one for reads (GET, HEAD) and one for writes, under what S3 takes
  // per prefix (5,500 reads and 3,500 writes a second).
  double reads_per_second = 5500;
  double writes_per_second = 3500;
  BackoffPolicy retry{std::chrono::milliseconds(200), 2.0, std::chrono::seconds(10), 0.2, 8};
  Duration request_timeout = std::chrono::seconds(60);  // one request (a part, a page)
  aws::EnvLookup env = aws::process_environment();
  http::ClientOptions client;
};

struct S3StoreStats {
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t throttled = 0;
  std::uint64_t parts_sent = 0;
};

class S3Store final : public ObjectStore {
 public:
  S3Store(asio::any_io_executor executor, S3StoreOptions options);
  ~S3Store() override;

  std::string_view name() const override { return "s3"; }
  Task<Result<BucketAccess>> head_bucket(std::string bucket) override;
  // A bucket outside us-east-1 is made with its CreateBucketConfiguration. BucketAlreadyOwnedByYou
  // is kAlreadyMine; BucketAlreadyExists is kInvalid ("belongs to another account") unless the
  // bucket answers a HEAD for these credentials (single-account servers such as s3rver say
  // BucketAlreadyExists for the caller's own bucket).
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

  // One PutObject of a whole (small) file.
  Task<Result<TransferStats>> put_object(std::string bucket, std::string key, std::string path,
                                         UploadOptions options);
  // A multipart upload of `path` (resumed from options.resume when it matches). The parts S3
  // already has are trusted from the caller's state: s3rver has no ListParts to ask.
  Task<Result<TransferStats>> multipart_upload(std::string bucket, std::string key,
                                               std::string path, UploadOptions options);
  // Discards an unfinished upload and its parts (s3rver does not implement it: MethodNotAllowed).
  Task<Result<void>> abort_multipart(std::string bucket, std::string key, std::string upload_id);

  // The endpoint requests go to (before virtual-hosted addressing adds the bucket).
  const http::Endpoint& endpoint() const { return endpoint_; }
  const S3StoreStats& stats() const { return stats_; }
  const S3StoreOptions& options() const { return options_; }

 private:
  struct Call {
    std::string operation;  // for logs and errors: "PutObject"
    std::string method;
    std::string bucket;
    std::string key;
    S3Query query;
    http::Headers headers;  // extra headers (signed)
    std::string body;
    std::string body_sha256;  // empty: hashed here
  };
  // One signed request, retried on throttling and passing faults; the response on 2xx (and on
  // the statuses in `accepted`), else the classified error.
  Task<Result<http::Response>> send(Call call, std::vector<int> accepted = {});
  // The signed request of a call, with the address it goes to.
  Task<Result<std::pair<S3Address, http::Request>>> prepare(const Call& call);
  Task<Result<void>> upload_part(std::string bucket, std::string key, std::string path,
                                 std::shared_ptr<MultipartState> state, int number,
                                 std::shared_ptr<TransferStats> sent,
                                 std::function<bool(const MultipartState&)> on_progress,
                                 std::shared_ptr<bool> stopped);
  // Ranges [from, size) in parallel parts.
  Task<Result<void>> download_ranges(std::string bucket, std::string key, int fd,
                                     std::uint64_t from, std::uint64_t size,
                                     std::shared_ptr<TransferStats> stats);
  Task<Result<void>> download_range(std::string bucket, std::string key, int fd,
                                    std::uint64_t offset, std::uint64_t length,
                                    std::shared_ptr<TransferStats> stats);
  Task<Result<TransferStats>> download_stream(std::string bucket, std::string key, int fd);
  bool virtual_host(const std::string& bucket) const;
  Task<void> acquire(const std::string& bucket, const std::string& method);

  S3StoreOptions options_;
  http::Endpoint endpoint_;
  std::optional<Error> endpoint_error_;  // the endpoint URL did not parse: every call says so
  bool custom_endpoint_ = false;
  http::Client client_;
  aws::CredentialChain credentials_;
  std::map<std::string, std::unique_ptr<TokenBucket>> limits_;  // "bucket/read", "bucket/write"
  S3StoreStats stats_;
};

}  // namespace skyd::providers::storage
