#include "providers/storage/s3_store.hpp"

#include "providers/aws/ec2_api.hpp"
#include "providers/storage/file_pieces.hpp"
#include "providers/storage/parallel.hpp"
#include "providers/storage/store_retry.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace skyd::providers::storage {

S3Store::S3Store(asio::any_io_executor executor, S3StoreOptions options)
    : options_(std::move(options)),
      client_(executor, options_.client),
      credentials_(client_, options_.env) {
  const auto choice = choose_s3_endpoint(options_.endpoint, options_.region, options_.env);
  custom_endpoint_ = choice.custom;
  auto parsed = http::Endpoint::parse(choice.url);
  if (parsed) {
    endpoint_ = std::move(*parsed);
  } else {
    endpoint_error_ = make_error(ProviderErrc::kInvalid,
                                 "S3 endpoint " + choice.url + ": " + parsed.error().message());
  }
  options_.part_size = std::max<std::uint64_t>(options_.part_size, 1);
  options_.parts_in_flight = std::max(options_.parts_in_flight, 1);
}

S3Store::~S3Store() = default;

bool S3Store::virtual_host(const std::string& bucket) const {
  return uses_virtual_host(options_.addressing, custom_endpoint_, bucket);
}

Task<Result<std::pair<S3Address, http::Request>>> S3Store::prepare(const Call& call) {
  if (endpoint_error_) co_return *endpoint_error_;
  auto credentials = co_await credentials_.get();
  if (!credentials) co_return credentials.error();
  S3Address address =
      s3_address(endpoint_, virtual_host(call.bucket), call.bucket, call.key, call.query);
  aws::SignableRequest signable;
  signable.method = call.method;
  signable.target = address.target;
  signable.payload_hash = call.body_sha256.empty() ? sha256_hex(call.body) : call.body_sha256;
  signable.headers = {{"Host", address.host}, {"x-amz-content-sha256", signable.payload_hash}};
  signable.headers.insert(signable.headers.end(), call.headers.begin(), call.headers.end());
  // S3 signs the path as sent: no normalisation (a key may hold "//" or "..").
  const aws::SigningParams signing{options_.region, "s3", aws::amz_date_now(), false, true};
  aws::sign_request(signable, *credentials, signing);
  http::Request request;
  request.method = call.method;
  request.target = address.target;
  request.headers = std::move(signable.headers);
  request.body = call.body;
  co_return std::make_pair(std::move(address), std::move(request));
}

Task<void> S3Store::acquire(const std::string& bucket, const std::string& method) {
  const bool reads = method == "GET" || method == "HEAD";
  auto& limit = limits_[bucket + (reads ? "/read" : "/write")];
  if (!limit) {
    const double rate = reads ? options_.reads_per_second : options_.writes_per_second;
    limit = std::make_unique<TokenBucket>(rate, rate);
  }
  const Duration wait = limit->reserve();
  if (wait > Duration::zero()) co_await sleep_for(wait);
}

Task<Result<http::Response>> S3Store::send(Call call, std::vector<int> accepted) {
  Backoff backoff(options_.retry);
  for (int attempt = 1;; ++attempt) {
    co_await acquire(call.bucket, call.method);
    auto prepared = co_await prepare(call);
    if (!prepared) co_return prepared.error();
    ++stats_.requests;
    const http::RequestOptions limit{options_.request_timeout};
    auto response =
        co_await client_.request(prepared->first.endpoint, std::move(prepared->second), limit);
    Error error;
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      error =
          make_error(ProviderErrc::kTransient, call.operation + ": " + response.error().message());
    } else if ((response->status >= 200 && response->status < 300) ||
               std::find(accepted.begin(), accepted.end(), response->status) != accepted.end()) {
      co_return std::move(*response);
    } else {
      error = to_error(parse_s3_error(response->status, response->body), call.operation);
    }
    if (error.code == make_error_code(ProviderErrc::kAuth)) credentials_.invalidate();
    const FailedAttempt failed{"s3", call.operation, call.bucket, attempt};
    if (!co_await try_again(error, failed, backoff, {stats_.retries, stats_.throttled}))
      co_return error;
  }
}

