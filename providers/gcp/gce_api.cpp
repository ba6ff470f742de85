#include "providers/gcp/gce_api.hpp"

#include "providers/catalog/node_fields.hpp"
#include "reactor/crypto.hpp"
#include "reactor/http_types.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace skyd::providers::gcp {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error malformed(std::string_view what, std::string_view why) {
  return make_error(ProviderErrc::kTransient, "Compute Engine answered with a malformed " +
                                                  std::string(what) + ": " + std::string(why));
}

Result<Json> parse_object(std::string_view json, std::string_view what) {
  auto parsed = parse_json(json);
  if (!parsed) return malformed(what, parsed.error().message());
  if (!parsed->is_object()) return malformed(what, "not a JSON object");
  return std::move(*parsed);
}

GceInstance instance_from(const Json& item) {
  GceInstance out;
  out.name = string_at(item, "name");
  out.id = string_at(item, "id");
  out.zone = last_segment(string_at(item, "zone"));
  out.machine_type = last_segment(string_at(item, "machineType"));
  out.status = string_at(item, "status");
  out.status_message = string_at(item, "statusMessage");
  out.creation_timestamp = string_at(item, "creationTimestamp");
  if (const Json* labels = item.find("labels"); labels && labels->as_object()) {
    for (const auto& [key, value] : *labels->as_object())
      if (auto text = value.as_string()) out.labels[key] = std::string(*text);
  }
  if (const Json* nics = item.find("networkInterfaces"); nics && nics->as_array()) {
    if (!nics->as_array()->empty()) {
      const Json& nic = nics->as_array()->front();
      out.private_ip = string_at(nic, "networkIP");
      if (const Json* configs = nic.find("accessConfigs");
          configs && configs->as_array() && !configs->as_array()->empty())
        out.public_ip = string_at(configs->as_array()->front(), "natIP");
    }
  }
  if (const Json* scheduling = item.find("scheduling"); scheduling)
    out.provisioning_model = string_at(*scheduling, "provisioningModel");
  return out;
}

void append_items(const Json& list, std::vector<GceInstance>& out) {
  const Json* items = list.find("items");
  if (!items || !items->as_array()) return;
  for (const auto& item : *items->as_array()) out.push_back(instance_from(item));
}

GceOperation operation_from(const Json& item) {
  GceOperation out;
  out.name = string_at(item, "name");
  out.zone = last_segment(string_at(item, "zone"));
  out.operation_type = string_at(item, "operationType");
  out.status = string_at(item, "status");
  out.target_link = string_at(item, "targetLink");
  out.status_message = string_at(item, "statusMessage");
  if (const Json* code = item.find("httpErrorStatusCode"); code && code->as_int())
    out.http_error_status = static_cast<int>(*code->as_int());
  if (const Json* error = item.find("error"); error) {
    if (const Json* errors = error->find("errors"); errors && errors->as_array()) {
      for (const auto& entry : *errors->as_array())
        out.errors.push_back({string_at(entry, "code"), string_at(entry, "message")});
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += (out.empty() ? "?" : "&") + key + "=" + http::percent_encode(value);
  }
  return out;
}

// How bad an error class is, for an operation with several errors: the one that decides.
int severity(ProviderErrc code) {
  switch (code) {
    case ProviderErrc::kAuth:
      return 6;
    case ProviderErrc::kInvalid:
      return 5;
    case ProviderErrc::kQuota:
      return 4;
    case ProviderErrc::kNoCapacity:
      return 3;
    case ProviderErrc::kNotFound:
      return 2;
    case ProviderErrc::kThrottled:
      return 1;
    case ProviderErrc::kTransient:
      return 0;
  }
  return 0;
}

}  // namespace

