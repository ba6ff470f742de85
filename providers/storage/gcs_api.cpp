#include "providers/storage/gcs_api.hpp"

#include "providers/gcp/gce_api.hpp"
#include "reactor/crypto.hpp"
#include "reactor/json.hpp"
#include "reactor/numbers.hpp"

#include <algorithm>
#include <set>

namespace skyd::providers::storage {
namespace {

Error bad_answer(std::string_view what, std::string_view why) {
  return make_error(ProviderErrc::kTransient, "Cloud Storage answered " + std::string(what) +
                                                  " unreadably: " + std::string(why));
}

Result<GcsObject> object_from(const Json& resource) {
  if (!resource.is_object()) return bad_answer("an object", "not a JSON object");
  GcsObject out;
  out.name = string_at(resource, "name");
  if (out.name.empty()) return bad_answer("an object", "no name");
  const std::string size = string_at(resource, "size");
  if (!size.empty()) {
    auto parsed = parse_int64(size);
    if (!parsed || *parsed < 0) return bad_answer("object " + out.name, "size '" + size + "'");
    out.size = static_cast<std::uint64_t>(*parsed);
  }
  out.etag = string_at(resource, "etag");
  out.md5_hash = string_at(resource, "md5Hash");
  out.generation = string_at(resource, "generation");
  if (const Json* metadata = resource.find("metadata"); metadata && metadata->as_object()) {
    for (const auto& [name, value] : *metadata->as_object())
      if (auto text = value.as_string()) out.metadata[name] = std::string(*text);
  }
  return out;
}

}  // namespace

Result<GcsEndpoint> parse_gcs_endpoint(std::string_view url) {
  std::string origin(url);
  while (!origin.empty() && origin.back() == '/') origin.pop_back();
  const auto scheme = origin.find("://");
  if (scheme == std::string::npos || origin.find('/', scheme + 3) != std::string::npos) {
    return make_error(
        ProviderErrc::kInvalid,
        "the Cloud Storage endpoint `" + std::string(url) +
            "` must be a scheme, host and port only (https://storage.googleapis.com)");
  }
  auto endpoint = http::Endpoint::parse(origin);
  if (!endpoint) {
    return make_error(ProviderErrc::kInvalid, "the Cloud Storage endpoint `" + std::string(url) +
                                                  "`: " + endpoint.error().message());
  }
  return GcsEndpoint{std::move(origin), std::move(*endpoint)};
}

std::string gcs_bucket_target(std::string_view bucket) {
  return "/storage/v1/b/" + http::percent_encode(bucket);
}

std::string gcs_bucket_insert_target(std::string_view project) {
  return "/storage/v1/b?project=" + http::percent_encode(project);
}

std::string gcs_object_target(std::string_view bucket, std::string_view name, bool media) {
  return gcs_bucket_target(bucket) + "/o/" + http::percent_encode(name) +
         (media ? "?alt=media" : "");
}

std::string gcs_list_target(std::string_view bucket, std::string_view prefix,
                            std::string_view page_token, int max_results) {
  std::string target = gcs_bucket_target(bucket) + "/o?maxResults=" + std::to_string(max_results);
  if (!prefix.empty()) target += "&prefix=" + http::percent_encode(prefix);
  if (!page_token.empty()) target += "&pageToken=" + http::percent_encode(page_token);
  return target;
}

std::string gcs_upload_target(std::string_view bucket, std::string_view name,
                              std::string_view upload_type) {
  return "/upload/storage/v1/b/" + http::percent_encode(bucket) +
         "/o?uploadType=" + std::string(upload_type) + "&name=" + http::percent_encode(name);
}

std::string gcs_bucket_insert_body(std::string_view bucket, std::string_view location) {
  Json body = Json::object();
  body.set("name", bucket);
  if (!location.empty()) body.set("location", location);
  return body.dump();
}

std::string gcs_object_resource(std::string_view name, std::string_view content_type,
                                const std::map<std::string, std::string>& metadata) {
  Json body = Json::object();
  body.set("name", name);
  if (!content_type.empty()) body.set("contentType", content_type);
  if (!metadata.empty()) {
    Json user = Json::object();
    for (const auto& [key, value] : metadata) user.set(key, value);
    body.set("metadata", std::move(user));
  }
  return body.dump();
}

MultipartBody gcs_multipart_body(std::string_view resource_json, std::string_view media_type,
                                 std::string_view media) {
  // A boundary drawn from the media's own digest, lengthened until the media does not hold it.
  std::string boundary = "skyd-" + sha256_hex(media).substr(0, 24);
  while (media.find(boundary) != std::string_view::npos) boundary += "x";
  MultipartBody out;
  out.content_type = "multipart/related; boundary=" + boundary;
  out.body.reserve(media.size() + resource_json.size() + 3 * boundary.size() + 128);
  out.body += "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n";
  out.body += resource_json;
  out.body += "\r\n--" + boundary + "\r\nContent-Type: " + std::string(media_type) + "\r\n\r\n";
  out.body += media;
  out.body += "\r\n--" + boundary + "--\r\n";
  return out;
}

std::string gcs_chunk_range(std::uint64_t offset, std::uint64_t length, std::uint64_t total) {
  return "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) + "/" +
         std::to_string(total);
}

std::string gcs_status_query_range(std::uint64_t total) {
  return "bytes */" + std::to_string(total);
}

Result<std::uint64_t> gcs_persisted_bytes(const std::string* range_header) {
  if (!range_header || range_header->empty()) return std::uint64_t{0};
  const std::string_view text = *range_header;
  const auto dash = text.find('-');
  if (!text.starts_with("bytes=0-") || dash == std::string_view::npos)
    return bad_answer("a resumable upload's Range", "'" + std::string(text) + "'");
  auto last = parse_int64(text.substr(dash + 1));
  if (!last || *last < 0)
    return bad_answer("a resumable upload's Range", "'" + std::string(text) + "'");
  return static_cast<std::uint64_t>(*last) + 1;
}

std::uint64_t gcs_chunk_size(std::uint64_t wanted) {
  const std::uint64_t quanta = (wanted + kGcsChunkQuantum - 1) / kGcsChunkQuantum;
  return std::max<std::uint64_t>(quanta, 1) * kGcsChunkQuantum;
}

Result<GcsObject> parse_gcs_object(std::string_view json) {
  auto parsed = parse_json(json);
  if (!parsed) return bad_answer("an object", parsed.error().message());
  return object_from(*parsed);
}

Result<GcsObjectPage> parse_gcs_object_list(std::string_view json) {
  auto parsed = parse_json(json);
  if (!parsed || !parsed->is_object())
    return bad_answer("a list", parsed ? "not a JSON object" : parsed.error().message());
  GcsObjectPage page;
  page.next_page_token = string_at(*parsed, "nextPageToken");
  if (const Json* items = parsed->find("items"); items && items->as_array()) {
    for (const Json& item : *items->as_array()) {
      auto object = object_from(item);
      if (!object) return object.error();
      page.objects.push_back(std::move(*object));
    }
  }
  return page;
}

ObjectInfo to_object_info(const GcsObject& object) {
  return ObjectInfo{object.name, object.size, object.etag};
}

ObjectHead to_object_head(const GcsObject& object) {
  ObjectHead head;
  head.size = object.size;
  head.etag = object.etag;
  head.metadata = object.metadata;
  return head;
}

GcsError parse_gcs_error(int http_status, std::string_view body) {
  // Google's envelope is the same for every JSON API: Compute Engine's reader serves.
  gcp::GceError parsed = gcp::parse_error(http_status, body);
  return GcsError{parsed.http_status, std::move(parsed.reason), std::move(parsed.message)};
}

ProviderErrc classify_gcs_error(int http_status, std::string_view reason) {
  static const std::set<std::string_view> kThrottle = {"rateLimitExceeded",
                                                       "userRateLimitExceeded"};
  static const std::set<std::string_view> kAuthReasons = {
      "authError",       "forbidden",          "insufficientPermissions",
      "accountDisabled", "userProjectMissing", "accessNotConfigured",
      "required",        "unauthorized"};
  static const std::set<std::string_view> kTransientReasons = {"backendError", "internalError"};
  if (kThrottle.contains(reason) || http_status == 429) return ProviderErrc::kThrottled;
  if (reason == "notFound" || http_status == 404) return ProviderErrc::kNotFound;
  if (http_status == 401 || http_status == 403 || kAuthReasons.contains(reason))
    return ProviderErrc::kAuth;
  if (kTransientReasons.contains(reason) || http_status == 408 || http_status >= 500)
    return ProviderErrc::kTransient;
  return ProviderErrc::kInvalid;
}

Error to_error(const GcsError& error, std::string_view operation) {
  std::string detail = std::string(operation) + ": ";
  detail += error.reason.empty() ? "HTTP " + std::to_string(error.http_status) : error.reason;
  if (!error.message.empty()) detail += ": " + error.message;
  detail += " (HTTP " + std::to_string(error.http_status) + ")";
  return make_error(classify_gcs_error(error.http_status, error.reason), std::move(detail));
}

}  // namespace skyd::providers::storage
