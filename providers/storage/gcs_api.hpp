#pragma once
// Cloud Storage's JSON API as pure functions: where each call goes (the API and upload paths,
// object names percent-encoded whole, '/' included), the JSON it sends (bucket and object
// resources, multipart/related bodies), what comes back (objects, lists, a resumable upload's
// 308 Range), and the classification of Google's error envelope. No sockets, so each is
// unit-tested; gcs_store.cpp does the I/O.

#include "providers/provider.hpp"
#include "providers/storage/object_store.hpp"
#include "reactor/error.hpp"
#include "reactor/http_types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::providers::storage {

inline constexpr std::string_view kGcsDefaultEndpoint = "https://storage.googleapis.com";
// A resumable upload's chunks are multiples of this (all but the last).
inline constexpr std::uint64_t kGcsChunkQuantum = 256u << 10;

// The endpoint's origin ("https://storage.googleapis.com", "http://127.0.0.1:4443"); a path
// after it is refused (the JSON API's paths are fixed). kInvalid naming the URL otherwise.
struct GcsEndpoint {
  std::string origin;
  http::Endpoint endpoint;
};
Result<GcsEndpoint> parse_gcs_endpoint(std::string_view url);

// --- where calls go (targets: path and query, encoded) ---
std::string gcs_bucket_target(std::string_view bucket);          // buckets.get / delete
std::string gcs_bucket_insert_target(std::string_view project);  // buckets.insert
std::string gcs_object_target(std::string_view bucket, std::string_view name,
                              bool media);  // objects.get / delete
std::string gcs_list_target(std::string_view bucket, std::string_view prefix,
                            std::string_view page_token, int max_results);  // objects.list
// objects.insert on the upload path: uploadType is "media", "multipart" or "resumable".
std::string gcs_upload_target(std::string_view bucket, std::string_view name,
                              std::string_view upload_type);

// --- bodies sent ---
// {"name":..., "location":...} (location omitted when empty: Google's default, US).
std::string gcs_bucket_insert_body(std::string_view bucket, std::string_view location);
// The object resource an upload carries: name, contentType and user metadata.
std::string gcs_object_resource(std::string_view name, std::string_view content_type,
                                const std::map<std::string, std::string>& metadata);
// A multipart/related body (uploadType=multipart): the resource as JSON, then the media. The
// boundary is chosen not to occur in the media; `content_type` is the request's header value.
struct MultipartBody {
  std::string content_type;
  std::string body;
};
MultipartBody gcs_multipart_body(std::string_view resource_json, std::string_view media_type,
                                 std::string_view media);

// A chunk's Content-Range: "bytes FIRST-LAST/TOTAL"; a status query's: "bytes */TOTAL".
std::string gcs_chunk_range(std::uint64_t offset, std::uint64_t length, std::uint64_t total);
std::string gcs_status_query_range(std::uint64_t total);
// How many bytes a 308 Resume Incomplete says the session holds: its Range header is
// "bytes=0-LAST"; no header means none. kInvalid for a header that is not that shape.
Result<std::uint64_t> gcs_persisted_bytes(const std::string* range_header);
// The chunk size to use: `wanted` rounded up to a multiple of 256 KiB (at least one quantum).
std::uint64_t gcs_chunk_size(std::uint64_t wanted);

// --- answers read ---
struct GcsObject {
  std::string name;
  std::uint64_t size = 0;  // the JSON API sends it as a decimal string
  std::string etag;
  std::string md5_hash;  // base64, as sent
  std::string generation;
  std::map<std::string, std::string> metadata;  // user metadata
};
Result<GcsObject> parse_gcs_object(std::string_view json);
struct GcsObjectPage {
  std::vector<GcsObject> objects;
  std::string next_page_token;  // empty on the last page
};
Result<GcsObjectPage> parse_gcs_object_list(std::string_view json);
ObjectInfo to_object_info(const GcsObject& object);
ObjectHead to_object_head(const GcsObject& object);

// --- errors ---
struct GcsError {
  int http_status = 0;
  std::string reason;  // errors[0].reason: notFound, conflict, forbidden, rateLimitExceeded, ...
  std::string message;
};
// The error of a non-2xx response; a body that is not Google's envelope (a proxy's page) gives
// only the status and the start of the body.
GcsError parse_gcs_error(int http_status, std::string_view body);
// The one place Cloud Storage's answers become ProviderErrc: kNotFound (notFound, 404), kAuth
// (401, 403: forbidden, insufficientPermissions, ...), kThrottled (429, rateLimitExceeded,
// userRateLimitExceeded), kTransient (408, backendError, internalError, 5xx), else kInvalid
// (409 conflict, 412 conditionNotMet, 400 invalid, ...).
ProviderErrc classify_gcs_error(int http_status, std::string_view reason);
// The Error carrying the class and "operation: reason: message (HTTP n)".
Error to_error(const GcsError& error, std::string_view operation);

}  // namespace skyd::providers::storage
