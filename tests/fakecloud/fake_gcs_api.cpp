#include "tests/fakecloud/fake_gcs_api.hpp"

#include "providers/aws/ec2_api.hpp"
#include "reactor/crypto.hpp"
#include "reactor/http_types.hpp"
#include "reactor/utc_time.hpp"
#include "tests/fakecloud/fake_gce_api.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace skyd::fakecloud {
namespace {

namespace aws = providers::aws;

constexpr std::string_view kStorageApi = "/storage/v1/b/";

std::optional<std::int64_t> whole_number(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string text_of(const Json& value) {
  auto text = value.as_string();
  return text ? std::string(*text) : std::string();
}

Result<std::map<std::string, std::string>> string_map(const Json& value, std::string_view field) {
  std::map<std::string, std::string> out;
  if (value.is_null()) return out;
  if (!value.as_object())
    return invalid_argument("Invalid value for " + std::string(field) + ": expected an object");
  for (const auto& [key, item] : *value.as_object()) {
    if (item.is_null()) continue;  // a null value removes the key
    if (!item.as_string())
      return invalid_argument("Invalid value for " + std::string(field) + "." + key +
                              ": expected a string");
    out[key] = std::string(*item.as_string());
  }
  return out;
}

// "Name: value" lines (CRLF or LF) as headers.
http::Headers header_lines(std::string_view text) {
  http::Headers headers;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = trim(text.substr(0, eol));
    if (const auto colon = line.find(':'); colon != std::string_view::npos)
      headers.emplace_back(std::string(trim(line.substr(0, colon))),
                           std::string(trim(line.substr(colon + 1))));
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return headers;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

// The smallest string after every string that starts with `prefix`.
std::string after_prefix(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::string(4, '\xFF');
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

std::string gcs_time(SystemTime at) {
  const auto since = at.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(millis));
  return format_utc(static_cast<std::time_t>(seconds.count()), "%Y-%m-%dT%H:%M:%S") + fraction +
         "Z";
}

std::string gcs_project_number(std::string_view project) {
  if (whole_number(project)) return std::string(project);
  // 12 digits from the id's hash, never starting with 0.
  const std::string hex = sha256_hex(project).substr(0, 12);
  std::string digits;
  for (char c : hex)
    digits.push_back(static_cast<char>('0' + (std::isdigit(c) ? c - '0' : c - 'a')));
  if (digits.front() == '0') digits.front() = '1';
  return digits;
}

Json gcs_error_body(int code, std::string_view reason, std::string_view message) {
  Json body = Json::object();
  body.set("error", google_error(code, reason, message));
  return body;
}

http::Response gcs_error(int code, std::string_view reason, std::string_view message) {
  return http::Response::json(code, gcs_error_body(code, reason, message));
}

GcsPreconditions preconditions_of(const std::map<std::string, std::string>& query) {
  auto number = [&](const char* name) -> std::optional<std::int64_t> {
    auto found = query.find(name);
    if (found == query.end()) return std::nullopt;
    // A value that is not a number never holds (-1 is no generation).
    return whole_number(found->second).value_or(-1);
  };
  GcsPreconditions conditions;
  conditions.generation_match = number("ifGenerationMatch");
  conditions.generation_not_match = number("ifGenerationNotMatch");
  conditions.metageneration_match = number("ifMetagenerationMatch");
  conditions.metageneration_not_match = number("ifMetagenerationNotMatch");
  return conditions;
}

std::string encode_path_segment(std::string_view name) {
  return http::percent_encode(name);
}

std::string decode_path(std::string_view path) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2])));
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

Json bucket_resource(const GcsBucket& bucket, std::string_view base_url) {
  Json out = Json::object();
  out.set("kind", "storage#bucket");
  out.set("selfLink", std::string(base_url) + std::string(kStorageApi) + bucket.name);
  out.set("id", bucket.name);
  out.set("name", bucket.name);
  out.set("projectNumber", gcs_project_number(bucket.project));
  out.set("metageneration", std::to_string(bucket.metageneration));
  out.set("location", bucket.location);
  out.set("storageClass", bucket.storage_class);
  out.set("etag", aws::base64_encode(
                      "\x08" + std::string(1, static_cast<char>(bucket.metageneration & 0x7F))));
  out.set("timeCreated", gcs_time(bucket.created));
  out.set("updated", gcs_time(bucket.created));
  Json disabled = Json::object();
  disabled.set("enabled", false);
  Json iam = Json::object();
  iam.set("bucketPolicyOnly", disabled);
  iam.set("uniformBucketLevelAccess", disabled);
  iam.set("publicAccessPrevention", "inherited");
  out.set("iamConfiguration", std::move(iam));
  out.set("locationType",
          bucket.location.find('-') == std::string::npos ? "multi-region" : "region");
  if (!bucket.labels.empty()) {
    Json labels = Json::object();
    for (const auto& [key, value] : bucket.labels) labels.set(key, value);
    out.set("labels", std::move(labels));
  }
  out.set("rpo", "DEFAULT");
  return out;
}

