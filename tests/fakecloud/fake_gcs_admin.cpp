// fakecloud's /_admin/gcs/... calls: what Cloud Storage holds (buckets, objects, resumable
// sessions, counters) and its chaos.
#include "tests/fakecloud/chaos_json.hpp"
#include "tests/fakecloud/fake_gcs.hpp"

namespace skyd::fakecloud {

Task<http::Response> FakeGcs::admin(http::Request& request) {
  const std::string what = request.path.substr(std::string("/_admin/gcs/").size());
  const std::string bucket_name(request.query_param("bucket").value_or(""));
  if (what == "buckets") {
    Json list = Json::array();
    for (const auto& [name, bucket] : buckets_) {
      std::int64_t bytes = 0;
      for (const auto& [object_name, object] : bucket.objects) bytes += object.size;
      Json item = Json::object();
      item.set("name", name);
      item.set("project", bucket.meta.project);
      item.set("location", bucket.meta.location);
      item.set("objects", static_cast<long long>(bucket.objects.size()));
      item.set("bytes", bytes);
      list.push_back(std::move(item));
    }
    Json body = Json::object();
    body.set("buckets", std::move(list));
    co_return http::Response::json(200, body);
  }
  if (what == "objects") {
    auto found = buckets_.find(bucket_name);
    if (found == buckets_.end())
      co_return gcs_error(404, "notFound", "The specified bucket does not exist.");
    Json list = Json::array();
    for (const auto& [name, object] : found->second.objects) {
      Json item = Json::object();
      item.set("name", name);
      item.set("size", object.size);
      item.set("generation", object.generation);
      item.set("content_type", object.content_type);
      item.set("md5Hash", object.md5_base64);
      item.set("crc32c", object.crc32c_base64);
      Json metadata = Json::object();
      for (const auto& [key, value] : object.metadata) metadata.set(key, value);
      item.set("metadata", std::move(metadata));
      item.set("file", object.file);
      list.push_back(std::move(item));
    }
    Json body = Json::object();
    body.set("objects", std::move(list));
    co_return http::Response::json(200, body);
  }
  if (what == "uploads") {
    Json list = Json::array();
    for (const auto& [id, upload] : uploads_) {
      Json item = Json::object();
      item.set("upload_id", id);
      item.set("bucket", upload->draft.bucket);
      item.set("name", upload->draft.name);
      item.set("persisted", upload->persisted);
      item.set("finished", upload->finished.has_value());
      list.push_back(std::move(item));
    }
    Json body = Json::object();
    body.set("uploads", std::move(list));
    co_return http::Response::json(200, body);
  }
  if (what == "stats") {
    std::int64_t objects = 0, bytes = 0;
    for (const auto& [name, bucket] : buckets_)
      for (const auto& [object_name, object] : bucket.objects) {
        ++objects;
        bytes += object.size;
      }
    Json calls = Json::object();
    for (const auto& [action, count] : calls_) calls.set(action, count);
    Json body = Json::object();
    body.set("buckets", static_cast<long long>(buckets_.size()));
    body.set("objects", objects);
    body.set("bytes", bytes);
    body.set("uploads_open", static_cast<long long>(std::count_if(
                                 uploads_.begin(), uploads_.end(),
                                 [](const auto& entry) { return !entry.second->finished; })));
    body.set("uploads_cancelled", uploads_cancelled_);
    body.set("calls", std::move(calls));
    body.set("auth_failures", auth_failures_);
    body.set("throttled", throttled_);
    body.set("errors_5xx", errors_5xx_);
    body.set("faults_fired", faults_fired_);
    co_return http::Response::json(200, body);
  }
  if (what == "chaos" || what == "faults") co_return update_chaos(what, request.body, chaos_);
  // reset
  chaos_ = GcsChaos{};
  co_return http::Response::json(200, Json::object());
}

}  // namespace skyd::fakecloud
