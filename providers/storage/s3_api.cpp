#include "providers/storage/s3_api.hpp"

#include "providers/aws/aws_auth.hpp"
#include "providers/aws/ec2_api.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace skyd::providers::storage {
namespace {

using aws::XmlNode;

std::string unquoted(std::string_view etag) {
  std::string out(etag);
  std::erase(out, '"');
  return out;
}

std::uint64_t to_u64(std::string_view text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

BucketAccess bucket_access_of(int http_status) {
  switch (http_status) {
    case 404:
      return BucketAccess::kNotFound;
    case 403:
      return BucketAccess::kForbidden;
    default:
      return BucketAccess::kMine;
  }
}

std::string_view to_string(BucketAccess access) {
  switch (access) {
    case BucketAccess::kMine:
      return "mine";
    case BucketAccess::kNotFound:
      return "not found";
    case BucketAccess::kForbidden:
      return "forbidden";
  }
  return "?";
}

std::string_view to_string(BucketCreation creation) {
  switch (creation) {
    case BucketCreation::kCreated:
      return "created";
    case BucketCreation::kAlreadyMine:
      return "already mine";
  }
  return "?";
}

std::string_view to_string(S3Addressing addressing) {
  switch (addressing) {
    case S3Addressing::kAuto:
      return "auto";
    case S3Addressing::kPath:
      return "path";
    case S3Addressing::kVirtualHosted:
      return "virtual-hosted";
  }
  return "?";
}

S3EndpointChoice choose_s3_endpoint(
    const std::string& explicit_url, const std::string& region,
    const std::function<std::optional<std::string>(const char*)>& env) {
  if (!explicit_url.empty()) return {explicit_url, true};
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    auto value = env(name);
    if (value && !value->empty()) return {*value, true};
  }
  return {"https://s3." + region + ".amazonaws.com", false};
}

bool uses_virtual_host(S3Addressing addressing, bool custom_endpoint, std::string_view bucket) {
  switch (addressing) {
    case S3Addressing::kPath:
      return false;
    case S3Addressing::kVirtualHosted:
      return true;
    case S3Addressing::kAuto:
      return !custom_endpoint && bucket.find('.') == std::string_view::npos;
  }
  return false;
}

S3Address s3_address(const http::Endpoint& base, bool virtual_host, std::string_view bucket,
                     std::string_view key, const S3Query& query) {
  S3Address out;
  out.endpoint = base;
  std::string path = "/";
  if (!bucket.empty()) {
    if (virtual_host) {
      out.endpoint.host = std::string(bucket) + "." + base.host;
    } else {
      path += aws::uri_encode(bucket, false);
      if (!key.empty()) path += "/";
    }
  }
  path += aws::uri_encode(key, true);
  out.target = path;
  for (std::size_t i = 0; i < query.size(); ++i) {
    out.target += i == 0 ? '?' : '&';
    out.target += aws::uri_encode(query[i].first, false);
    // A bare subresource ("?uploads", "?delete") carries no '='; S3 and signers treat it as "".
    if (!query[i].second.empty()) out.target += "=" + aws::uri_encode(query[i].second, false);
  }
  out.host = out.endpoint.host_header();
  return out;
}

std::string create_bucket_body(std::string_view region) {
  if (region.empty() || region == "us-east-1") return {};
  return "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
         "<LocationConstraint>" +
         aws::xml_escape(region) + "</LocationConstraint></CreateBucketConfiguration>";
}

std::string complete_multipart_body(std::vector<MultipartState::Part> parts) {
  std::sort(parts.begin(), parts.end(),
            [](const auto& a, const auto& b) { return a.number < b.number; });
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& part : parts) {
    out += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>\"" +
           aws::xml_escape(part.etag) + "\"</ETag></Part>";
  }
  return out + "</CompleteMultipartUpload>";
}

std::string delete_objects_body(const std::vector<std::string>& keys) {
  std::string out = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const auto& key : keys) out += "<Object><Key>" + aws::xml_escape(key) + "</Key></Object>";
  return out + "</Delete>";
}

