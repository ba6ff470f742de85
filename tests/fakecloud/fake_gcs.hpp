#pragma once
// fakecloud's Cloud Storage JSON API on its main port, at the real API's paths
// (https://storage.googleapis.com -> http://127.0.0.1:PORT): buckets insert/get/list/delete,
// objects insert (uploadType media, multipart and resumable), get (metadata, or the bytes with
// alt=media and Range), list (prefix, delimiter, pages) and delete, batches of JSON API calls,
// and /_admin/gcs/... for tests.
// Every call carries a bearer token FakeGcpTokens issued (401 otherwise). Buckets belong to the
// project they were made in; names are global. An object's bytes live in a file under the GCS
// directory (written as they arrive, read back in pieces); bucket and object metadata and
// resumable sessions live in memory, for the life of the process. Runs on fakecloud's shard;
// owned by FakeCloud.

#include "reactor/coro.hpp"
#include "reactor/http_server.hpp"
#include "tests/fakecloud/fake_gcp_tokens.hpp"
#include "tests/fakecloud/fake_gcs_api.hpp"
#include "tests/fakecloud/fake_gcs_chaos.hpp"
#include "tests/fakecloud/fake_gcs_hash.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace skyd::fakecloud {

struct FakeGcsOptions {
  // Where object bytes go (objects/ and uploads/ below it, emptied at start). Empty: a fresh
  // temporary directory, removed when FakeGcs goes.
  std::string directory;
  // The one project calls may name (--gcp-project); empty: any.
  std::string only_project;
  std::uint64_t seed = 0;
};

class FakeGcs {
 public:
  // `chaos` is fakecloud's "gcs" chaos section (replaced in place by /_admin/chaos).
  FakeGcs(FakeGcpTokens& tokens, GcsChaos& chaos, FakeGcsOptions options);
  ~FakeGcs();
  FakeGcs(const FakeGcs&) = delete;
  FakeGcs& operator=(const FakeGcs&) = delete;

  // /storage/v1/..., /upload/storage/v1/..., /download/storage/v1/... and /_admin/gcs/....
  void add_routes(http::Router& router);

  // The project a token's account acts in: NAME@PROJECT.iam.gserviceaccount.com acts in PROJECT;
  // any other account (a user, a VM's default compute account) in every project.
  static std::optional<std::string> project_of_account(std::string_view account);

 private:
  struct Bucket {
    GcsBucket meta;
    std::map<std::string, GcsObject> objects;  // by name
  };
  struct Upload {
    std::string id;
    std::string account;
    GcsObject draft;  // bucket, name, content type, metadata
    ClientChecksums expected;
    std::optional<std::int64_t> declared_size;  // X-Upload-Content-Length
    GcsPreconditions preconditions;
    std::string file;
    std::int64_t persisted = 0;
    Crc32c crc32c;
    Md5 md5;
    std::optional<GcsObject> finished;  // the object it made
  };
  // One call: who made it and what it names.
  struct Call {
    std::string action;  // as GcsFault names them
    std::string account;
    std::string bucket;
    std::string object;
    std::string base_url;  // http://HOST, for selfLink, mediaLink and session URIs
  };

  Task<http::Response> storage(http::Request& request);
  // One JSON API call (a request of its own or one of a batch's).
  http::Response handle(http::Request& request);
  // POST /batch/storage/v1: multipart/mixed of up to 100 application/http requests, answered
  // in one multipart/mixed of their responses.
  http::Response batch(const http::Request& request);
  // Who calls (401 when no valid token), then chaos; nullopt: go on.
  std::optional<http::Response> admit(const http::Request& request, Call& call);
  http::Response dispatch(Call& call, http::Request& request);
  http::Response insert_bucket(const Call& call, const http::Request& request);
  http::Response get_bucket(const Call& call);
  http::Response list_buckets(const Call& call, const http::Request& request);
  http::Response delete_bucket(const Call& call);
  http::Response list_objects(const Call& call, const http::Request& request);
  http::Response get_object(const Call& call, const http::Request& request);
  http::Response download(const GcsObject& object, const http::Request& request);
  http::Response delete_object(const Call& call, const http::Request& request);
  http::Response insert_object(Call& call, http::Request& request);
  http::Response start_resumable(const Call& call, const http::Request& request, GcsObject draft,
                                 ClientChecksums expected);
  http::Response resume(const Call& call, http::Request& request);
  http::Response cancel(const Call& call, const http::Request& request);
  // The last bytes of a resumable session arrived: finish it (a refused end closes the session).
  http::Response complete(const Call& call, Upload& upload);
  // A finished upload's bytes become the object (replacing any older generation).
  http::Response finish(const Call& call, Upload& upload);
  // The 308 answer: how much of the upload is persisted.
  http::Response incomplete(const Upload& upload, const http::Request& request) const;
  Task<http::Response> admin(http::Request& request);

  // The bucket the call names when the caller may use it; else the error to answer.
  Bucket* bucket_for(const Call& call, std::string_view permission, http::Response& error);
  // The object the call names (at ?generation= when given) in a bucket the caller may use; else
  // nullptr and the error to answer.
  GcsObject* object_for(const Call& call, const http::Request& request, std::string_view permission,
                        http::Response& error);
  std::optional<http::Response> refuse_project(const Call& call, const std::string& project,
                                               std::string_view permission) const;
  std::optional<http::Response> check(const GcsPreconditions& conditions,
                                      const GcsObject* current) const;
  std::int64_t next_generation();
  std::string new_file(std::string_view kind);
  bool chance(double rate);

  FakeGcpTokens& tokens_;
  GcsChaos& chaos_;
  FakeGcsOptions options_;
  bool owns_directory_ = false;
  std::mt19937_64 random_;
  std::map<std::string, Bucket> buckets_;                   // by name: names are global
  std::map<std::string, std::unique_ptr<Upload>> uploads_;  // resumable sessions by upload_id
  std::int64_t last_generation_ = 0;
  std::uint64_t next_file_ = 0;
  std::map<std::string, std::int64_t> calls_;
  std::int64_t auth_failures_ = 0, throttled_ = 0, errors_5xx_ = 0, faults_fired_ = 0;
  std::int64_t uploads_cancelled_ = 0;
};

}  // namespace skyd::fakecloud
