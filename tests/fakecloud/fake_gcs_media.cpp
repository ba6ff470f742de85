// Cloud Storage's media side: object inserts (media, multipart, resumable sessions with their
// chunks, status queries and cancels) and downloads (alt=media, Range). Bytes go to files as they
// arrive and come back in pieces; nothing holds a whole object in memory.
#include "providers/aws/ec2_api.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/utc_time.hpp"
#include "tests/fakecloud/fake_gcs.hpp"

#include <filesystem>
#include <fstream>

namespace skyd::fakecloud {
namespace {

namespace fs = std::filesystem;

// Every chunk of a resumable upload but the last is a multiple of this (Google persists only
// whole multiples of it and refuses a smaller non-final chunk).
constexpr std::int64_t kChunkGranularity = 256 * 1024;
// Downloads up to this size go out in one body with a Content-Length; larger ones are streamed.
constexpr std::int64_t kInlineDownload = 1 << 20;
constexpr std::size_t kReadPiece = 256 * 1024;

std::string header_or(const http::Request& request, std::string_view name, std::string fallback) {
  const std::string* value = request.header(name);
  return value && !value->empty() ? *value : fallback;
}

// The checksums a client sends in X-Goog-Hash ("crc32c=…,md5=…"), to be checked against the
// bytes; the resource's own md5Hash/crc32c, when given, stay.
void add_goog_hash(const http::Request& request, ClientChecksums& expected) {
  const std::string* header = request.header("X-Goog-Hash");
  if (!header) return;
  const ClientChecksums sent = parse_goog_hash(*header);
  if (expected.md5_base64.empty()) expected.md5_base64 = sent.md5_base64;
  if (expected.crc32c_base64.empty()) expected.crc32c_base64 = sent.crc32c_base64;
}

std::string http_date(SystemTime at) {
  return format_utc(std::chrono::system_clock::to_time_t(at), "%a, %d %b %Y %H:%M:%S GMT");
}

Task<void> send_file(std::shared_ptr<std::ifstream> in, std::int64_t length,
                     http::ResponseStream& out) {
  while (length > 0) {
    std::string piece(static_cast<std::size_t>(std::min<std::int64_t>(length, kReadPiece)), '\0');
    in->read(piece.data(), static_cast<std::streamsize>(piece.size()));
    const auto got = in->gcount();
    if (got <= 0) co_return;
    piece.resize(static_cast<std::size_t>(got));
    length -= got;
    if (!co_await out.write(std::move(piece))) co_return;
  }
}

// Appends to the upload's file and its checksums; false when the disk refuses.
bool append(const std::string& file, std::string_view bytes, Crc32c& crc32c, Md5& md5) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) return false;
  crc32c.update(bytes);
  md5.update(bytes);
  return true;
}

}  // namespace

http::Response FakeGcs::insert_object(Call& call, http::Request& request) {
  http::Response error;
  if (!bucket_for(call, "storage.objects.create", error)) return error;
  const bool upload_path = request.target.starts_with("/upload/");
  const std::string upload_type(request.query_param("uploadType").value_or(""));
  if (upload_path && upload_type != "media" && upload_type != "multipart" &&
      upload_type != "resumable")
    return gcs_error(400, "invalid",
                     upload_type.empty()
                         ? "Upload requests must include an uploadType URL parameter and a "
                           "URL-encoded object name."
                         : "Invalid upload type: " + upload_type);
  GcsObject draft;
  draft.bucket = call.bucket;
  ClientChecksums expected;
  std::string_view media;
  auto apply_json = [&](std::string_view text) -> std::optional<http::Response> {
    if (text.empty()) return std::nullopt;
    auto json = parse_json(text);
    if (!json) return gcs_error(400, "parseError", "Parse Error");
    auto checksums = apply_object_fields(*json, draft);
    if (!checksums) return gcs_error(400, "invalid", checksums.error().detail);
    expected = *checksums;
    return std::nullopt;
  };
  if (!upload_path || upload_type == "resumable") {
    if (auto bad = apply_json(request.body)) return *bad;
  } else if (upload_type == "media") {
    draft.content_type = header_or(request, "Content-Type", draft.content_type);
    media = request.body;
  } else {
    auto parts = parse_multipart_related(header_or(request, "Content-Type", ""), request.body);
    if (!parts) return gcs_error(400, "invalid", parts.error().detail);
    if (!parts->media_content_type.empty()) draft.content_type = parts->media_content_type;
    if (auto bad = apply_json(parts->resource_json)) return *bad;
    media = std::string_view(request.body).substr(parts->media_offset, parts->media_size);
  }
  if (auto name = request.query_param("name"); name && !name->empty()) draft.name = *name;
  if (auto problem = object_name_problem(draft.name))
    return gcs_error(400, *problem == "Required" ? "required" : "invalid", *problem);
  call.object = draft.name;
  if (upload_type == "resumable")
    return start_resumable(call, request, std::move(draft), std::move(expected));

  Upload upload;
  upload.draft = std::move(draft);
  upload.expected = std::move(expected);
  add_goog_hash(request, upload.expected);
  upload.preconditions = preconditions_of(request.query);
  upload.file = new_file("uploads");
  std::ofstream(upload.file, std::ios::binary | std::ios::trunc).close();
  if (!append(upload.file, media, upload.crc32c, upload.md5))
    return gcs_error(503, "backendError", "Backend Error");
  upload.persisted = static_cast<std::int64_t>(media.size());
  http::Response response = finish(call, upload);
  if (response.status != 200) {
    std::error_code ignored;
    fs::remove(upload.file, ignored);
  }
  return response;
}

