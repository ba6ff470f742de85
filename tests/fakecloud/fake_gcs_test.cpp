// fakecloud's Cloud Storage JSON API over HTTP, against the real fakecloud binary: bearer tokens,
// per-project buckets with global names, media/multipart/resumable uploads kept on disk,
// downloads with ranges, list pages, deletes, and chaos.
#include "reactor/small_files.hpp"
#include "tests/fakecloud/fake_gcs_hash.hpp"
#include "tests/fakecloud/test_http.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/gcp_keys.hpp"
#include "tests/support/test_support.hpp"

#include "providers/aws/ec2_api.hpp"
#include "reactor/crypto.hpp"

#include <fstream>
#include <random>

namespace skyd::testing {
namespace {

constexpr const char* kProject = "gcs-test-project";
constexpr const char* kAccount = "tester@gcs-test-project.iam.gserviceaccount.com";
constexpr std::int64_t kQuantum = 256 * 1024;

std::string crc32c_of(std::string_view bytes) {
  fakecloud::Crc32c crc;
  crc.update(bytes);
  return crc.base64();
}

std::string md5_of(std::string_view bytes) {
  return providers::aws::base64_encode(md5_raw(bytes));
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator() & 0xFF);
  return bytes;
}

// The path and query of a URL fakecloud handed out (a session URI, a mediaLink).
std::string target_of(const std::string& url) {
  const auto scheme = url.find("://");
  return url.substr(url.find('/', scheme == std::string::npos ? 0 : scheme + 3));
}

class FakeGcsTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(const std::string& chaos = "") {
    write_credentials_file(dir_.file("user.json"), TestAuthorizedUser().file_json());
    std::vector<std::string> extra = {"--mode", "virtual", "--gcp-authorized-user",
                                      dir_.file("user.json")};
    if (!chaos.empty()) {
      std::ofstream(dir_.file("chaos.json")) << chaos;
      extra.insert(extra.end(), {"--config", dir_.file("chaos.json")});
    }
    cloud_.reset();
    cloud_ = std::make_unique<FakeCloudProcess>(dir_, extra);
    token_ = mint(kAccount);
  }

  std::string mint(const std::string& account) {
    const HttpAnswer minted =
        admin("POST", "/_admin/gcp/tokens?account=" + http::percent_encode(account));
    EXPECT_EQ(minted.status, 200) << minted.body;
    return minted.text({"access_token"});
  }

  HttpAnswer admin(std::string method, std::string target, std::string body = {}) {
    return http_.call(cloud_->url(), std::move(method), std::move(target), std::move(body));
  }
  HttpAnswer gcs(std::string method, std::string target, std::string body = {},
                 http::Headers headers = {}, const std::string& token = "") {
    headers.emplace_back("Authorization", "Bearer " + (token.empty() ? token_ : token));
    return http_.call(cloud_->url(), std::move(method), std::move(target), std::move(body),
                      std::move(headers));
  }
  HttpAnswer make_bucket(const std::string& name, const std::string& token = "",
                         const std::string& project = kProject) {
    return gcs("POST", "/storage/v1/b?project=" + project, R"({"name":")" + name + R"("})",
               {{"Content-Type", "application/json"}}, token);
  }
  HttpAnswer put_media(const std::string& bucket, const std::string& name, std::string bytes,
                       const std::string& content_type = "application/octet-stream",
                       const std::string& extra_query = "") {
    return gcs("POST",
               "/upload/storage/v1/b/" + bucket +
                   "/o?uploadType=media&name=" + http::percent_encode(name) + extra_query,
               std::move(bytes), {{"Content-Type", content_type}});
  }
  // A resumable session's URI (path and query).
  std::string start_session(const std::string& bucket, const std::string& name,
                            const std::string& resource = "") {
    const HttpAnswer started = gcs("POST",
                                   "/upload/storage/v1/b/" + bucket +
                                       "/o?uploadType=resumable&name=" + http::percent_encode(name),
                                   resource, {{"Content-Type", "application/json"}});
    EXPECT_EQ(started.status, 200) << started.body;
    const std::string* location = started.header("Location");
    EXPECT_TRUE(location);
    return location ? target_of(*location) : std::string();
  }
  HttpAnswer put_chunk(const std::string& session, std::string bytes, std::string content_range) {
    // No token: the session URI is the credential.
    return http_.call(cloud_->url(), "PUT", session, std::move(bytes),
                      {{"Content-Range", std::move(content_range)}});
  }
  std::string object_path(const std::string& bucket, const std::string& name) {
    return "/storage/v1/b/" + bucket + "/o/" + http::percent_encode(name);
  }

