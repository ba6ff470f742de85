// fakecloud's Cloud TPU API v2 (tpu.googleapis.com/v2/projects/P/locations/Z/...): TPU VM nodes
// and their long-running operations, and /_admin/gcp/tpu* (see fake_gce.hpp).
#include "reactor/log.hpp"
#include "tests/fakecloud/fake_gce.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <random>

namespace skyd::fakecloud {
namespace {

using providers::aws::Ec2State;

constexpr int kTpuPort = 8470;

bool is_live(Ec2State state) {
  return state == Ec2State::kPending || state == Ec2State::kRunning;
}  // what networkEndpoints[].port says on real TPU VMs

// Google's JSON error envelope as the TPU API answers it (no `errors` list).
http::Response tpu_error(int code, std::string_view status, std::string message) {
  Json error = Json::object();
  error.set("code", code);
  error.set("message", std::move(message));
  error.set("status", std::string(status));
  Json body = Json::object();
  body.set("error", std::move(error));
  return http::Response::json(code, body);
}

std::string node_name(const std::string& project, const std::string& zone, const std::string& id) {
  return "projects/" + project + "/locations/" + zone + "/nodes/" + id;
}

// Hosts of a slice by its acceleratorType ("v4-32" -> 4); 0 for a type Google does not sell.
// v2, v3, v4 and v5p count TensorCores (two a chip), v5litepod and v6e chips; a multi-host
// slice has four chips a host, a v5litepod or v6e host up to eight.
int hosts_of(std::string_view type) {
  const auto dash = type.rfind('-');
  if (dash == std::string_view::npos) return 0;
  const std::string generation(type.substr(0, dash));
  int size = 0;
  for (char c : type.substr(dash + 1)) {
    if (c < '0' || c > '9') return 0;
    size = size * 10 + (c - '0');
    if (size > 100000) return 0;
  }
  if (generation == "v2" || generation == "v3" || generation == "v4" || generation == "v5p")
    return size >= 8 && size % 8 == 0 ? size / 8 : 0;
  if (generation == "v5litepod" || generation == "v6e") {
    if (size == 1 || size == 4 || size == 8) return 1;
    return size >= 16 && size % 4 == 0 ? size / 4 : 0;
  }
  return 0;
}

// TPU VM software versions (Google's "TPU software versions" page); TPU Node versions ("2.12.0")
// are refused, as the API refuses them for a VM.
bool runtime_known(std::string_view version) {
  return version.starts_with("tpu-vm-") || version.starts_with("tpu-ubuntu") ||
         version.starts_with("v2-alpha");
}

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 63 || !(id.front() >= 'a' && id.front() <= 'z') || id.back() == '-')
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool valid_zone(std::string_view zone) {
  const auto dash = zone.rfind('-');
  return dash != std::string_view::npos && dash + 2 == zone.size() && zone[dash + 1] >= 'a' &&
         zone[dash + 1] <= 'z' && std::count(zone.begin(), zone.end(), '-') == 2;
}

}  // namespace

void FakeGce::add_tpu_routes(http::Router& router) {
  auto handler = [this](http::Request& request) { return tpu(request); };
  const std::string location = "/v2/projects/{project}/locations/{zone}";
  router.add("POST", location + "/nodes", "Cloud TPU: create a node", handler);
  router.add("GET", location + "/nodes", "Cloud TPU: list nodes", handler);
  router.add("GET", location + "/nodes/{name}", "Cloud TPU: get a node", handler);
  router.add("DELETE", location + "/nodes/{name}", "Cloud TPU: delete a node", handler);
  router.add("GET", location + "/operations/{operation}", "Cloud TPU: an operation", handler);
  auto admin_handler = [this](http::Request& request) { return tpu_admin(request); };
  router.add("GET", "/_admin/gcp/tpus", "admin (Cloud TPU)", admin_handler);
  router.add("POST", "/_admin/gcp/tpu_preempt", "admin (Cloud TPU)", admin_handler);
  router.add("POST", "/_admin/gcp/tpu_fail_next", "admin (Cloud TPU)", admin_handler);
}

