// fakecloud's Cloud Storage shapes without a server: checksums against known vectors, a resumable
// PUT's Content-Range, a download's Range, list pages, multipart bodies, names, error bodies and
// the chaos section.
#include "tests/fakecloud/fake_gcs_api.hpp"
#include "tests/fakecloud/fake_gcs.hpp"
#include "tests/fakecloud/fake_gcs_chaos.hpp"
#include "tests/fakecloud/fake_gcs_hash.hpp"

#include "providers/aws/ec2_api.hpp"

#include <gtest/gtest.h>

namespace skyd::fakecloud {
namespace {

Json parsed(std::string_view text) {
  auto json = parse_json(text);
  EXPECT_TRUE(json) << text;
  return json ? *json : Json();
}

TEST(Crc32c, MatchesTheCheckValueOfTheCastagnoliPolynomial) {
  Crc32c crc;
  crc.update("123456789");
  EXPECT_EQ(crc.value(), 0xE3069283u);
}

TEST(Crc32c, MatchesRfc3720Vectors) {
  // RFC 3720 B.4: 32 bytes of zeros, of 0xFF, and ascending 0..31.
  Crc32c zeros, ones, ascending;
  zeros.update(std::string(32, '\0'));
  ones.update(std::string(32, '\xFF'));
  std::string bytes;
  for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<char>(i));
  ascending.update(bytes);
  EXPECT_EQ(zeros.value(), 0x8A9136AAu);
  EXPECT_EQ(ones.value(), 0x62A8AB43u);
  EXPECT_EQ(ascending.value(), 0x46DD794Eu);
}

TEST(Crc32c, IsTheSameInPieces) {
  Crc32c whole, pieces;
  whole.update("hello, cloud storage");
  pieces.update("hello, ");
  pieces.update("");
  pieces.update("cloud storage");
  EXPECT_EQ(whole.value(), pieces.value());
}

TEST(Crc32c, EncodesFourBytesBigEndianInBase64) {
  Crc32c empty;  // 0x00000000
  EXPECT_EQ(empty.base64(), "AAAAAA==");
  Crc32c check;
  check.update("123456789");
  EXPECT_EQ(check.base64(), providers::aws::base64_encode("\xE3\x06\x92\x83"));
}

TEST(Md5, HashesPiecesAsAWhole) {
  Md5 md5;
  md5.update("hello ");
  md5.update("world");
  // md5("hello world") = 5eb63bbbe01eeed093cb22bb8f5acdc3
  EXPECT_EQ(providers::aws::base64_encode(md5.finish()), "XrY7u+Ae7tCTyyK7j1rNww==");
}

TEST(UploadContentRange, ParsesAChunkOfAnUploadOfUnknownSize) {
  auto range = parse_upload_content_range("bytes 0-262143/*");
  ASSERT_TRUE(range) << range.error().detail;
  EXPECT_EQ(range->first, 0);
  EXPECT_EQ(range->last, 262143);
  EXPECT_FALSE(range->total);
}

TEST(UploadContentRange, ParsesTheLastChunkWithItsTotal) {
  auto range = parse_upload_content_range("bytes 262144-300000/300001");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, 262144);
  EXPECT_EQ(range->last, 300000);
  EXPECT_EQ(range->total, 300001);
}

TEST(UploadContentRange, ParsesStatusQueries) {
  auto known = parse_upload_content_range("bytes */1000");
  ASSERT_TRUE(known);
  EXPECT_FALSE(known->first);
  EXPECT_EQ(known->total, 1000);
  auto unknown = parse_upload_content_range("bytes */*");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->first);
  EXPECT_FALSE(unknown->total);
}

TEST(UploadContentRange, ParsesAnOpenEndedRangeAsTheBodysBytes) {
  // Google's Node client sends "bytes 0-*/N" for a single-request upload.
  auto range = parse_upload_content_range("bytes 0-*/5000");
  ASSERT_TRUE(range) << range.error().detail;
  EXPECT_EQ(range->first, 0);
  EXPECT_FALSE(range->last);
  EXPECT_EQ(range->total, 5000);
}

TEST(UploadContentRange, RefusesMalformedRanges) {
  for (const char* bad : {"", "bytes", "bytes 0-9", "items 0-9/10", "bytes 9-0/10", "bytes 0-10/10",
                          "bytes a-b/10", "bytes 0-9/x", "bytes -5/10"})
    EXPECT_FALSE(parse_upload_content_range(bad)) << bad;
}