  TempDir dir_;
  TestHttp http_;
  std::unique_ptr<FakeCloudProcess> cloud_;
  std::string token_;
};

TEST_F(FakeGcsTest, RefusesCallsWithoutAValidBearerToken) {
  const HttpAnswer bare = http_.call(cloud_->url(), "GET", "/storage/v1/b?project=p");
  EXPECT_EQ(bare.status, 401);
  EXPECT_EQ(
      bare.json.find("error")->find("errors")->as_array()->front().find("reason")->as_string(),
      "required");
  const HttpAnswer forged = gcs("GET", "/storage/v1/b?project=p", "", {}, "ya29.not-issued-here");
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.text({"error", "message"}), "Invalid Credentials");
  EXPECT_NE(forged.body.find("authError"), std::string::npos) << forged.body;
  EXPECT_EQ(gcs("GET", "/storage/v1/b?project=" + std::string(kProject)).status, 200);
  ASSERT_EQ(admin("POST", "/_admin/gcp/revoke_tokens").status, 200);
  EXPECT_EQ(gcs("GET", "/storage/v1/b?project=" + std::string(kProject)).status, 401);
  EXPECT_EQ(admin("GET", "/_admin/gcs/stats").json.find("auth_failures")->as_int(), 3);
}

TEST_F(FakeGcsTest, CreatesGetsListsAndDeletesABucket) {
  const HttpAnswer made = make_bucket("skyd-bucket-one");
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(made.text({"kind"}), "storage#bucket");
  EXPECT_EQ(made.text({"name"}), "skyd-bucket-one");
  EXPECT_EQ(made.text({"location"}), "US");
  EXPECT_FALSE(made.text({"projectNumber"}).empty());
  EXPECT_EQ(gcs("GET", "/storage/v1/b/skyd-bucket-one").text({"name"}), "skyd-bucket-one");
  const HttpAnswer listed = gcs("GET", "/storage/v1/b?project=" + std::string(kProject));
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json.find("items")->as_array()->size(), 1u);
  EXPECT_EQ(gcs("DELETE", "/storage/v1/b/skyd-bucket-one").status, 204);
  const HttpAnswer gone = gcs("GET", "/storage/v1/b/skyd-bucket-one");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.text({"error", "message"}), "The specified bucket does not exist.");
}

TEST_F(FakeGcsTest, RefusesBadBucketNamesAndInsertsWithoutAProject) {
  EXPECT_EQ(make_bucket("Bad_Name").status, 400);
  EXPECT_EQ(gcs("POST", "/storage/v1/b", R"({"name":"fine-name"})").status, 400);
}

TEST_F(FakeGcsTest, BucketNamesAreGlobalButBucketsBelongToTheirProject) {
  const std::string other = mint("someone@other-project.iam.gserviceaccount.com");
  ASSERT_EQ(make_bucket("shared-name").status, 200);
  const HttpAnswer taken = make_bucket("shared-name", other, "other-project");
  EXPECT_EQ(taken.status, 409);
  EXPECT_NE(taken.text({"error", "message"}).find("not available"), std::string::npos);
  const HttpAnswer again = make_bucket("shared-name");
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.text({"error", "message"}).find("already own"), std::string::npos);
  const HttpAnswer foreign = gcs("GET", "/storage/v1/b/shared-name/o", "", {}, other);
  EXPECT_EQ(foreign.status, 403);
  EXPECT_NE(foreign.body.find("forbidden"), std::string::npos);
  EXPECT_EQ(gcs("GET", "/storage/v1/b/shared-name", "", {}, other).status, 403);
  EXPECT_EQ(make_bucket("intruder-bucket", other, kProject).status, 403);
  const HttpAnswer others = gcs("GET", "/storage/v1/b?project=other-project", "", {}, other);
  EXPECT_EQ(others.status, 200);
  EXPECT_FALSE(others.json.find("items"));
}