Result<ListObjectsPage> parse_list_objects_v2(std::string_view xml) {
  auto root = aws::root_named(xml, "ListBucketResult");
  if (!root) return root.error();
  ListObjectsPage page;
  for (const auto& child : root->children) {
    if (child.name != "Contents") continue;
    ObjectInfo object;
    object.key = child.text_at("Key");
    object.size = to_u64(child.text_at("Size"));
    object.etag = unquoted(child.text_at("ETag"));
    page.objects.push_back(std::move(object));
  }
  page.truncated = root->text_at("IsTruncated") == "true";
  page.next_continuation_token = root->text_at("NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty())
    return make_error(ProviderErrc::kTransient, "a truncated listing without a continuation token");
  return page;
}

Result<std::string> parse_initiate_multipart(std::string_view xml) {
  auto root = aws::root_named(xml, "InitiateMultipartUploadResult");
  if (!root) return root.error();
  std::string id = root->text_at("UploadId");
  if (id.empty()) return make_error(ProviderErrc::kTransient, "the answer holds no UploadId");
  return id;
}

Result<std::string> parse_complete_multipart(std::string_view xml) {
  auto root = aws::parse_xml(xml);
  if (!root) return root.error();
  if (root->name == "Error") return to_error(parse_s3_error(200, xml), "CompleteMultipartUpload");
  if (root->name != "CompleteMultipartUploadResult") {
    return make_error(ProviderErrc::kTransient,
                      "expected <CompleteMultipartUploadResult>, got <" + root->name + ">");
  }
  return unquoted(root->text_at("ETag"));
}

Result<std::vector<DeleteFailure>> parse_delete_result(std::string_view xml) {
  auto root = aws::root_named(xml, "DeleteResult");
  if (!root) return root.error();
  std::vector<DeleteFailure> failures;
  for (const auto& child : root->children) {
    if (child.name != "Error") continue;
    failures.push_back({child.text_at("Key"), child.text_at("Code"), child.text_at("Message")});
  }
  return failures;
}

ObjectHead object_head_from(const http::Headers& headers) {
  ObjectHead head;
  constexpr std::string_view kMeta = "x-amz-meta-";
  for (const auto& [name, value] : headers) {
    const std::string key = lower(name);
    if (key == "content-length") {
      head.size = to_u64(value);
    } else if (key == "etag") {
      head.etag = unquoted(value);
    } else if (key.starts_with(kMeta)) {
      head.metadata[key.substr(kMeta.size())] = value;
    }
  }
  return head;
}

S3Error parse_s3_error(int http_status, std::string_view body) {
  S3Error out;
  out.http_status = http_status;
  if (auto root = aws::parse_xml(body); root && root->name == "Error") {
    out.code = root->text_at("Code");
    out.message = root->text_at("Message");
    out.request_id = root->text_at("RequestId");
  }
  if (out.code.empty()) {
    // A HEAD has no body: its status is all there is.
    out.code = "HttpStatus" + std::to_string(http_status);
    out.message = std::string(body.substr(0, 200));
  }
  return out;
}

ProviderErrc classify_s3_error(int http_status, std::string_view code) {
  static const std::set<std::string_view> kAuthCodes = {
      "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied",
      "ExpiredToken",       "InvalidToken",          "TokenRefreshRequired",
      "AccountProblem",     "AllAccessDisabled",     "InvalidSecurity"};
  static const std::set<std::string_view> kThrottleCodes = {"SlowDown", "Throttling",
                                                            "ThrottlingException"};
  static const std::set<std::string_view> kTransientCodes = {"InternalError", "ServiceUnavailable",
                                                             "RequestTimeout"};
  if (code.starts_with("NoSuch") || http_status == 404) return ProviderErrc::kNotFound;
  if (kAuthCodes.contains(code) || http_status == 403) return ProviderErrc::kAuth;
  if (kThrottleCodes.contains(code) || http_status == 503 || http_status == 429)
    return ProviderErrc::kThrottled;
  if (kTransientCodes.contains(code) || http_status >= 500) return ProviderErrc::kTransient;
  return ProviderErrc::kInvalid;
}

Error to_error(const S3Error& error, std::string_view operation) {
  return make_error(classify_s3_error(error.http_status, error.code),
                    aws::api_error_detail(operation, error.code, error.message, error.http_status,
                                          error.request_id));
}

}  // namespace skyd::providers::storage