TEST(GoogHash, ReadsBothChecksumsWhateverTheirOrder) {
  const ClientChecksums both = parse_goog_hash("md5=XrY7u+Ae7tCTyyK7j1rNww==, crc32c=4waSgw==");
  EXPECT_EQ(both.md5_base64, "XrY7u+Ae7tCTyyK7j1rNww==");
  EXPECT_EQ(both.crc32c_base64, "4waSgw==");
  EXPECT_TRUE(parse_goog_hash("crc32c=AAAAAA==").md5_base64.empty());
}

TEST(DownloadRange, ResolvesFirstLastOpenAndSuffixRanges) {
  auto middle = resolve_download_range("bytes=10-19", 100);
  EXPECT_EQ(middle.kind, DownloadRange::Kind::kPartial);
  EXPECT_EQ(middle.first, 10);
  EXPECT_EQ(middle.last, 19);
  auto open = resolve_download_range("bytes=90-", 100);
  EXPECT_EQ(open.first, 90);
  EXPECT_EQ(open.last, 99);
  auto suffix = resolve_download_range("bytes=-5", 100);
  EXPECT_EQ(suffix.first, 95);
  EXPECT_EQ(suffix.last, 99);
  auto past_end = resolve_download_range("bytes=50-500", 100);
  EXPECT_EQ(past_end.last, 99);
}

TEST(DownloadRange, AnswersAStartPastTheEndAsUnsatisfiable) {
  EXPECT_EQ(resolve_download_range("bytes=100-", 100).kind, DownloadRange::Kind::kUnsatisfiable);
  EXPECT_EQ(resolve_download_range("bytes=-0", 100).kind, DownloadRange::Kind::kUnsatisfiable);
}

TEST(DownloadRange, IgnoresHeadersItCannotServe) {
  EXPECT_EQ(resolve_download_range(std::nullopt, 100).kind, DownloadRange::Kind::kWhole);
  EXPECT_EQ(resolve_download_range("bytes=0-1,5-6", 100).kind, DownloadRange::Kind::kWhole);
  EXPECT_EQ(resolve_download_range("lines=1-2", 100).kind, DownloadRange::Kind::kWhole);
  EXPECT_EQ(resolve_download_range("bytes=9-1", 100).kind, DownloadRange::Kind::kWhole);
}

TEST(ListPage, GroupsNamesUnderTheDelimiterIntoPrefixes) {
  const std::vector<std::string> names = {"a.txt", "dir/one", "dir/sub/two", "dir2/x", "z"};
  ListQuery query;
  query.delimiter = "/";
  auto page = list_page(names, query);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->names, (std::vector<std::string>{"a.txt", "z"}));
  EXPECT_EQ(page->prefixes, (std::vector<std::string>{"dir/", "dir2/"}));
  EXPECT_TRUE(page->next_page_token.empty());
  query.prefix = "dir/";
  page = list_page(names, query);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->names, (std::vector<std::string>{"dir/one"}));
  EXPECT_EQ(page->prefixes, (std::vector<std::string>{"dir/sub/"}));
}

TEST(ListPage, PagesCountItemsAndPrefixesTogether) {
  const std::vector<std::string> names = {"a", "b/1", "b/2", "c", "d"};
  ListQuery query;
  query.delimiter = "/";
  query.max_results = 2;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = list_page(names, query);
    ASSERT_TRUE(page);
    EXPECT_LE(page->names.size() + page->prefixes.size(), 2u);
    for (const auto& name : page->names) seen.push_back(name);
    for (const auto& prefix : page->prefixes) seen.push_back(prefix);
    query.page_token = page->next_page_token;
    ++pages;
  } while (!query.page_token.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b/", "c", "d"}));
}