TEST_F(FakeGcsTest, MediaUploadKeepsTheBytesOnDiskWithTheirChecksums) {
  ASSERT_EQ(make_bucket("media-bucket").status, 200);
  const HttpAnswer stored = put_media("media-bucket", "dir/hello.txt", "hello world", "text/plain");
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(stored.text({"kind"}), "storage#object");
  EXPECT_EQ(stored.text({"name"}), "dir/hello.txt");
  EXPECT_EQ(stored.text({"size"}), "11");
  EXPECT_EQ(stored.text({"md5Hash"}), "XrY7u+Ae7tCTyyK7j1rNww==");
  EXPECT_EQ(stored.text({"crc32c"}), crc32c_of("hello world"));
  EXPECT_EQ(stored.text({"contentType"}), "text/plain");
  EXPECT_FALSE(stored.text({"generation"}).empty());
  EXPECT_FALSE(stored.text({"etag"}).empty());
  const HttpAnswer listed = admin("GET", "/_admin/gcs/objects?bucket=media-bucket");
  const Json& entry = listed.json.find("objects")->as_array()->front();
  const std::string file(*entry.find("file")->as_string());
  EXPECT_TRUE(file.starts_with(dir_.file("cloud/gcs/"))) << file;
  EXPECT_EQ(read_small_file(file), "hello world");
}

TEST_F(FakeGcsTest, MultipartUploadKeepsItsResourceAndMetadata) {
  ASSERT_EQ(make_bucket("multi-bucket").status, 200);
  const std::string media("binary\0bytes", 12);
  const std::string full =
      "--xyz\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
      R"({"name":"a/b c.bin","metadata":{"origin":"test"}})"
      "\r\n--xyz\r\nContent-Type: application/x-data\r\n\r\n" +
      media + "\r\n--xyz--";
  const HttpAnswer stored = gcs("POST", "/upload/storage/v1/b/multi-bucket/o?uploadType=multipart",
                                full, {{"Content-Type", "multipart/related; boundary=xyz"}});
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(stored.text({"size"}), "12");
  EXPECT_EQ(stored.text({"contentType"}), "application/x-data");
  const HttpAnswer got = gcs("GET", object_path("multi-bucket", "a/b c.bin"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.text({"metadata", "origin"}), "test");
  EXPECT_EQ(got.text({"md5Hash"}), md5_of(media));
  const HttpAnswer bytes = gcs("GET", object_path("multi-bucket", "a/b c.bin") + "?alt=media");
  ASSERT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, media);
  ASSERT_TRUE(bytes.header("X-Goog-Hash"));
  EXPECT_NE(bytes.header("X-Goog-Hash")->find("md5=" + md5_of(media)), std::string::npos);
  // The mediaLink leads to the same bytes.
  EXPECT_EQ(gcs("GET", target_of(got.text({"mediaLink"}))).body, media);
}