Task<http::Response> FakeGce::tpu(http::Request& request) {
  Call call;
  call.project = request.path_params["project"];
  call.zone = request.path_params["zone"];
  call.name = request.path_params["name"];
  call.operation = request.path_params["operation"];
  const std::string* authorization = request.header("Authorization");
  std::optional<std::string> account;
  if (authorization && authorization->starts_with("Bearer "))
    account = cloud_.gcp_tokens_.account_of(std::string_view(*authorization).substr(7));
  if (!account) {
    ++auth_failures_;
    co_return tpu_error(401, "UNAUTHENTICATED",
                        "Request had invalid authentication credentials. Expected OAuth 2 access "
                        "token, login cookie or other valid authentication credential.");
  }
  call.account = *account;
  if (!cloud_.options_.gcp_project.empty() && call.project != cloud_.options_.gcp_project)
    co_return tpu_error(
        403, "PERMISSION_DENIED",
        "Permission denied on 'projects/" + call.project + "' (or it may not exist)");
  if (call.zone != "-" && !valid_zone(call.zone))
    co_return tpu_error(400, "INVALID_ARGUMENT", "Invalid location: " + call.zone);
  if (!call.operation.empty()) {
    ++tpu_calls_["operations.get"];
    co_return tpu_operation_get("projects/" + call.project + "/locations/" + call.zone +
                                "/operations/" + call.operation);
  }
  if (request.method == "POST") co_return co_await tpu_create(std::move(call), request);
  if (request.method == "DELETE") co_return tpu_delete(call);
  if (call.name.empty()) co_return tpu_list(call, request);
  co_return tpu_get(call);
}

http::Response FakeGce::tpu_operation_get(const std::string& name) const {
  auto found = tpu_operations_.find(name);
  if (found == tpu_operations_.end())
    return tpu_error(404, "NOT_FOUND", "Resource '" + name + "' was not found");
  const TpuOperation& operation = found->second;
  Json body = Json::object();
  body.set("name", operation.name);
  Json metadata = Json::object();
  metadata.set("@type", "type.googleapis.com/google.cloud.tpu.v2.OperationMetadata");
  metadata.set("createTime", operation.create_time);
  metadata.set("target", operation.target);
  metadata.set("verb", operation.verb);
  metadata.set("apiVersion", "v2");
  body.set("metadata", std::move(metadata));
  body.set("done", operation.done);
  if (operation.done && operation.error_code != 0) {
    Json error = Json::object();
    error.set("code", operation.error_code);
    error.set("message", operation.error_message);
    body.set("error", std::move(error));
  } else if (operation.done) {
    body.set("response", operation.response);
  }
  return http::Response::json(200, body);
}

FakeGce::TpuOperation& FakeGce::new_tpu_operation(const TpuNode& node, std::string verb) {
  TpuOperation operation;
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  operation.name = "projects/" + node.project + "/locations/" + node.zone +
                   "/operations/operation-" + std::to_string(ms) + "-" +
                   std::to_string(++next_tpu_operation_);
  operation.verb = std::move(verb);
  operation.target = node_name(node.project, node.zone, node.id);
  operation.create_time = gce_time(now);
  const std::string name = operation.name;
  return tpu_operations_[name] = std::move(operation);
}

