// Cloud Storage JSON API mapping, checked against the shapes Google documents (objects.insert
// with uploadType=multipart and resumable, objects.list, the error envelope).
#include "providers/storage/gcs_api.hpp"

#include <gtest/gtest.h>

namespace skyd::providers::storage {
namespace {

TEST(GcsEndpoint, TakesAnOriginAndRefusesAPath) {
  auto google = parse_gcs_endpoint("https://storage.googleapis.com/");
  ASSERT_TRUE(google) << google.error().message();
  EXPECT_EQ(google->origin, "https://storage.googleapis.com");
  EXPECT_EQ(google->endpoint.port, 443);
  auto local = parse_gcs_endpoint("http://127.0.0.1:4443");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->endpoint.port, 4443);
  auto pathful = parse_gcs_endpoint("https://storage.googleapis.com/storage/v1");
  ASSERT_FALSE(pathful);
  EXPECT_EQ(pathful.error().code, ProviderErrc::kInvalid);
}

TEST(GcsTargets, EncodeObjectNamesWholeSlashesIncluded) {
  EXPECT_EQ(gcs_bucket_target("my-bucket"), "/storage/v1/b/my-bucket");
  EXPECT_EQ(gcs_object_target("b", "dir/a b.txt", false), "/storage/v1/b/b/o/dir%2Fa%20b.txt");
  EXPECT_EQ(gcs_object_target("b", "k", true), "/storage/v1/b/b/o/k?alt=media");
  EXPECT_EQ(gcs_bucket_insert_target("my-project"), "/storage/v1/b?project=my-project");
  EXPECT_EQ(gcs_upload_target("b", "x/y", "resumable"),
            "/upload/storage/v1/b/b/o?uploadType=resumable&name=x%2Fy");
}

TEST(GcsTargets, ListCarriesPrefixAndPageToken) {
  EXPECT_EQ(gcs_list_target("b", "", "", 1000), "/storage/v1/b/b/o?maxResults=1000");
  EXPECT_EQ(gcs_list_target("b", "in/", "CgRh+/=", 2),
            "/storage/v1/b/b/o?maxResults=2&prefix=in%2F&pageToken=CgRh%2B%2F%3D");
}

TEST(GcsBodies, BucketAndObjectResources) {
  EXPECT_EQ(gcs_bucket_insert_body("b1", ""), R"({"name":"b1"})");
  EXPECT_EQ(gcs_bucket_insert_body("b1", "EU"), R"({"name":"b1","location":"EU"})");
  EXPECT_EQ(gcs_object_resource("a/b", "text/plain", {{"skyd-sha256", "ab12"}}),
            R"({"name":"a/b","contentType":"text/plain","metadata":{"skyd-sha256":"ab12"}})");
}

TEST(GcsBodies, MultipartRelatedHoldsResourceThenMedia) {
  const auto multipart = gcs_multipart_body(R"({"name":"k"})", "text/plain", "hello");
  const std::string prefix = "multipart/related; boundary=";
  ASSERT_TRUE(multipart.content_type.starts_with(prefix));
  const std::string boundary = multipart.content_type.substr(prefix.size());
  EXPECT_EQ(multipart.body, "--" + boundary +
                                "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                                R"({"name":"k"})"
                                "\r\n--" +
                                boundary + "\r\nContent-Type: text/plain\r\n\r\nhello\r\n--" +
                                boundary + "--\r\n");
}

TEST(GcsBodies, BoundaryNeverOccursInTheMedia) {
  const auto first = gcs_multipart_body("{}", "a/b", "x");
  const std::string boundary = first.content_type.substr(first.content_type.find('=') + 1);
  const std::string media = "x" + boundary + "y";  // a media that holds a would-be boundary
  const auto second = gcs_multipart_body("{}", "a/b", media);
  const std::string chosen = second.content_type.substr(second.content_type.find('=') + 1);
  EXPECT_EQ(media.find("--" + chosen + "\r\n"), std::string::npos);
  EXPECT_EQ(media.find(chosen), std::string::npos);
}

TEST(GcsResumable, RangesAndPersistedBytes) {
  EXPECT_EQ(gcs_chunk_range(0, 262144, 1000000), "bytes 0-262143/1000000");
  EXPECT_EQ(gcs_chunk_range(786432, 213568, 1000000), "bytes 786432-999999/1000000");
  EXPECT_EQ(gcs_status_query_range(1000000), "bytes */1000000");
  const std::string held = "bytes=0-524287";
  EXPECT_EQ(gcs_persisted_bytes(&held).value(), 524288u);
  // A 308 without Range: the session holds nothing yet.
  EXPECT_EQ(gcs_persisted_bytes(nullptr).value(), 0u);
  const std::string odd = "bytes=5-9";
  EXPECT_FALSE(gcs_persisted_bytes(&odd));
}

TEST(GcsResumable, ChunksAreMultiplesOf256KiB) {
  EXPECT_EQ(gcs_chunk_size(0), 262144u);
  EXPECT_EQ(gcs_chunk_size(262144), 262144u);
  EXPECT_EQ(gcs_chunk_size(262145), 524288u);
  EXPECT_EQ(gcs_chunk_size(8u << 20), 8u << 20);
}

// An objects.list page as the JSON API sends it: sizes and generations are strings.
constexpr std::string_view kListPage = R"({
 "kind": "storage#objects",
 "nextPageToken": "CgVhL2IvYw==",
 "items": [
  {"kind": "storage#object", "id": "b/a/1700000000000000", "name": "a", "bucket": "b",
   "generation": "1700000000000000", "metageneration": "1", "contentType": "text/plain",
   "size": "5", "md5Hash": "XUFAKrxLKna5cZ2REBfFkg==", "crc32c": "mnG7TA==",
   "etag": "CICAgICAgID/AQ==", "metadata": {"skyd-sha256": "2cf2"}},
  {"kind": "storage#object", "name": "dir/big", "bucket": "b", "size": "3000000000",
   "etag": "CJDt"}
 ]
})";

