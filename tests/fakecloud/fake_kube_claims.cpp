// fakecloud's PersistentVolumeClaims: each is bound at once to a directory of its own under the
// work directory, which every pod that mounts the claim gets bound into its private root, so what
// one pod writes there the next one reads, as on a real volume.

#include "tests/fakecloud/fake_kube.hpp"
#include "tests/fakecloud/kube_objects.hpp"

#include <filesystem>
#include <system_error>

namespace skyd::fakecloud {
namespace {

constexpr const char* kClaims = "persistentvolumeclaims";

// Kubernetes' DNS subdomain rule, which a claim's name follows.
bool dns_subdomain(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (name.empty() || name.size() > 253 || !alnum(name.front()) || !alnum(name.back()))
    return false;
  for (char c : name)
    if (!alnum(c) && c != '-' && c != '.') return false;
  return true;
}

http::Response invalid(const std::string& name, const std::string& why) {
  return status(422, "Invalid", "PersistentVolumeClaim \"" + name + "\" is invalid: " + why, name,
                kClaims);
}

http::Response not_found(const std::string& name) {
  return status(404, "NotFound", "persistentvolumeclaims \"" + name + "\" not found", name,
                kClaims);
}

}  // namespace

http::Response FakeKube::claims(const std::string& ns, http::Request& request) {
  const auto name = request.path_params.find("name");
  if (request.method == "POST") return create_claim(ns, request);
  if (name == request.path_params.end()) {
    Json items = Json::array();
    for (const auto& [key, claim] : claims_)
      if (key.starts_with(ns + "/")) items.push_back(claim.object);
    Json body = Json::object();
    body.set("kind", "PersistentVolumeClaimList");
    body.set("apiVersion", "v1");
    body.set("metadata", Json::object());
    body.set("items", std::move(items));
    return http::Response::json(200, body);
  }
  auto found = claims_.find(ns + "/" + name->second);
  if (found == claims_.end()) return not_found(name->second);
  auto answer = http::Response::json(200, found->second.object);
  // The volume's data stays in its directory, as a Retain policy keeps it.
  if (request.method == "DELETE") claims_.erase(found);
  return answer;
}

http::Response FakeKube::create_claim(const std::string& ns, const http::Request& request) {
  auto body = parse_json(request.body);
  if (!body || !body->as_object())
    return status(400, "BadRequest", "the body of the request was in an unknown format");
  if (const std::string kind = string_at(*body, "kind");
      !kind.empty() && kind != "PersistentVolumeClaim")
    return status(400, "BadRequest",
                  "the kind in the data (" + kind + ") is not PersistentVolumeClaim");
  const Json* metadata = body->find("metadata");
  const std::string name = metadata ? string_at(*metadata, "name") : "";
  if (name.empty()) return invalid(name, "metadata.name: Required value");
  if (!dns_subdomain(name))
    return invalid(name, "metadata.name: Invalid value: \"" + name +
                             "\": a lowercase RFC 1123 subdomain must consist of lower case "
                             "alphanumeric characters, '-' or '.'");
  const Json* spec = body->find("spec");
  const Json* modes = spec ? spec->find("accessModes") : nullptr;
  if (!modes || !modes->as_array() || modes->as_array()->empty())
    return invalid(name, "spec.accessModes: Required value: at least 1 access mode is required");
  const Json* resources = spec->find("resources");
  const Json* requests = resources ? resources->find("requests") : nullptr;
  if (!requests || string_at(*requests, "storage").empty())
    return invalid(name, "spec.resources[storage]: Required value");
  const std::string key = ns + "/" + name;
  if (claims_.contains(key))
    return status(409, "AlreadyExists", "persistentvolumeclaims \"" + name + "\" already exists",
                  name, kClaims);

  Claim claim;
  claim.directory = cloud_.options_.work_dir + "/claims/" + ns + "/" + name;
  std::error_code failed;
  std::filesystem::create_directories(claim.directory, failed);
  if (failed)
    return status(500, "InternalError", "cannot provision the volume: " + failed.message());
  claim.object = *body;
  Json stamped = *metadata;
  stamped.set("namespace", ns);
  stamped.set("uid", kube_uid(key));
  stamped.set("creationTimestamp", rfc3339_now());
  stamped.set("resourceVersion", std::to_string(++next_version_));
  claim.object.set("metadata", std::move(stamped));
  claim.object.set("apiVersion", "v1");
  claim.object.set("kind", "PersistentVolumeClaim");
  Json capacity = Json::object();
  capacity.set("storage", string_at(*requests, "storage"));
  Json state = Json::object();
  state.set("phase", "Bound");
  state.set("accessModes", *modes);
  state.set("capacity", std::move(capacity));
  claim.object.set("status", std::move(state));
  auto& stored = claims_[key] = std::move(claim);
  return http::Response::json(201, stored.object);
}

std::optional<std::vector<std::pair<std::string, std::string>>> FakeKube::claim_binds(
    const std::string& ns, const Json& spec) const {
  std::map<std::string, std::string> claim_of_volume;  // the pod's volume name -> its claim
  if (const Json* volumes = spec.find("volumes"); volumes && volumes->as_array()) {
    for (const auto& volume : *volumes->as_array()) {
      const Json* source = volume.find("persistentVolumeClaim");
      if (source) claim_of_volume[string_at(volume, "name")] = string_at(*source, "claimName");
    }
  }
  std::vector<std::pair<std::string, std::string>> binds;
  const Json* containers = spec.find("containers");
  if (!containers || !containers->as_array() || containers->as_array()->empty()) return binds;
  const Json* mounts = containers->as_array()->front().find("volumeMounts");
  if (!mounts || !mounts->as_array()) return binds;
  for (const auto& mount : *mounts->as_array()) {
    const auto claim_name = claim_of_volume.find(string_at(mount, "name"));
    if (claim_name == claim_of_volume.end()) continue;
    const auto claim = claims_.find(ns + "/" + claim_name->second);
    if (claim == claims_.end()) return std::nullopt;
    std::string source = claim->second.directory;
    // The kubelet makes a subPath that is not there yet.
    if (const std::string sub_path = string_at(mount, "subPath"); !sub_path.empty()) {
      source += "/" + sub_path;
      std::error_code ignored;
      std::filesystem::create_directories(source, ignored);
    }
    binds.emplace_back(source, string_at(mount, "mountPath"));
  }
  return binds;
}

}  // namespace skyd::fakecloud