Json FakeGce::tpu_node_json(const TpuNode& node) const {
  Json body = Json::object();
  body.set("name", node_name(node.project, node.zone, node.id));
  body.set("id", node.numeric_id);
  body.set("acceleratorType", node.accelerator_type);
  body.set("runtimeVersion", node.runtime_version);
  body.set("state", node.state);
  body.set("health", node.state == "READY" ? "HEALTHY" : "HEALTH_UNSPECIFIED");
  body.set("createTime", node.create_time);
  body.set("apiVersion", "V2");
  body.set("cidrBlock", "10.128.0.0/20");
  Json network = Json::object();
  network.set("network", "projects/" + node.project + "/global/networks/" +
                             std::string(last_segment(node.network)));
  network.set("subnetwork", "projects/" + node.project + "/regions/" + region_of_zone(node.zone) +
                                "/subnetworks/default");
  network.set("enableExternalIps", node.external_ips);
  body.set("networkConfig", std::move(network));
  Json scheduling = Json::object();
  if (node.spot) scheduling.set("spot", true);
  body.set("schedulingConfig", std::move(scheduling));
  Json labels = Json::object();
  for (const auto& [key, value] : node.labels) labels.set(key, value);
  body.set("labels", std::move(labels));
  Json metadata = Json::object();
  for (const auto& [key, value] : node.metadata) metadata.set(key, value);
  body.set("metadata", std::move(metadata));
  // Addresses once the hosts have them (a node still CREATING has none yet).
  if (node.state != "CREATING") {
    Json endpoints = Json::array();
    for (const auto& id : node.hosts) {
      const FakeCloud::Instance* host = cloud_.find(id);
      if (!host || host->ip.empty()) continue;
      Json endpoint = Json::object();
      endpoint.set("ipAddress", host->ip);
      endpoint.set("port", kTpuPort);
      if (node.external_ips) {
        Json access = Json::object();
        access.set("externalIp", host->ip);
        endpoint.set("accessConfig", std::move(access));
      }
      endpoints.push_back(std::move(endpoint));
    }
    body.set("networkEndpoints", std::move(endpoints));
  }
  return body;
}