TEST(ListPage, GivesNoTokenWhenThePageEndsExactlyAtTheEnd) {
  ListQuery query;
  query.max_results = 2;
  auto page = list_page({"a", "b"}, query);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST(ListPage, RefusesATokenThatIsNotOne) {
  ListQuery query;
  query.page_token = "!!not base64!!";
  EXPECT_FALSE(list_page({"a"}, query));
}

TEST(Multipart, SplitsTheResourceAndTheMedia) {
  const std::string body =
      "--BOUNDARY\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
      R"({"name":"dir/file.bin","metadata":{"k":"v"}})"
      "\r\n--BOUNDARY\r\nContent-Type: application/x-test\r\n\r\n"
      "line one\r\nline two"
      "\r\n--BOUNDARY--\r\n";
  auto upload = parse_multipart_related("multipart/related; boundary=BOUNDARY", body);
  ASSERT_TRUE(upload) << upload.error().detail;
  EXPECT_EQ(upload->resource_json, R"({"name":"dir/file.bin","metadata":{"k":"v"}})");
  EXPECT_EQ(upload->media_content_type, "application/x-test");
  EXPECT_EQ(body.substr(upload->media_offset, upload->media_size), "line one\r\nline two");
}

TEST(Multipart, TakesAQuotedBoundary) {
  const std::string body = "--a b\r\n\r\n{}\r\n--a b\r\n\r\nxyz\r\n--a b--";
  auto upload = parse_multipart_related("Multipart/Related; boundary=\"a b\"", body);
  ASSERT_TRUE(upload) << upload.error().detail;
  EXPECT_EQ(body.substr(upload->media_offset, upload->media_size), "xyz");
}

TEST(Multipart, RefusesOtherContentTypesAndPartCounts) {
  EXPECT_FALSE(parse_multipart_related("application/json", "{}"));
  EXPECT_FALSE(parse_multipart_related("multipart/related; boundary=b", "--b\r\n\r\n{}\r\n--b--"));
}

TEST(Batch, ReadsEachPartsRequest) {
  const std::string body =
      "--===123==\r\nContent-Type: application/http\r\nContent-ID: <a+1>\r\n\r\n"
      "DELETE /storage/v1/b/bk/o/x%2Fy HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
      "\r\n--===123==\r\nContent-Type: application/http\r\nContent-ID: <a+2>\r\n\r\n"
      "GET /storage/v1/b/bk/o?prefix=p HTTP/1.1\r\n\r\n"
      "\r\n--===123==--\r\n";
  auto parts = parse_multipart("multipart/mixed; boundary====123==", "multipart/mixed", body);
  ASSERT_TRUE(parts) << parts.error().detail;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ(*http::find_header((*parts)[0].headers, "Content-ID"), "<a+1>");
  auto first = parse_batch_request(body.substr((*parts)[0].offset, (*parts)[0].size));
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(first->method, "DELETE");
  EXPECT_EQ(first->target, "/storage/v1/b/bk/o/x%2Fy");
  auto second = parse_batch_request(body.substr((*parts)[1].offset, (*parts)[1].size));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->path, "/storage/v1/b/bk/o");
  EXPECT_EQ(second->query_param("prefix"), "p");
}

TEST(Batch, AnswersEachResponseAsAnHttpPart) {
  http::Response response = http::Response::text(204, "", "application/json");
  const std::string part = batch_response_part(response, "<a+1>");
  EXPECT_NE(part.find("Content-ID: <response-a+1>"), std::string::npos) << part;
  EXPECT_NE(part.find("\r\n\r\nHTTP/1.1 204 No Content\r\n"), std::string::npos) << part;
}

TEST(GcsNames, ChecksBucketNamesAsGoogleDoes) {
  EXPECT_FALSE(bucket_name_problem("my-bucket_1.data"));
  for (const char* bad :
       {"ab", "Upper", "-start", "end-", "has space", "goog-bucket", "my-google-bucket"})
    EXPECT_TRUE(bucket_name_problem(bad)) << bad;
  EXPECT_TRUE(bucket_name_problem(std::string(64, 'a')));
}

TEST(GcsNames, ChecksObjectNames) {
  EXPECT_FALSE(object_name_problem("dir/sub/file name+x"));
  EXPECT_EQ(object_name_problem(""), "Required");
  EXPECT_TRUE(object_name_problem("a\nb"));
  EXPECT_TRUE(object_name_problem(std::string(1025, 'x')));
}