http::Response FakeGcs::start_resumable(const Call& call, const http::Request& request,
                                        GcsObject draft, ClientChecksums expected) {
  auto upload = std::make_unique<Upload>();
  upload->id = "ADPyc" + random_hex(32);  // opaque, as Google's upload ids
  upload->account = call.account;
  if (const std::string* type = request.header("X-Upload-Content-Type");
      type && !type->empty() && draft.content_type == GcsObject().content_type)
    draft.content_type = *type;
  if (const std::string* length = request.header("X-Upload-Content-Length")) {
    try {
      upload->declared_size = std::stoll(*length);
    } catch (const std::exception&) {
      return gcs_error(400, "invalid", "Invalid X-Upload-Content-Length: " + *length);
    }
  }
  upload->draft = std::move(draft);
  upload->expected = std::move(expected);
  upload->preconditions = preconditions_of(request.query);
  // The preconditions are checked at the start too, as Google does.
  const Bucket& bucket = buckets_.at(call.bucket);
  const auto current = bucket.objects.find(upload->draft.name);
  if (auto failed = check(upload->preconditions,
                          current == bucket.objects.end() ? nullptr : &current->second))
    return *failed;
  upload->file = new_file("uploads");
  std::ofstream(upload->file, std::ios::binary | std::ios::trunc).close();
  const std::string location =
      call.base_url + "/upload/storage/v1/b/" + call.bucket +
      "/o?uploadType=resumable&name=" + encode_path_segment(upload->draft.name) +
      "&upload_id=" + upload->id;
  http::Response response = http::Response::text(200, "", "text/plain; charset=utf-8");
  response.set_header("Location", location);
  response.set_header("X-GUploader-UploadID", upload->id);
  logger("fakecloud")
      ->info("gcs resumable upload started bucket={} object=\"{}\" upload_id={}", call.bucket,
             upload->draft.name, upload->id);
  uploads_[upload->id] = std::move(upload);
  return response;
}

http::Response FakeGcs::incomplete(const Upload& upload, const http::Request& request) const {
  // Go's client asks for "X-GUploader-No-308: yes": then Google answers 200 and says 308 in a
  // header instead (Go's HTTP stack would take a 308 for a redirect).
  const std::string* no_308 = request.header("X-GUploader-No-308");
  const bool override_status = no_308 && *no_308 == "yes";
  http::Response response =
      http::Response::text(override_status ? 200 : 308, "", "text/plain; charset=utf-8");
  if (override_status) response.set_header("X-Http-Status-Code-Override", "308");
  // No Range header: nothing persisted yet.
  if (upload.persisted > 0)
    response.set_header("Range", "bytes=0-" + std::to_string(upload.persisted - 1));
  response.set_header("X-GUploader-UploadID", upload.id);
  return response;
}

