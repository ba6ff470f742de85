#include "daemon/volumes_api.hpp"

#include "daemon/controller/controller.hpp"
#include "daemon/spec/names.hpp"
#include "providers/kubernetes/kube_provider.hpp"
#include "reactor/blocking.hpp"

#include <cctype>
#include <functional>
#include <map>

namespace skyd::daemon {
namespace {

using providers::ProviderErrc;
using providers::kubernetes::Claim;
using providers::kubernetes::KubeProvider;

http::Response provider_error(const Error& error) {
  if (error.code == providers::make_error_code(ProviderErrc::kInvalid))
    return http::Response::error(400, "invalid", error.detail);
  if (error.code == providers::make_error_code(ProviderErrc::kNotFound))
    return http::Response::error(404, "not_found", error.detail);
  return http::Response::error(502, "kubernetes", "the Kubernetes API: " + error.detail);
}

// Why a volume request cannot be served: no kubernetes in this skyd, or (for a `request` that
// acts for its caller) a caller whose identity is unknown.
std::optional<http::Response> cannot_serve(const KubeProvider* kube, const http::Request* request) {
  if (request && !request->peer.known)
    return http::Response::error(403, "forbidden", "the caller's identity is unknown");
  if (!kube)
    return http::Response::error(
        400, "invalid", "volumes are Kubernetes claims, and kubernetes is not enabled in skyd");
  return std::nullopt;
}

// A Kubernetes quantity of bytes as a claim asks for it: digits, then an optional unit.
bool is_storage_quantity(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string_view unit = text.substr(digits);
  for (std::string_view known : {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P"})
    if (digits > 0 && unit == known) return true;
  return false;
}

// A field the request names that skyd does not take, or one of the wrong type, by name.
std::optional<http::Response> misnamed_field(const Json& body) {
  static const std::map<std::string, const char*> kFields = {
      {"name", "a string"},        {"size", "a string"},
      {"access_mode", "a string"}, {"storage_class", "a string"},
      {"context", "a string"},     {"namespace", "a string"},
      {"labels", "an object"},     {"use_existing", "true or false"}};
  for (const auto& [key, value] : *body.as_object()) {
    const auto known = kFields.find(key);
    if (known == kFields.end())
      return http::Response::error(400, "invalid", key + ": not a field of a volume");
    const bool fits = key == "labels"         ? value.as_object() != nullptr
                      : key == "use_existing" ? value.as_bool().has_value()
                                              : value.as_string().has_value();
    if (!fits)
      return http::Response::error(400, "invalid",
                                   key + ": expected " + std::string(known->second));
  }
  return std::nullopt;
}

// Where the request says the volume is, when it says so, must be where skyd's claims are.
std::optional<http::Response> elsewhere(const Json& body, const KubeProvider& kube) {
  const std::string context = string_at(body, "context");
  const std::string ns = string_at(body, "namespace");
  if (!context.empty() && context != kube.access().context)
    return http::Response::error(400, "invalid",
                                 "infra: skyd's kubernetes context is `" + kube.access().context +
                                     "` (kubernetes_context in its config), not `" + context + "`");
  if (!ns.empty() && ns != kube.access().namespace_)
    return http::Response::error(400, "invalid",
                                 "config.namespace: skyd's claims are in namespace `" +
                                     kube.access().namespace_ + "`, not `" + ns + "`");
  return std::nullopt;
}

Task<http::Response> apply(Controller* controller, DaemonInfo info, http::Request& request) {
  KubeProvider* kube = controller->kubernetes();
  if (auto refused = cannot_serve(kube, &request)) co_return std::move(*refused);
  auto body = parse_json(request.body);
  if (!body || !body->as_object())
    co_return http::Response::error(400, "invalid", "expected a JSON object");
  if (auto refused = misnamed_field(*body)) co_return std::move(*refused);
  if (auto refused = elsewhere(*body, *kube)) co_return std::move(*refused);
  const std::string name = string_at(*body, "name");
  if (!spec::is_claim_name(name))
    co_return http::Response::error(
        400, "invalid",
        "name: `" + name +
            "` is not a PersistentVolumeClaim's name (lower-case letters, digits, `-` and `.`, "
            "beginning and ending with a letter or digit, at most 253 characters)");
  Json reply = Json::object();
  reply.set("name", name);
  reply.set("context", kube->access().context);
  reply.set("namespace", kube->access().namespace_);
  const Json* use_existing = body->find("use_existing");
  if (use_existing && use_existing->as_bool().value_or(false)) {
    for (const char* field : {"size", "access_mode", "storage_class", "labels"}) {
      if (body->find(field))
        co_return http::Response::error(
            400, "invalid",
            std::string(field) + ": use_existing mounts the claim as it is; it sets no " + field);
    }
    auto found = co_await kube->find_claim(name);
    if (!found) co_return provider_error(found.error());
    if (!*found)
      co_return http::Response::error(404, "not_found",
                                      "use_existing: no PersistentVolumeClaim `" + name +
                                          "` in namespace `" + kube->access().namespace_ + "`");
    reply.set("outcome", "existing");
    co_return http::Response::json(200, reply);
  }
  providers::kubernetes::ClaimSpec claim;
  claim.name = name;
  claim.size = string_at(*body, "size");
  if (!is_storage_quantity(claim.size))
    co_return http::Response::error(
        400, "invalid", "size: expected a size such as 10Gi (got `" + claim.size + "`)");
  claim.access_mode = string_at(*body, "access_mode");
  if (claim.access_mode.empty()) claim.access_mode = "ReadWriteOnce";
  if (!providers::kubernetes::is_access_mode(claim.access_mode))
    co_return http::Response::error(400, "invalid",
                                    "config.access_mode: expected ReadWriteOnce, ReadOnlyMany, "
                                    "ReadWriteMany or ReadWriteOncePod");
  claim.storage_class = string_at(*body, "storage_class");
  if (const Json* labels = body->find("labels"); labels && labels->as_object()) {
    for (const auto& [key, value] : *labels->as_object()) {
      if (!value.as_string())
        co_return http::Response::error(400, "invalid", "labels." + key + ": expected a string");
      // skyd's own labels say whose the claim is: a user's label cannot stand in for them.
      if (key.starts_with("skyd-"))
        co_return http::Response::error(400, "invalid",
                                        "labels." + key + ": `skyd-` labels are skyd's own");
      claim.labels[key] = std::string(*value.as_string());
    }
  }
  auto made = co_await kube->create_claim(claim, std::to_string(caller_of(request, info).uid));
  if (!made) co_return provider_error(made.error());
  reply.set("outcome", "created");
  reply.set("size", made->size);
  reply.set("access_mode", claim.access_mode);
  co_return http::Response::json(200, reply);
}

Json volume_json(const Claim& claim, const KubeProvider& kube,
                 const std::map<std::string, std::vector<std::string>>& users,
                 const std::map<std::int64_t, std::string>& names) {
  Json volume = Json::object();
  volume.set("name", claim.name);
  volume.set("size", claim.size);
  Json modes = Json::array();
  for (const auto& mode : claim.access_modes) modes.push_back(mode);
  volume.set("access_modes", std::move(modes));
  volume.set("storage_class", claim.storage_class);
  volume.set("phase", claim.phase);
  volume.set("created", claim.created);
  volume.set("made_by_skyd", kube.made_here(claim));
  if (const auto uid = kube.owner_of(claim)) {
    volume.set("owner_uid", static_cast<long long>(*uid));
    volume.set("owner", names.at(*uid));
  }
  Json used_by = Json::array();
  if (auto pods = users.find(claim.name); pods != users.end())
    for (const auto& pod : pods->second) used_by.push_back(pod);
  volume.set("used_by", std::move(used_by));
  return volume;
}

Task<http::Response> list(Controller* controller) {
  KubeProvider* kube = controller->kubernetes();
  if (auto refused = cannot_serve(kube, nullptr)) co_return std::move(*refused);
  auto claims = co_await kube->list_claims();
  if (!claims) co_return provider_error(claims.error());
  auto users = co_await kube->claim_users();
  if (!users) co_return provider_error(users.error());
  // Login names come from NSS, which may ask the network: off the reactor.
  std::vector<std::int64_t> uids;
  for (const auto& claim : *claims)
    if (const auto uid = kube->owner_of(claim)) uids.push_back(*uid);
  std::function<std::map<std::int64_t, std::string>()> look_up = [uids] {
    std::map<std::int64_t, std::string> names;
    for (const auto uid : uids) names[uid] = user_name_of(static_cast<uid_t>(uid));
    return names;
  };
  const auto names = co_await run_blocking<std::map<std::int64_t, std::string>>(look_up);
  Json volumes = Json::array();
  for (const auto& claim : *claims) volumes.push_back(volume_json(claim, *kube, *users, names));
  Json reply = Json::object();
  reply.set("volumes", std::move(volumes));
  reply.set("context", kube->access().context);
  reply.set("namespace", kube->access().namespace_);
  co_return http::Response::json(200, reply);
}

Task<http::Response> remove(Controller* controller, DaemonInfo info, http::Request& request) {
  KubeProvider* kube = controller->kubernetes();
  if (auto refused = cannot_serve(kube, &request)) co_return std::move(*refused);
  const std::string name = request.path_params.at("name");
  auto found = co_await kube->find_claim(name);
  if (!found) co_return provider_error(found.error());
  if (!*found) co_return http::Response::error(404, "not_found", "no volume named " + name);
  if (!kube->made_here(**found))
    co_return http::Response::error(
        403, "forbidden",
        "skyd did not make the claim `" + name +
            "`; it deletes only the claims `sky volumes apply` made (kubectl deletes others)");
  const Caller caller = caller_of(request, info);
  const bool own = kube->owner_of(**found) == static_cast<std::int64_t>(caller.uid);
  if (!own && !caller.privileged)
    co_return http::Response::error(403, "forbidden", "volume " + name + " is another user's");
  auto users = co_await kube->claim_users();
  if (!users) co_return provider_error(users.error());
  if (auto pods = users->find(name); pods != users->end() && !pods->second.empty())
    co_return http::Response::error(409, "in_use",
                                    "volume " + name + " is in use by pod " + pods->second.front() +
                                        "; cancel its job or wait for it to end");
  auto deleted = co_await kube->delete_claim(name);
  if (!deleted) co_return provider_error(deleted.error());
  Json reply = Json::object();
  reply.set("name", name);
  reply.set("outcome", "deleted");
  co_return http::Response::json(200, reply);
}

}  // namespace

void add_volume_routes(http::Router& router, const DaemonInfo& info, Controller* controller) {
  router.add("POST", "/v1/volumes", "make a volume (a claim), or check an existing one",
             [controller, info](http::Request& r) { return apply(controller, info, r); });
  router.add("GET", "/v1/volumes", "the volumes (claims) of skyd's kubernetes namespace",
             [controller](http::Request&) { return list(controller); });
  router.add("DELETE", "/v1/volumes/{name}", "delete a volume `sky volumes apply` made",
             [controller, info](http::Request& r) { return remove(controller, info, r); });
}

}  // namespace skyd::daemon
