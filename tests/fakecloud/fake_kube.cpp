#include "tests/fakecloud/fake_kube.hpp"

#include "tests/fakecloud/kube_objects.hpp"

#include "providers/kubernetes/kube_api.hpp"
#include "providers/node_boot.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"

#include <cctype>
#include <ctime>
#include <set>
#include <stdexcept>
#include <tuple>

namespace skyd::fakecloud {
namespace {

using providers::aws::Ec2State;

bool dns_label(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;
  return name.front() != '-' && name.back() != '-';
}

bool label_value_ok(std::string_view value) {
  if (value.size() > 63) return false;
  for (char c : value)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return value.empty() || (std::isalnum(static_cast<unsigned char>(value.front())) &&
                           std::isalnum(static_cast<unsigned char>(value.back())));
}

// One requirement of an equality-based label selector: key=value, key==value, key!=value, key.
struct Requirement {
  std::string key;
  std::string value;
  enum class Op { kEquals, kNotEquals, kExists } op = Op::kExists;
};

std::optional<std::vector<Requirement>> parse_selector(std::string_view text) {
  std::vector<Requirement> out;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma - start);
    Requirement requirement;
    if (auto at = part.find("!="); at != std::string_view::npos) {
      requirement = {std::string(part.substr(0, at)), std::string(part.substr(at + 2)),
                     Requirement::Op::kNotEquals};
    } else if (auto at2 = part.find("=="); at2 != std::string_view::npos) {
      requirement = {std::string(part.substr(0, at2)), std::string(part.substr(at2 + 2)),
                     Requirement::Op::kEquals};
    } else if (auto at3 = part.find('='); at3 != std::string_view::npos) {
      requirement = {std::string(part.substr(0, at3)), std::string(part.substr(at3 + 1)),
                     Requirement::Op::kEquals};
    } else {
      requirement = {std::string(part), "", Requirement::Op::kExists};
    }
    if (requirement.key.empty()) return std::nullopt;
    out.push_back(std::move(requirement));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool matches(const std::vector<Requirement>& selector, const Json& metadata) {
  const Json* labels = metadata.find("labels");
  for (const auto& requirement : selector) {
    const Json* value = labels ? labels->find(requirement.key) : nullptr;
    const std::string text = value && value->as_string() ? std::string(*value->as_string()) : "";
    switch (requirement.op) {
      case Requirement::Op::kExists:
        if (!value) return false;
        break;
      case Requirement::Op::kEquals:
        if (!value || text != requirement.value) return false;
        break;
      case Requirement::Op::kNotEquals:
        if (value && text == requirement.value) return false;
        break;
    }
  }
  return true;
}

const std::set<std::string> kNamespaces = {"default", "skyd"};

}  // namespace

FakeKube::FakeKube(FakeCloud& cloud, asio::any_io_executor executor, std::string token)
    : cloud_(cloud), executor_(executor), token_(std::move(token)) {
  auto authority = make_certificate_authority("fakecloud kubernetes CA");
  if (!authority) throw std::runtime_error("fake kube CA: " + authority.error().detail);
  authority_ = std::move(*authority);
  auto certificate = issue_server_certificate(authority_, "kube-apiserver",
                                              {"127.0.0.1", "localhost", "kubernetes.default"});
  if (!certificate)
    throw std::runtime_error("fake kube certificate: " + certificate.error().detail);
  server_certificate_ = std::move(*certificate);
}

std::string FakeKube::kubeconfig(std::uint16_t port) const {
  return "apiVersion: v1\nkind: Config\ncurrent-context: fake-kube\nclusters:\n- name: fake\n"
         "  cluster:\n    server: https://127.0.0.1:" +
         std::to_string(port) + "\n    certificate-authority-data: " +
         providers::kubernetes::base64_encode(authority_.certificate_pem) +
         "\ncontexts:\n- name: fake-kube\n  context:\n    cluster: fake\n    user: skyd\n"
         "    namespace: default\nusers:\n- name: skyd\n  user:\n    token: " +
         token_ + "\n";
}

http::Router FakeKube::api_router() {
  http::Router router;
  auto handler = [this](http::Request& request) { return api(request); };
  for (const char* path : {"/api", "/apis", "/api/v1", "/version"})
    router.add("GET", path, "discovery", handler);
  router.add("GET", "/api/v1/nodes", "list nodes", handler);
  router.add("GET", "/api/v1/namespaces/{ns}/pods", "list pods", handler);
  router.add("POST", "/api/v1/namespaces/{ns}/pods", "create a pod", handler);
  router.add("GET", "/api/v1/namespaces/{ns}/pods/{name}", "read a pod", handler);
  router.add("DELETE", "/api/v1/namespaces/{ns}/pods/{name}", "delete a pod", handler);
  const std::string claims = "/api/v1/namespaces/{ns}/persistentvolumeclaims";
  router.add("GET", claims, "list claims", handler);
  router.add("POST", claims, "create a claim", handler);
  router.add("GET", claims + "/{name}", "read a claim", handler);
  router.add("DELETE", claims + "/{name}", "delete a claim", handler);
  return router;
}

void FakeKube::add_admin_routes(http::Router& router) {
  auto handler = [this](http::Request& request) { return admin(request); };
  router.add("GET", "/_admin/kube/pods", "admin", handler);
  router.add("GET", "/_admin/kube/stats", "admin", handler);
  router.add("POST", "/_admin/kube/evict", "admin", handler);
  router.add("POST", "/_admin/kube/nodes", "admin", handler);
}

Task<http::Response> FakeKube::api(http::Request& request) {
  const std::string* authorization = request.header("Authorization");
  if (!authorization || *authorization != "Bearer " + token_) {
    ++unauthorized_;
    co_return status(401, "Unauthorized", "Unauthorized");
  }
  if (request.path == "/api") {
    Json body = Json::object();
    body.set("kind", "APIVersions");
    Json versions = Json::array();
    versions.push_back("v1");
    body.set("versions", std::move(versions));
    Json address = Json::object();
    address.set("clientCIDR", "0.0.0.0/0");
    const std::string* host = request.header("Host");
    address.set("serverAddress", host ? *host : std::string("127.0.0.1"));
    Json addresses = Json::array();
    addresses.push_back(std::move(address));
    body.set("serverAddressByClientCIDRs", std::move(addresses));
    co_return http::Response::json(200, body);
  }
  if (request.path == "/apis") {
    Json body = Json::object();
    body.set("kind", "APIGroupList");
    body.set("apiVersion", "v1");
    body.set("groups", Json::array());
    co_return http::Response::json(200, body);
  }
  if (request.path == "/api/v1") {
    Json resources = Json::array();
    for (const auto& [name, singular, kind, short_name, namespaced] :
         {std::tuple{"pods", "pod", "Pod", "po", true},
          {"persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", "pvc", true},
          {"nodes", "node", "Node", "no", false}}) {
      Json resource = Json::object();
      resource.set("name", name);
      resource.set("singularName", singular);
      resource.set("namespaced", namespaced);
      resource.set("kind", kind);
      Json verbs = Json::array();
      for (const char* verb : {"create", "delete", "get", "list"}) verbs.push_back(verb);
      resource.set("verbs", std::move(verbs));
      Json short_names = Json::array();
      short_names.push_back(short_name);
      resource.set("shortNames", std::move(short_names));
      resources.push_back(std::move(resource));
    }
    Json body = Json::object();
    body.set("kind", "APIResourceList");
    body.set("groupVersion", "v1");
    body.set("resources", std::move(resources));
    co_return http::Response::json(200, body);
  }
  if (request.path == "/version") {
    Json body = Json::object();
    body.set("major", "1");
    body.set("minor", "30");
    body.set("gitVersion", "v1.30.0-fakecloud");
    body.set("platform", "linux/amd64");
    co_return http::Response::json(200, body);
  }
  if (request.path == "/api/v1/nodes") {
    ++calls_["list nodes"];
    co_return http::Response::json(200, node_list());
  }
  const std::string ns = request.path_params["ns"];
  const std::string verb = request.method == "POST"               ? "create"
                           : request.method == "DELETE"           ? "delete"
                           : request.path_params.contains("name") ? "get"
                                                                  : "list";
  const bool claim = request.path.find("/persistentvolumeclaims") != std::string::npos;
  const std::string resource = claim ? "persistentvolumeclaims" : "pods";
  ++calls_[claim ? verb + " claim" : verb];
  if (!kNamespaces.contains(ns)) {
    co_return status(403, "Forbidden",
                     resource +
                         " is forbidden: User \"system:serviceaccount:default:skyd\" "
                         "cannot " +
                         verb + " resource \"" + resource +
                         "\" in API group \"\" in the "
                         "namespace \"" +
                         ns + "\"");
  }
  if (claim) co_return claims(ns, request);
  if (verb == "create") co_return create(ns, request);
  if (verb == "list") co_return list(ns, request);
  if (verb == "get") co_return get(ns, request.path_params["name"]);
  co_return remove(ns, request.path_params["name"]);
}

http::Response FakeKube::create(const std::string& ns, const http::Request& request) {
  auto body = parse_json(request.body);
  if (!body || !body->as_object())
    return status(400, "BadRequest", "the body of the request was in an unknown format");
  if (const std::string kind = string_at(*body, "kind"); !kind.empty() && kind != "Pod")
    return status(400, "BadRequest",
                  "the API version in the data (" + string_at(*body, "apiVersion") +
                      ") does not match the expected kind Pod (got " + kind + ")");
  const Json* metadata = body->find("metadata");
  const std::string name = metadata ? string_at(*metadata, "name") : "";
  if (name.empty())
    return status(422, "Invalid",
                  "Pod \"\" is invalid: metadata.name: Required value: name or "
                  "generateName is required");
  if (!dns_label(name))
    return status(422, "Invalid",
                  "Pod \"" + name + "\" is invalid: metadata.name: Invalid value: \"" + name +
                      "\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
                      "characters or '-'",
                  name);
  if (const std::string given = string_at(*metadata, "namespace"); !given.empty() && given != ns)
    return status(400, "BadRequest",
                  "the namespace of the provided object does not match the namespace sent on the "
                  "request");
  if (const Json* labels = metadata->find("labels"); labels && labels->as_object()) {
    for (const auto& [key, value] : *labels->as_object()) {
      const auto text = value.as_string();
      if (!text || !label_value_ok(*text))
        return status(422, "Invalid",
                      "Pod \"" + name + "\" is invalid: metadata.labels: Invalid value: \"" +
                          std::string(text.value_or("")) +
                          "\": a valid label must be 63 "
                          "characters or less",
                      name);
    }
  }
  const Json* spec = body->find("spec");
  const Json* containers = spec ? spec->find("containers") : nullptr;
  if (!containers || !containers->as_array() || containers->as_array()->empty())
    return status(422, "Invalid",
                  "Pod \"" + name + "\" is invalid: spec.containers: Required value", name);
  const Json& container = containers->as_array()->front();
  if (string_at(container, "image").empty())
    return status(422, "Invalid",
                  "Pod \"" + name + "\" is invalid: spec.containers[0].image: Required value",
                  name);
  const std::string key = ns + "/" + name;
  if (pods_.contains(key))
    return status(409, "AlreadyExists", "pods \"" + name + "\" already exists", name);

  Pod pod;
  pod.namespace_ = ns;
  pod.name = name;
  pod.uid = kube_uid(key + std::to_string(next_version_));
  pod.created = rfc3339_now();
  pod.metadata = *metadata;
  pod.metadata.set("namespace", ns);
  pod.metadata.set("uid", pod.uid);
  pod.metadata.set("creationTimestamp", pod.created);
  pod.spec = *spec;

  // The kubelet runs the container's command: fakecloud reads skylet's settings from its script.
  auto instance = std::make_unique<FakeCloud::Instance>();
  instance->id = "pod-" + pod.uid;
  instance->region = "kubernetes";  // never an EC2 region: EC2's calls never see it
  instance->zone = ns;
  instance->instance_type = "pod";
  instance->image_id = string_at(container, "image");
  instance->requested_at = std::chrono::system_clock::now();
  instance->launch_time = pod.created;
  if (const Json* env = container.find("env"); env && env->as_array()) {
    for (const auto& variable : *env->as_array())
      instance->env[string_at(variable, "name")] = string_at(variable, "value");
  }
  if (const Json* command = container.find("command"); command && command->as_array()) {
    std::string script;
    for (const auto& part : *command->as_array())
      if (auto text = part.as_string()) script = std::string(*text);
    instance->boot = providers::parse_skylet_boot(script);
    if (instance->boot) cloud_.remember_certificate(instance->boot->certificate);
  }
  // The scheduler places a pod only once every claim it mounts is there.
  const auto binds = claim_binds(ns, *spec);
  if (binds) instance->binds = *binds;
  const bool has_boot = instance->boot.has_value();
  if (cloud_.options_.mode == Mode::kVirtual) instance->ip = "127.0.0.1";
  pod.instance_id = instance->id;
  const std::string id = instance->id;
  cloud_.add_instance(std::move(instance));
  if (!binds) {
    logger("fakecloud")->info("kube pod unschedulable pod={}: a claim it mounts is missing", key);
  } else if (cloud_.options_.mode == Mode::kProcess && has_boot) {
    cloud_.background_.spawn(cloud_.boot(id));
  } else if (cloud_.options_.mode == Mode::kProcess) {
    cloud_.background_.spawn(cloud_.boot_without_agent(id));
  } else {
    cloud_.background_.spawn(cloud_.delay_then(cloud_.options_.chaos.virtual_boot, id));
  }
  ++created_;
  logger("fakecloud")->info("kube pod created pod={} instance={} skylet={}", key, id, has_boot);
  auto& stored = pods_[key] = std::move(pod);
  return http::Response::json(201, pod_json(stored));
}

Json FakeKube::pod_json(const Pod& pod) const {
  Json metadata = pod.metadata;
  metadata.set("resourceVersion", std::to_string(next_version_));
  if (!pod.deleted_at.empty()) {
    metadata.set("deletionTimestamp", pod.deleted_at);
    metadata.set("deletionGracePeriodSeconds", 0);
  }
  const FakeCloud::Instance* instance = cloud_.find(pod.instance_id);
  const Ec2State state = instance ? instance->state : Ec2State::kTerminated;
  std::string phase = "Pending";
  if (!pod.evicted.empty() ||
      (state != Ec2State::kPending && state != Ec2State::kRunning && pod.deleted_at.empty()))
    phase = "Failed";
  else if (state == Ec2State::kRunning)
    phase = "Running";
  Json status = Json::object();
  status.set("phase", phase);
  Json conditions = Json::array();
  auto condition = [&](const char* type, bool value) {
    Json entry = Json::object();
    entry.set("type", type);
    entry.set("status", value ? "True" : "False");
    entry.set("lastTransitionTime", pod.created);
    conditions.push_back(std::move(entry));
  };
  condition("PodScheduled", true);
  condition("Initialized", true);
  condition("ContainersReady", phase == "Running");
  condition("Ready", phase == "Running");
  status.set("conditions", std::move(conditions));
  status.set("hostIP", "127.0.0.1");
  if (phase == "Running" && instance && !instance->ip.empty()) {
    status.set("podIP", instance->ip);
    Json ip = Json::object();
    ip.set("ip", instance->ip);
    Json ips = Json::array();
    ips.push_back(std::move(ip));
    status.set("podIPs", std::move(ips));
  }
  status.set("startTime", pod.created);
  if (!pod.evicted.empty()) {
    status.set("reason", "Evicted");
    status.set("message", pod.evicted);
  }
  Json container = Json::object();
  container.set("name", "node");
  container.set("image", instance ? instance->image_id : std::string());
  container.set("ready", phase == "Running");
  container.set("restartCount", 0);
  Json container_state = Json::object();
  Json detail = Json::object();
  if (phase == "Running") {
    detail.set("startedAt", pod.created);
    container_state.set("running", std::move(detail));
  } else if (phase == "Failed") {
    detail.set("exitCode", 137);
    detail.set("reason", "Error");
    container_state.set("terminated", std::move(detail));
  } else {
    detail.set("reason", "ContainerCreating");
    container_state.set("waiting", std::move(detail));
  }
  container.set("state", std::move(container_state));
  Json statuses = Json::array();
  statuses.push_back(std::move(container));
  status.set("containerStatuses", std::move(statuses));
  Json spec = pod.spec;
  spec.set("nodeName", "fakecloud-node");
  Json out = Json::object();
  out.set("kind", "Pod");
  out.set("apiVersion", "v1");
  out.set("metadata", std::move(metadata));
  out.set("spec", std::move(spec));
  out.set("status", std::move(status));
  return out;
}

http::Response FakeKube::list(const std::string& ns, const http::Request& request) {
  auto selector = parse_selector(request.query_param("labelSelector").value_or(""));
  if (!selector)
    return status(400, "BadRequest", "unable to parse requirement: found '', expected: identifier");
  Json items = Json::array();
  for (const auto& [key, pod] : pods_) {
    if (pod.namespace_ != ns || !matches(*selector, pod.metadata)) continue;
    items.push_back(pod_json(pod));
  }
  Json metadata = Json::object();
  metadata.set("resourceVersion", std::to_string(next_version_));
  Json body = Json::object();
  body.set("kind", "PodList");
  body.set("apiVersion", "v1");
  body.set("metadata", std::move(metadata));
  body.set("items", std::move(items));
  return http::Response::json(200, body);
}

http::Response FakeKube::get(const std::string& ns, const std::string& name) {
  auto found = pods_.find(ns + "/" + name);
  if (found == pods_.end()) return status(404, "NotFound", "pods \"" + name + "\" not found", name);
  return http::Response::json(200, pod_json(found->second));
}

http::Response FakeKube::remove(const std::string& ns, const std::string& name) {
  const std::string key = ns + "/" + name;
  auto found = pods_.find(key);
  if (found == pods_.end()) return status(404, "NotFound", "pods \"" + name + "\" not found", name);
  ++next_version_;
  Pod& pod = found->second;
  const bool first = pod.deleted_at.empty();
  if (first) pod.deleted_at = rfc3339_now();
  auto body = http::Response::json(200, pod_json(pod));
  // The kubelet stops the containers, then the pod object goes.
  if (first) cloud_.background_.spawn(finish_delete(key));
  return body;
}

Task<void> FakeKube::finish_delete(std::string key) {
  auto found = pods_.find(key);
  if (found == pods_.end()) co_return;
  const std::string id = found->second.instance_id;
  if (FakeCloud::Instance* instance = cloud_.find(id);
      instance && (instance->state == Ec2State::kPending || instance->state == Ec2State::kRunning))
    co_await cloud_.stop(id, "Deleted", "the pod was deleted", Duration::zero());
  if (FakeCloud::Instance* instance = cloud_.find(id)) instance->state = Ec2State::kTerminated;
  pods_.erase(key);
  ++deleted_;
  ++next_version_;
  logger("fakecloud")->info("kube pod deleted pod={} instance={}", key, id);
}

void FakeKube::evict(Pod& pod) {
  if (!pod.evicted.empty() || !pod.deleted_at.empty()) return;
  pod.evicted = "The node was low on resource: memory.";
  ++evicted_;
  ++next_version_;
  const std::string id = pod.instance_id;
  if (FakeCloud::Instance* instance = cloud_.find(id);
      instance && (instance->state == Ec2State::kPending || instance->state == Ec2State::kRunning))
    cloud_.background_.spawn(cloud_.stop(id, "Evicted", pod.evicted, Duration::zero()));
  logger("fakecloud")->info("kube pod evicted pod={}/{} instance={}", pod.namespace_, pod.name, id);
}

Json FakeKube::node_list() const {
  Json items = Json::array();
  for (const auto& node : *nodes_.as_array()) {
    Json metadata = Json::object();
    metadata.set("name", string_at(node, "name"));
    const Json* labels = node.find("labels");
    metadata.set("labels", labels ? *labels : Json::object());
    Json status = Json::object();
    const Json* allocatable = node.find("allocatable");
    status.set("allocatable", allocatable ? *allocatable : Json::object());
    Json item = Json::object();
    item.set("metadata", std::move(metadata));
    item.set("status", std::move(status));
    items.push_back(std::move(item));
  }
  Json list = Json::object();
  list.set("kind", "NodeList");
  list.set("apiVersion", "v1");
  list.set("items", std::move(items));
  return list;
}

Task<http::Response> FakeKube::admin(http::Request& request) {
  if (request.path == "/_admin/kube/pods") {
    Json pods = Json::array();
    for (const auto& [key, pod] : pods_) pods.push_back(pod_json(pod));
    Json body = Json::object();
    body.set("pods", std::move(pods));
    co_return http::Response::json(200, body);
  }
  if (request.path == "/_admin/kube/nodes") {
    // The cluster's nodes, as GET /api/v1/nodes lists them: [{name, labels, allocatable}].
    auto nodes = parse_json(request.body);
    if (!nodes || !nodes->as_array()) co_return http::Response::text(400, "a JSON array\n");
    nodes_ = std::move(*nodes);
    co_return http::Response::json(200, node_list());
  }
  if (request.path == "/_admin/kube/stats") {
    Json calls = Json::object();
    for (const auto& [verb, count] : calls_) calls.set(verb, count);
    std::int64_t live = 0;
    for (const auto& [key, pod] : pods_) {
      const FakeCloud::Instance* instance = cloud_.find(pod.instance_id);
      if (instance &&
          (instance->state == Ec2State::kPending || instance->state == Ec2State::kRunning))
        ++live;
    }
    Json body = Json::object();
    body.set("calls", std::move(calls));
    body.set("pods", static_cast<std::int64_t>(pods_.size()));
    body.set("live", live);
    body.set("created", created_);
    body.set("deleted", deleted_);
    body.set("evicted", evicted_);
    body.set("unauthorized", unauthorized_);
    co_return http::Response::json(200, body);
  }
  // POST /_admin/kube/evict?name=NAME[&namespace=NS] or ?all=1
  const std::string name(request.query_param("name").value_or(""));
  const std::string ns(request.query_param("namespace").value_or("default"));
  const bool all = request.query_param("all").value_or("") == "1";
  Json evicted = Json::array();
  for (auto& [key, pod] : pods_) {
    if (!all && !(pod.name == name && pod.namespace_ == ns)) continue;
    if (!pod.evicted.empty() || !pod.deleted_at.empty()) continue;
    evict(pod);
    evicted.push_back(pod.name);
  }
  const int code = evicted.as_array()->empty() ? 404 : 200;
  Json body = Json::object();
  body.set("evicted", std::move(evicted));
  co_return http::Response::json(code, body);
}

}  // namespace skyd::fakecloud