http::Response FakeGcs::resume(const Call& call, http::Request& request) {
  const std::string id(request.query_param("upload_id").value_or(""));
  auto found = uploads_.find(id);
  if (found == uploads_.end()) return gcs_error(404, "notFound", "No such upload session: " + id);
  Upload& upload = *found->second;
  if (upload.finished)
    return http::Response::json(200, object_resource(*upload.finished, call.base_url));
  const std::int64_t body_size = static_cast<std::int64_t>(request.body.size());
  UploadContentRange range;
  if (const std::string* header = request.header("Content-Range")) {
    auto parsed = parse_upload_content_range(*header);
    if (!parsed) return gcs_error(400, "invalid", parsed.error().detail);
    range = *parsed;
  } else if (body_size > 0) {
    // The whole object in this one request.
    range = {0, body_size - 1, body_size};
  } else {
    range.total = upload.persisted;
  }
  if (range.first && !range.last) {
    // "FIRST-*": this request's body is the rest of the object, so it ends the upload.
    range.last = *range.first + body_size - 1;
    if (!range.total) range.total = *range.last + 1;
    if (*range.last < *range.first) range.first.reset();  // no bytes: just the end
  }
  if (range.total && upload.declared_size && *range.total != *upload.declared_size)
    return gcs_error(400, "invalid",
                     "Invalid request. The total size " + std::to_string(*range.total) +
                         " does not match the size declared when the upload started (" +
                         std::to_string(*upload.declared_size) + ").");
  if (range.total && *range.total < upload.persisted)
    return gcs_error(400, "invalid",
                     "Invalid request. The total size " + std::to_string(*range.total) +
                         " is smaller than the " + std::to_string(upload.persisted) +
                         " byte(s) already uploaded.");
  if (!range.first) {
    // A status query, or the end of an upload whose bytes have all arrived.
    if (body_size > 0)
      return gcs_error(400, "invalid",
                       "Invalid request. A Content-Range of bytes */N carries no "
                       "bytes, but the request has a body.");
    if (range.total && *range.total == upload.persisted) {
      add_goog_hash(request, upload.expected);
      return complete(call, upload);
    }
    return incomplete(upload, request);
  }
  if (*range.last - *range.first + 1 != body_size)
    return gcs_error(400, "invalid",
                     "Invalid request. The Content-Range header covers " +
                         std::to_string(*range.last - *range.first + 1) +
                         " byte(s), but the request has " + std::to_string(body_size) + ".");
  if (*range.first > upload.persisted)
    return gcs_error(
        400, "invalid",
        "Invalid request. According to the Content-Range header, the upload offset is " +
            std::to_string(*range.first) + " byte(s), which exceeds already uploaded size of " +
            std::to_string(upload.persisted) + " byte(s).");
  const bool last_chunk = range.total && *range.last + 1 == *range.total;
  std::int64_t keep_to = *range.last + 1;
  if (!last_chunk) {
    if (body_size < kChunkGranularity)
      return gcs_error(
          400, "invalid",
          "Invalid request. The number of bytes uploaded is required to be equal or greater "
          "than 262144, except for the final request (it's recommended to be the exact multiple "
          "of 262144). The received request contained " +
              std::to_string(body_size) + " bytes, which does not meet this requirement.");
    keep_to = keep_to / kChunkGranularity * kChunkGranularity;
  }
  if (keep_to > upload.persisted) {
    const auto from = static_cast<std::size_t>(upload.persisted - *range.first);
    const auto count = static_cast<std::size_t>(keep_to - upload.persisted);
    if (!append(upload.file, std::string_view(request.body).substr(from, count), upload.crc32c,
                upload.md5))
      return gcs_error(503, "backendError", "Backend Error");
    upload.persisted = keep_to;
  }
  if (last_chunk) {
    add_goog_hash(request, upload.expected);
    return complete(call, upload);
  }
  return incomplete(upload, request);
}

http::Response FakeGcs::complete(const Call& call, Upload& upload) {
  Call finishing = call;
  finishing.bucket = upload.draft.bucket;
  finishing.object = upload.draft.name;
  finishing.account = upload.account;
  http::Response response = finish(finishing, upload);
  if (response.status != 200) {
    // A session whose end was refused (checksum, precondition) is over, as on Google.
    std::error_code ignored;
    fs::remove(upload.file, ignored);
    uploads_.erase(upload.id);
  }
  return response;
}

http::Response FakeGcs::cancel(const Call&, const http::Request& request) {
  const std::string id(request.query_param("upload_id").value_or(""));
  auto found = uploads_.find(id);
  if (found == uploads_.end()) return gcs_error(404, "notFound", "No such upload session: " + id);
  std::error_code ignored;
  if (!found->second->finished) fs::remove(found->second->file, ignored);
  uploads_.erase(found);
  ++uploads_cancelled_;
  // 499 Client Closed Request: Google's answer to a cancelled session.
  return http::Response::text(499, "", "text/plain; charset=utf-8");
}