std::string object_etag(const GcsObject& object) {
  // Google's is a small protobuf of the generation and metageneration; any value that changes
  // with both will do.
  return aws::base64_encode(
      md5_raw(std::to_string(object.generation) + "/" + std::to_string(object.metageneration))
          .substr(0, 8));
}

Json object_resource(const GcsObject& object, std::string_view base_url) {
  const std::string name = encode_path_segment(object.name);
  const std::string generation = std::to_string(object.generation);
  Json out = Json::object();
  out.set("kind", "storage#object");
  out.set("id", object.bucket + "/" + object.name + "/" + generation);
  out.set("selfLink",
          std::string(base_url) + std::string(kStorageApi) + object.bucket + "/o/" + name);
  out.set("mediaLink", std::string(base_url) + "/download" + std::string(kStorageApi) +
                           object.bucket + "/o/" + name + "?generation=" + generation +
                           "&alt=media");
  out.set("name", object.name);
  out.set("bucket", object.bucket);
  out.set("generation", generation);
  out.set("metageneration", std::to_string(object.metageneration));
  out.set("contentType", object.content_type);
  if (!object.content_encoding.empty()) out.set("contentEncoding", object.content_encoding);
  if (!object.content_disposition.empty())
    out.set("contentDisposition", object.content_disposition);
  if (!object.content_language.empty()) out.set("contentLanguage", object.content_language);
  if (!object.cache_control.empty()) out.set("cacheControl", object.cache_control);
  out.set("storageClass", object.storage_class);
  out.set("size", std::to_string(object.size));
  out.set("md5Hash", object.md5_base64);
  out.set("crc32c", object.crc32c_base64);
  out.set("etag", object_etag(object));
  out.set("timeCreated", gcs_time(object.created));
  out.set("updated", gcs_time(object.created));
  out.set("timeStorageClassUpdated", gcs_time(object.created));
  if (!object.metadata.empty()) {
    Json metadata = Json::object();
    for (const auto& [key, value] : object.metadata) metadata.set(key, value);
    out.set("metadata", std::move(metadata));
  }
  return out;
}

std::optional<std::string> bucket_name_problem(std::string_view name) {
  const std::string message = "Invalid bucket name: '" + std::string(name) + "'";
  if (name.size() < 3 || name.size() > 222) return message;
  const bool dotted = name.find('.') != std::string_view::npos;
  if (!dotted && name.size() > 63) return message;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return message;
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(name.front()) || !alnum(name.back())) return message;
  if (name.starts_with("goog") || name.find("google") != std::string_view::npos) return message;
  return std::nullopt;
}

std::optional<std::string> object_name_problem(std::string_view name) {
  if (name.empty()) return "Required";
  if (name.size() > 1024)
    return "The maximum object length is 1024 characters, but got a name "
           "with " +
           std::to_string(name.size()) + " characters: ''" + std::string(name.substr(0, 64)) +
           "...''";
  if (name == "." || name == ".." || name.find('\r') != std::string_view::npos ||
      name.find('\n') != std::string_view::npos)
    return "Invalid object name: '" + std::string(name) + "'";
  return std::nullopt;
}