Task<Result<BucketAccess>> S3Store::head_bucket(std::string bucket) {
  Call call{"HeadBucket", "HEAD", bucket, "", {}, {}, "", ""};
  // Named, not built in the co_await expression: g++ 12 mishandles such temporaries.
  std::vector<int> answers{403, 404};
  auto response = co_await send(std::move(call), std::move(answers));
  if (!response) co_return response.error();
  co_return bucket_access_of(response->status);
}

Task<Result<BucketCreation>> S3Store::create_bucket(std::string bucket) {
  Call call{"CreateBucket", "PUT", bucket, "", {}, {}, create_bucket_body(options_.region), ""};
  auto created = co_await send(std::move(call));
  if (created) {
    logger("s3")->info("bucket created bucket={} region={}", bucket, options_.region);
    co_return BucketCreation::kCreated;
  }
  const std::string& detail = created.error().detail;
  if (detail.find("BucketAlreadyOwnedByYou") != std::string::npos)
    co_return BucketCreation::kAlreadyMine;
  if (detail.find("BucketAlreadyExists") != std::string::npos) {
    auto access = co_await head_bucket(bucket);
    if (access && *access == BucketAccess::kMine) co_return BucketCreation::kAlreadyMine;
    co_return make_error(ProviderErrc::kInvalid,
                         "bucket name " + bucket +
                             " is taken: the bucket belongs to another account (bucket names "
                             "are global; choose another name)");
  }
  co_return created.error();
}

Task<Result<void>> S3Store::delete_bucket(std::string bucket) {
  Call call{"DeleteBucket", "DELETE", bucket, "", {}, {}, "", ""};
  auto deleted = co_await send(std::move(call));
  if (!deleted) co_return deleted.error();
  logger("s3")->info("bucket deleted bucket={}", bucket);
  co_return Result<void>{};
}

Task<Result<std::vector<ObjectInfo>>> S3Store::list_objects(std::string bucket,
                                                            std::string prefix) {
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    S3Query query{{"list-type", "2"}, {"max-keys", std::to_string(options_.list_page_size)}};
    if (!prefix.empty()) query.emplace_back("prefix", prefix);
    if (!token.empty()) query.emplace_back("continuation-token", token);
    Call call{"ListObjectsV2", "GET", bucket, "", std::move(query), {}, "", ""};
    auto response = co_await send(std::move(call));
    if (!response) co_return response.error();
    auto page = parse_list_objects_v2(response->body);
    if (!page) co_return page.error();
    std::move(page->objects.begin(), page->objects.end(), std::back_inserter(out));
    if (!page->truncated) break;
    token = std::move(page->next_continuation_token);
  }
  co_return out;
}

Task<Result<std::optional<ObjectHead>>> S3Store::head_object(std::string bucket, std::string key) {
  Call call{"HeadObject", "HEAD", bucket, key, {}, {}, "", ""};
  std::vector<int> answers{404};
  auto response = co_await send(std::move(call), std::move(answers));
  if (!response) co_return response.error();
  if (response->status == 404) co_return std::optional<ObjectHead>{};
  co_return std::optional<ObjectHead>{object_head_from(response->headers)};
}

namespace {
http::Headers object_headers(const UploadOptions& options) {
  http::Headers headers{{"Content-Type", options.content_type}};
  for (const auto& [name, value] : options.metadata)
    headers.emplace_back("x-amz-meta-" + name, value);
  return headers;
}
}  // namespace

Task<Result<TransferStats>> S3Store::upload_file(std::string bucket, std::string key,
                                                 std::string path, UploadOptions options) {
  auto size = co_await file_size(path);
  if (!size) co_return size.error();
  if (*size <= options_.multipart_threshold && !options.resume)
    co_return co_await put_object(std::move(bucket), std::move(key), std::move(path),
                                  std::move(options));
  co_return co_await multipart_upload(std::move(bucket), std::move(key), std::move(path),
                                      std::move(options));
}

