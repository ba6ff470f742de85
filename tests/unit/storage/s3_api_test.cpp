#include "providers/storage/s3_api.hpp"
#include "providers/aws/aws_auth.hpp"

#include <gtest/gtest.h>

#include <map>

namespace skyd::providers::storage {
namespace {

aws::EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

http::Endpoint parse(const std::string& url) {
  return http::Endpoint::parse(url).value();
}

TEST(S3Endpoint, ExplicitThenServiceVariableThenGeneralThenAws) {
  const auto both = env_of({{"AWS_ENDPOINT_URL_S3", "http://s3.local:9000"},
                            {"AWS_ENDPOINT_URL", "http://all.local:1"}});
  EXPECT_EQ(choose_s3_endpoint("http://mine:1", "eu-west-1", both).url, "http://mine:1");
  EXPECT_EQ(choose_s3_endpoint("", "eu-west-1", both).url, "http://s3.local:9000");
  EXPECT_EQ(
      choose_s3_endpoint("", "eu-west-1", env_of({{"AWS_ENDPOINT_URL", "http://all.local:1"}})).url,
      "http://all.local:1");
  const auto aws = choose_s3_endpoint("", "eu-west-1", env_of({}));
  EXPECT_EQ(aws.url, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(aws.custom);
  EXPECT_TRUE(choose_s3_endpoint("", "eu-west-1", both).custom);
}

TEST(S3Addressing, AutoIsVirtualHostedOnAwsUnlessTheNameHasDots) {
  EXPECT_TRUE(uses_virtual_host(S3Addressing::kAuto, false, "my-bucket"));
  EXPECT_FALSE(uses_virtual_host(S3Addressing::kAuto, false, "my.bucket"));
  EXPECT_FALSE(uses_virtual_host(S3Addressing::kAuto, true, "my-bucket"));
  EXPECT_TRUE(uses_virtual_host(S3Addressing::kVirtualHosted, true, "my-bucket"));
  EXPECT_FALSE(uses_virtual_host(S3Addressing::kPath, false, "my-bucket"));
}

TEST(S3Addressing, PathStyleKeepsTheBucketInThePathAndEncodesTheKey) {
  const auto address = s3_address(parse("http://127.0.0.1:9000"), false, "ckpt",
                                  "runs/a b/step+1.pt", {{"uploadId", "x/y"}, {"partNumber", "3"}});
  EXPECT_EQ(address.endpoint.host, "127.0.0.1");
  EXPECT_EQ(address.host, "127.0.0.1:9000");
  EXPECT_EQ(address.target, "/ckpt/runs/a%20b/step%2B1.pt?uploadId=x%2Fy&partNumber=3");
}

TEST(S3Addressing, VirtualHostedPutsTheBucketInTheHostName) {
  const auto address =
      s3_address(parse("https://s3.us-west-2.amazonaws.com"), true, "ckpt", "a/b.txt", {});
  EXPECT_EQ(address.endpoint.host, "ckpt.s3.us-west-2.amazonaws.com");
  EXPECT_EQ(address.host, "ckpt.s3.us-west-2.amazonaws.com");
  EXPECT_EQ(address.target, "/a/b.txt");
  const auto bucket_call = s3_address(parse("https://s3.us-west-2.amazonaws.com"), true, "ckpt", "",
                                      {{"list-type", "2"}, {"prefix", "a/"}});
  EXPECT_EQ(bucket_call.target, "/?list-type=2&prefix=a%2F");
  const auto subresource = s3_address(parse("http://h:1"), false, "ckpt", "", {{"delete", ""}});
  EXPECT_EQ(subresource.target, "/ckpt?delete");
}

// AWS's documented S3 example (GET Object with a Range header, "Signature Calculations for the
// Authorization Header"), signed with the payload hash handed in as S3Store does.
TEST(S3Signing, MatchesAwsDocumentedGetObjectExample) {
  aws::SignableRequest request;
  request.method = "GET";
  request.target = "/test.txt";
  request.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", request.payload_hash},
                     {"x-amz-date", "20130524T000000Z"}};
  aws::Credentials credentials;
  credentials.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const auto signature = aws::compute_signature(
      request, credentials, {"us-east-1", "s3", "20130524T000000Z", false, true});
  EXPECT_EQ(signature.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3Bodies, CreateBucketNamesTheRegionExceptUsEast1) {
  EXPECT_EQ(create_bucket_body("us-east-1"), "");
  EXPECT_NE(
      create_bucket_body("eu-west-1").find("<LocationConstraint>eu-west-1</LocationConstraint>"),
      std::string::npos);
}

TEST(S3Bodies, CompleteMultipartListsPartsInOrder) {
  const std::string body = complete_multipart_body({{3, "c"}, {1, "a"}, {2, "b"}});
  EXPECT_EQ(body,
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>\"c\"</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(S3Bodies, DeleteObjectsEscapesKeysAndIsQuiet) {
  const std::string body = delete_objects_body({"a&b", "<c>"});
  EXPECT_NE(body.find("<Quiet>true</Quiet>"), std::string::npos);
  EXPECT_NE(body.find("<Key>a&amp;b</Key>"), std::string::npos);
  EXPECT_NE(body.find("<Key>&lt;c&gt;</Key>"), std::string::npos);
}

TEST(S3Answers, ParsesAListObjectsV2Page) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix/><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>a &amp; b.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>c.txt</Key><ETag>"x"</ETag><Size>0</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";
  auto page = parse_list_objects_v2(xml);
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a & b.txt");
  EXPECT_EQ(page->objects[0].size, 434234u);
  EXPECT_EQ(page->objects[0].etag, "fba9dede5f27731c9771645a39863328");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Answers, ParsesMultipartAnswersAndAnErrorInsideA200) {
  auto id = parse_initiate_multipart(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</"
      "UploadId>"
      "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  auto etag = parse_complete_multipart(
      "<CompleteMultipartUploadResult><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(etag);
  EXPECT_EQ(*etag, "3858f62230ac3c915f300c664312c11f-9");
  auto failed = parse_complete_multipart(
      "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message>"
      "</Error>");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, make_error_code(ProviderErrc::kTransient));
  EXPECT_NE(failed.error().detail.find("InternalError"), std::string::npos);
}

TEST(S3Answers, ParsesDeleteFailures) {
  auto failures = parse_delete_result(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
      "<Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(failures);
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].key, "b");
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
}

TEST(S3Answers, ReadsSizeEtagAndUserMetadataFromHeaders) {
  const auto head = object_head_from({{"Content-Length", "1234"},
                                      {"ETag", "\"abc\""},
                                      {"X-Amz-Meta-Skyd-Sha256", "ff00"},
                                      {"x-amz-request-id", "1"}});
  EXPECT_EQ(head.size, 1234u);
  EXPECT_EQ(head.etag, "abc");
  ASSERT_EQ(head.metadata.size(), 1u);
  EXPECT_EQ(head.metadata.at("skyd-sha256"), "ff00");
}

TEST(S3Errors, ClassifiesLikeTheEc2Provider) {
  EXPECT_EQ(classify_s3_error(404, "NoSuchBucket"), ProviderErrc::kNotFound);
  EXPECT_EQ(classify_s3_error(404, "NoSuchUpload"), ProviderErrc::kNotFound);
  EXPECT_EQ(classify_s3_error(404, "HttpStatus404"), ProviderErrc::kNotFound);
  EXPECT_EQ(classify_s3_error(403, "InvalidAccessKeyId"), ProviderErrc::kAuth);
  EXPECT_EQ(classify_s3_error(403, "SignatureDoesNotMatch"), ProviderErrc::kAuth);
  EXPECT_EQ(classify_s3_error(403, "AccessDenied"), ProviderErrc::kAuth);
  EXPECT_EQ(classify_s3_error(400, "ExpiredToken"), ProviderErrc::kAuth);
  EXPECT_EQ(classify_s3_error(503, "SlowDown"), ProviderErrc::kThrottled);
  EXPECT_EQ(classify_s3_error(503, "HttpStatus503"), ProviderErrc::kThrottled);
  EXPECT_EQ(classify_s3_error(500, "InternalError"), ProviderErrc::kTransient);
  EXPECT_EQ(classify_s3_error(400, "RequestTimeout"), ProviderErrc::kTransient);
  EXPECT_EQ(classify_s3_error(409, "BucketAlreadyExists"), ProviderErrc::kInvalid);
  EXPECT_EQ(classify_s3_error(400, "InvalidBucketName"), ProviderErrc::kInvalid);
}

TEST(S3Errors, CarriesCodeMessageAndRequestIdInTheDetail) {
  const auto error =
      to_error(parse_s3_error(409,
                              "<Error><Code>BucketNotEmpty</Code><Message>The bucket you tried to "
                              "delete is not empty</Message><RequestId>R1</RequestId></Error>"),
               "DeleteBucket");
  EXPECT_EQ(error.code, make_error_code(ProviderErrc::kInvalid));
  EXPECT_EQ(error.detail,
            "DeleteBucket: BucketNotEmpty: The bucket you tried to delete is not empty (HTTP 409, "
            "request R1)");
  EXPECT_EQ(parse_s3_error(403, "").code, "HttpStatus403");  // a HEAD has no body
}

}  // namespace
}  // namespace skyd::providers::storage