TEST_F(FakeGcsTest, RefusesAnUploadWhoseChecksumDoesNotMatch) {
  ASSERT_EQ(make_bucket("check-bucket").status, 200);
  const std::string body =
      "--b\r\nContent-Type: application/json\r\n\r\n"
      R"({"name":"x","md5Hash":"AAAAAAAAAAAAAAAAAAAAAA=="})"
      "\r\n--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--";
  const HttpAnswer refused = gcs("POST", "/upload/storage/v1/b/check-bucket/o?uploadType=multipart",
                                 body, {{"Content-Type", "multipart/related; boundary=b"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.text({"error", "message"}).find("MD5"), std::string::npos);
  EXPECT_EQ(gcs("GET", object_path("check-bucket", "x")).status, 404);
}

TEST_F(FakeGcsTest, DownloadsServeByteRanges) {
  ASSERT_EQ(make_bucket("range-bucket").status, 200);
  ASSERT_EQ(put_media("range-bucket", "digits", "0123456789").status, 200);
  const std::string path = object_path("range-bucket", "digits") + "?alt=media";
  const HttpAnswer middle = gcs("GET", path, "", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(middle.status, 206);
  EXPECT_EQ(middle.body, "2345");
  ASSERT_TRUE(middle.header("Content-Range"));
  EXPECT_EQ(*middle.header("Content-Range"), "bytes 2-5/10");
  EXPECT_EQ(gcs("GET", path, "", {{"Range", "bytes=-3"}}).body, "789");
  EXPECT_EQ(gcs("GET", path, "", {{"Range", "bytes=7-"}}).body, "789");
  EXPECT_EQ(gcs("GET", path, "", {{"Range", "bytes=10-"}}).status, 416);
}

TEST_F(FakeGcsTest, ListsWithPrefixDelimiterAndPages) {
  ASSERT_EQ(make_bucket("list-bucket").status, 200);
  for (const char* name : {"a.txt", "logs/1", "logs/2", "logs/deep/3", "z.txt"})
    ASSERT_EQ(put_media("list-bucket", name, name).status, 200);
  const HttpAnswer top = gcs("GET", "/storage/v1/b/list-bucket/o?delimiter=%2F");
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(top.json.find("items")->as_array()->size(), 2u);
  EXPECT_EQ(top.json.find("prefixes")->as_array()->front().as_string(), "logs/");
  const HttpAnswer logs = gcs("GET", "/storage/v1/b/list-bucket/o?prefix=logs%2F&delimiter=%2F");
  EXPECT_EQ(logs.json.find("items")->as_array()->size(), 2u);
  EXPECT_EQ(logs.json.find("prefixes")->as_array()->front().as_string(), "logs/deep/");
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    const HttpAnswer page =
        gcs("GET", "/storage/v1/b/list-bucket/o?maxResults=2" +
                       (token.empty() ? "" : "&pageToken=" + http::percent_encode(token)));
    ASSERT_EQ(page.status, 200) << page.body;
    for (const Json& item : *page.json.find("items")->as_array())
      names.emplace_back(*item.find("name")->as_string());
    token = page.text({"nextPageToken"});
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "logs/1", "logs/2", "logs/deep/3", "z.txt"}));
  const HttpAnswer none = gcs("GET", "/storage/v1/b/list-bucket/o?prefix=nothing");
  EXPECT_EQ(none.status, 200);
  EXPECT_FALSE(none.json.find("items"));
}

TEST_F(FakeGcsTest, DeletesObjectsAndRefusesToDeleteANonEmptyBucket) {
  ASSERT_EQ(make_bucket("delete-bucket").status, 200);
  ASSERT_EQ(put_media("delete-bucket", "one", "1").status, 200);
  const HttpAnswer busy = gcs("DELETE", "/storage/v1/b/delete-bucket");
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(gcs("DELETE", object_path("delete-bucket", "one")).status, 204);
  const HttpAnswer gone = gcs("GET", object_path("delete-bucket", "one"));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.text({"error", "message"}), "No such object: delete-bucket/one");
  EXPECT_EQ(gcs("DELETE", object_path("delete-bucket", "one")).status, 404);
  EXPECT_EQ(gcs("DELETE", "/storage/v1/b/delete-bucket").status, 204);
}

