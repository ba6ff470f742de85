#include "providers/storage/gcs_store.hpp"

#include "providers/storage/file_pieces.hpp"
#include "providers/storage/parallel.hpp"
#include "providers/storage/store_retry.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"

#include <algorithm>

namespace skyd::providers::storage {
namespace {

bool has_status(const std::vector<int>& statuses, int status) {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

Error stopped_by_caller() {
  return make_error(NetErrc::kCancelled, "upload stopped by its caller");
}

Error session_gone() {
  return make_error(ProviderErrc::kNotFound,
                    "objects.insert (resumable): Cloud Storage no longer knows the upload session");
}

// Where an absolute URL (a resumable session's) goes: its origin and its target.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

}  // namespace

GcsStore::GcsStore(asio::any_io_executor executor, GcsStoreOptions options)
    : options_(std::move(options)), client_(executor, options_.client) {
  auto parsed = parse_gcs_endpoint(options_.endpoint);
  if (parsed) {
    endpoint_ = std::move(*parsed);
  } else {
    endpoint_error_ = parsed.error();
  }
  options_.chunk_size = gcs_chunk_size(options_.chunk_size);
  options_.deletes_in_flight = std::max(options_.deletes_in_flight, 1);
  options_.list_page_size = std::clamp(options_.list_page_size, 1, 1000);
}

GcsStore::~GcsStore() = default;

Task<Result<http::Response>> GcsStore::send(Call call, std::vector<int> accepted, bool retry) {
  if (endpoint_error_) co_return *endpoint_error_;
  if (!options_.tokens)
    co_return make_error(ProviderErrc::kAuth, "gcs: no Google credentials are configured");
  http::Endpoint endpoint = endpoint_->endpoint;
  std::string target = call.target;
  // A session URI is itself the upload's credential: the bearer token goes only to the
  // configured endpoint, never to another origin a Location header named.
  bool authorise = true;
  if (!call.url.empty()) {
    auto [origin, path] = split_url(call.url);
    auto parsed = http::Endpoint::parse(origin);
    if (!parsed)
      co_return make_error(ProviderErrc::kInvalid,
                           call.operation + ": the upload session's URL does not parse");
    authorise = origin == endpoint_->origin;
    endpoint = std::move(*parsed);
    target = std::move(path);
  }
  Backoff backoff(options_.retry);
  bool token_renewed = false;
  for (int attempt = 1;; ++attempt) {
    http::Request request;
    request.method = call.method;
    request.target = target;
    if (authorise) {
      auto token = co_await options_.tokens->token();
      if (!token) co_return token.error();
      request.headers.emplace_back("Authorization", "Bearer " + token->value);
    }
    request.headers.insert(request.headers.end(), call.headers.begin(), call.headers.end());
    if (call.received && *call.received > 0)
      request.headers.emplace_back("Range", "bytes=" + std::to_string(*call.received) + "-");
    request.body = call.body;
    ++stats_.requests;
    const http::RequestOptions limit{options_.request_timeout};
    // Not a conditional expression: g++ 12 destroys a co_await's result in one twice.
    Result<http::Response> response = make_error(NetErrc::kClosed, "not sent");
    if (call.sink) {
      response = co_await client_.stream(endpoint, std::move(request), *call.sink, limit);
    } else {
      response = co_await client_.request(endpoint, std::move(request), limit);
    }
    Error error;
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      error =
          make_error(ProviderErrc::kTransient, call.operation + ": " + response.error().message());
    } else if ((response->status >= 200 && response->status < 300) ||
               has_status(accepted, response->status)) {
      co_return std::move(*response);
    } else {
      error = to_error(parse_gcs_error(response->status, response->body), call.operation);
      if (response->status == 401 && !token_renewed) {
        // An expired or revoked token: one more try with a fresh one.
        options_.tokens->invalidate();
        token_renewed = true;
        ++stats_.token_renewals;
        continue;
      }
    }
    if (error.code == make_error_code(ProviderErrc::kAuth)) options_.tokens->invalidate();
    const FailedAttempt failed{"gcs", call.operation, call.bucket, attempt, retry};
    if (!co_await try_again(error, failed, backoff, {stats_.retries, stats_.throttled}))
      co_return error;
  }
}

Task<Result<BucketAccess>> GcsStore::head_bucket(std::string bucket) {
  Call call{"buckets.get", "GET", bucket, gcs_bucket_target(bucket), "", {}, ""};
  // Named, not built in the co_await expression: g++ 12 mishandles such temporaries.
  std::vector<int> answers{403, 404};
  auto response = co_await send(std::move(call), std::move(answers));
  if (!response) co_return response.error();
  co_return bucket_access_of(response->status);
}

Task<Result<BucketCreation>> GcsStore::create_bucket(std::string bucket) {
  if (options_.project.empty()) {
    co_return make_error(ProviderErrc::kInvalid, "buckets.insert: no project to make bucket " +
                                                     bucket + " in (set gcp_project)");
  }
  Call call{"buckets.insert",
            "POST",
            bucket,
            gcs_bucket_insert_target(options_.project),
            "",
            {{"Content-Type", "application/json"}},
            gcs_bucket_insert_body(bucket, options_.location)};
  std::vector<int> answers{409};
  auto created = co_await send(std::move(call), std::move(answers));
  if (!created) co_return created.error();
  if (created->status != 409) {
    logger("gcs")->info("bucket created bucket={} project={}", bucket, options_.project);
    co_return BucketCreation::kCreated;
  }
  // 409 conflict says the name is taken, by these credentials' project or another: ask.
  auto access = co_await head_bucket(bucket);
  if (!access) co_return access.error();
  if (*access == BucketAccess::kMine) co_return BucketCreation::kAlreadyMine;
  co_return make_error(ProviderErrc::kInvalid,
                       "bucket name " + bucket +
                           " is taken: the bucket belongs to another project (bucket names are "
                           "global; choose another name)");
}

Task<Result<void>> GcsStore::delete_bucket(std::string bucket) {
  Call call{"buckets.delete", "DELETE", bucket, gcs_bucket_target(bucket), "", {}, ""};
  auto deleted = co_await send(std::move(call));
  if (!deleted) co_return deleted.error();
  logger("gcs")->info("bucket deleted bucket={}", bucket);
  co_return Result<void>{};
}

Task<Result<std::vector<ObjectInfo>>> GcsStore::list_objects(std::string bucket,
                                                             std::string prefix) {
  std::vector<ObjectInfo> out;
  std::string page_token;
  do {
    Call call{"objects.list",
              "GET",
              bucket,
              gcs_list_target(bucket, prefix, page_token, options_.list_page_size),
              "",
              {},
              ""};
    auto response = co_await send(std::move(call));
    if (!response) co_return response.error();
    auto page = parse_gcs_object_list(response->body);
    if (!page) co_return page.error();
    for (const auto& object : page->objects) out.push_back(to_object_info(object));
    page_token = std::move(page->next_page_token);
  } while (!page_token.empty());
  co_return out;
}

Task<Result<std::optional<ObjectHead>>> GcsStore::head_object(std::string bucket, std::string key) {
  Call call{"objects.get", "GET", bucket, gcs_object_target(bucket, key, false), "", {}, ""};
  std::vector<int> answers{404};
  auto response = co_await send(std::move(call), std::move(answers));
  if (!response) co_return response.error();
  if (response->status == 404) co_return std::optional<ObjectHead>();
  auto object = parse_gcs_object(response->body);
  if (!object) co_return object.error();
  co_return std::optional<ObjectHead>(to_object_head(*object));
}

Task<Result<TransferStats>> GcsStore::upload_file(std::string bucket, std::string key,
                                                  std::string path, UploadOptions options) {
  auto size = co_await file_size(path);
  if (!size) co_return size.error();
  if (*size <= options_.resumable_threshold)
    co_return co_await upload_small(std::move(bucket), std::move(key), std::move(path),
                                    std::move(options));
  co_return co_await upload_resumable(std::move(bucket), std::move(key), std::move(path),
                                      std::move(options));
}

Task<Result<TransferStats>> GcsStore::upload_small(std::string bucket, std::string key,
                                                   std::string path, UploadOptions options) {
  auto size = co_await file_size(path);
  if (!size) co_return size.error();
  auto piece = co_await read_piece(path, 0, *size);
  if (!piece) co_return piece.error();
  const MultipartBody multipart =
      gcs_multipart_body(gcs_object_resource(key, options.content_type, options.metadata),
                         options.content_type, piece->bytes);
  Call call{"objects.insert",
            "POST",
            bucket,
            gcs_upload_target(bucket, key, "multipart"),
            "",
            {{"Content-Type", multipart.content_type}},
            multipart.body};
  auto response = co_await send(std::move(call));
  if (!response) co_return response.error();
  if (auto object = parse_gcs_object(response->body); !object) co_return object.error();
  co_return TransferStats{*size, 1, false};
}

Task<Result<std::string>> GcsStore::start_session(std::string bucket, std::string key,
                                                  std::uint64_t size,
                                                  const UploadOptions& options) {
  Call call{"objects.insert (resumable)",
            "POST",
            bucket,
            gcs_upload_target(bucket, key, "resumable"),
            "",
            {{"Content-Type", "application/json; charset=UTF-8"},
             {"X-Upload-Content-Type", options.content_type},
             {"X-Upload-Content-Length", std::to_string(size)}},
            gcs_object_resource(key, options.content_type, options.metadata)};
  auto response = co_await send(std::move(call));
  if (!response) co_return response.error();
  const std::string* location = response->header("Location");
  if (!location || location->find("://") == std::string::npos) {
    co_return make_error(ProviderErrc::kTransient,
                         "objects.insert (resumable): the answer carries no session URI");
  }
  co_return *location;
}

Task<Result<std::optional<std::uint64_t>>> GcsStore::session_offset(std::string session,
                                                                    std::uint64_t size) {
  Call call{"objects.insert (resumable status)",
            "PUT",
            "",
            "",
            std::move(session),
            {{"Content-Range", gcs_status_query_range(size)}},
            ""};
  std::vector<int> answers{308, 404, 410};
  auto response = co_await send(std::move(call), std::move(answers));
  if (!response) co_return response.error();
  if (response->status == 404 || response->status == 410) co_return session_gone();
  if (response->status != 308) co_return std::optional<std::uint64_t>();  // already complete
  auto persisted = gcs_persisted_bytes(response->header("Range"));
  if (!persisted) co_return persisted.error();
  co_return std::optional<std::uint64_t>(*persisted);
}

Task<Result<void>> GcsStore::send_chunks(std::string path, std::shared_ptr<MultipartState> state,
                                         std::uint64_t offset, std::shared_ptr<TransferStats> sent,
                                         std::function<bool(const MultipartState&)> on_progress) {
  const std::uint64_t size = state->object_size;
  const std::uint64_t chunk = state->part_size;
  Backoff backoff(options_.retry);
  int failures = 0;
  while (offset < size) {
    const std::uint64_t length = std::min(chunk, size - offset);
    auto piece = co_await read_piece(path, offset, length);
    if (!piece) co_return piece.error();
    Call call{"objects.insert (resumable chunk)",
              "PUT",
              "",
              "",
              state->upload_id,
              {{"Content-Range", gcs_chunk_range(offset, length, size)}},
              std::move(piece->bytes)};
    std::vector<int> answers{308, 404, 410};
    // Not retried as it is: after a failure the session says how far it got, and the upload
    // goes on from there.
    auto response = co_await send(std::move(call), std::move(answers), false);
    if (!response) {
      const auto& error = response.error();
      const bool passing = error.code.category() == provider_category() &&
                           is_retryable(static_cast<ProviderErrc>(error.code.value()));
      if (!passing || !backoff.allows_attempt(++failures)) co_return error;
      ++stats_.retries;
      co_await sleep_for(backoff.next_delay());
      auto at = co_await session_offset(state->upload_id, size);
      if (!at) co_return at.error();
      if (!*at) co_return Result<void>{};  // the lost answer was the final one
      offset = **at;
      continue;
    }
    if (response->status == 404 || response->status == 410) co_return session_gone();
    std::uint64_t persisted = size;
    if (response->status == 308) {
      auto held = gcs_persisted_bytes(response->header("Range"));
      if (!held) co_return held.error();
      persisted = *held;
    }
    sent->bytes += persisted > offset ? persisted - offset : 0;
    ++sent->requests;
    ++stats_.chunks_sent;
    // Chunk n has landed once the session holds its last byte.
    for (auto n = static_cast<std::uint64_t>(state->parts.size()) + 1;
         (n - 1) * chunk < size && std::min(n * chunk, size) <= persisted; ++n) {
      state->parts.push_back({static_cast<int>(n), "bytes=0-" + std::to_string(persisted - 1)});
    }
    offset = persisted;
    if (response->status != 308) co_return Result<void>{};
    if (on_progress && !on_progress(*state)) co_return stopped_by_caller();
  }
  // Every byte is held but the object's final answer was not seen: ask for it.
  auto at = co_await session_offset(state->upload_id, size);
  if (!at) co_return at.error();
  if (*at) {
    co_return make_error(ProviderErrc::kTransient,
                         "objects.insert (resumable): the session holds every byte but did not "
                         "make the object");
  }
  co_return Result<void>{};
}

Task<Result<TransferStats>> GcsStore::upload_resumable(std::string bucket, std::string key,
                                                       std::string path, UploadOptions options) {
  auto size = co_await file_size(path);
  if (!size) co_return size.error();
  const bool resumable = options.resume && !options.resume->upload_id.empty() &&
                         options.resume->object_size == *size &&
                         options.resume->part_size == gcs_chunk_size(options.resume->part_size);
  auto state = std::make_shared<MultipartState>();
  auto sent = std::make_shared<TransferStats>();
  sent->multipart = true;
  for (int round = 0; round < 2; ++round) {
    std::uint64_t offset = 0;
    if (resumable && round == 0) {
      *state = *options.resume;
      auto at = co_await session_offset(state->upload_id, *size);
      if (!at && at.error().code == ProviderErrc::kNotFound) continue;  // expired: start over
      if (!at) co_return at.error();
      if (!*at) co_return *sent;  // it finished before the stop: nothing left to send
      offset = **at;
      // Only chunks the session holds whole stay listed.
      std::erase_if(state->parts, [&](const MultipartState::Part& part) {
        return static_cast<std::uint64_t>(part.number) * state->part_size > offset;
      });
    } else {
      auto session = co_await start_session(bucket, key, *size, options);
      if (!session) co_return session.error();
      *state = MultipartState{std::move(*session), *size, options_.chunk_size, {}};
      if (options.on_progress && !options.on_progress(*state)) co_return stopped_by_caller();
    }
    auto done = co_await send_chunks(path, state, offset, sent, options.on_progress);
    const bool lost =
        !done && resumable && round == 0 && done.error().code == ProviderErrc::kNotFound;
    if (lost) continue;
    if (!done) co_return done.error();
    logger("gcs")->info("resumable upload done bucket={} key={} chunks={} sent_bytes={}", bucket,
                        key, state->parts.size(), sent->bytes);
    co_return *sent;
  }
  co_return make_error(ProviderErrc::kTransient,
                       "objects.insert (resumable): the upload session was lost twice");
}

Task<Result<TransferStats>> GcsStore::download_file(std::string bucket, std::string key,
                                                    std::string path) {
  auto opened = co_await open_for_writing(path);
  if (!opened) co_return opened.error();
  OwnedFd file(*opened);
  TransferStats stats;
  std::optional<Error> write_failure;
  // Chunks (16 KiB at most) are written as they arrive: memory stays at one chunk.
  http::BodyChunkHandler on_chunk = [&](std::string_view chunk) {
    if (auto written = write_chunk_at(file.fd, stats.bytes, chunk); !written) {
      write_failure = written.error();
      return false;
    }
    stats.bytes += chunk.size();
    return true;
  };
  Call call{"objects.get (media)", "GET", bucket, gcs_object_target(bucket, key, true), "", {}, ""};
  call.sink = &on_chunk;
  call.received = &stats.bytes;
  auto response = co_await send(std::move(call));
  if (write_failure) co_return *write_failure;
  if (!response) co_return response.error();
  stats.requests = 1;
  co_return stats;
}

Task<Result<void>> GcsStore::delete_object(std::string bucket, std::string key) {
  Call call{"objects.delete", "DELETE", bucket, gcs_object_target(bucket, key, false), "", {}, ""};
  std::vector<int> answers{404};  // already gone: what was asked
  auto deleted = co_await send(std::move(call), std::move(answers));
  if (!deleted) co_return deleted.error();
  co_return Result<void>{};
}

Task<Result<void>> GcsStore::delete_objects(std::string bucket, std::vector<std::string> keys) {
  auto names = std::make_shared<std::vector<std::string>>(std::move(keys));
  PieceWork work = [this, bucket, names](std::size_t index) {
    return delete_object(bucket, (*names)[index]);
  };
  co_return co_await run_parallel(names->size(), options_.deletes_in_flight, std::move(work));
}

Task<Result<std::uint64_t>> GcsStore::empty_bucket(std::string bucket) {
  std::string everything;  // named: g++ 12 destroys temporaries in a co_await expression twice
  auto objects = co_await list_objects(bucket, everything);
  if (!objects) co_return objects.error();
  std::vector<std::string> keys;
  keys.reserve(objects->size());
  for (auto& object : *objects) keys.push_back(std::move(object.key));
  const auto count = static_cast<std::uint64_t>(keys.size());
  auto deleted = co_await delete_objects(bucket, std::move(keys));
  if (!deleted) co_return deleted.error();
  co_return count;
}

}  // namespace skyd::providers::storage