TEST(GcsResources, ObjectShowsSizeAndGenerationAsStringsAndLinksBack) {
  GcsObject object;
  object.bucket = "b";
  object.name = "dir/a b";
  object.generation = 1700000000000001;
  object.size = 42;
  object.md5_base64 = "XrY7u+Ae7tCTyyK7j1rNww==";
  object.crc32c_base64 = "AAAAAA==";
  object.metadata["k"] = "v";
  const Json json = object_resource(object, "http://127.0.0.1:9");
  EXPECT_EQ(json.find("size")->as_string(), "42");
  EXPECT_EQ(json.find("generation")->as_string(), "1700000000000001");
  EXPECT_EQ(json.find("kind")->as_string(), "storage#object");
  EXPECT_EQ(json.find("selfLink")->as_string(), "http://127.0.0.1:9/storage/v1/b/b/o/dir%2Fa%20b");
  EXPECT_EQ(json.find("mediaLink")->as_string(),
            "http://127.0.0.1:9/download/storage/v1/b/b/o/dir%2Fa%20b?generation="
            "1700000000000001&alt=media");
  EXPECT_EQ(json.find("metadata")->find("k")->as_string(), "v");
  EXPECT_TRUE(json.find("etag"));
  EXPECT_TRUE(json.find("timeCreated")->as_string()->ends_with("Z"));
}

TEST(GcsResources, AppliesWritableFieldsAndRefusesUnknownOnes) {
  GcsObject object;
  auto checksums = apply_object_fields(
      parsed(R"({"name":"n","contentType":"text/plain","metadata":{"a":"1","gone":null},)"
             R"("md5Hash":"abc","kind":"storage#object"})"),
      object);
  ASSERT_TRUE(checksums);
  EXPECT_EQ(object.name, "n");
  EXPECT_EQ(object.content_type, "text/plain");
  EXPECT_EQ(object.metadata, (std::map<std::string, std::string>{{"a", "1"}}));
  EXPECT_EQ(checksums->md5_base64, "abc");
  auto unknown = apply_object_fields(parsed(R"({"colour":"red"})"), object);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().detail.find("colour"), std::string::npos);
}

TEST(GcsResources, ErrorBodyHasGooglesShape) {
  const Json body = gcs_error_body(404, "notFound", "No such object: b/o");
  const Json* error = body.find("error");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->find("code")->as_int(), 404);
  EXPECT_EQ(error->find("message")->as_string(), "No such object: b/o");
  const Json& item = error->find("errors")->as_array()->front();
  EXPECT_EQ(item.find("reason")->as_string(), "notFound");
  EXPECT_EQ(item.find("domain")->as_string(), "global");
}

TEST(GcsResources, TimesAreRfc3339WithMilliseconds) {
  const SystemTime at{std::chrono::milliseconds(1764657000123)};
  EXPECT_EQ(gcs_time(at), "2025-12-02T06:30:00.123Z");
}

TEST(GcsProjects, AServiceAccountActsInTheProjectOfItsEmailOnly) {
  EXPECT_EQ(FakeGcs::project_of_account("sa@my-project.iam.gserviceaccount.com"), "my-project");
  EXPECT_FALSE(FakeGcs::project_of_account("123456789012-compute@developer.gserviceaccount.com"));
  EXPECT_FALSE(
      FakeGcs::project_of_account("user:764086051850-skydtest.apps.googleusercontent.com"));
}

TEST(GcsChaos, ReadsFaultsAndRates) {
  auto chaos = GcsChaos::from_json(parsed(
      R"({"throttle_rate":0.5,"faults":[{"action":"objects.insert","code":"rateLimitExceeded",)"
      R"("count":2},{"code":"backendError"}]})"));
  ASSERT_TRUE(chaos) << chaos.error().detail;
  EXPECT_DOUBLE_EQ(chaos->throttle_rate, 0.5);
  ASSERT_EQ(chaos->faults.size(), 2u);
  EXPECT_EQ(chaos->faults[0].status, 429);
  EXPECT_EQ(chaos->faults[0].remaining, 2);
  EXPECT_EQ(chaos->faults[1].status, 503);
}

TEST(GcsChaos, RefusesUnknownKeysAndActions) {
  EXPECT_FALSE(GcsChaos::from_json(parsed(R"({"speed":1})")));
  EXPECT_FALSE(GcsChaos::from_json(parsed(R"({"faults":[{"action":"objects.copy","code":"x"}]})")));
  EXPECT_FALSE(GcsChaos::from_json(parsed(R"({"faults":[{"action":"objects.get"}]})")));
}

}  // namespace
}  // namespace skyd::fakecloud
