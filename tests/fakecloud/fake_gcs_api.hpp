#pragma once
// Cloud Storage JSON API shapes fakecloud needs, as pure functions (unit-testable without a
// server): the bucket and object resources, Google's error body, bucket and object name rules,
// the Content-Range of a resumable upload's PUT, a download's Range, one page of an objects list
// (prefix, delimiter, maxResults, pageToken) and the parts of a multipart/related upload.

#include "reactor/error.hpp"
#include "reactor/http_types.hpp"
#include "reactor/json.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::fakecloud {

using SystemTime = std::chrono::system_clock::time_point;

struct GcsBucket {
  std::string name;
  std::string project;  // the project it was created in (id or number, as the call named it)
  std::string location = "US";
  std::string storage_class = "STANDARD";
  std::map<std::string, std::string> labels;
  SystemTime created;
  std::int64_t metageneration = 1;
};

struct GcsObject {
  std::string bucket;
  std::string name;
  std::int64_t generation = 0;
  std::int64_t metageneration = 1;
  std::int64_t size = 0;
  std::string content_type = "application/octet-stream";
  std::string content_encoding, content_disposition, content_language, cache_control;
  std::string storage_class = "STANDARD";
  std::string md5_base64, crc32c_base64;
  std::map<std::string, std::string> metadata;  // user metadata
  SystemTime created;
  std::string file;  // where its bytes are, under fakecloud's GCS directory
};

// "2026-12-02T06:30:00.123Z", as Cloud Storage writes times.
std::string gcs_time(SystemTime at);
// A project's number as its resources show it: a numeric project is its own number, an id gets a
// stable 12-digit one.
std::string gcs_project_number(std::string_view project);
// {"error":{"code","message","errors":[{"message","domain","reason"}]}}.
Json gcs_error_body(int code, std::string_view reason, std::string_view message);

// A Cloud Storage error answer (the body above).
http::Response gcs_error(int code, std::string_view reason, std::string_view message);

// ifGenerationMatch, ifGenerationNotMatch, ifMetagenerationMatch, ifMetagenerationNotMatch.
struct GcsPreconditions {
  std::optional<std::int64_t> generation_match, generation_not_match;
  std::optional<std::int64_t> metageneration_match, metageneration_not_match;
};
GcsPreconditions preconditions_of(const std::map<std::string, std::string>& query);

// `base_url` is where the client reached fakecloud ("http://127.0.0.1:PORT"): selfLink and
// mediaLink point back there, as Google's point at its own hosts.
Json bucket_resource(const GcsBucket& bucket, std::string_view base_url);
Json object_resource(const GcsObject& object, std::string_view base_url);
// An object's etag: changes with its generation and metageneration.
std::string object_etag(const GcsObject& object);
// Path-segment encoding of a name (every byte but unreserved ones escaped, '/' too).
std::string encode_path_segment(std::string_view name);
// Percent-decoding of a path (a '+' stays a '+').
std::string decode_path(std::string_view path);

// Why a bucket or object name is refused (Google's wording), or nullopt when it is fine.
std::optional<std::string> bucket_name_problem(std::string_view name);
std::optional<std::string> object_name_problem(std::string_view name);

// The writable fields of an insert's JSON object resource applied to `object` (name, contentType,
// metadata, contentEncoding, ...); read-only fields are ignored as Google ignores them, a name the
// Object resource does not have is refused. md5Hash/crc32c the client sent are returned to be
// checked against the bytes.
struct ClientChecksums {
  std::string md5_base64, crc32c_base64;
};
// An X-Goog-Hash header's values: "crc32c=BASE64,md5=BASE64" (either may be missing).
ClientChecksums parse_goog_hash(std::string_view header);
Result<ClientChecksums> apply_object_fields(const Json& resource, GcsObject& object);
// A bucket insert's resource: name, location, storageClass, labels (other Bucket fields are
// accepted and ignored; unknown names refused).
Result<GcsBucket> parse_bucket_resource(const Json& resource);

// A resumable upload PUT's Content-Range: "bytes FIRST-LAST/TOTAL", "bytes FIRST-LAST/*",
// "bytes */TOTAL" (a status query or an empty last chunk) or "bytes */*" (a status query).
struct UploadContentRange {
  std::optional<std::int64_t> first, last;  // unset: no bytes in this request
  std::optional<std::int64_t> total;        // unset: "*", the size is not known yet
};
Result<UploadContentRange> parse_upload_content_range(std::string_view header);

// A download's Range header against an object of `size` bytes: the whole object (no header or
// one Google ignores), bytes [first, last], or not satisfiable (416).
struct DownloadRange {
  enum class Kind { kWhole, kPartial, kUnsatisfiable };
  Kind kind = Kind::kWhole;
  std::int64_t first = 0, last = -1;  // inclusive; kPartial only
};
DownloadRange resolve_download_range(std::optional<std::string_view> header, std::int64_t size);

// One page of objects.list over the bucket's names (sorted). maxResults counts items and
// prefixes together; the page token is opaque (where the next page resumes).
struct ListQuery {
  std::string prefix, delimiter, page_token, start_offset, end_offset;
  std::int64_t max_results = 1000;
};
struct ListPage {
  std::vector<std::string> names;
  std::vector<std::string> prefixes;
  std::string next_page_token;  // empty on the last page
};
Result<ListPage> list_page(const std::vector<std::string>& sorted_names, const ListQuery& query);
// The same resumption for buckets.list (no prefixes).
std::string page_token_after(std::string_view last_name);
Result<std::string> page_token_start(std::string_view token);

// The parts of a multipart body of `subtype` ("multipart/related", "multipart/mixed"): each
// part's headers and where its content lies in the body.
struct MultipartPart {
  http::Headers headers;
  std::size_t offset = 0, size = 0;
};
Result<std::vector<MultipartPart>> parse_multipart(std::string_view content_type,
                                                   std::string_view subtype, std::string_view body);

// One request of a batch (POST /batch/storage/v1, multipart/mixed of application/http parts):
// "METHOD TARGET HTTP/1.1", headers, a blank line, a body; path and query filled in.
Result<http::Request> parse_batch_request(std::string_view text);
// One answer of a batch: its application/http part (Content-ID "response-" + the request's).
std::string batch_response_part(const http::Response& response, std::string_view content_id);

// A multipart/related upload: the JSON resource part and the media part (offsets into the body,
// which is not copied).
struct MultipartUpload {
  std::string resource_json;
  std::string media_content_type;
  std::size_t media_offset = 0, media_size = 0;
};
Result<MultipartUpload> parse_multipart_related(std::string_view content_type,
                                                std::string_view body);

}  // namespace skyd::fakecloud