Task<Result<TransferStats>> S3Store::put_object(std::string bucket, std::string key,
                                                std::string path, UploadOptions options) {
  auto size = co_await file_size(path);
  if (!size) co_return size.error();
  if (*size > std::max<std::uint64_t>(options_.multipart_threshold, kMinPartSize)) {
    co_return make_error(ProviderErrc::kInvalid,
                         path + " is too large for one PutObject: use a multipart upload");
  }
  auto piece = co_await read_piece(path, 0, *size);
  if (!piece) co_return piece.error();
  Call call{"PutObject",
            "PUT",
            bucket,
            key,
            {},
            object_headers(options),
            std::move(piece->bytes),
            std::move(piece->sha256_hex)};
  auto put = co_await send(std::move(call));
  if (!put) co_return put.error();
  TransferStats stats;
  stats.bytes = *size;
  stats.requests = 1;
  co_return stats;
}

Task<Result<void>> S3Store::upload_part(std::string bucket, std::string key, std::string path,
                                        std::shared_ptr<MultipartState> state, int number,
                                        std::shared_ptr<TransferStats> sent,
                                        std::function<bool(const MultipartState&)> on_progress,
                                        std::shared_ptr<bool> stopped) {
  if (*stopped) co_return make_error(NetErrc::kCancelled, "upload stopped by its caller");
  const std::uint64_t offset = static_cast<std::uint64_t>(number - 1) * state->part_size;
  const std::uint64_t length = std::min(state->part_size, state->object_size - offset);
  auto piece = co_await read_piece(path, offset, length);
  if (!piece) co_return piece.error();
  S3Query query{{"partNumber", std::to_string(number)}, {"uploadId", state->upload_id}};
  Call call{"UploadPart",
            "PUT",
            bucket,
            key,
            std::move(query),
            {},
            std::move(piece->bytes),
            std::move(piece->sha256_hex)};
  auto response = co_await send(std::move(call));
  if (!response) co_return response.error();
  const std::string* etag = response->header("ETag");
  if (!etag || etag->empty())
    co_return make_error(ProviderErrc::kTransient, "UploadPart: the answer carries no ETag");
  std::string clean = *etag;
  std::erase(clean, '"');
  state->parts.push_back({number, std::move(clean)});
  sent->bytes += length;
  ++sent->requests;
  ++stats_.parts_sent;
  if (on_progress && !*stopped && !on_progress(*state)) *stopped = true;
  co_return Result<void>{};
}

Task<Result<TransferStats>> S3Store::multipart_upload(std::string bucket, std::string key,
                                                      std::string path, UploadOptions options) {
  auto size = co_await file_size(path);
  if (!size) co_return size.error();
  std::uint64_t part_size = options_.part_size;
  // S3 takes at most 10,000 parts: a larger file gets larger parts.
  while ((*size + part_size - 1) / part_size > static_cast<std::uint64_t>(kMaxParts))
    part_size *= 2;
  auto state = std::make_shared<MultipartState>();
  const bool resumable =
      options.resume && !options.resume->upload_id.empty() && options.resume->object_size == *size;
  auto sent = std::make_shared<TransferStats>();
  sent->multipart = true;
  for (int round = 0;; ++round) {
    if (resumable && round == 0) {
      *state = *options.resume;
    } else {
      Call call{"CreateMultipartUpload", "POST", bucket, key, {{"uploads", ""}},
                object_headers(options), "",     ""};
      auto response = co_await send(std::move(call));
      if (!response) co_return response.error();
      auto id = parse_initiate_multipart(response->body);
      if (!id) co_return id.error();
      *state = MultipartState{std::move(*id), *size, part_size, {}};
      if (options.on_progress && !options.on_progress(*state))
        co_return make_error(NetErrc::kCancelled, "upload stopped by its caller");
    }
    const int total = static_cast<int>(
        std::max<std::uint64_t>(1, (*size + state->part_size - 1) / state->part_size));
    std::set<int> done;
    for (const auto& part : state->parts) done.insert(part.number);
    auto missing = std::make_shared<std::vector<int>>();
    for (int number = 1; number <= total; ++number)
      if (!done.contains(number)) missing->push_back(number);
    auto stopped = std::make_shared<bool>(false);
    PieceWork work = [this, bucket, key, path, state, missing, sent, stopped,
                      progress = options.on_progress](std::size_t index) {
      return upload_part(bucket, key, path, state, (*missing)[index], sent, progress, stopped);
    };
    auto uploaded =
        co_await run_parallel(missing->size(), options_.parts_in_flight, std::move(work));
    if (*stopped) co_return make_error(NetErrc::kCancelled, "upload stopped by its caller");
    // An upload S3 no longer knows (aborted, expired) starts over, once.
    const bool lost = !uploaded && round == 0 && resumable &&
                      uploaded.error().detail.find("NoSuchUpload") != std::string::npos;
    if (lost) continue;
    if (!uploaded) co_return uploaded.error();
    Call complete{"CompleteMultipartUpload",
                  "POST",
                  bucket,
                  key,
                  {{"uploadId", state->upload_id}},
                  {},
                  complete_multipart_body(state->parts),
                  ""};
    auto response = co_await send(std::move(complete));
    Result<std::string> etag =
        response ? parse_complete_multipart(response->body) : Result<std::string>(response.error());
    if (!etag) {
      const bool stale = round == 0 && resumable &&
                         (etag.error().detail.find("NoSuchUpload") != std::string::npos ||
                          etag.error().detail.find("InvalidPart") != std::string::npos);
      if (stale) continue;  // the persisted parts are not the server's: start over
      co_return etag.error();
    }
    logger("s3")->info("multipart upload done bucket={} key={} parts={} sent_bytes={}", bucket, key,
                       total, sent->bytes);
    co_return *sent;
  }
}