Result<ApiBase> parse_api_base(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return make_error(ProviderErrc::kInvalid, "the Compute Engine endpoint `" + std::string(url) +
                                                  "` is not a URL (http:// or https://)");
  const auto path_start = url.find('/', scheme_end + 3);
  ApiBase base;
  base.origin = std::string(url.substr(0, path_start));
  std::string path =
      path_start == std::string_view::npos ? std::string() : std::string(url.substr(path_start));
  while (!path.empty() && path.back() == '/') path.pop_back();
  base.path = path.empty() ? "/compute/v1" : path;
  if (auto endpoint = http::Endpoint::parse(base.origin); !endpoint)
    return make_error(ProviderErrc::kInvalid, "the Compute Engine endpoint `" + std::string(url) +
                                                  "`: " + endpoint.error().message());
  return base;
}

std::string request_id_for(std::string_view token) {
  std::string hex = sha256_hex("skyd launch " + std::string(token)).substr(0, 32);
  // RFC 4122 layout: version 5 in the 13th digit, variant 10xx in the 17th.
  hex[12] = '5';
  static constexpr char kVariant[] = "89ab";
  const int nibble =
      std::isdigit(static_cast<unsigned char>(hex[16])) ? hex[16] - '0' : hex[16] - 'a' + 10;
  hex[16] = kVariant[nibble & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string launch_label_for(std::string_view token) {
  return sha256_hex(std::string(token)).substr(0, 40);
}

std::string name_prefix_for(std::string_view cluster_name, std::string_view token) {
  std::string name;
  for (char c : lower(cluster_name)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name.front()))) name = "s" + name;
  // 63 characters at most in all: the prefix, "-" + 4 hash digits, "-####".
  constexpr std::size_t kRoom = 63 - 5 - 5;
  if (name.size() > kRoom) name = name.substr(0, kRoom);
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name + "-" + sha256_hex(std::string(token)).substr(0, 4);
}

std::string label_value(std::string_view text) {
  std::string out;
  for (char c : lower(text)) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    out += allowed ? c : '-';
  }
  return out.substr(0, 63);
}

std::string disk_type_for(DiskTier tier, std::string_view machine_type) {
  const std::string series(machine_type.substr(0, machine_type.find('-')));
  std::string low = "pd-standard";
  std::string ultra = "pd-extreme";
  if (series == "n1" || series == "a2" || series == "g2") ultra = "pd-ssd";
  if (series == "a3" || series == "g2") low = "pd-balanced";
  if (series == "a3") ultra = "hyperdisk-balanced";
  if (series == "n2") {
    // n2-<kind>-<vCPUs>: pd-extreme needs 64 or more.
    const auto last_dash = machine_type.rfind('-');
    int cpus = 0;
    for (char c : machine_type.substr(last_dash + 1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) break;
      cpus = cpus * 10 + (c - '0');
    }
    if (cpus < 64) ultra = "pd-ssd";
  }
  switch (tier) {
    case DiskTier::kLow:
      return low;
    case DiskTier::kMedium:
      return "pd-balanced";
    case DiskTier::kHigh:
      return "pd-ssd";
    case DiskTier::kUltra:
    case DiskTier::kBest:
      return ultra;
  }
  return "pd-balanced";
}

std::optional<int> provisioned_iops_for(std::string_view disk_type) {
  if (disk_type == "pd-extreme") return 20000;
  return std::nullopt;
}

std::optional<std::string> accelerator_type_for(std::string_view gpu) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {"A100", "nvidia-tesla-a100"}, {"A100-80GB", "nvidia-a100-80gb"},
      {"H100", "nvidia-h100-80gb"},  {"K80", "nvidia-tesla-k80"},
      {"L4", "nvidia-l4"},           {"P100", "nvidia-tesla-p100"},
      {"P4", "nvidia-tesla-p4"},     {"T4", "nvidia-tesla-t4"},
      {"V100", "nvidia-tesla-v100"}, {"H100-MEGA", "nvidia-h100-mega-80gb"},
  };
  auto found = kTypes.find(gpu);
  if (found == kTypes.end()) return std::nullopt;
  return found->second;
}