Task<http::Response> FakeGce::tpu_create(Call call, http::Request& request) {
  ++tpu_calls_["nodes.create"];
  if (call.zone == "-")
    co_return tpu_error(400, "INVALID_ARGUMENT", "A node is created in one zone, not '-'");
  const std::string request_id(request.query_param("requestId").value_or(""));
  if (!request_id.empty()) {
    // The same request again (a retry whose answer was lost): the same operation.
    if (auto earlier = tpu_requests_.find(request_id); earlier != tpu_requests_.end())
      co_return tpu_operation_get(earlier->second);
  }
  const std::string node_id(request.query_param("nodeId").value_or(""));
  if (!valid_node_id(node_id))
    co_return tpu_error(400, "INVALID_ARGUMENT",
                        "Invalid node_id '" + node_id +
                            "': it must match [a-z]([-a-z0-9]*[a-z0-9])? and be at most 63 "
                            "characters");
  auto body = parse_json(request.body);
  if (!body || !body->is_object())
    co_return tpu_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  TpuNode node;
  node.project = call.project;
  node.zone = call.zone;
  node.id = node_id;
  node.accelerator_type = string_at(*body, "acceleratorType");
  node.runtime_version = string_at(*body, "runtimeVersion");
  const int hosts = hosts_of(node.accelerator_type);
  if (hosts == 0)
    co_return tpu_error(
        400, "INVALID_ARGUMENT",
        "Accelerator type '" + node.accelerator_type + "' is not supported in " + call.zone);
  if (node.runtime_version.empty())
    co_return tpu_error(400, "INVALID_ARGUMENT", "runtime_version is required");
  if (!runtime_known(node.runtime_version))
    co_return tpu_error(400, "INVALID_ARGUMENT",
                        "Invalid runtime version '" + node.runtime_version + "' for a TPU VM");
  node.network = "default";
  if (const Json* network = body->find("networkConfig"); network) {
    if (auto name = string_at(*network, "network"); !name.empty()) node.network = name;
    if (const Json* external = network->find("enableExternalIps"); external)
      node.external_ips = external->as_bool().value_or(false);
  }
  if (last_segment(node.network) != "default")
    co_return tpu_error(404, "NOT_FOUND", "Network '" + node.network + "' was not found");
  if (const Json* scheduling = body->find("schedulingConfig"); scheduling) {
    for (const char* key : {"spot", "preemptible"})
      if (const Json* flag = scheduling->find(key); flag && flag->as_bool().value_or(false))
        node.spot = true;
  }
  if (const Json* labels = body->find("labels"); labels && labels->as_object()) {
    for (const auto& [key, value] : *labels->as_object()) {
      const auto text = value.as_string();
      if (!text || !is_label_key(key) || !is_label_value(*text))
        co_return tpu_error(400, "INVALID_ARGUMENT", "Invalid label '" + key + "'");
      node.labels[key] = std::string(*text);
    }
  }
  if (const Json* metadata = body->find("metadata"); metadata && metadata->as_object()) {
    for (const auto& [key, value] : *metadata->as_object())
      if (auto text = value.as_string()) node.metadata[key] = std::string(*text);
  }
  const std::string key = call.project + "/" + call.zone + "/" + node_id;
  if (tpus_.contains(key))
    co_return tpu_error(
        409, "ALREADY_EXISTS",
        "Resource '" + node_name(call.project, call.zone, node_id) + "' already exists");
  if (tpu_fail_next_ == "quota") {
    tpu_fail_next_.clear();
    co_return tpu_error(429, "RESOURCE_EXHAUSTED",
                        "Quota limit 'TPUV2sPreemptiblePodPerProjectPerZoneForTPUAPI' has been "
                        "exceeded. Limit: 0 in zone " +
                            call.zone);
  }
  node.numeric_id = std::to_string(std::uniform_int_distribution<std::uint64_t>(
      1000000000000000000ULL, 9000000000000000000ULL)(cloud_.random_));
  node.create_time = gce_time(std::chrono::system_clock::now());
  const bool no_capacity = tpu_fail_next_ == "capacity";
  tpu_fail_next_.clear();
  if (!no_capacity) {
    for (int worker = 0; worker < hosts; ++worker) {
      GceInstance host;
      host.project = call.project;
      host.zone = call.zone;
      host.name = "t1v-n-" + node.numeric_id.substr(0, 8) + "-w-" + std::to_string(worker);
      host.machine_type = "tpu-vm";
      host.labels = node.labels;
      for (const auto& [name, value] : node.metadata) host.metadata.emplace_back(name, value);
      host.scheduling.provisioning_model = node.spot ? "SPOT" : "STANDARD";
      host.external_ip = node.external_ips;
      host.tpu_node = key;
      const std::string id = create_instance(std::move(host));
      // Hosts answer to the TPU API only, never to Compute Engine's instances calls.
      names_.erase(call.project + "/" + call.zone + "/" + cloud_.find(id)->gce->name);
      node.hosts.push_back(id);
    }
  }
  TpuOperation& operation = new_tpu_operation(node, "create");
  if (no_capacity) {
    operation.error_code = 8;  // RESOURCE_EXHAUSTED
    operation.error_message = "There is no more capacity in the zone \"" + call.zone +
                              "\"; you can try in another zone where Cloud TPU Nodes are offered "
                              "(see https://cloud.google.com/tpu/docs/regions)";
  }
  if (!request_id.empty()) tpu_requests_[request_id] = operation.name;
  const std::string operation_name = operation.name;
  logger("fakecloud")
      ->info("tpu create node={} zone={} type={} hosts={} spot={} error={}", node_id, call.zone,
             node.accelerator_type, hosts, node.spot, no_capacity ? "capacity" : "none");
  if (!no_capacity) tpus_[key] = std::move(node);
  cloud_.background_.spawn(run_tpu_create(key, operation_name));
  Json answer = Json::object();
  answer.set("name", operation_name);
  Json metadata = Json::object();
  metadata.set("@type", "type.googleapis.com/google.cloud.tpu.v2.OperationMetadata");
  metadata.set("target", node_name(call.project, call.zone, node_id));
  metadata.set("verb", "create");
  metadata.set("apiVersion", "v2");
  answer.set("metadata", std::move(metadata));
  answer.set("done", false);
  co_return http::Response::json(200, answer);
}