TEST_F(FakeGcsTest, BatchRunsJsonApiCallsAndAnswersEachInItsPart) {
  ASSERT_EQ(make_bucket("batch-bucket").status, 200);
  for (const char* name : {"a/1", "a/2", "b"})
    ASSERT_EQ(put_media("batch-bucket", name, name).status, 200);
  std::string body;
  int id = 0;
  for (const char* name : {"a/1", "a/2", "missing"})
    body += "--BOUNDARY\r\nContent-Type: application/http\r\nContent-ID: <req+" +
            std::to_string(++id) + ">\r\n\r\nDELETE " + object_path("batch-bucket", name) +
            " HTTP/1.1\r\nContent-Length: 0\r\n\r\n\r\n";
  body += "--BOUNDARY--\r\n";
  const HttpAnswer answer = gcs("POST", "/batch/storage/v1", body,
                                {{"Content-Type", "multipart/mixed; boundary=BOUNDARY"}});
  ASSERT_EQ(answer.status, 200) << answer.body;
  ASSERT_TRUE(answer.header("Content-Type"));
  EXPECT_TRUE(answer.header("Content-Type")->starts_with("multipart/mixed; boundary=batch_"));
  EXPECT_NE(answer.body.find("Content-ID: <response-req+1>\r\n\r\nHTTP/1.1 204"), std::string::npos)
      << answer.body;
  EXPECT_NE(answer.body.find("Content-ID: <response-req+2>\r\n\r\nHTTP/1.1 204"),
            std::string::npos);
  EXPECT_NE(answer.body.find("Content-ID: <response-req+3>\r\n\r\nHTTP/1.1 404"),
            std::string::npos);
  EXPECT_NE(answer.body.find("No such object: batch-bucket/missing"), std::string::npos);
  const HttpAnswer left = admin("GET", "/_admin/gcs/objects?bucket=batch-bucket");
  ASSERT_EQ(left.json.find("objects")->as_array()->size(), 1u);
  EXPECT_EQ(gcs("POST", "/batch/storage/v1", body,
                {{"Content-Type", "multipart/mixed; boundary=BOUNDARY"}}, "ya29.unknown")
                .status,
            401);
}

TEST_F(FakeGcsTest, HonoursGenerationPreconditions) {
  ASSERT_EQ(make_bucket("cond-bucket").status, 200);
  EXPECT_EQ(put_media("cond-bucket", "once", "1", "text/plain", "&ifGenerationMatch=0").status,
            200);
  const HttpAnswer second =
      put_media("cond-bucket", "once", "2", "text/plain", "&ifGenerationMatch=0");
  EXPECT_EQ(second.status, 412);
  EXPECT_NE(second.body.find("conditionNotMet"), std::string::npos);
}

TEST_F(FakeGcsTest, ResumableUploadTakesChunksAndAnswers308UntilTheLast) {
  ASSERT_EQ(make_bucket("resume-bucket").status, 200);
  const std::string data = random_bytes(3 * kQuantum + 1000, 7);
  const std::string session =
      start_session("resume-bucket", "big/file.bin", R"({"metadata":{"step":"chunks"}})");
  ASSERT_NE(session.find("upload_id="), std::string::npos) << session;
  // Nothing yet: 308 without a Range header.
  const HttpAnswer empty = put_chunk(session, "", "bytes */*");
  EXPECT_EQ(empty.status, 308);
  EXPECT_FALSE(empty.header("Range"));
  const HttpAnswer first = put_chunk(session, data.substr(0, kQuantum), "bytes 0-262143/*");
  EXPECT_EQ(first.status, 308);
  ASSERT_TRUE(first.header("Range"));
  EXPECT_EQ(*first.header("Range"), "bytes=0-262143");
  // A chunk that is not a whole number of 256 KiB: only whole quanta are kept.
  const std::int64_t odd = kQuantum + 5000;
  const HttpAnswer uneven = put_chunk(session, data.substr(kQuantum, odd),
                                      "bytes 262144-" + std::to_string(kQuantum + odd - 1) + "/*");
  EXPECT_EQ(uneven.status, 308);
  EXPECT_EQ(*uneven.header("Range"), "bytes=0-" + std::to_string(2 * kQuantum - 1));
  const HttpAnswer status = put_chunk(session, "", "bytes */" + std::to_string(data.size()));
  EXPECT_EQ(status.status, 308);
  EXPECT_EQ(*status.header("Range"), "bytes=0-" + std::to_string(2 * kQuantum - 1));
  const HttpAnswer last =
      put_chunk(session, data.substr(2 * kQuantum),
                "bytes " + std::to_string(2 * kQuantum) + "-" + std::to_string(data.size() - 1) +
                    "/" + std::to_string(data.size()));
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(last.text({"size"}), std::to_string(data.size()));
  EXPECT_EQ(last.text({"md5Hash"}), md5_of(data));
  EXPECT_EQ(last.text({"crc32c"}), crc32c_of(data));
  EXPECT_EQ(last.text({"metadata", "step"}), "chunks");
  // The finished session keeps answering with its object.
  EXPECT_EQ(put_chunk(session, "", "bytes */*").status, 200);
  EXPECT_EQ(gcs("GET", object_path("resume-bucket", "big/file.bin") + "?alt=media").body, data);
}

