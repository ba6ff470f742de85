#include "providers/gcp/tpu_api.hpp"

#include "reactor/crypto.hpp"
#include "reactor/http_types.hpp"

#include <algorithm>
#include <cctype>

namespace skyd::providers::gcp {
namespace {

Error malformed(std::string_view what, std::string_view why) {
  return make_error(ProviderErrc::kTransient, "the Cloud TPU API answered with a malformed " +
                                                  std::string(what) + ": " + std::string(why));
}

Result<Json> parse_object(std::string_view json, std::string_view what) {
  auto parsed = parse_json(json);
  if (!parsed) return malformed(what, parsed.error().message());
  if (!parsed->is_object()) return malformed(what, "not a JSON object");
  return std::move(*parsed);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "projects/p/locations/us-central1-b/nodes/x" -> "us-central1-b".
std::string location_of(std::string_view name) {
  const std::string_view marker = "/locations/";
  const auto at = name.find(marker);
  if (at == std::string_view::npos) return "";
  const auto start = at + marker.size();
  const auto end = name.find('/', start);
  return std::string(name.substr(start, end == std::string_view::npos ? end : end - start));
}

TpuNode node_from(const Json& item) {
  TpuNode out;
  out.name = string_at(item, "name");
  out.id = last_segment(out.name);
  out.zone = location_of(out.name);
  out.accelerator_type = string_at(item, "acceleratorType");
  out.state = string_at(item, "state");
  out.health = string_at(item, "health");
  out.health_description = string_at(item, "healthDescription");
  if (const Json* scheduling = item.find("schedulingConfig"); scheduling) {
    for (const char* key : {"spot", "preemptible"}) {
      if (const Json* flag = scheduling->find(key); flag && flag->as_bool().value_or(false))
        out.spot = true;
    }
  }
  if (const Json* labels = item.find("labels"); labels && labels->as_object()) {
    for (const auto& [key, value] : *labels->as_object())
      if (auto text = value.as_string()) out.labels[key] = std::string(*text);
  }
  if (const Json* endpoints = item.find("networkEndpoints"); endpoints && endpoints->as_array()) {
    for (const auto& endpoint : *endpoints->as_array()) {
      TpuEndpoint host;
      host.ip = string_at(endpoint, "ipAddress");
      if (const Json* access = endpoint.find("accessConfig"); access)
        host.external_ip = string_at(*access, "externalIp");
      out.endpoints.push_back(std::move(host));
    }
  }
  return out;
}

}  // namespace

Json tpu_node_body(const TpuNodeSpec& spec) {
  Json body = Json::object();
  body.set("acceleratorType", spec.accelerator_type);
  body.set("runtimeVersion", spec.runtime_version);
  Json network = Json::object();
  network.set("network", spec.network);
  network.set("enableExternalIps", spec.external_ips);
  body.set("networkConfig", std::move(network));
  if (spec.spot) {
    Json scheduling = Json::object();
    scheduling.set("spot", true);
    body.set("schedulingConfig", std::move(scheduling));
  }
  Json labels = Json::object();
  for (const auto& [key, value] : spec.labels) labels.set(key, value);
  body.set("labels", std::move(labels));
  Json metadata = Json::object();
  metadata.set("startup-script", spec.startup_script);
  body.set("metadata", std::move(metadata));
  if (!spec.service_account.empty()) {
    Json account = Json::object();
    account.set("email", spec.service_account);
    account.set("scope", Json(Json::Array{Json("https://www.googleapis.com/auth/cloud-platform")}));
    body.set("serviceAccount", std::move(account));
  }
  return body;
}

Result<ApiBase> parse_tpu_api_base(std::string_view url) {
  auto base = parse_api_base(url);
  if (!base) return base.error();
  // parse_api_base fills in Compute Engine's path when the URL has none.
  const std::string trimmed(url.substr(0, url.find_last_not_of('/') + 1));
  const auto scheme_end = trimmed.find("://");
  const auto path_start =
      scheme_end == std::string::npos ? std::string::npos : trimmed.find('/', scheme_end + 3);
  base->path = path_start == std::string::npos ? "/v2" : trimmed.substr(path_start);
  return base;
}

std::string tpu_nodes_path(std::string_view project, std::string_view zone) {
  return "/projects/" + std::string(project) + "/locations/" + std::string(zone) + "/nodes";
}

std::string tpu_create_path(std::string_view project, std::string_view zone,
                            std::string_view node_id, std::string_view request_id) {
  return tpu_nodes_path(project, zone) + "?nodeId=" + http::percent_encode(node_id) +
         "&requestId=" + http::percent_encode(request_id);
}

std::string tpu_node_path(std::string_view project, std::string_view zone,
                          std::string_view node_id) {
  return tpu_nodes_path(project, zone) + "/" + std::string(node_id);
}

std::string tpu_list_path(std::string_view project, std::string_view zone, int page_size,
                          std::string_view page_token) {
  std::string path = tpu_nodes_path(project, zone);
  char sep = '?';
  if (page_size > 0) {
    path += sep + std::string("pageSize=") + std::to_string(page_size);
    sep = '&';
  }
  if (!page_token.empty())
    path += sep + std::string("pageToken=") + http::percent_encode(page_token);
  return path;
}

std::string tpu_operation_path(std::string_view operation_name) {
  return "/" + std::string(operation_name);
}

std::string tpu_node_id_for(std::string_view cluster_name, std::string_view token,
                            std::string_view tpu_name) {
  if (!tpu_name.empty()) return std::string(tpu_name);
  std::string id;
  for (char c : lower(cluster_name)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    id += ok ? c : '-';
  }
  if (id.empty() || !(id.front() >= 'a' && id.front() <= 'z')) id = "t-" + id;
  if (id.size() > 40) id.resize(40);
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id + "-" + sha256_hex(token).substr(0, 8);
}

std::string TpuNode::label(std::string_view key) const {
  const auto found = labels.find(std::string(key));
  return found == labels.end() ? std::string() : found->second;
}

Result<TpuNode> parse_tpu_node(std::string_view json) {
  auto object = parse_object(json, "node");
  if (!object) return object.error();
  auto node = node_from(*object);
  if (node.name.empty()) return malformed("node", "no name");
  return node;
}

Result<TpuNodePage> parse_tpu_node_list(std::string_view json) {
  auto object = parse_object(json, "node list");
  if (!object) return object.error();
  TpuNodePage page;
  if (const Json* nodes = object->find("nodes"); nodes && nodes->as_array()) {
    for (const auto& item : *nodes->as_array()) page.nodes.push_back(node_from(item));
  }
  page.next_page_token = string_at(*object, "nextPageToken");
  return page;
}

Result<TpuOperation> parse_tpu_operation(std::string_view json) {
  auto object = parse_object(json, "operation");
  if (!object) return object.error();
  TpuOperation out;
  out.name = string_at(*object, "name");
  if (out.name.empty()) return malformed("operation", "no name");
  if (const Json* done = object->find("done"); done) out.done = done->as_bool().value_or(false);
  if (const Json* error = object->find("error"); error && error->is_object()) {
    if (const Json* code = error->find("code"); code)
      out.error_code = static_cast<int>(code->as_int().value_or(2));
    out.error_message = string_at(*error, "message");
    if (out.error_code == 0) out.error_code = 2;  // UNKNOWN
  }
  return out;
}

ProviderErrc classify_tpu_error(int http_status, std::string_view status,
                                std::string_view message) {
  const std::string text = lower(message);
  if (status == "RESOURCE_EXHAUSTED" || http_status == 429) {
    if (text.find("quota") != std::string::npos) return ProviderErrc::kQuota;
    if (text.find("rate") != std::string::npos && text.find("limit") != std::string::npos)
      return ProviderErrc::kThrottled;
    return ProviderErrc::kNoCapacity;
  }
  if (status == "UNAUTHENTICATED" || status == "PERMISSION_DENIED" || http_status == 401 ||
      http_status == 403)
    return ProviderErrc::kAuth;
  if (status == "NOT_FOUND" || http_status == 404) return ProviderErrc::kNotFound;
  if (status == "UNAVAILABLE" || status == "INTERNAL" || status == "DEADLINE_EXCEEDED" ||
      http_status >= 500)
    return ProviderErrc::kTransient;
  return ProviderErrc::kInvalid;  // INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION, ...
}

Error tpu_error(int http_status, std::string_view body, std::string_view action) {
  const GceError parsed = parse_error(http_status, body);
  std::string detail = std::string(action) + ": " + parsed.status;
  if (!parsed.message.empty()) detail += ": " + parsed.message;
  detail += " (HTTP " + std::to_string(http_status) + ")";
  return make_error(classify_tpu_error(http_status, parsed.status, parsed.message), detail);
}

Error tpu_operation_error(const TpuOperation& operation) {
  // google.rpc.Code numbers, as the operation's error carries them.
  static const std::map<int, std::string_view> kStatus = {
      {3, "INVALID_ARGUMENT"},  {5, "NOT_FOUND"},          {6, "ALREADY_EXISTS"},
      {7, "PERMISSION_DENIED"}, {8, "RESOURCE_EXHAUSTED"}, {9, "FAILED_PRECONDITION"},
      {13, "INTERNAL"},         {14, "UNAVAILABLE"},       {16, "UNAUTHENTICATED"}};
  const auto found = kStatus.find(operation.error_code);
  const std::string_view status = found == kStatus.end() ? "UNKNOWN" : found->second;
  ProviderErrc code = classify_tpu_error(0, status, operation.error_message);
  if (status == "UNKNOWN") code = ProviderErrc::kTransient;
  return make_error(code, "operation " + operation.name + " failed: " + std::string(status) + ": " +
                              operation.error_message);
}

InstanceState tpu_state_of(std::string_view state) {
  if (state == "READY") return InstanceState::kRunning;
  if (state == "CREATING" || state == "STARTING" || state == "RESTARTING" || state == "REPAIRING" ||
      state == "REIMAGING" || state == "UNHIDING")
    return InstanceState::kPending;
  if (state == "DELETING" || state == "STOPPING" || state == "HIDING")
    return InstanceState::kShuttingDown;
  return InstanceState::kTerminated;  // PREEMPTED, TERMINATED, STOPPED, HIDDEN
}

std::vector<InstanceStatus> to_instance_statuses(const TpuNode& node) {
  std::vector<InstanceStatus> out;
  const std::size_t hosts = std::max<std::size_t>(node.endpoints.size(), 1);
  for (std::size_t worker = 0; worker < hosts; ++worker) {
    InstanceStatus status;
    status.instance_id = node.id + "/w-" + std::to_string(worker);
    status.cluster_name = node.label(kClusterLabel);
    status.state = tpu_state_of(node.state);
    status.preempted = node.state == "PREEMPTED";
    status.reason =
        node.state == "PREEMPTED" ? "preempted: TPU " + node.id + " was preempted" : node.state;
    out.push_back(std::move(status));
  }
  return out;
}

}  // namespace skyd::providers::gcp
