#pragma once
// The S3 REST API as pure functions: where a request goes (endpoint, path-style or
// virtual-hosted addressing, the encoded target), the XML bodies it sends, the XML it gets back,
// and the classification of its errors. No sockets, so each is unit-tested; s3_store.cpp does
// the I/O.

#include "providers/provider.hpp"
#include "providers/storage/object_store.hpp"
#include "reactor/error.hpp"
#include "reactor/http_types.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::providers::storage {

enum class S3Addressing {
  kAuto,           // virtual-hosted on AWS's own endpoint, path-style on a custom one
  kPath,           // https://endpoint/bucket/key
  kVirtualHosted,  // https://bucket.endpoint/key
};
std::string_view to_string(S3Addressing addressing);

// The endpoint URL: `explicit_url` when set, else AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL,
// else https://s3.REGION.amazonaws.com. `custom` says whether it is not AWS's own.
struct S3EndpointChoice {
  std::string url;
  bool custom = false;
};
S3EndpointChoice choose_s3_endpoint(
    const std::string& explicit_url, const std::string& region,
    const std::function<std::optional<std::string>(const char*)>& env);

// True when requests for `bucket` use virtual-hosted addressing: kAuto picks it on AWS's endpoint
// unless the name has a dot (a dotted name breaks the wildcard TLS certificate).
bool uses_virtual_host(S3Addressing addressing, bool custom_endpoint, std::string_view bucket);

// Where one request goes: the connection's endpoint, the Host header (which is signed), and the
// target (encoded path and query, as sent and as signed).
struct S3Address {
  http::Endpoint endpoint;
  std::string host;
  std::string target;
};
using S3Query = std::vector<std::pair<std::string, std::string>>;  // raw names and values
S3Address s3_address(const http::Endpoint& base, bool virtual_host, std::string_view bucket,
                     std::string_view key, const S3Query& query);

// --- bodies sent ---
// <CreateBucketConfiguration> with the LocationConstraint; empty for us-east-1 (S3 refuses it).
std::string create_bucket_body(std::string_view region);
std::string complete_multipart_body(std::vector<MultipartState::Part> parts);  // sorted here
std::string delete_objects_body(const std::vector<std::string>& keys);         // Quiet mode
inline constexpr std::size_t kMaxDeleteKeys = 1000;  // per DeleteObjects call
inline constexpr int kMaxParts = 10000;
inline constexpr std::uint64_t kMinPartSize = 5ull << 20;  // all parts but the last

// --- answers read ---
struct ListObjectsPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<ListObjectsPage> parse_list_objects_v2(std::string_view xml);
Result<std::string> parse_initiate_multipart(std::string_view xml);  // the upload id
// S3 may answer CompleteMultipartUpload with 200 and an <Error> body: that is an error here.
Result<std::string> parse_complete_multipart(std::string_view xml);  // the object's ETag
// The keys a (Quiet) DeleteObjects could not delete, with their errors; empty when all went.
struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};
Result<std::vector<DeleteFailure>> parse_delete_result(std::string_view xml);
// The object's size, ETag and x-amz-meta-* headers of a HEAD or GET response.
ObjectHead object_head_from(const http::Headers& headers);

// --- errors ---
struct S3Error {
  int http_status = 0;
  std::string code;  // "NoSuchBucket"; "HttpStatus<N>" when the body holds no <Error>
  std::string message;
  std::string request_id;
};
S3Error parse_s3_error(int http_status, std::string_view body);
// The one place S3 error codes become ProviderErrc: kNotFound (NoSuch*, 404), kAuth
// (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, expired tokens, 403), kThrottled
// (SlowDown, 503, 429), kTransient (InternalError, RequestTimeout, other 5xx), else kInvalid.
ProviderErrc classify_s3_error(int http_status, std::string_view code);
// The Error carrying the class and "operation: Code: message (HTTP n, request id)".
Error to_error(const S3Error& error, std::string_view operation);

}  // namespace skyd::providers::storage