TEST_F(FakeGcsTest, ResumableUploadSays308InAHeaderWhenTheClientAsks) {
  // Google's Go client (rclone's) sends X-GUploader-No-308 and reads the override header.
  ASSERT_EQ(make_bucket("go-bucket").status, 200);
  const std::string session = start_session("go-bucket", "go.bin");
  const HttpAnswer chunk =
      http_.call(cloud_->url(), "PUT", session, std::string(kQuantum, 'g'),
                 {{"Content-Range", "bytes 0-262143/*"}, {"X-GUploader-No-308", "yes"}});
  EXPECT_EQ(chunk.status, 200);
  ASSERT_TRUE(chunk.header("X-Http-Status-Code-Override"));
  EXPECT_EQ(*chunk.header("X-Http-Status-Code-Override"), "308");
  EXPECT_EQ(*chunk.header("Range"), "bytes=0-262143");
  const HttpAnswer last =
      http_.call(cloud_->url(), "PUT", session, "end",
                 {{"Content-Range", "bytes 262144-262146/262147"}, {"X-GUploader-No-308", "yes"}});
  EXPECT_EQ(last.status, 200);
  EXPECT_FALSE(last.header("X-Http-Status-Code-Override"));
  EXPECT_EQ(last.text({"size"}), "262147");
}

TEST_F(FakeGcsTest, ResumableUploadRefusesGapsAndSmallChunksBeforeTheLast) {
  ASSERT_EQ(make_bucket("gap-bucket").status, 200);
  const std::string session = start_session("gap-bucket", "f");
  const HttpAnswer gap = put_chunk(session, std::string(kQuantum, 'x'), "bytes 262144-524287/*");
  EXPECT_EQ(gap.status, 400);
  EXPECT_NE(gap.body.find("exceeds already uploaded size"), std::string::npos) << gap.body;
  EXPECT_EQ(put_chunk(session, "tiny", "bytes 0-3/*").status, 400);
  // The same bytes as the last chunk finish the upload.
  const HttpAnswer done = put_chunk(session, "tiny", "bytes 0-3/4");
  EXPECT_EQ(done.status, 200) << done.body;
}

TEST_F(FakeGcsTest, ResumableUploadFinishesWithAnEmptyLastRequest) {
  ASSERT_EQ(make_bucket("tail-bucket").status, 200);
  const std::string session = start_session("tail-bucket", "exact");
  const std::string data = random_bytes(kQuantum, 3);
  EXPECT_EQ(put_chunk(session, data, "bytes 0-262143/*").status, 308);
  const HttpAnswer done = put_chunk(session, "", "bytes */262144");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.text({"size"}), "262144");
}

