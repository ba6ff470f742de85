#include "tests/fakecloud/fake_gcs.hpp"

#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "tests/fakecloud/fake_gcp_auth.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace skyd::fakecloud {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBuckets = "/storage/v1/b";
constexpr std::string_view kUploads = "/upload/storage/v1/b";
constexpr std::string_view kDownloads = "/download/storage/v1/b";
// Object names are path segments split at '/' by the router once decoded: routes exist for
// names of up to this many segments.
constexpr int kMaxObjectSegments = 32;
constexpr std::string_view kServiceAccountDomain = ".iam.gserviceaccount.com";
constexpr std::size_t kMaxBatchRequests = 100;  // Google's limit for one batch

Task<http::Response> ready(http::Response response) {
  co_return response;
}

// The permission a call needs, as Google names it in a 403.
std::string_view permission_of(std::string_view action) {
  if (action == "buckets.insert") return "storage.buckets.create";
  if (action == "buckets.get") return "storage.buckets.get";
  if (action == "buckets.list") return "storage.buckets.list";
  if (action == "buckets.delete") return "storage.buckets.delete";
  if (action == "objects.insert" || action == "objects.resume") return "storage.objects.create";
  if (action == "objects.list") return "storage.objects.list";
  if (action == "objects.delete") return "storage.objects.delete";
  return "storage.objects.get";
}

std::string_view resource_of(std::string_view action) {
  if (action == "buckets.insert" || action == "buckets.list") return "Google Cloud project";
  if (action.starts_with("buckets.") || action == "objects.list" || action == "objects.insert" ||
      action == "objects.resume")
    return "Google Cloud Storage bucket";
  return "Google Cloud Storage object";
}

}  // namespace

std::optional<std::string> FakeGcs::project_of_account(std::string_view account) {
  const auto at = account.find('@');
  if (at == std::string_view::npos || !account.ends_with(kServiceAccountDomain))
    return std::nullopt;
  return std::string(
      account.substr(at + 1, account.size() - at - 1 - kServiceAccountDomain.size()));
}