Task<void> FakeGce::run_tpu_create(std::string key, std::string operation) {
  const Duration half = chaos().operation_time / 2;
  co_await sleep(half);
  auto node = tpus_.find(key);
  if (node != tpus_.end() && node->second.state == "CREATING") {
    // A copy: a delete may take the node away while a host boots.
    const std::vector<std::string> hosts = node->second.hosts;
    for (const auto& id : hosts) {
      FakeCloud::Instance* instance = cloud_.find(id);
      if (!instance || instance->state != Ec2State::kPending) continue;
      instance->gce->staging = true;
      if (cloud_.options_.mode == Mode::kProcess && instance->boot)
        co_await cloud_.boot(id);  // one at a time: each host's address is known when it runs
      else
        co_await cloud_.delay_then(cloud_.options_.chaos.virtual_boot, id);
    }
  }
  co_await sleep(half);
  node = tpus_.find(key);
  auto found = tpu_operations_.find(operation);
  if (found == tpu_operations_.end()) co_return;
  if (node != tpus_.end() && node->second.state == "CREATING") {
    node->second.state = "READY";
    for (const auto& id : node->second.hosts) {
      const FakeCloud::Instance* host = cloud_.find(id);
      if (!host || host->state != Ec2State::kRunning) node->second.state = "REPAIRING";
    }
    Json response = tpu_node_json(node->second);
    response.set("@type", "type.googleapis.com/google.cloud.tpu.v2.Node");
    found->second.response = std::move(response);
  } else if (found->second.error_code == 0 && node == tpus_.end()) {
    found->second.error_code = 10;  // ABORTED: deleted while it was being made
    found->second.error_message = "The node was deleted while it was being created";
  }
  found->second.done = true;
}

http::Response FakeGce::tpu_get(const Call& call) {
  ++tpu_calls_["nodes.get"];
  auto node = tpus_.find(call.project + "/" + call.zone + "/" + call.name);
  if (node == tpus_.end())
    return tpu_error(
        404, "NOT_FOUND",
        "Resource '" + node_name(call.project, call.zone, call.name) + "' was not found");
  return http::Response::json(200, tpu_node_json(node->second));
}

http::Response FakeGce::tpu_list(const Call& call, const http::Request& request) {
  ++tpu_calls_["nodes.list"];
  std::size_t page_size = 1000;
  if (auto size = request.query_int("pageSize"); size && *size > 0)
    page_size = static_cast<std::size_t>(*size);
  std::size_t begin = 0;
  if (auto token = request.query_param("pageToken"); token && !token->empty()) {
    if (!token->starts_with("fc-")) return tpu_error(400, "INVALID_ARGUMENT", "Invalid page token");
    begin = std::strtoull(std::string(token->substr(3)).c_str(), nullptr, 10);
  }
  std::vector<const TpuNode*> matched;
  for (const auto& [key, node] : tpus_) {
    if (node.project != call.project) continue;
    if (call.zone != "-" && node.zone != call.zone) continue;
    matched.push_back(&node);
  }
  begin = std::min(begin, matched.size());
  const std::size_t end = std::min(matched.size(), begin + page_size);
  Json body = Json::object();
  Json nodes = Json::array();
  for (std::size_t i = begin; i < end; ++i) nodes.push_back(tpu_node_json(*matched[i]));
  // The API leaves `nodes` out of an empty answer.
  if (end > begin) body.set("nodes", std::move(nodes));
  if (end < matched.size()) body.set("nextPageToken", "fc-" + std::to_string(end));
  return http::Response::json(200, body);
}

http::Response FakeGce::tpu_delete(const Call& call) {
  ++tpu_calls_["nodes.delete"];
  const std::string key = call.project + "/" + call.zone + "/" + call.name;
  auto node = tpus_.find(key);
  if (node == tpus_.end())
    return tpu_error(
        404, "NOT_FOUND",
        "Resource '" + node_name(call.project, call.zone, call.name) + "' was not found");
  TpuOperation& operation = new_tpu_operation(node->second, "delete");
  node->second.state = "DELETING";
  for (const auto& id : node->second.hosts) {
    FakeCloud::Instance* host = cloud_.find(id);
    if (host && is_live(host->state)) {
      FakeCloud::leave_running(*host);
      host->state = Ec2State::kShuttingDown;
    }
  }
  logger("fakecloud")->info("tpu delete node={} operation={}", call.name, operation.name);
  cloud_.background_.spawn(run_tpu_delete(key, operation.name));
  Json answer = Json::object();
  answer.set("name", operation.name);
  answer.set("done", false);
  return http::Response::json(200, answer);
}