TEST_F(FakeGcsTest, ResumableUploadInOneOpenEndedRequestFinishesIt) {
  // Google's Node client without a chunk size: "bytes 0-*/*", the whole stream in one PUT.
  ASSERT_EQ(make_bucket("stream-bucket").status, 200);
  const std::string session = start_session("stream-bucket", "streamed");
  const std::string data = random_bytes(1000, 5);
  const HttpAnswer done = put_chunk(session, data, "bytes 0-*/*");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.text({"size"}), "1000");
  EXPECT_EQ(done.text({"md5Hash"}), md5_of(data));
}

TEST_F(FakeGcsTest, ResumableUploadChecksTheLastRequestsXGoogHash) {
  ASSERT_EQ(make_bucket("hash-bucket").status, 200);
  const std::string session = start_session("hash-bucket", "hashed");
  const HttpAnswer refused =
      http_.call(cloud_->url(), "PUT", session, "abc",
                 {{"Content-Range", "bytes 0-2/3"}, {"X-Goog-Hash", "crc32c=AAAAAA=="}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.text({"error", "message"}).find("CRC32C"), std::string::npos);
  EXPECT_EQ(gcs("GET", object_path("hash-bucket", "hashed")).status, 404);
  const std::string again = start_session("hash-bucket", "hashed");
  const HttpAnswer accepted =
      http_.call(cloud_->url(), "PUT", again, "abc",
                 {{"Content-Range", "bytes 0-2/3"}, {"X-Goog-Hash", "crc32c=" + crc32c_of("abc")}});
  EXPECT_EQ(accepted.status, 200) << accepted.body;
}

TEST_F(FakeGcsTest, CancellingAResumableUploadAnswers499AndForgetsIt) {
  ASSERT_EQ(make_bucket("cancel-bucket").status, 200);
  const std::string session = start_session("cancel-bucket", "never");
  EXPECT_EQ(put_chunk(session, std::string(kQuantum, 'y'), "bytes 0-262143/*").status, 308);
  const HttpAnswer cancelled = http_.call(cloud_->url(), "DELETE", session);
  EXPECT_EQ(cancelled.status, 499);
  EXPECT_EQ(put_chunk(session, "", "bytes */*").status, 404);
  EXPECT_EQ(gcs("GET", object_path("cancel-bucket", "never")).status, 404);
  const HttpAnswer stats = admin("GET", "/_admin/gcs/stats");
  EXPECT_EQ(stats.json.find("uploads_open")->as_int(), 0);
  EXPECT_EQ(stats.json.find("uploads_cancelled")->as_int(), 1);
}

TEST_F(FakeGcsTest, StreamsALargeObjectBackWhole) {
  ASSERT_EQ(make_bucket("large-bucket").status, 200);
  const std::string data = random_bytes(5 * 1024 * 1024 + 17, 11);
  const std::string session = start_session("large-bucket", "large.bin");
  const std::size_t chunk = 4 * kQuantum;
  for (std::size_t at = 0; at < data.size(); at += chunk) {
    const std::size_t size = std::min(chunk, data.size() - at);
    const bool last = at + size == data.size();
    const HttpAnswer put =
        put_chunk(session, data.substr(at, size),
                  "bytes " + std::to_string(at) + "-" + std::to_string(at + size - 1) + "/" +
                      (last ? std::to_string(data.size()) : "*"));
    ASSERT_EQ(put.status, last ? 200 : 308) << put.body;
  }
  const HttpAnswer whole = gcs("GET", object_path("large-bucket", "large.bin") + "?alt=media");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body.size(), data.size());
  EXPECT_TRUE(whole.body == data);
  const HttpAnswer slice = gcs("GET", object_path("large-bucket", "large.bin") + "?alt=media", "",
                               {{"Range", "bytes=1000-2999999"}});
  EXPECT_EQ(slice.status, 206);
  EXPECT_TRUE(slice.body == data.substr(1000, 2999000));
}