bool has_builtin_gpus(std::string_view machine_type) {
  return machine_type.starts_with("a2-") || machine_type.starts_with("a3-") ||
         machine_type.starts_with("g2-");
}

Result<void> check_labels(const std::map<std::string, std::string>& labels) {
  if (auto refused = catalog::gce_label_refusal(labels))
    return make_error(ProviderErrc::kInvalid, *refused);
  return {};
}

Result<void> check_node_settings(const NodeSettings& settings) {
  for (const auto& range : settings.ports) {
    if (range.first < 1 || range.last > 65535 || range.first > range.last) {
      return make_error(ProviderErrc::kInvalid, "resources.ports: " + std::to_string(range.first) +
                                                    "-" + std::to_string(range.last) +
                                                    " is not a range of TCP ports");
    }
  }
  // A container image runs on the default boot image (the boot installs a runtime if need be).
  const std::string image = machine_image(settings);
  const bool image_path = image.starts_with("projects/") || image.starts_with("global/images/") ||
                          image.starts_with("https://");
  if (!image.empty() && !image_path) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.image_id: `" + image +
                          "` is not a Compute Engine image (projects/P/global/images/NAME, "
                          "projects/P/global/images/family/FAMILY or a URL)");
  }
  if (settings.disk_size_gb && (*settings.disk_size_gb < 10 || *settings.disk_size_gb > 65536)) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.disk_size: " + std::to_string(*settings.disk_size_gb) +
                          " GB is outside what a Compute Engine boot disk can be (10 to 65536 GB)");
  }
  return check_labels(settings.labels);
}

Json instance_properties(const InstanceSpec& spec) {
  Json properties = Json::object();
  properties.set("machineType", spec.machine_type);

  Json params = Json::object();
  params.set("sourceImage", spec.source_image);
  if (spec.disk_size_gb) params.set("diskSizeGb", std::to_string(*spec.disk_size_gb));
  if (!spec.disk_type.empty()) params.set("diskType", spec.disk_type);
  if (spec.provisioned_iops) params.set("provisionedIops", std::to_string(*spec.provisioned_iops));
  Json disk = Json::object();
  disk.set("boot", true);
  disk.set("autoDelete", true);  // the disk goes with the machine
  disk.set("type", "PERSISTENT");
  disk.set("initializeParams", std::move(params));
  properties.set("disks", Json(Json::Array{std::move(disk)}));

  Json nic = Json::object();
  nic.set("network", spec.network);
  if (spec.public_ip) {
    Json access = Json::object();
    access.set("name", "External NAT");
    access.set("type", "ONE_TO_ONE_NAT");
    nic.set("accessConfigs", Json(Json::Array{std::move(access)}));
  }
  if (spec.tier1_network) nic.set("nicType", "GVNIC");
  properties.set("networkInterfaces", Json(Json::Array{std::move(nic)}));
  if (spec.tier1_network) {
    Json performance = Json::object();
    performance.set("totalEgressBandwidthTier", "TIER_1");
    properties.set("networkPerformanceConfig", std::move(performance));
  }

  Json labels = Json::object();
  for (const auto& [key, value] : spec.labels) labels.set(key, value);
  properties.set("labels", std::move(labels));

  Json item = Json::object();
  item.set("key", "startup-script");
  item.set("value", spec.startup_script);
  Json metadata = Json::object();
  metadata.set("items", Json(Json::Array{std::move(item)}));
  properties.set("metadata", std::move(metadata));

  const bool gpus = !spec.accelerator_type.empty() && spec.accelerator_count > 0;
  Json scheduling = Json::object();
  if (spec.spot) {
    scheduling.set("provisioningModel", "SPOT");
    scheduling.set("instanceTerminationAction", "DELETE");
    scheduling.set("automaticRestart", false);
    scheduling.set("onHostMaintenance", "TERMINATE");
  } else {
    scheduling.set("provisioningModel", "STANDARD");
    // GPUs cannot live-migrate: their machines stop for maintenance instead.
    const bool migrates = !gpus && !has_builtin_gpus(spec.machine_type);
    scheduling.set("onHostMaintenance", migrates ? "MIGRATE" : "TERMINATE");
    scheduling.set("automaticRestart", true);
  }
  properties.set("scheduling", std::move(scheduling));

  if (gpus) {
    Json accelerator = Json::object();
    accelerator.set("acceleratorType", spec.accelerator_type);
    accelerator.set("acceleratorCount", spec.accelerator_count);
    properties.set("guestAccelerators", Json(Json::Array{std::move(accelerator)}));
  }
  if (!spec.network_tags.empty()) {
    Json items = Json::array();
    for (const auto& tag : spec.network_tags) items.push_back(Json(tag));
    Json tags = Json::object();
    tags.set("items", std::move(items));
    properties.set("tags", std::move(tags));
  }
  if (!spec.service_account.empty()) {
    Json account = Json::object();
    account.set("email", spec.service_account);
    account.set("scopes",
                Json(Json::Array{Json("https://www.googleapis.com/auth/cloud-platform")}));
    properties.set("serviceAccounts", Json(Json::Array{std::move(account)}));
  }
  return properties;
}