Task<Result<void>> S3Store::abort_multipart(std::string bucket, std::string key,
                                            std::string upload_id) {
  Call call{"AbortMultipartUpload", "DELETE", bucket, key, {{"uploadId", upload_id}}, {}, "", ""};
  auto aborted = co_await send(std::move(call));
  if (!aborted) co_return aborted.error();
  co_return Result<void>{};
}

Task<Result<TransferStats>> S3Store::download_file(std::string bucket, std::string key,
                                                   std::string path) {
  auto opened = co_await open_for_writing(path);
  if (!opened) co_return opened.error();
  OwnedFd file(*opened);
  if (!options_.ranged_download) co_return co_await download_stream(bucket, key, file.fd);
  // The size comes from a HEAD rather than from the first ranged GET's Content-Range: s3rver
  // answers a ranged GET of an empty object with a 206 promising a byte it never sends.
  auto head = co_await head_object(bucket, key);
  if (!head) co_return head.error();
  if (!*head) {
    co_return make_error(ProviderErrc::kNotFound,
                         "GetObject: NoSuchKey: s3://" + bucket + "/" + key + " does not exist");
  }
  auto stats = std::make_shared<TransferStats>();
  auto done = co_await download_ranges(bucket, key, file.fd, 0, (*head)->size, stats);
  if (!done) co_return done.error();
  co_return *stats;
}

Task<Result<void>> S3Store::download_ranges(std::string bucket, std::string key, int fd,
                                            std::uint64_t from, std::uint64_t size,
                                            std::shared_ptr<TransferStats> stats) {
  const std::uint64_t part = options_.part_size;
  const std::size_t pieces = static_cast<std::size_t>((size - from + part - 1) / part);
  stats->multipart = pieces > 1;
  PieceWork work = [this, bucket, key, fd, from, size, part, stats](std::size_t index) {
    const std::uint64_t offset = from + index * part;
    return download_range(bucket, key, fd, offset, std::min(part, size - offset), stats);
  };
  co_return co_await run_parallel(pieces, options_.parts_in_flight, std::move(work));
}