TEST(GcsAnswers, ReadsAListPage) {
  auto page = parse_gcs_object_list(kListPage);
  ASSERT_TRUE(page) << page.error().message();
  EXPECT_EQ(page->next_page_token, "CgVhL2IvYw==");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].name, "a");
  EXPECT_EQ(page->objects[0].size, 5u);
  EXPECT_EQ(page->objects[0].md5_hash, "XUFAKrxLKna5cZ2REBfFkg==");
  EXPECT_EQ(page->objects[0].generation, "1700000000000000");
  EXPECT_EQ(page->objects[0].metadata.at("skyd-sha256"), "2cf2");
  EXPECT_EQ(page->objects[1].size, 3000000000u);
  const ObjectInfo info = to_object_info(page->objects[1]);
  EXPECT_EQ(info.key, "dir/big");
  EXPECT_EQ(info.etag, "CJDt");
}

TEST(GcsAnswers, LastPageAndEmptyBucket) {
  auto empty = parse_gcs_object_list(R"({"kind":"storage#objects"})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_TRUE(empty->next_page_token.empty());
  EXPECT_FALSE(parse_gcs_object_list("<html>"));
  EXPECT_FALSE(parse_gcs_object_list(R"({"items":[{"name":"a","size":"-1"}]})"));
}

TEST(GcsAnswers, ObjectHeadCarriesUserMetadata) {
  auto object =
      parse_gcs_object(R"({"name":"k","size":"12","etag":"e1","metadata":{"skyd-sha256":"ff"}})");
  ASSERT_TRUE(object);
  const ObjectHead head = to_object_head(*object);
  EXPECT_EQ(head.size, 12u);
  EXPECT_EQ(head.etag, "e1");
  EXPECT_EQ(head.metadata.at("skyd-sha256"), "ff");
}

GcsError error_of(int status, std::string_view reason, std::string_view message) {
  const std::string body = R"({"error":{"code":)" + std::to_string(status) + R"(,"message":")" +
                           std::string(message) + R"(","errors":[{"message":")" +
                           std::string(message) + R"(","domain":"global","reason":")" +
                           std::string(reason) + R"("}]}})";
  return parse_gcs_error(status, body);
}

TEST(GcsErrors, ReadsGooglesEnvelope) {
  const GcsError error = error_of(404, "notFound", "The specified bucket does not exist.");
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.reason, "notFound");
  EXPECT_EQ(error.message, "The specified bucket does not exist.");
  const Error mapped = to_error(error, "buckets.get");
  EXPECT_EQ(mapped.code, ProviderErrc::kNotFound);
  EXPECT_EQ(mapped.detail,
            "buckets.get: notFound: The specified bucket does not exist. (HTTP 404)");
}

TEST(GcsErrors, ClassifiesTheDocumentedReasons) {
  EXPECT_EQ(classify_gcs_error(404, "notFound"), ProviderErrc::kNotFound);
  EXPECT_EQ(classify_gcs_error(409, "conflict"), ProviderErrc::kInvalid);
  EXPECT_EQ(classify_gcs_error(403, "forbidden"), ProviderErrc::kAuth);
  EXPECT_EQ(classify_gcs_error(401, "required"), ProviderErrc::kAuth);
  EXPECT_EQ(classify_gcs_error(429, "rateLimitExceeded"), ProviderErrc::kThrottled);
  EXPECT_EQ(classify_gcs_error(403, "userRateLimitExceeded"), ProviderErrc::kThrottled);
  EXPECT_EQ(classify_gcs_error(503, "backendError"), ProviderErrc::kTransient);
  EXPECT_EQ(classify_gcs_error(500, ""), ProviderErrc::kTransient);
  EXPECT_EQ(classify_gcs_error(408, ""), ProviderErrc::kTransient);
  EXPECT_EQ(classify_gcs_error(412, "conditionNotMet"), ProviderErrc::kInvalid);
  EXPECT_EQ(classify_gcs_error(400, "invalid"), ProviderErrc::kInvalid);
}

TEST(GcsErrors, ABodyThatIsNotTheEnvelopeKeepsItsStart) {
  const GcsError error = parse_gcs_error(502, "<html>Bad Gateway</html>");
  EXPECT_TRUE(error.reason.empty());
  EXPECT_EQ(error.message, "<html>Bad Gateway</html>");
  EXPECT_EQ(to_error(error, "objects.list").code, ProviderErrc::kTransient);
}

}  // namespace
}  // namespace skyd::providers::storage
