// SigV4 against every case of AWS's published test suite (../shared/vectors), plus the session
// token variants and the Authorization header parser a server uses to check signatures.
#include "providers/aws/aws_auth.hpp"
#include "reactor/small_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace skyd::providers::aws {
namespace {
namespace fs = std::filesystem;

const fs::path kSuite = fs::path(SKYD_VECTORS_DIR) / "aws-sig-v4-test-suite";
constexpr const char* kToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfI"
    "eoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ"
    "0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDr"
    "ypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

Credentials suite_credentials() {
  return Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test", {}};
}

SigningParams suite_params() {
  return SigningParams{"us-east-1", "service", "20150830T123600Z", true, true};
}

std::string slurp(const fs::path& path) {
  return read_small_file(path.string());
}

// A raw .req file: request line, headers (a line starting with white space continues the
// previous header: obs-fold, which joins like a repeated header), a blank line, the body.
SignableRequest parse_req(const std::string& text) {
  SignableRequest out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const auto first = line.find(' ');
  const auto last = line.rfind(" HTTP/");
  out.method = line.substr(0, first);
  out.target = line.substr(first + 1, last - first - 1);
  while (std::getline(in, line)) {
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      out.headers.emplace_back(out.headers.back().first, line);
      continue;
    }
    const auto colon = line.find(':');
    out.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::stringstream rest;
  rest << in.rdbuf();
  out.body = rest.str();
  return out;
}

std::vector<fs::path> suite_cases() {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::recursive_directory_iterator(kSuite))
    if (entry.path().extension() == ".req") cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  return cases;
}

// A bare POST signed with session credentials (the post-sts-token cases).
Signature sign_with_token(bool token_signed, SignableRequest& request) {
  request.method = "POST";
  request.headers = {{"Host", "example.amazonaws.com"}};
  Credentials credentials = suite_credentials();
  credentials.session_token = kToken;
  SigningParams params = suite_params();
  params.sign_security_token = token_signed;
  return sign_request(request, credentials, params);
}

#define SKIP_WITHOUT_SUITE()                                     \
  if (!fs::is_directory(kSuite))                                 \
  GTEST_SKIP() << "AWS SigV4 test suite not found at " << kSuite \
               << " (the vectors live in ../shared/vectors next to the repository)"

TEST(SigV4, MatchesEveryCaseOfTheAwsSuite) {
  SKIP_WITHOUT_SUITE();
  const auto cases = suite_cases();
  ASSERT_GE(cases.size(), 30u) << "the suite should hold 31 cases";
  for (const auto& req : cases) {
    SCOPED_TRACE(req.stem().string());
    const auto base = req.parent_path() / req.stem();
    const Signature signature =
        compute_signature(parse_req(slurp(req)), suite_credentials(), suite_params());
    EXPECT_EQ(signature.canonical_request, slurp(base.string() + ".creq"));
    EXPECT_EQ(signature.string_to_sign, slurp(base.string() + ".sts"));
    EXPECT_EQ(signature.authorization, slurp(base.string() + ".authz"));
  }
}

TEST(SigV4, SessionTokenSignedBeforeTheSignature) {
  SKIP_WITHOUT_SUITE();
  const auto base = kSuite / "post-sts-token/post-sts-header-before/post-sts-header-before";
  SignableRequest request;
  const Signature signature = sign_with_token(true, request);
  EXPECT_EQ(signature.canonical_request, slurp(base.string() + ".creq"));
  EXPECT_EQ(signature.authorization, slurp(base.string() + ".authz"));
}

TEST(SigV4, SessionTokenAddedAfterTheSignature) {
  SKIP_WITHOUT_SUITE();
  const auto base = kSuite / "post-sts-token/post-sts-header-after/post-sts-header-after";
  SignableRequest request;
  const Signature signature = sign_with_token(false, request);
  EXPECT_EQ(signature.authorization, slurp(base.string() + ".authz"));
  // The token still travels, unsigned, and the signed request matches the suite's .sreq headers.
  bool has_token = false;
  for (const auto& [name, value] : request.headers)
    has_token = has_token || (name == "X-Amz-Security-Token" && value == kToken);
  EXPECT_TRUE(has_token);
  EXPECT_NE(slurp(base.string() + ".sreq").find(signature.signature), std::string::npos);
}

TEST(SigV4, SigningKeyMatchesTheDocumentedDerivation) {
  // docs.aws.amazon.com "Examples of how to derive a signing key": the published example key.
  const std::string key = derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                             "us-east-1", "iam");
  std::string hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : key) hex += std::string{kHex[c >> 4], kHex[c & 15]};
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, ChangingTheBodyChangesTheSignature) {
  SignableRequest a;
  a.headers = {{"Host", "ec2.us-east-1.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  a.body = "Action=DescribeInstances&Version=2016-11-15";
  SignableRequest b = a;
  b.body += "&MaxResults=5";
  EXPECT_NE(compute_signature(a, suite_credentials(), suite_params()).signature,
            compute_signature(b, suite_credentials(), suite_params()).signature);
}

TEST(SigV4, ParsesTheAuthorizationHeader) {
  auto parsed = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, Signature=abc123");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(parsed->date, "20150830");
  EXPECT_EQ(parsed->region, "us-east-1");
  EXPECT_EQ(parsed->service, "ec2");
  EXPECT_EQ(parsed->signed_headers,
            (std::vector<std::string>{"content-type", "host", "x-amz-date"}));
  EXPECT_EQ(parsed->signature, "abc123");
}

TEST(SigV4, RejectsAMalformedAuthorizationHeader) {
  EXPECT_FALSE(parse_authorization("Bearer abc"));
  EXPECT_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1"));
}

TEST(SigV4, FormatsAmzDate) {
  EXPECT_EQ(format_amz_date(std::chrono::system_clock::from_time_t(1440938160)),
            "20150830T123600Z");
}

}  // namespace
}  // namespace skyd::providers::aws