Json bulk_insert_body(const InstanceSpec& spec, int count, std::string_view name_prefix) {
  Json body = Json::object();
  body.set("count", count);
  body.set("minCount", count);
  body.set("namePattern", std::string(name_prefix) + "-####");
  body.set("instanceProperties", instance_properties(spec));
  return body;
}

std::string ports_rule_name(std::string_view cluster_name) {
  static constexpr std::string_view kPrefix = "skyd-ports-";
  std::string name;
  for (char c : lower(cluster_name)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  const bool changed = name != cluster_name;
  name = std::string(kPrefix) + name;
  // 63 characters at most; a changed or shortened name gets "-" + 8 hash digits.
  if (changed || name.size() > 63 || name.back() == '-') {
    name = name.substr(0, 63 - 9);
    while (name.back() == '-') name.pop_back();
    name += "-" + sha256_hex(std::string(cluster_name)).substr(0, 8);
  }
  return name;
}

std::string ports_rule_description(std::string_view controller_id, std::string_view cluster_name) {
  return "skyd-controller=" + std::string(controller_id) +
         " skyd-cluster=" + std::string(cluster_name) + ": the task's ports";
}

std::string cluster_of_ports_rule(std::string_view description, std::string_view controller_id) {
  const std::string head = "skyd-controller=" + std::string(controller_id) + " skyd-cluster=";
  if (!description.starts_with(head)) return {};
  const std::string_view rest = description.substr(head.size());
  const auto end = rest.rfind(": the task's ports");
  if (end == std::string_view::npos) return {};
  return std::string(rest.substr(0, end));
}

Json firewall_body(std::string_view name, std::string_view network,
                   const std::vector<PortRange>& ports, std::string_view description) {
  std::vector<PortRange> sorted = ports;
  std::sort(sorted.begin(), sorted.end(),
            [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
  std::vector<PortRange> merged;
  for (const auto& range : sorted) {
    if (!merged.empty() && range.first <= merged.back().last + 1)
      merged.back().last = std::max(merged.back().last, range.last);
    else
      merged.push_back(range);
  }
  Json port_list = Json::array();
  for (const auto& range : merged) {
    port_list.push_back(Json(range.first == range.last
                                 ? std::to_string(range.first)
                                 : std::to_string(range.first) + "-" + std::to_string(range.last)));
  }
  Json allowed = Json::object();
  allowed.set("IPProtocol", "tcp");
  allowed.set("ports", std::move(port_list));
  Json body = Json::object();
  body.set("name", std::string(name));
  body.set("description", std::string(description));
  body.set("network", std::string(network));
  body.set("direction", "INGRESS");
  body.set("allowed", Json(Json::Array{std::move(allowed)}));
  // From anywhere, as SkyPilot opens them (and as skyd does on AWS).
  body.set("sourceRanges", Json(Json::Array{Json("0.0.0.0/0")}));
  body.set("targetTags", Json(Json::Array{Json(std::string(name))}));
  return body;
}

namespace {

GceFirewall firewall_from(const Json& item) {
  GceFirewall out;
  out.name = string_at(item, "name");
  out.description = string_at(item, "description");
  if (const Json* tags = item.find("targetTags"); tags && tags->as_array()) {
    for (const auto& tag : *tags->as_array())
      if (auto text = tag.as_string()) out.target_tags.emplace_back(*text);
  }
  if (const Json* allowed = item.find("allowed"); allowed && allowed->as_array()) {
    for (const auto& entry : *allowed->as_array()) {
      if (string_at(entry, "IPProtocol") != "tcp") continue;
      if (const Json* ports = entry.find("ports"); ports && ports->as_array()) {
        for (const auto& port : *ports->as_array())
          if (auto text = port.as_string()) out.tcp_ports.emplace_back(*text);
      }
    }
  }
  return out;
}

}  // namespace

Result<GceFirewall> parse_firewall(std::string_view json) {
  auto object = parse_object(json, "firewall");
  if (!object) return object.error();
  auto firewall = firewall_from(*object);
  if (firewall.name.empty()) return malformed("firewall", "no name");
  return firewall;
}

Result<FirewallPage> parse_firewall_list(std::string_view json) {
  auto object = parse_object(json, "firewall list");
  if (!object) return object.error();
  FirewallPage page;
  if (const Json* items = object->find("items"); items && items->as_array()) {
    for (const auto& item : *items->as_array()) page.firewalls.push_back(firewall_from(item));
  }
  page.next_page_token = string_at(*object, "nextPageToken");
  return page;
}

std::string firewalls_path(std::string_view project) {
  return "/projects/" + std::string(project) + "/global/firewalls";
}

std::string firewall_path(std::string_view project, std::string_view name) {
  return firewalls_path(project) + "/" + std::string(name);
}

std::string firewall_list_path(std::string_view project, std::string_view filter,
                               std::string_view page_token) {
  return firewalls_path(project) +
         query_string({{"filter", std::string(filter)}, {"pageToken", std::string(page_token)}});
}

std::string global_operation_wait_path(std::string_view project, std::string_view operation) {
  return "/projects/" + std::string(project) + "/global/operations/" + std::string(operation) +
         "/wait";
}

std::string zone_path(std::string_view project, std::string_view zone) {
  return "/projects/" + std::string(project) + "/zones/" + std::string(zone);
}

std::string bulk_insert_path(std::string_view project, std::string_view zone,
                             std::string_view request_id) {
  return zone_path(project, zone) + "/instances/bulkInsert" +
         query_string({{"requestId", std::string(request_id)}});
}

std::string instance_path(std::string_view project, std::string_view zone, std::string_view name) {
  return zone_path(project, zone) + "/instances/" + std::string(name);
}

std::string list_path(std::string_view project, std::string_view zone, std::string_view filter,
                      int max_results, std::string_view page_token) {
  return zone_path(project, zone) + "/instances" +
         query_string({{"filter", std::string(filter)},
                       {"maxResults", max_results > 0 ? std::to_string(max_results) : ""},
                       {"pageToken", std::string(page_token)}});
}

std::string aggregated_list_path(std::string_view project, std::string_view filter, int max_results,
                                 std::string_view page_token) {
  return "/projects/" + std::string(project) + "/aggregated/instances" +
         query_string({{"filter", std::string(filter)},
                       {"maxResults", max_results > 0 ? std::to_string(max_results) : ""},
                       {"pageToken", std::string(page_token)}});
}

std::string operation_wait_path(std::string_view project, std::string_view zone,
                                std::string_view operation) {
  return zone_path(project, zone) + "/operations/" + std::string(operation) + "/wait";
}

std::string operations_list_path(std::string_view project, std::string_view zone,
                                 std::string_view filter, std::string_view page_token) {
  return zone_path(project, zone) + "/operations" +
         query_string({{"filter", std::string(filter)}, {"pageToken", std::string(page_token)}});
}

std::string label_filter(const std::vector<std::pair<std::string, std::vector<std::string>>>& by) {
  std::string out;
  for (const auto& [key, values] : by) {
    if (values.empty()) continue;
    std::string term;
    for (const auto& value : values)
      term += (term.empty() ? "" : " OR ") + ("labels." + key + "=" + value);
    if (values.size() > 1) term = "(" + term + ")";
    out += (out.empty() ? "" : " AND ") + term;
  }
  return out;
}

std::string last_segment(std::string_view url) {
  const auto slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

std::string region_of_zone(std::string_view zone) {
  const auto dash = zone.rfind('-');
  return std::string(dash == std::string_view::npos ? zone : zone.substr(0, dash));
}

std::string GceInstance::label(std::string_view key) const {
  auto found = labels.find(std::string(key));
  return found == labels.end() ? std::string() : found->second;
}

Result<GceInstance> parse_instance(std::string_view json) {
  auto object = parse_object(json, "instance");
  if (!object) return object.error();
  auto instance = instance_from(*object);
  if (instance.name.empty()) return malformed("instance", "no name");
  return instance;
}

Result<InstancePage> parse_instance_list(std::string_view json) {
  auto object = parse_object(json, "instance list");
  if (!object) return object.error();
  InstancePage page;
  append_items(*object, page.instances);
  page.next_page_token = string_at(*object, "nextPageToken");
  return page;
}

Result<InstancePage> parse_aggregated_list(std::string_view json) {
  auto object = parse_object(json, "aggregated instance list");
  if (!object) return object.error();
  InstancePage page;
  // items: {"zones/us-central1-a": {"instances": [...]}, "zones/…": {"warning": {...}}}
  if (const Json* items = object->find("items"); items && items->as_object()) {
    for (const auto& [scope, entry] : *items->as_object()) {
      const Json* instances = entry.find("instances");
      if (!instances || !instances->as_array()) continue;
      for (const auto& item : *instances->as_array()) page.instances.push_back(instance_from(item));
    }
  }
  page.next_page_token = string_at(*object, "nextPageToken");
  return page;
}

Result<GceOperation> parse_operation(std::string_view json) {
  auto object = parse_object(json, "operation");
  if (!object) return object.error();
  auto operation = operation_from(*object);
  if (operation.name.empty()) return malformed("operation", "no name");
  return operation;
}

Result<OperationPage> parse_operation_list(std::string_view json) {
  auto object = parse_object(json, "operation list");
  if (!object) return object.error();
  OperationPage page;
  if (const Json* items = object->find("items"); items && items->as_array()) {
    for (const auto& item : *items->as_array()) page.operations.push_back(operation_from(item));
  }
  page.next_page_token = string_at(*object, "nextPageToken");
  return page;
}

GceError parse_error(int http_status, std::string_view body) {
  GceError out;
  out.http_status = http_status;
  auto parsed = parse_json(body);
  const Json* error = parsed ? parsed->find("error") : nullptr;
  if (error && error->is_object()) {
    out.message = string_at(*error, "message");
    out.status = string_at(*error, "status");
    if (const Json* errors = error->find("errors");
        errors && errors->as_array() && !errors->as_array()->empty())
      out.reason = string_at(errors->as_array()->front(), "reason");
  } else {
    out.message = std::string(body.substr(0, 200));
  }
  return out;
}

ProviderErrc classify_error(int http_status, std::string_view reason, std::string_view status) {
  static const std::set<std::string_view> kCapacity = {"ZONE_RESOURCE_POOL_EXHAUSTED",
                                                       "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
                                                       "STOCKOUT", "resourcePoolExhausted"};
  static const std::set<std::string_view> kQuotaReasons = {"QUOTA_EXCEEDED", "quotaExceeded"};
  static const std::set<std::string_view> kThrottle = {"rateLimitExceeded", "userRateLimitExceeded",
                                                       "RATE_LIMIT_EXCEEDED"};
  static const std::set<std::string_view> kAuthReasons = {
      "authError", "forbidden", "insufficientPermissions", "accessNotConfigured",
      "SERVICE_DISABLED"};
  static const std::set<std::string_view> kTransientReasons = {"backendError", "internalError",
                                                               "INTERNAL_ERROR"};
  if (kCapacity.contains(reason)) return ProviderErrc::kNoCapacity;
  if (kQuotaReasons.contains(reason)) return ProviderErrc::kQuota;
  if (kThrottle.contains(reason) || http_status == 429) return ProviderErrc::kThrottled;
  if (kAuthReasons.contains(reason) || http_status == 401 || status == "UNAUTHENTICATED" ||
      status == "PERMISSION_DENIED")
    return ProviderErrc::kAuth;
  if (reason == "notFound" || http_status == 404) return ProviderErrc::kNotFound;
  if (kTransientReasons.contains(reason) || http_status >= 500) return ProviderErrc::kTransient;
  if (status == "RESOURCE_EXHAUSTED") return ProviderErrc::kThrottled;
  if (http_status == 403) return ProviderErrc::kAuth;
  return http_status >= 400 || !reason.empty() ? ProviderErrc::kInvalid : ProviderErrc::kTransient;
}

Error to_error(const GceError& error, std::string_view action) {
  std::string detail = std::string(action) + ": ";
  detail += error.reason.empty() ? error.status : error.reason;
  if (!error.message.empty()) detail += ": " + error.message;
  detail += " (HTTP " + std::to_string(error.http_status) + ")";
  return make_error(classify_error(error.http_status, error.reason, error.status), detail);
}

Error operation_error(const GceOperation& operation) {
  std::optional<ProviderErrc> worst;
  std::string detail = operation.operation_type + " " + operation.name + " failed:";
  for (const auto& error : operation.errors) {
    const auto code = classify_error(operation.http_error_status, error.code, "");
    if (!worst || severity(code) > severity(*worst)) worst = code;
    detail += " " + error.code + ": " + error.message + ";";
  }
  if (operation.errors.empty()) detail += " no reason given";
  if (detail.back() == ';') detail.pop_back();
  return make_error(worst.value_or(ProviderErrc::kTransient), detail);
}

InstanceState instance_state_of(std::string_view status) {
  if (status == "RUNNING") return InstanceState::kRunning;
  if (status == "PROVISIONING" || status == "STAGING" || status == "REPAIRING")
    return InstanceState::kPending;
  if (status == "STOPPING" || status == "SUSPENDING") return InstanceState::kShuttingDown;
  return InstanceState::kTerminated;  // TERMINATED, SUSPENDED, STOPPED
}

InstanceStatus to_instance_status(const GceInstance& instance) {
  InstanceStatus out;
  out.instance_id = instance.name;
  out.cluster_name = instance.label(kClusterLabel);
  out.state = instance_state_of(instance.status);
  const bool going =
      out.state == InstanceState::kShuttingDown || out.state == InstanceState::kTerminated;
  out.preempted = going && instance.provisioning_model == "SPOT" &&
                  lower(instance.status_message).find("preempt") != std::string::npos;
  out.reason = instance.status;
  if (!instance.status_message.empty()) out.reason += ": " + instance.status_message;
  return out;
}

}  // namespace skyd::providers::gcp