Task<Result<void>> S3Store::download_range(std::string bucket, std::string key, int fd,
                                           std::uint64_t offset, std::uint64_t length,
                                           std::shared_ptr<TransferStats> stats) {
  Call call{"GetObject", "GET", bucket, key, {}, {}, "", ""};
  call.headers.emplace_back(
      "Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
  auto response = co_await send(std::move(call));
  if (!response) co_return response.error();
  if (response->body.size() != length) {
    co_return make_error(ProviderErrc::kTransient,
                         "GetObject: asked for " + std::to_string(length) + " bytes at " +
                             std::to_string(offset) + ", got " +
                             std::to_string(response->body.size()) + " (the object changed?)");
  }
  auto written = co_await write_piece(fd, offset, std::move(response->body));
  if (!written) co_return written.error();
  stats->bytes += length;
  ++stats->requests;
  co_return Result<void>{};
}

Task<Result<TransferStats>> S3Store::download_stream(std::string bucket, std::string key, int fd) {
  TransferStats stats;
  Backoff backoff(options_.retry);
  std::optional<Error> write_failure;
  for (int attempt = 1;; ++attempt) {
    Call call{"GetObject", "GET", bucket, key, {}, {}, "", ""};
    co_await acquire(bucket, call.method);
    // A retry asks only for what has not arrived yet.
    if (stats.bytes > 0)
      call.headers.emplace_back("Range", "bytes=" + std::to_string(stats.bytes) + "-");
    auto prepared = co_await prepare(call);
    if (!prepared) co_return prepared.error();
    ++stats_.requests;
    ++stats.requests;
    // Chunks (16 KiB at most) are written as they arrive: each write is bounded and goes to the
    // page cache, so the shard is never held for long and memory stays at one chunk.
    http::BodyChunkHandler on_chunk = [&](std::string_view chunk) {
      if (auto written = write_chunk_at(fd, stats.bytes, chunk); !written) {
        write_failure = written.error();
        return false;
      }
      stats.bytes += chunk.size();
      return true;
    };
    const http::RequestOptions limit{options_.request_timeout};
    auto response = co_await client_.stream(prepared->first.endpoint, std::move(prepared->second),
                                            std::move(on_chunk), limit);
    if (write_failure) co_return *write_failure;
    Error error;
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      error = make_error(ProviderErrc::kTransient, "GetObject: " + response.error().message());
    } else if (response->status >= 200 && response->status < 300) {
      co_return stats;
    } else {
      error = to_error(parse_s3_error(response->status, response->body), "GetObject");
    }
    const auto code = static_cast<ProviderErrc>(error.code.value());
    if (error.code.category() != provider_category() || !aws::is_retryable(code) ||
        !backoff.allows_attempt(attempt))
      co_return error;
    ++stats_.retries;
    co_await sleep_for(backoff.next_delay());
  }
}

Task<Result<void>> S3Store::delete_objects(std::string bucket, std::vector<std::string> keys) {
  for (std::size_t begin = 0; begin < keys.size(); begin += kMaxDeleteKeys) {
    const auto end = std::min(keys.size(), begin + kMaxDeleteKeys);
    const std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(begin),
                                         keys.begin() + static_cast<std::ptrdiff_t>(end));
    std::string body = delete_objects_body(batch);
    // S3 refuses a DeleteObjects without Content-MD5 (or another checksum) of its body.
    http::Headers headers{{"Content-MD5", aws::base64_encode(md5_raw(body))},
                          {"Content-Type", "application/xml"}};
    Call call{"DeleteObjects",    "POST",          bucket, "", {{"delete", ""}},
              std::move(headers), std::move(body), ""};
    auto response = co_await send(std::move(call));
    if (!response) co_return response.error();
    auto failures = parse_delete_result(response->body);
    if (!failures) co_return failures.error();
    if (!failures->empty()) {
      const auto& first = failures->front();
      co_return to_error(S3Error{200, first.code, first.key + ": " + first.message, ""},
                         "DeleteObjects (" + std::to_string(failures->size()) + " keys)");
    }
  }
  co_return Result<void>{};
}

Task<Result<std::uint64_t>> S3Store::empty_bucket(std::string bucket) {
  std::string everything;  // named: g++ 12 destroys temporaries in a co_await expression twice
  auto objects = co_await list_objects(bucket, everything);
  if (!objects) co_return objects.error();
  std::vector<std::string> keys;
  keys.reserve(objects->size());
  for (auto& object : *objects) keys.push_back(std::move(object.key));
  auto deleted = co_await delete_objects(bucket, keys);
  if (!deleted) co_return deleted.error();
  co_return static_cast<std::uint64_t>(keys.size());
}

}  // namespace skyd::providers::storage