http::Response FakeGcs::finish(const Call& call, Upload& upload) {
  auto bucket = buckets_.find(upload.draft.bucket);
  if (bucket == buckets_.end())
    return gcs_error(404, "notFound", "The specified bucket does not exist.");
  auto& objects = bucket->second.objects;
  auto current = objects.find(upload.draft.name);
  if (auto failed =
          check(upload.preconditions, current == objects.end() ? nullptr : &current->second))
    return *failed;
  GcsObject object = upload.draft;
  object.size = upload.persisted;
  object.md5_base64 = providers::aws::base64_encode(upload.md5.finish());
  object.crc32c_base64 = upload.crc32c.base64();
  if (!upload.expected.md5_base64.empty() && upload.expected.md5_base64 != object.md5_base64)
    return gcs_error(400, "invalid",
                     "Provided MD5 hash \"" + upload.expected.md5_base64 +
                         "\" doesn't match calculated MD5 hash \"" + object.md5_base64 + "\".");
  if (!upload.expected.crc32c_base64.empty() &&
      upload.expected.crc32c_base64 != object.crc32c_base64)
    return gcs_error(400, "invalid",
                     "Provided CRC32C \"" + upload.expected.crc32c_base64 +
                         "\" doesn't match calculated CRC32C \"" + object.crc32c_base64 + "\".");
  object.generation = next_generation();
  object.metageneration = 1;
  object.created = std::chrono::system_clock::now();
  object.file = new_file("objects");
  std::error_code error;
  fs::rename(upload.file, object.file, error);
  if (error) return gcs_error(503, "backendError", "Backend Error");
  if (current != objects.end()) {
    fs::remove(current->second.file, error);
    current->second = object;
  } else {
    objects.emplace(object.name, object);
  }
  upload.finished = object;
  logger("fakecloud")
      ->info("gcs object stored bucket={} object=\"{}\" size={} generation={}", object.bucket,
             object.name, object.size, object.generation);
  return http::Response::json(200, object_resource(object, call.base_url));
}

http::Response FakeGcs::download(const GcsObject& object, const http::Request& request) {
  const std::string* range_header = request.header("Range");
  const DownloadRange range = resolve_download_range(
      range_header ? std::optional<std::string_view>(*range_header) : std::nullopt, object.size);
  if (range.kind == DownloadRange::Kind::kUnsatisfiable) {
    http::Response response =
        gcs_error(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.");
    response.set_header("Content-Range", "bytes */" + std::to_string(object.size));
    return response;
  }
  const bool partial = range.kind == DownloadRange::Kind::kPartial;
  const std::int64_t first = partial ? range.first : 0;
  const std::int64_t length = partial ? range.last - range.first + 1 : object.size;
  auto in = std::make_shared<std::ifstream>(object.file, std::ios::binary);
  if (!*in) return gcs_error(503, "backendError", "Backend Error");
  in->seekg(first);
  http::Response response;
  response.status = partial ? 206 : 200;
  if (length <= kInlineDownload) {
    response.body.resize(static_cast<std::size_t>(length));
    in->read(response.body.data(), static_cast<std::streamsize>(length));
    if (in->gcount() != length) return gcs_error(503, "backendError", "Backend Error");
  } else {
    response.stream = [in, length](http::ResponseStream& out) {
      return send_file(in, length, out);
    };
  }
  response.set_header("Content-Type", object.content_type);
  if (partial)
    response.set_header("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                             std::to_string(range.last) + "/" +
                                             std::to_string(object.size));
  response.set_header("Accept-Ranges", "bytes");
  response.set_header("X-Goog-Generation", std::to_string(object.generation));
  response.set_header("X-Goog-Metageneration", std::to_string(object.metageneration));
  response.set_header("X-Goog-Hash",
                      "crc32c=" + object.crc32c_base64 + ",md5=" + object.md5_base64);
  response.set_header("X-Goog-Stored-Content-Length", std::to_string(object.size));
  response.set_header("X-Goog-Stored-Content-Encoding", "identity");
  response.set_header("X-Goog-Storage-Class", object.storage_class);
  response.set_header("ETag", object_etag(object));
  response.set_header("Last-Modified", http_date(object.created));
  if (!object.content_disposition.empty())
    response.set_header("Content-Disposition", object.content_disposition);
  if (!object.cache_control.empty()) response.set_header("Cache-Control", object.cache_control);
  for (const auto& [key, value] : object.metadata) response.set_header("X-Goog-Meta-" + key, value);
  return response;
}

}  // namespace skyd::fakecloud