ClientChecksums parse_goog_hash(std::string_view header) {
  ClientChecksums checksums;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
    // Base64 ends in '=': split at the first one only.
    if (const auto eq = item.find('='); eq != std::string_view::npos) {
      const std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
      if (name == "md5") checksums.md5_base64 = std::string(value);
      if (name == "crc32c") checksums.crc32c_base64 = std::string(value);
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return checksums;
}

Result<ClientChecksums> apply_object_fields(const Json& resource, GcsObject& object) {
  static const std::set<std::string, std::less<>> kReadOnly = {"kind",
                                                               "id",
                                                               "selfLink",
                                                               "mediaLink",
                                                               "bucket",
                                                               "generation",
                                                               "metageneration",
                                                               "size",
                                                               "componentCount",
                                                               "etag",
                                                               "timeCreated",
                                                               "updated",
                                                               "timeDeleted",
                                                               "timeStorageClassUpdated",
                                                               "owner",
                                                               "softDeleteTime",
                                                               "hardDeleteTime",
                                                               "retentionExpirationTime",
                                                               "acl",
                                                               "kmsKeyName",
                                                               "customerEncryption",
                                                               "temporaryHold",
                                                               "eventBasedHold",
                                                               "retention",
                                                               "customTime",
                                                               "storageClass"};
  ClientChecksums checksums;
  if (resource.is_null()) return checksums;
  if (!resource.as_object()) return invalid_argument("Invalid JSON payload: expected an object");
  for (const auto& [key, value] : *resource.as_object()) {
    if (key == "name") {
      object.name = text_of(value);
    } else if (key == "contentType") {
      object.content_type = text_of(value);
    } else if (key == "contentEncoding") {
      object.content_encoding = text_of(value);
    } else if (key == "contentDisposition") {
      object.content_disposition = text_of(value);
    } else if (key == "contentLanguage") {
      object.content_language = text_of(value);
    } else if (key == "cacheControl") {
      object.cache_control = text_of(value);
    } else if (key == "metadata") {
      auto metadata = string_map(value, "metadata");
      if (!metadata) return metadata.error();
      object.metadata = std::move(*metadata);
    } else if (key == "md5Hash") {
      checksums.md5_base64 = text_of(value);
    } else if (key == "crc32c") {
      checksums.crc32c_base64 = text_of(value);
    } else if (!kReadOnly.contains(key)) {
      return invalid_argument("Invalid JSON payload received. Unknown name \"" + key +
                              "\": Cannot find field.");
    }
  }
  return checksums;
}

Result<GcsBucket> parse_bucket_resource(const Json& resource) {
  static const std::set<std::string, std::less<>> kIgnored = {"kind",
                                                              "id",
                                                              "selfLink",
                                                              "projectNumber",
                                                              "metageneration",
                                                              "etag",
                                                              "timeCreated",
                                                              "updated",
                                                              "iamConfiguration",
                                                              "versioning",
                                                              "lifecycle",
                                                              "cors",
                                                              "logging",
                                                              "website",
                                                              "acl",
                                                              "defaultObjectAcl",
                                                              "owner",
                                                              "encryption",
                                                              "billing",
                                                              "retentionPolicy",
                                                              "defaultEventBasedHold",
                                                              "rpo",
                                                              "locationType",
                                                              "autoclass",
                                                              "softDeletePolicy",
                                                              "hierarchicalNamespace",
                                                              "customPlacementConfig",
                                                              "satisfiesPZS",
                                                              "objectRetention"};
  if (!resource.as_object()) return invalid_argument("Invalid JSON payload: expected an object");
  GcsBucket bucket;
  for (const auto& [key, value] : *resource.as_object()) {
    if (key == "name") {
      bucket.name = text_of(value);
    } else if (key == "location") {
      bucket.location = text_of(value);
      std::transform(bucket.location.begin(), bucket.location.end(), bucket.location.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    } else if (key == "storageClass") {
      bucket.storage_class = text_of(value);
    } else if (key == "labels") {
      auto labels = string_map(value, "labels");
      if (!labels) return labels.error();
      bucket.labels = std::move(*labels);
    } else if (!kIgnored.contains(key)) {
      return invalid_argument("Invalid JSON payload received. Unknown name \"" + key +
                              "\": Cannot find field.");
    }
  }
  if (bucket.name.empty()) return invalid_argument("Required");
  return bucket;
}

Result<UploadContentRange> parse_upload_content_range(std::string_view header) {
  const std::string bad = "Failed to parse Content-Range header.";
  std::string_view text = trim(header);
  if (!text.starts_with("bytes ")) return invalid_argument(bad);
  text.remove_prefix(6);
  text = trim(text);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return invalid_argument(bad);
  const std::string_view span = text.substr(0, slash), total = text.substr(slash + 1);
  UploadContentRange range;
  if (total != "*") {
    range.total = whole_number(total);
    if (!range.total) return invalid_argument(bad);
  }
  if (span != "*") {
    const auto dash = span.find('-');
    if (dash == std::string_view::npos) return invalid_argument(bad);
    range.first = whole_number(span.substr(0, dash));
    if (!range.first) return invalid_argument(bad);
    // "FIRST-*": up to the end of this request's body (Google's Node client sends it).
    if (const std::string_view last = span.substr(dash + 1); last != "*") {
      range.last = whole_number(last);
      if (!range.last || *range.last < *range.first) return invalid_argument(bad);
      if (range.total && *range.last >= *range.total) return invalid_argument(bad);
    }
  }
  return range;
}

DownloadRange resolve_download_range(std::optional<std::string_view> header, std::int64_t size) {
  DownloadRange whole;
  if (!header) return whole;
  std::string_view text = trim(*header);
  if (!text.starts_with("bytes=")) return whole;
  text.remove_prefix(6);
  // One range only; a list of ranges is answered with the whole object, as Google does.
  if (text.find(',') != std::string_view::npos) return whole;
  text = trim(text);
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view from = text.substr(0, dash), to = text.substr(dash + 1);
  DownloadRange range;
  range.kind = DownloadRange::Kind::kPartial;
  if (from.empty()) {  // the last N bytes
    auto suffix = whole_number(to);
    if (!suffix) return whole;
    if (*suffix == 0 || size == 0) return {DownloadRange::Kind::kUnsatisfiable, 0, -1};
    range.first = std::max<std::int64_t>(0, size - *suffix);
    range.last = size - 1;
    return range;
  }
  auto first = whole_number(from);
  if (!first) return whole;
  std::optional<std::int64_t> last =
      to.empty() ? std::optional<std::int64_t>(*first) : whole_number(to);
  if (!last || *last < *first) return whole;
  if (*first >= size) return {DownloadRange::Kind::kUnsatisfiable, 0, -1};
  if (to.empty()) last = size - 1;
  range.first = *first;
  range.last = std::min(*last, size - 1);
  return range;
}

std::string page_token_after(std::string_view last_name) {
  return aws::base64_encode(std::string(last_name) + std::string(1, '\0'));
}

Result<std::string> page_token_start(std::string_view token) {
  auto decoded = aws::base64_decode(token);
  if (!decoded) return invalid_argument("Invalid argument: pageToken");
  return *decoded;
}

Result<ListPage> list_page(const std::vector<std::string>& sorted_names, const ListQuery& query) {
  if (query.max_results <= 0) return invalid_argument("Invalid argument: maxResults");
  std::string start = query.prefix;
  if (!query.page_token.empty()) {
    auto from = page_token_start(query.page_token);
    if (!from) return from.error();
    start = std::max(start, *from);
  }
  if (!query.start_offset.empty()) start = std::max(start, query.start_offset);
  ListPage page;
  auto it = std::lower_bound(sorted_names.begin(), sorted_names.end(), start);
  std::int64_t entries = 0;
  std::string resume;  // where the page after this entry starts
  for (; it != sorted_names.end();) {
    const std::string& name = *it;
    if (!name.starts_with(query.prefix)) break;
    if (!query.end_offset.empty() && name >= query.end_offset) break;
    if (entries == query.max_results) {
      page.next_page_token = aws::base64_encode(resume);
      break;
    }
    const auto cut = query.delimiter.empty() ? std::string::npos
                                             : name.find(query.delimiter, query.prefix.size());
    if (cut == std::string::npos) {
      page.names.push_back(name);
      resume = name + std::string(1, '\0');
      ++it;
    } else {
      std::string prefix = name.substr(0, cut + query.delimiter.size());
      resume = after_prefix(prefix);
      page.prefixes.push_back(std::move(prefix));
      it = std::lower_bound(it, sorted_names.end(), resume);
    }
    ++entries;
  }
  return page;
}

Result<std::vector<MultipartPart>> parse_multipart(std::string_view content_type,
                                                   std::string_view subtype,
                                                   std::string_view body) {
  const std::string type = lowercase(content_type);
  if (!type.starts_with(subtype))
    return invalid_argument("Bad content type. Please use " + std::string(subtype) + ".");
  const auto at = type.find("boundary=");
  if (at == std::string::npos) return invalid_argument("Missing boundary in multipart body.");
  std::string_view boundary = content_type.substr(at + 9);
  boundary = boundary.substr(0, boundary.find(';'));
  boundary = trim(boundary);
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<MultipartPart> parts;
  std::size_t position = body.find(delimiter);
  if (position == std::string_view::npos)
    return invalid_argument("Missing boundary in multipart body.");
  for (;;) {
    std::size_t start = position + delimiter.size();
    if (body.substr(start, 2) == "--") break;  // the closing delimiter
    if (body.substr(start, 2) == "\r\n")
      start += 2;
    else if (body.substr(start, 1) == "\n")
      start += 1;
    const std::size_t next = body.find(delimiter, start);
    if (next == std::string_view::npos)
      return invalid_argument("Missing end boundary in multipart body.");
    std::size_t end = next;
    if (end >= 2 && body.substr(end - 2, 2) == "\r\n")
      end -= 2;
    else if (end >= 1 && body[end - 1] == '\n')
      end -= 1;
    std::string_view part = body.substr(start, end > start ? end - start : 0);
    // Headers, a blank line, the content (a part without headers starts with the blank line).
    std::size_t blank = 0, skip = 0;
    if (part.starts_with("\r\n")) {
      skip = 2;
    } else if ((blank = part.find("\r\n\r\n")) != std::string_view::npos) {
      skip = 4;
    } else {
      return invalid_argument(
          "Malformed multipart body: a part has no blank line after its headers");
    }
    MultipartPart parsed;
    parsed.headers = header_lines(part.substr(0, blank));
    parsed.offset = start + blank + skip;
    parsed.size = part.size() - blank - skip;
    parts.push_back(std::move(parsed));
    position = next;
  }
  return parts;
}

Result<MultipartUpload> parse_multipart_related(std::string_view content_type,
                                                std::string_view body) {
  auto parts = parse_multipart(content_type, "multipart/related", body);
  if (!parts) return parts.error();
  if (parts->size() != 2)
    return invalid_argument("Multipart upload has " + std::to_string(parts->size()) +
                            " parts; it must have 2 (metadata and media)");
  MultipartUpload upload;
  const MultipartPart& resource = (*parts)[0];
  const MultipartPart& media = (*parts)[1];
  upload.resource_json = std::string(body.substr(resource.offset, resource.size));
  if (const std::string* type = http::find_header(media.headers, "Content-Type"))
    upload.media_content_type = *type;
  upload.media_offset = media.offset;
  upload.media_size = media.size;
  return upload;
}

Result<http::Request> parse_batch_request(std::string_view text) {
  const auto line_end = text.find('\n');
  std::string_view line = trim(text.substr(0, line_end));
  const auto space = line.find(' ');
  const auto second = space == std::string_view::npos ? space : line.find(' ', space + 1);
  if (space == std::string_view::npos)
    return invalid_argument("Malformed batch request line: '" + std::string(line) + "'");
  http::Request request;
  request.method = std::string(line.substr(0, space));
  request.target = std::string(line.substr(
      space + 1, second == std::string_view::npos ? std::string_view::npos : second - space - 1));
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view() : text.substr(line_end + 1);
  std::size_t blank = rest.find("\r\n\r\n"), skip = 4;
  if (rest.starts_with("\r\n")) {
    blank = 0;
    skip = 2;
  }
  request.headers = header_lines(rest.substr(0, blank));
  if (blank != std::string_view::npos) request.body = std::string(rest.substr(blank + skip));
  auto [path, query] = http::split_target(request.target);
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

std::string batch_response_part(const http::Response& response, std::string_view content_id) {
  std::string part = "Content-Type: application/http\r\n";
  if (!content_id.empty()) {
    std::string_view id = content_id;
    if (id.starts_with("<") && id.ends_with(">")) id = id.substr(1, id.size() - 2);
    part += "Content-ID: <response-" + std::string(id) + ">\r\n";
  }
  part += "\r\nHTTP/1.1 " + std::to_string(response.status) + " " +
          std::string(reason_phrase(response.status)) + "\r\n";
  for (const auto& [name, value] : response.headers) part += name + ": " + value + "\r\n";
  part += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  part += response.body;
  return part;
}

}  // namespace skyd::fakecloud