TEST_F(FakeGcsTest, TokenEndpointTakesARefreshGrantsClientInTheFormOrInBasicAuth) {
  const TestAuthorizedUser user;
  const http::Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  // As rclone 1.60 sends it: the client in the form.
  const HttpAnswer in_form = http_.call(
      cloud_->url(), "POST", "/token",
      "client_id=" + http::percent_encode(user.client_id) +
          "&client_secret=" + http::percent_encode(user.client_secret) +
          "&grant_type=refresh_token&refresh_token=" + http::percent_encode(user.refresh_token),
      form);
  ASSERT_EQ(in_form.status, 200) << in_form.body;
  EXPECT_EQ(gcs("GET", "/storage/v1/b?project=p", "", {}, in_form.text({"access_token"})).status,
            200);
  auto basic = [&](const std::string& secret) {
    http::Headers headers = form;
    headers.emplace_back("Authorization", "Basic " + providers::aws::base64_encode(
                                                         http::percent_encode(user.client_id) +
                                                         ":" + http::percent_encode(secret)));
    return http_.call(
        cloud_->url(), "POST", "/token",
        "grant_type=refresh_token&refresh_token=" + http::percent_encode(user.refresh_token),
        headers);
  };
  EXPECT_EQ(basic(user.client_secret).status, 200);
  const HttpAnswer wrong = basic("not-the-secret");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.text({"error"}), "invalid_client");
}

TEST_F(FakeGcsTest, InjectedFaultsAnswerWithGooglesErrors) {
  ASSERT_EQ(make_bucket("chaos-bucket").status, 200);
  ASSERT_EQ(admin("POST", "/_admin/gcs/faults",
                  R"({"action":"objects.insert","code":"rateLimitExceeded","count":1})")
                .status,
            200);
  const HttpAnswer throttled = put_media("chaos-bucket", "x", "1");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_NE(throttled.body.find("rateLimitExceeded"), std::string::npos);
  EXPECT_EQ(put_media("chaos-bucket", "x", "1").status, 200);
  ASSERT_EQ(admin("POST", "/_admin/gcs/chaos", R"({"error_5xx_rate":1})").status, 200);
  const HttpAnswer failing = gcs("GET", object_path("chaos-bucket", "x"));
  EXPECT_EQ(failing.status, 503);
  EXPECT_NE(failing.body.find("backendError"), std::string::npos);
  ASSERT_EQ(admin("POST", "/_admin/gcs/reset").status, 200);
  EXPECT_EQ(gcs("GET", object_path("chaos-bucket", "x")).status, 200);
  const HttpAnswer stats = admin("GET", "/_admin/gcs/stats");
  EXPECT_EQ(stats.json.find("throttled")->as_int(), 1);
  EXPECT_EQ(stats.json.find("errors_5xx")->as_int(), 1);
}

TEST_F(FakeGcsTest, AFaultedChunkKeepsNothingAndTheUploadResumes) {
  ASSERT_EQ(make_bucket("flaky-bucket").status, 200);
  const std::string session = start_session("flaky-bucket", "ckpt/state");
  ASSERT_EQ(admin("POST", "/_admin/gcs/faults",
                  R"({"action":"objects.resume","object_prefix":"ckpt/","code":"backendError",)"
                  R"("count":1})")
                .status,
            200);
  const std::string data = random_bytes(kQuantum, 9);
  const HttpAnswer failed = put_chunk(session, data, "bytes 0-262143/262144");
  EXPECT_EQ(failed.status, 503);
  const HttpAnswer status = put_chunk(session, "", "bytes */*");
  EXPECT_EQ(status.status, 308);
  EXPECT_FALSE(status.header("Range"));
  const HttpAnswer again = put_chunk(session, data, "bytes 0-262143/262144");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.text({"md5Hash"}), md5_of(data));
}

TEST_F(FakeGcsTest, ChaosConfigFileHasAGcsSection) {
  start(R"({"gcs":{"faults":[{"action":"buckets.insert","code":"backendError"}]}})");
  const HttpAnswer refused = make_bucket("never-made");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(admin("GET", "/_admin/gcs/stats").json.find("faults_fired")->as_int(), 1);
}

}  // namespace
}  // namespace skyd::testing