Task<void> FakeGce::run_tpu_delete(std::string key, std::string operation) {
  const Duration half = chaos().operation_time / 2;
  co_await sleep(half);
  std::vector<std::string> hosts;
  if (auto node = tpus_.find(key); node != tpus_.end()) hosts = node->second.hosts;
  for (const auto& id : hosts) {
    FakeCloud::Instance* host = cloud_.find(id);
    if (!host || host->gce->deleted) continue;
    host->gce->deleting = true;
    if (host->state != Ec2State::kTerminated) co_await cloud_.stop(id, "", "", Duration::zero());
    host->gce->deleted = true;
  }
  co_await sleep(half);
  tpus_.erase(key);
  if (auto found = tpu_operations_.find(operation); found != tpu_operations_.end()) {
    Json empty = Json::object();
    empty.set("@type", "type.googleapis.com/google.protobuf.Empty");
    found->second.response = std::move(empty);
    found->second.done = true;
  }
}

Task<void> FakeGce::preempt_tpu(std::string key, Duration grace) {
  auto node = tpus_.find(key);
  if (node == tpus_.end() || !node->second.spot || node->second.state != "READY") co_return;
  const std::vector<std::string> hosts = node->second.hosts;
  logger("fakecloud")
      ->info("tpu preemption node={} grace_ms={}", key,
             std::chrono::duration_cast<std::chrono::milliseconds>(grace).count());
  // Every host hears it on its metadata server (and its virtual node's events), then stops.
  for (std::size_t i = 1; i < hosts.size(); ++i) cloud_.background_.spawn(preempt(hosts[i], grace));
  if (!hosts.empty()) co_await preempt(hosts.front(), grace);
  node = tpus_.find(key);
  if (node != tpus_.end() && node->second.state == "READY") node->second.state = "PREEMPTED";
}

Task<http::Response> FakeGce::tpu_admin(http::Request& request) {
  const std::string what = request.path.substr(std::string("/_admin/gcp/").size());
  if (what == "tpus") {
    Json list = Json::array();
    for (const auto& [key, node] : tpus_) {
      Json item = tpu_node_json(node);
      Json hosts = Json::array();
      for (const auto& id : node.hosts) hosts.push_back(id);
      item.set("hosts", std::move(hosts));
      list.push_back(std::move(item));
    }
    Json calls = Json::object();
    for (const auto& [name, count] : tpu_calls_) calls.set(name, static_cast<long long>(count));
    Json body = Json::object();
    body.set("nodes", std::move(list));
    body.set("calls", std::move(calls));
    co_return http::Response::json(200, body);
  }
  if (what == "tpu_fail_next") {
    const std::string error(request.query_param("error").value_or(""));
    if (error != "quota" && error != "capacity")
      co_return http::Response::error(400, "bad_request", "error=quota or error=capacity");
    tpu_fail_next_ = error;
    co_return http::Response::json(200, Json::object());
  }
  // tpu_preempt: ?name= (and ?zone=) or ?cluster= (the skyd-cluster label).
  const std::string name(request.query_param("name").value_or(""));
  const std::string zone(request.query_param("zone").value_or(""));
  const std::string cluster(request.query_param("cluster").value_or(""));
  const auto grace_ms = request.query_int("grace_ms");
  const Duration grace =
      grace_ms ? Duration(std::chrono::milliseconds(*grace_ms)) : chaos().preemption_grace;
  Json list = Json::array();
  for (const auto& [key, node] : tpus_) {
    const auto label = node.labels.find("skyd-cluster");
    const bool named = !name.empty() && node.id == name && (zone.empty() || node.zone == zone);
    const bool of_cluster =
        !cluster.empty() && label != node.labels.end() && label->second == cluster;
    if (!(named || of_cluster) || !node.spot || node.state != "READY") continue;
    list.push_back(node.id);
    cloud_.background_.spawn(preempt_tpu(key, grace));
  }
  if (list.as_array()->empty())
    co_return http::Response::error(404, "not_found", "no READY spot TPU matches");
  Json body = Json::object();
  body.set("nodes", std::move(list));
  co_return http::Response::json(200, body);
}

}  // namespace skyd::fakecloud
