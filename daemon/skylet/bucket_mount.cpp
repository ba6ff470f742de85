#include "daemon/skylet/bucket_mount.hpp"

#include "daemon/spec/names.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace skyd::skylet {
namespace {

constexpr std::array<std::string_view, 7> kFields = {"destination", "mode",     "store", "bucket",
                                                     "prefix",      "endpoint", "region"};

Error invalid(const std::string& field, const std::string& what) {
  return make_error(NetErrc::kProtocol, field + ": " + what);
}

// The parts of a '/'-separated path, each checked to be a name (not empty, ".", or "..").
bool has_only_named_parts(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string destination_problem(std::string_view destination) {
  if (destination.empty()) return "is empty";
  if (destination == "/" || destination == "~" || destination == "~/")
    return "would cover the whole root or home; name a directory in it";
  std::string_view rest = destination;
  if (rest.starts_with("~/")) {
    rest.remove_prefix(2);
  } else if (rest.starts_with("/")) {
    rest.remove_prefix(1);
  } else if (rest.starts_with("~")) {
    return "may name only the task user's home (~/x), not another user's";
  }
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (!has_only_named_parts(rest)) return "has an empty, '.' or '..' part";
  return {};
}

std::string endpoint_problem(std::string_view endpoint) {
  if (endpoint.empty()) return {};
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://"))
    return "is not an http:// or https:// URL";
  const bool plain = std::all_of(endpoint.begin(), endpoint.end(), [](unsigned char c) {
    return c > ' ' && c < 0x7f && c != '"' && c != '\\';
  });
  return plain ? std::string() : "holds a space, a quote or a control character";
}

bool is_region_name(std::string_view region) {
  return region.size() <= 32 && std::all_of(region.begin(), region.end(), [](unsigned char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

}  // namespace

std::string_view to_string(Store store) {
  switch (store) {
    case Store::kS3:
      return "s3";
    case Store::kGcs:
      return "gcs";
  }
  return "unknown";
}

Json to_json(const BucketMount& mount) {
  Json json = Json::object();
  json.set("destination", mount.destination);
  json.set("mode", to_string(mount.mode));
  json.set("store", to_string(mount.store));
  json.set("bucket", mount.bucket);
  json.set("prefix", mount.prefix);
  json.set("endpoint", mount.endpoint);
  json.set("region", mount.region);
  return json;
}

Result<BucketMount> bucket_mount_from_json(const Json& json, const std::string& field) {
  if (!json.is_object()) return invalid(field, "must be an object");
  std::map<std::string, std::string> text;
  for (const auto& [key, value] : *json.as_object()) {
    if (std::find(kFields.begin(), kFields.end(), key) == kFields.end())
      return invalid(field + "." + key, "is not a field of a bucket mount");
    if (!value.as_string()) return invalid(field + "." + key, "must be a string");
    if (value.as_string()->find('\0') != std::string_view::npos)
      return invalid(field + "." + key, "holds a NUL byte");
    text[key] = std::string(*value.as_string());
  }
  BucketMount mount;
  mount.destination = text["destination"];
  if (auto problem = destination_problem(mount.destination); !problem.empty())
    return invalid(field + ".destination", problem);

  const std::string& mode = text["mode"];
  const auto modes = {MountMode::kMount, MountMode::kMountCached, MountMode::kCopy};
  const auto named = std::find_if(modes.begin(), modes.end(), [&](MountMode candidate) {
    return to_string(candidate) == mode;
  });
  if (named == modes.end())
    return invalid(field + ".mode", "expected MOUNT, MOUNT_CACHED or COPY, got \"" + mode + "\"");
  mount.mode = *named;

  if (text["store"] != "s3" && text["store"] != "gcs")
    return invalid(field + ".store", "expected s3 or gcs, got \"" + text["store"] + "\"");
  mount.store = text["store"] == "gcs" ? Store::kGcs : Store::kS3;

  mount.bucket = text["bucket"];
  if (auto problem = spec::bucket_name_problem(mount.bucket, text["store"]); !problem.empty())
    return invalid(field + ".bucket", "\"" + mount.bucket + "\" " + problem);

  mount.prefix = text["prefix"];
  if (!mount.prefix.empty() && !has_only_named_parts(mount.prefix))
    return invalid(field + ".prefix", "expected \"\" or dir/sub without empty, '.' or '..' parts");

  mount.endpoint = text["endpoint"];
  if (auto problem = endpoint_problem(mount.endpoint); !problem.empty())
    return invalid(field + ".endpoint", problem);

  mount.region = text["region"];
  if (!is_region_name(mount.region))
    return invalid(field + ".region", "expected a region name such as us-east-1");
  return mount;
}

Result<std::vector<BucketMount>> bucket_mounts_from_json(const Json* json) {
  std::vector<BucketMount> mounts;
  if (!json || json->is_null()) return mounts;
  if (!json->is_array()) return invalid("mounts", "must be a list");
  std::set<std::string> destinations;
  for (const auto& item : *json->as_array()) {
    const std::string field = "mounts[" + std::to_string(mounts.size()) + "]";
    auto mount = bucket_mount_from_json(item, field);
    if (!mount) return mount.error();
    if (!destinations.insert(mount->destination).second)
      return invalid(field + ".destination", "duplicate destination " + mount->destination);
    mounts.push_back(std::move(*mount));
  }
  return mounts;
}

}  // namespace skyd::skylet