FakeGcs::FakeGcs(FakeGcpTokens& tokens, GcsChaos& chaos, FakeGcsOptions options)
    : tokens_(tokens), chaos_(chaos), options_(std::move(options)), random_(options_.seed) {
  if (options_.directory.empty()) {
    std::string pattern = (fs::temp_directory_path() / "fakecloud-gcs.XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error("fakecloud cannot make a temporary directory for GCS objects");
    options_.directory = pattern;
    owns_directory_ = true;
  }
  // Metadata lives in memory only: bytes a previous run left have no object any more.
  for (const char* sub : {"objects", "uploads"}) {
    const fs::path dir = fs::path(options_.directory) / sub;
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    fs::create_directories(dir);
  }
}

FakeGcs::~FakeGcs() {
  std::error_code ignored;
  if (owns_directory_) fs::remove_all(options_.directory, ignored);
}

void FakeGcs::add_routes(http::Router& router) {
  auto handler = [this](http::Request& request) { return storage(request); };
  const std::string buckets(kBuckets), uploads(kUploads), downloads(kDownloads);
  router.add("GET", buckets, "Cloud Storage: list buckets", handler);
  router.add("POST", buckets, "Cloud Storage: insert a bucket", handler);
  router.add("GET", buckets + "/{bucket}", "Cloud Storage: get a bucket", handler);
  router.add("DELETE", buckets + "/{bucket}", "Cloud Storage: delete a bucket", handler);
  router.add("GET", buckets + "/{bucket}/o", "Cloud Storage: list objects", handler);
  router.add("POST", buckets + "/{bucket}/o", "Cloud Storage: insert an empty object", handler);
  for (const char* method : {"POST", "PUT", "DELETE"})
    router.add(method, uploads + "/{bucket}/o", "Cloud Storage: upload an object", handler);
  std::string object;
  for (int segment = 0; segment < kMaxObjectSegments; ++segment) {
    object += "/{o" + std::to_string(segment) + "}";
    router.add("GET", buckets + "/{bucket}/o" + object, "Cloud Storage: get an object", handler);
    router.add("DELETE", buckets + "/{bucket}/o" + object, "Cloud Storage: delete an object",
               handler);
    router.add("GET", downloads + "/{bucket}/o" + object, "Cloud Storage: download an object",
               handler);
  }
  router.add("POST", "/batch/storage/v1", "Cloud Storage: a batch of JSON API calls",
             [this](http::Request& request) { return ready(batch(request)); });
  auto admin_handler = [this](http::Request& request) { return admin(request); };
  for (const char* what : {"buckets", "objects", "uploads", "stats"})
    router.add("GET", std::string("/_admin/gcs/") + what, "admin (Cloud Storage)", admin_handler);
  for (const char* what : {"chaos", "faults", "reset"})
    router.add("POST", std::string("/_admin/gcs/") + what, "admin (Cloud Storage)", admin_handler);
}

bool FakeGcs::chance(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return std::uniform_real_distribution<double>(0, 1)(random_) < rate;
}

// --- calls ---

Task<http::Response> FakeGcs::storage(http::Request& request) {
  co_return handle(request);
}

http::Response FakeGcs::batch(const http::Request& request) {
  ++calls_["batch"];
  // The batch needs a token itself; its requests are made with it unless they carry their own.
  const std::string* authorization = request.header("Authorization");
  if (!authorization || !bearer_account(request, tokens_)) {
    ++auth_failures_;
    return gcs_error(401, "authError", "Invalid Credentials");
  }
  const std::string* content_type = request.header("Content-Type");
  auto parts = parse_multipart(content_type ? *content_type : "", "multipart/mixed", request.body);
  if (!parts) return gcs_error(400, "invalid", parts.error().detail);
  if (parts->size() > kMaxBatchRequests)
    return gcs_error(400, "invalid",
                     "A batch request cannot contain more than " +
                         std::to_string(kMaxBatchRequests) + " requests.");
  const std::string boundary = "batch_" + random_hex(12);
  std::string body;
  for (const MultipartPart& part : *parts) {
    const std::string* content_id = http::find_header(part.headers, "Content-ID");
    auto inner = parse_batch_request(std::string_view(request.body).substr(part.offset, part.size));
    http::Response answer;
    if (!inner) {
      answer = gcs_error(400, "invalid", inner.error().detail);
    } else if (!inner->path.starts_with(std::string(kBuckets)) ||
               inner->query_param("alt").value_or("json") == "media" ||
               (inner->method != "GET" && inner->method != "DELETE" && inner->method != "POST")) {
      answer = gcs_error(400, "invalid",
                         "A batch carries JSON API calls only (no uploads or media downloads): " +
                             inner->method + " " + inner->path);
    } else {
      if (!inner->header("Authorization"))
        inner->headers.emplace_back("Authorization", *authorization);
      if (const std::string* host = request.header("Host"); host && !inner->header("Host"))
        inner->headers.emplace_back("Host", *host);
      answer = handle(*inner);
    }
    body += "--" + boundary + "\r\n" +
            batch_response_part(answer, content_id ? *content_id : std::string()) + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return http::Response::text(200, body, "multipart/mixed; boundary=" + boundary);
}

http::Response FakeGcs::handle(http::Request& request) {
  // The raw target: an object name's %2F must not split it, and a '+' is a '+'.
  const std::string_view target = request.target;
  const std::string_view raw_path = target.substr(0, target.find('?'));
  std::string_view rest;
  bool upload = false, download = false;
  for (auto [prefix, is_upload, is_download] :
       {std::tuple{kBuckets, false, false}, std::tuple{kUploads, true, false},
        std::tuple{kDownloads, false, true}})
    if (raw_path.starts_with(prefix)) {
      rest = raw_path.substr(prefix.size());
      upload = is_upload;
      download = is_download;
    }
  Call call;
  // rest: "", "/BUCKET", "/BUCKET/o" or "/BUCKET/o/NAME..."
  if (rest.starts_with("/")) rest.remove_prefix(1);
  const auto slash = rest.find('/');
  call.bucket = decode_path(rest.substr(0, slash));
  bool objects = false;
  if (slash != std::string_view::npos) {
    std::string_view after = rest.substr(slash);  // "/o" or "/o/NAME"
    objects = after.starts_with("/o");
    if (after.size() > 3) call.object = decode_path(after.substr(3));
  }
  const std::string& method = request.method;
  if (upload)
    call.action =
        method == "POST" && !request.query_param("upload_id") ? "objects.insert" : "objects.resume";
  else if (download)
    call.action = "objects.download";
  else if (call.bucket.empty())
    call.action = method == "POST" ? "buckets.insert" : "buckets.list";
  else if (!objects)
    call.action = method == "DELETE" ? "buckets.delete" : "buckets.get";
  else if (call.object.empty())
    call.action = method == "POST" ? "objects.insert" : "objects.list";
  else if (method == "DELETE")
    call.action = "objects.delete";
  else
    call.action =
        request.query_param("alt").value_or("json") == "media" ? "objects.download" : "objects.get";
  if (call.action == "objects.resume") {
    // A session's requests name no object: it is the session's (for faults by object_prefix).
    auto session = uploads_.find(std::string(request.query_param("upload_id").value_or("")));
    if (session != uploads_.end()) call.object = session->second->draft.name;
  }
  const std::string* host = request.header("Host");
  call.base_url = "http://" + (host ? *host : std::string("127.0.0.1"));
  ++calls_[call.action];
  if (auto refused = admit(request, call)) return std::move(*refused);
  return dispatch(call, request);
}

std::optional<http::Response> FakeGcs::admit(const http::Request& request, Call& call) {
  // A resumable session's URI is its own credential: Google asks no token for its PUTs.
  if (call.action != "objects.resume") {
    const std::string* authorization = request.header("Authorization");
    const std::string permission(permission_of(call.action));
    if (!authorization) {
      ++auth_failures_;
      http::Response response =
          gcs_error(401, "required",
                    "Anonymous caller does not have " + permission + " access to the " +
                        std::string(resource_of(call.action)) + ". Permission '" + permission +
                        "' denied on resource (or it may not exist).");
      response.set_header("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\"");
      return response;
    }
    auto account = bearer_account(request, tokens_);
    if (!account) {
      ++auth_failures_;
      http::Response response = gcs_error(401, "authError", "Invalid Credentials");
      response.set_header("WWW-Authenticate",
                          "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"");
      return response;
    }
    call.account = *account;
  }
  if (chance(chaos_.throttle_rate)) {
    ++throttled_;
    return gcs_error(429, "rateLimitExceeded", gcs_default_message("rateLimitExceeded"));
  }
  if (chance(chaos_.error_5xx_rate)) {
    ++errors_5xx_;
    return gcs_error(503, "backendError", gcs_default_message("backendError"));
  }
  for (auto& fault : chaos_.faults) {
    if (fault.remaining == 0) continue;
    if (!fault.action.empty() && fault.action != call.action) continue;
    if (!fault.bucket.empty() && fault.bucket != call.bucket) continue;
    if (!fault.object_prefix.empty() && !call.object.starts_with(fault.object_prefix)) continue;
    if (!chance(fault.rate)) continue;
    if (fault.remaining > 0) --fault.remaining;
    ++faults_fired_;
    if (fault.code == "rateLimitExceeded") ++throttled_;
    logger("fakecloud")
        ->info("gcs fault fired action={} bucket={} code={}", call.action, call.bucket, fault.code);
    return gcs_error(fault.status, fault.code, fault.message);
  }
  return std::nullopt;
}

http::Response FakeGcs::dispatch(Call& call, http::Request& request) {
  const std::string& action = call.action;
  if (action == "buckets.insert") return insert_bucket(call, request);
  if (action == "buckets.list") return list_buckets(call, request);
  if (action == "buckets.get") return get_bucket(call);
  if (action == "buckets.delete") return delete_bucket(call);
  if (action == "objects.list") return list_objects(call, request);
  if (action == "objects.get" || action == "objects.download") return get_object(call, request);
  if (action == "objects.delete") return delete_object(call, request);
  if (action == "objects.insert") return insert_object(call, request);
  if (request.method == "DELETE") return cancel(call, request);
  return resume(call, request);
}

std::optional<http::Response> FakeGcs::refuse_project(const Call& call, const std::string& project,
                                                      std::string_view permission) const {
  const auto acts_in = project_of_account(call.account);
  if (!acts_in || *acts_in == project || gcs_project_number(*acts_in) == project)
    return std::nullopt;
  return gcs_error(403, "forbidden",
                   call.account + " does not have " + std::string(permission) + " access to the " +
                       std::string(resource_of(call.action)) + ". Permission '" +
                       std::string(permission) + "' denied on resource (or it may not exist).");
}

FakeGcs::Bucket* FakeGcs::bucket_for(const Call& call, std::string_view permission,
                                     http::Response& error) {
  auto found = buckets_.find(call.bucket);
  if (found == buckets_.end()) {
    error = gcs_error(404, "notFound", "The specified bucket does not exist.");
    return nullptr;
  }
  if (auto refused = refuse_project(call, found->second.meta.project, permission)) {
    error = std::move(*refused);
    return nullptr;
  }
  return &found->second;
}

std::optional<http::Response> FakeGcs::check(const GcsPreconditions& conditions,
                                             const GcsObject* current) const {
  const std::int64_t generation = current ? current->generation : 0;
  const bool held =
      (!conditions.generation_match || *conditions.generation_match == generation) &&
      (!conditions.generation_not_match || *conditions.generation_not_match != generation) &&
      (!conditions.metageneration_match ||
       (current && *conditions.metageneration_match == current->metageneration)) &&
      (!conditions.metageneration_not_match ||
       (current && *conditions.metageneration_not_match != current->metageneration));
  if (held) return std::nullopt;
  return gcs_error(412, "conditionNotMet",
                   "At least one of the pre-conditions you specified did not hold.");
}

// --- buckets ---

http::Response FakeGcs::insert_bucket(const Call& call, const http::Request& request) {
  const std::string project(request.query_param("project").value_or(""));
  if (project.empty()) return gcs_error(400, "required", "Required parameter: project");
  if (!options_.only_project.empty() && project != options_.only_project &&
      project != gcs_project_number(options_.only_project))
    return gcs_error(400, "invalid", "Unknown project id: " + project);
  if (auto refused = refuse_project(call, project, "storage.buckets.create")) return *refused;
  auto json = parse_json(request.body.empty() ? std::string_view("{}") : request.body);
  if (!json) return gcs_error(400, "parseError", "Parse Error");
  auto bucket = parse_bucket_resource(*json);
  if (!bucket) return gcs_error(400, "required", bucket.error().detail);
  if (auto problem = bucket_name_problem(bucket->name)) return gcs_error(400, "invalid", *problem);
  if (auto existing = buckets_.find(bucket->name); existing != buckets_.end()) {
    if (existing->second.meta.project == project)
      return gcs_error(409, "conflict",
                       "Your previous request to create the named bucket succeeded and you "
                       "already own it.");
    return gcs_error(409, "conflict",
                     "The requested bucket name is not available. The bucket namespace is shared "
                     "by all users of the system. Please select a different name and try again.");
  }
  bucket->project = project;
  bucket->created = std::chrono::system_clock::now();
  const std::string name = bucket->name;
  buckets_[name].meta = std::move(*bucket);
  logger("fakecloud")->info("gcs bucket created bucket={} project={}", name, project);
  return http::Response::json(200, bucket_resource(buckets_[name].meta, call.base_url));
}

http::Response FakeGcs::get_bucket(const Call& call) {
  http::Response error;
  Bucket* bucket = bucket_for(call, "storage.buckets.get", error);
  if (!bucket) return error;
  return http::Response::json(200, bucket_resource(bucket->meta, call.base_url));
}

http::Response FakeGcs::list_buckets(const Call& call, const http::Request& request) {
  const std::string project(request.query_param("project").value_or(""));
  if (project.empty()) return gcs_error(400, "required", "Required parameter: project");
  if (auto refused = refuse_project(call, project, "storage.buckets.list")) return *refused;
  const std::string prefix(request.query_param("prefix").value_or(""));
  const std::int64_t max_results =
      std::clamp<std::int64_t>(request.query_int("maxResults").value_or(1000), 1, 1000);
  std::string start = prefix;
  if (auto token = request.query_param("pageToken"); token && !token->empty()) {
    auto from = page_token_start(*token);
    if (!from) return gcs_error(400, "invalid", from.error().detail);
    start = std::max(start, *from);
  }
  Json items = Json::array();
  std::string next;
  std::int64_t count = 0;
  std::string last;
  for (auto it = buckets_.lower_bound(start); it != buckets_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    if (it->second.meta.project != project &&
        gcs_project_number(it->second.meta.project) != project)
      continue;
    if (count == max_results) {
      next = page_token_after(last);
      break;
    }
    items.push_back(bucket_resource(it->second.meta, call.base_url));
    last = it->first;
    ++count;
  }
  Json body = Json::object();
  body.set("kind", "storage#buckets");
  if (!next.empty()) body.set("nextPageToken", next);
  if (count > 0) body.set("items", std::move(items));
  return http::Response::json(200, body);
}

http::Response FakeGcs::delete_bucket(const Call& call) {
  http::Response error;
  Bucket* bucket = bucket_for(call, "storage.buckets.delete", error);
  if (!bucket) return error;
  if (!bucket->objects.empty())
    return gcs_error(409, "conflict", "The bucket you tried to delete is not empty.");
  buckets_.erase(call.bucket);
  logger("fakecloud")->info("gcs bucket deleted bucket={}", call.bucket);
  return http::Response::text(204, "", "application/json");
}

// --- objects ---

http::Response FakeGcs::list_objects(const Call& call, const http::Request& request) {
  http::Response error;
  Bucket* bucket = bucket_for(call, "storage.objects.list", error);
  if (!bucket) return error;
  ListQuery query;
  auto text = [&](const char* name) { return std::string(request.query_param(name).value_or("")); };
  query.prefix = text("prefix");
  query.delimiter = text("delimiter");
  query.page_token = text("pageToken");
  query.start_offset = text("startOffset");
  query.end_offset = text("endOffset");
  if (request.query_param("maxResults")) {
    auto max = request.query_int("maxResults");
    if (!max || *max < 0) return gcs_error(400, "invalid", "Invalid value for maxResults");
    // Google serves at most 1000 entries a page whatever a client asks for; 0 means the default.
    query.max_results = *max == 0 ? 1000 : std::min<std::int64_t>(*max, 1000);
  }
  std::vector<std::string> names;
  names.reserve(bucket->objects.size());
  for (const auto& [name, object] : bucket->objects) names.push_back(name);
  auto page = list_page(names, query);
  if (!page) return gcs_error(400, "invalid", page.error().detail);
  Json body = Json::object();
  body.set("kind", "storage#objects");
  if (!page->next_page_token.empty()) body.set("nextPageToken", page->next_page_token);
  if (!page->prefixes.empty()) {
    Json prefixes = Json::array();
    for (const auto& prefix : page->prefixes) prefixes.push_back(prefix);
    body.set("prefixes", std::move(prefixes));
  }
  if (!page->names.empty()) {
    Json items = Json::array();
    for (const auto& name : page->names)
      items.push_back(object_resource(bucket->objects.at(name), call.base_url));
    body.set("items", std::move(items));
  }
  return http::Response::json(200, body);
}

GcsObject* FakeGcs::object_for(const Call& call, const http::Request& request,
                               std::string_view permission, http::Response& error) {
  Bucket* bucket = bucket_for(call, permission, error);
  if (!bucket) return nullptr;
  auto found = bucket->objects.find(call.object);
  const auto generation = request.query_int("generation");
  if (found == bucket->objects.end() || (generation && *generation != found->second.generation)) {
    error = gcs_error(404, "notFound", "No such object: " + call.bucket + "/" + call.object);
    return nullptr;
  }
  return &found->second;
}

http::Response FakeGcs::get_object(const Call& call, const http::Request& request) {
  http::Response error;
  const GcsObject* object = object_for(call, request, "storage.objects.get", error);
  if (!object) return error;
  const GcsPreconditions conditions = preconditions_of(request.query);
  if (conditions.generation_not_match && *conditions.generation_not_match == object->generation)
    return http::Response::text(304, "", "application/json");
  if (auto failed = check(conditions, object)) return *failed;
  if (call.action == "objects.download") return download(*object, request);
  return http::Response::json(200, object_resource(*object, call.base_url));
}

http::Response FakeGcs::delete_object(const Call& call, const http::Request& request) {
  http::Response error;
  const GcsObject* object = object_for(call, request, "storage.objects.delete", error);
  if (!object) return error;
  if (auto failed = check(preconditions_of(request.query), object)) return *failed;
  std::error_code ignored;
  fs::remove(object->file, ignored);
  buckets_.at(call.bucket).objects.erase(call.object);
  return http::Response::text(204, "", "application/json");
}

std::int64_t FakeGcs::next_generation() {
  // Microseconds since the epoch, as Google's generations are, and strictly increasing.
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  last_generation_ = std::max<std::int64_t>(now, last_generation_ + 1);
  return last_generation_;
}

std::string FakeGcs::new_file(std::string_view kind) {
  return (fs::path(options_.directory) / kind / std::to_string(++next_file_)).string();
}

}  // namespace skyd::fakecloud
