#include "tests/fakecloud/fake_gce_api.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

namespace skyd::fakecloud {
namespace {

Error invalid(std::string message) {
  return make_error(NetErrc::kProtocol, std::move(message));
}

bool lower_digit_or(char c, std::string_view extra) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string_view::npos;
}

std::optional<std::string> string_field(const Json& object, std::string_view key) {
  const Json* value = object.find(key);
  if (!value || !value->as_string()) return std::nullopt;
  return std::string(*value->as_string());
}

// Google's JSON parser refuses a field the message does not have; so does fakecloud, for the
// fields of the resources it models.
Result<void> known_fields(const Json& object, const std::set<std::string>& known,
                          std::string_view where) {
  if (!object.as_object())
    return invalid("Invalid JSON payload received. '" + std::string(where) +
                   "' must be an object.");
  for (const auto& [key, value] : *object.as_object()) {
    if (!known.contains(key))
      return invalid("Invalid JSON payload received. Unknown name \"" + key + "\" at '" +
                     std::string(where) + "': Cannot find field.");
  }
  return {};
}

Result<std::int64_t> int_field(const Json& value, std::string_view where) {
  if (auto n = value.as_int()) return *n;
  if (auto text = value.as_string()) {  // int64 fields travel as strings in Google's JSON
    try {
      std::size_t used = 0;
      const long long n = std::stoll(std::string(*text), &used);
      if (used == text->size()) return n;
    } catch (const std::exception&) {
    }
  }
  return invalid("Invalid value at '" + std::string(where) + "': not an integer");
}

Result<GceScheduling> parse_scheduling(const Json& json) {
  static const std::set<std::string> kKnown = {
      "automaticRestart",         "availabilityDomain",
      "exposeHostTopology",       "gracefulShutdown",
      "hostErrorTimeoutSeconds",  "instanceTerminationAction",
      "localSsdRecoveryTimeout",  "locationHint",
      "maxRunDuration",           "minNodeCpus",
      "nodeAffinities",           "onHostMaintenance",
      "onInstanceStopAction",     "preemptible",
      "preemptionNoticeDuration", "provisioningModel",
      "skipGuestOsShutdown",      "terminationTime"};
  if (auto ok = known_fields(json, kKnown, "resource.scheduling"); !ok) return ok.error();
  GceScheduling out;
  auto enum_field = [&](std::string_view key, std::initializer_list<std::string_view> allowed,
                        std::string& into) -> Result<void> {
    const Json* value = json.find(key);
    if (!value) return {};
    auto text = value->as_string();
    if (!text || std::find(allowed.begin(), allowed.end(), *text) == allowed.end())
      return invalid("Invalid value for field 'resource.scheduling." + std::string(key) + "': '" +
                     (text ? std::string(*text) : value->dump()) + "'.");
    into = std::string(*text);
    return {};
  };
  if (auto ok = enum_field("provisioningModel", {"STANDARD", "SPOT"}, out.provisioning_model); !ok)
    return ok.error();
  if (auto ok = enum_field("instanceTerminationAction", {"DELETE", "STOP"},
                           out.instance_termination_action);
      !ok)
    return ok.error();
  if (auto ok = enum_field("onHostMaintenance", {"MIGRATE", "TERMINATE"}, out.on_host_maintenance);
      !ok)
    return ok.error();
  if (const Json* restart = json.find("automaticRestart"))
    out.automatic_restart = restart->as_bool().value_or(true);
  if (const Json* preemptible = json.find("preemptible"))
    out.preemptible = preemptible->as_bool().value_or(false);
  // GCE's own rules: a spot VM cannot live-migrate nor restart on its own.
  if (out.spot() && out.on_host_maintenance == "MIGRATE" && json.find("onHostMaintenance"))
    return invalid(
        "Invalid value for field 'resource.scheduling.onHostMaintenance': 'MIGRATE'. Spot VMs "
        "must use onHostMaintenance TERMINATE.");
  if (out.spot()) {
    out.on_host_maintenance = "TERMINATE";
    out.automatic_restart = false;
  }
  if (!out.instance_termination_action.empty() && !out.spot())
    return invalid("Invalid value for field 'resource.scheduling.instanceTerminationAction': '" +
                   out.instance_termination_action + "'. It is only allowed for Spot VMs.");
  if (out.spot() && out.instance_termination_action.empty())
    out.instance_termination_action = "STOP";
  return out;
}

Result<GceDisk> parse_disk(const Json& json, std::size_t index) {
  const std::string where = "resource.disks[" + std::to_string(index) + "]";
  static const std::set<std::string> kKnown = {"architecture",
                                               "autoDelete",
                                               "boot",
                                               "deviceName",
                                               "diskEncryptionKey",
                                               "diskSizeGb",
                                               "forceAttach",
                                               "guestOsFeatures",
                                               "index",
                                               "initializeParams",
                                               "interface",
                                               "kind",
                                               "licenses",
                                               "mode",
                                               "savedState",
                                               "shieldedInstanceInitialState",
                                               "source",
                                               "type"};
  if (auto ok = known_fields(json, kKnown, where); !ok) return ok.error();
  GceDisk disk;
  if (const Json* boot = json.find("boot")) disk.boot = boot->as_bool().value_or(false);
  if (const Json* auto_delete = json.find("autoDelete"))
    disk.auto_delete = auto_delete->as_bool().value_or(false);
  disk.device_name = string_field(json, "deviceName").value_or("");
  const Json* init = json.find("initializeParams");
  if (!init) {
    if (!json.find("source"))
      return invalid("Invalid value for field '" + where +
                     "': a disk needs initializeParams or a source.");
    return disk;
  }
  static const std::set<std::string> kInit = {"architecture",
                                              "description",
                                              "diskName",
                                              "diskSizeGb",
                                              "diskType",
                                              "enableConfidentialCompute",
                                              "labels",
                                              "licenses",
                                              "onUpdateAction",
                                              "provisionedIops",
                                              "provisionedThroughput",
                                              "replicaZones",
                                              "resourceManagerTags",
                                              "resourcePolicies",
                                              "sourceImage",
                                              "sourceImageEncryptionKey",
                                              "sourceSnapshot",
                                              "sourceSnapshotEncryptionKey",
                                              "storagePool"};
  if (auto ok = known_fields(*init, kInit, where + ".initializeParams"); !ok) return ok.error();
  if (const Json* size = init->find("diskSizeGb")) {
    auto gb = int_field(*size, where + ".initializeParams.diskSizeGb");
    if (!gb) return gb.error();
    if (*gb < 10 || *gb > 65536)
      return invalid("Invalid value for field '" + where + ".initializeParams.diskSizeGb': '" +
                     std::to_string(*gb) + "'. Disk size must be between 10 GB and 65536 GB.");
    disk.size_gb = *gb;
  }
  if (auto type = string_field(*init, "diskType")) {
    disk.disk_type = last_segment(*type);
    static const std::set<std::string> kTypes = {"pd-standard", "pd-balanced", "pd-ssd",
                                                 "pd-extreme", "hyperdisk-balanced"};
    if (!kTypes.contains(disk.disk_type))
      return invalid("Invalid value for field '" + where + ".initializeParams.diskType': '" +
                     *type + "'. The referenced diskType resource cannot be found.");
  }
  disk.source_image = string_field(*init, "sourceImage").value_or("");
  if (disk.boot && disk.source_image.empty())
    return invalid("Invalid value for field '" + where +
                   ".initializeParams.sourceImage': ''. A boot disk needs a source image.");
  return disk;
}

}  // namespace

const std::string* GceInstance::metadata_value(std::string_view key) const {
  for (const auto& [item_key, value] : metadata)
    if (item_key == key) return &value;
  return nullptr;
}

std::string region_of_zone(std::string_view zone) {
  const auto dash = zone.rfind('-');
  return std::string(dash == std::string_view::npos ? zone : zone.substr(0, dash));
}

std::string last_segment(std::string_view link) {
  const auto slash = link.rfind('/');
  return std::string(slash == std::string_view::npos ? link : link.substr(slash + 1));
}

std::string zone_link(std::string_view project, std::string_view zone) {
  return std::string(kComputeBase) + "projects/" + std::string(project) + "/zones/" +
         std::string(zone);
}

std::string instance_link(const GceInstance& instance) {
  return zone_link(instance.project, instance.zone) + "/instances/" + instance.name;
}

bool is_resource_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  if (name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return lower_digit_or(c, "-"); });
}

bool is_label_key(std::string_view key) {
  return !key.empty() && key.size() <= 63 && key.front() >= 'a' && key.front() <= 'z' &&
         std::all_of(key.begin(), key.end(), [](char c) { return lower_digit_or(c, "-_"); });
}

bool is_label_value(std::string_view value) {
  return value.size() <= 63 &&
         std::all_of(value.begin(), value.end(), [](char c) { return lower_digit_or(c, "-_"); });
}

std::string_view google_status_of(int code) {
  switch (code) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ALREADY_EXISTS";
    case 412:
      return "FAILED_PRECONDITION";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 500:
      return "INTERNAL";
    case 503:
      return "UNAVAILABLE";
    default:
      return "UNKNOWN";
  }
}

Json google_error(int code, std::string_view reason, std::string_view message) {
  Json item = Json::object();
  item.set("domain", reason == "rateLimitExceeded" ? "usageLimits" : "global");
  item.set("reason", reason);
  item.set("message", message);
  if (reason == "authError" || reason == "required") {
    item.set("location", "Authorization");
    item.set("locationType", "header");
  }
  Json errors = Json::array();
  errors.push_back(std::move(item));
  Json error = Json::object();
  error.set("code", code);
  error.set("message", message);
  error.set("errors", std::move(errors));
  return error;
}

Json gce_error_body(int code, std::string_view reason, std::string_view message) {
  Json error = google_error(code, reason, message);
  // Throttling is 403 rateLimitExceeded in Compute's v1 API, but its status says what it is.
  error.set("status", reason == "rateLimitExceeded" || reason == "quotaExceeded"
                          ? std::string_view("RESOURCE_EXHAUSTED")
                          : google_status_of(code));
  Json body = Json::object();
  body.set("error", std::move(error));
  return body;
}

Result<GceInstance> parse_instance_resource(const Json& body, std::string_view project,
                                            std::string_view zone, bool properties) {
  // The field names of Compute Engine v1's Instance and InstanceProperties messages.
  static const std::set<std::string> kInstance = {"advancedMachineFeatures",
                                                  "canIpForward",
                                                  "confidentialInstanceConfig",
                                                  "cpuPlatform",
                                                  "creationTimestamp",
                                                  "deletionProtection",
                                                  "description",
                                                  "disks",
                                                  "displayDevice",
                                                  "fingerprint",
                                                  "guestAccelerators",
                                                  "hostname",
                                                  "id",
                                                  "instanceEncryptionKey",
                                                  "keyRevocationActionType",
                                                  "kind",
                                                  "labelFingerprint",
                                                  "labels",
                                                  "lastStartTimestamp",
                                                  "lastStopTimestamp",
                                                  "lastSuspendedTimestamp",
                                                  "localSsdEncryptionMode",
                                                  "machineType",
                                                  "metadata",
                                                  "minCpuPlatform",
                                                  "name",
                                                  "networkInterfaces",
                                                  "networkPerformanceConfig",
                                                  "params",
                                                  "privateIpv6GoogleAccess",
                                                  "reservationAffinity",
                                                  "resourcePolicies",
                                                  "resourceStatus",
                                                  "satisfiesPzi",
                                                  "satisfiesPzs",
                                                  "scheduling",
                                                  "selfLink",
                                                  "serviceAccounts",
                                                  "shieldedInstanceConfig",
                                                  "shieldedInstanceIntegrityPolicy",
                                                  "sourceMachineImage",
                                                  "sourceMachineImageEncryptionKey",
                                                  "startRestricted",
                                                  "status",
                                                  "statusMessage",
                                                  "tags",
                                                  "workloadIdentityConfig",
                                                  "zone"};
  static const std::set<std::string> kProperties = {"advancedMachineFeatures",
                                                    "canIpForward",
                                                    "confidentialInstanceConfig",
                                                    "description",
                                                    "disks",
                                                    "guestAccelerators",
                                                    "keyRevocationActionType",
                                                    "labels",
                                                    "localSsdEncryptionMode",
                                                    "machineType",
                                                    "metadata",
                                                    "minCpuPlatform",
                                                    "networkInterfaces",
                                                    "networkPerformanceConfig",
                                                    "privateIpv6GoogleAccess",
                                                    "reservationAffinity",
                                                    "resourceManagerTags",
                                                    "resourcePolicies",
                                                    "scheduling",
                                                    "serviceAccounts",
                                                    "shieldedInstanceConfig",
                                                    "tags",
                                                    "workloadIdentityConfig"};
  const auto& kKnown = properties ? kProperties : kInstance;
  if (auto ok = known_fields(body, kKnown, properties ? "instanceProperties" : "resource"); !ok)
    return ok.error();
  GceInstance out;
  out.project = std::string(project);
  out.zone = std::string(zone);
  if (!properties) {
    out.name = string_field(body, "name").value_or("");
    if (!is_resource_name(out.name))
      return invalid("Invalid value for field 'resource.name': '" + out.name +
                     "'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]"
                     "{0,19})'");
  }
  out.description = string_field(body, "description").value_or("");
  const std::string machine_type = string_field(body, "machineType").value_or("");
  if (machine_type.empty())
    return invalid("Invalid value for field 'resource.machineType': ''. Machine type is required.");
  // An insert names it as a URL or zones/Z/machineTypes/T; bulkInsert's properties by name.
  if (!properties || machine_type.find('/') != std::string::npos) {
    const auto at = machine_type.find("zones/");
    const auto types = machine_type.find("/machineTypes/");
    if (at == std::string::npos || types == std::string::npos ||
        machine_type.substr(at + 6, types - at - 6) != zone)
      return invalid("Invalid value for field 'resource.machineType': '" + machine_type +
                     "'. Machine type must be in zone '" + std::string(zone) + "'.");
  }
  out.machine_type = last_segment(machine_type);
  if (const Json* labels = body.find("labels")) {
    if (!labels->as_object()) return invalid("Invalid value for field 'resource.labels'.");
    if (labels->as_object()->size() > 64)
      return invalid("Invalid value for field 'resource.labels': at most 64 labels.");
    for (const auto& [key, value] : *labels->as_object()) {
      const auto text = value.as_string();
      if (!is_label_key(key) || !text || !is_label_value(*text))
        return invalid("Invalid value for field 'resource.labels': '" + key +
                       "'. Label keys and values may hold only lowercase letters, digits, '-' "
                       "and '_', at most 63 characters, keys starting with a letter.");
      out.labels[key] = std::string(*text);
    }
  }
  if (const Json* metadata = body.find("metadata")) {
    if (auto ok = known_fields(*metadata, {"items", "fingerprint", "kind"}, "resource.metadata");
        !ok)
      return ok.error();
    if (const Json* items = metadata->find("items"); items && items->as_array()) {
      for (const auto& item : *items->as_array()) {
        auto key = item.as_object() ? string_field(item, "key") : std::nullopt;
        auto value = item.as_object() ? string_field(item, "value") : std::nullopt;
        if (!key || key->empty() || !value)
          return invalid(
              "Invalid value for field 'resource.metadata.items': each item needs a "
              "key and a string value.");
        if (out.metadata_value(*key))
          return invalid("Invalid value for field 'resource.metadata': duplicate key '" + *key +
                         "'.");
        out.metadata.emplace_back(std::move(*key), std::move(*value));
      }
    }
  }
  if (const Json* scheduling = body.find("scheduling")) {
    auto parsed = parse_scheduling(*scheduling);
    if (!parsed) return parsed.error();
    out.scheduling = std::move(*parsed);
  }
  if (const Json* disks = body.find("disks"); disks && disks->as_array()) {
    for (std::size_t i = 0; i < disks->as_array()->size(); ++i) {
      auto disk = parse_disk((*disks->as_array())[i], i);
      if (!disk) return disk.error();
      out.disks.push_back(std::move(*disk));
    }
  }
  if (!out.disks.empty() && std::count_if(out.disks.begin(), out.disks.end(),
                                          [](const GceDisk& d) { return d.boot; }) != 1)
    return invalid(
        "Invalid value for field 'resource.disks': exactly one disk must be the boot "
        "disk.");
  if (const Json* accelerators = body.find("guestAccelerators");
      accelerators && accelerators->as_array()) {
    for (const auto& item : *accelerators->as_array()) {
      if (auto ok = known_fields(item, {"acceleratorType", "acceleratorCount"},
                                 "resource.guestAccelerators[]");
          !ok)
        return ok.error();
      GceAccelerator accelerator;
      accelerator.type = last_segment(string_field(item, "acceleratorType").value_or(""));
      const Json* count = item.find("acceleratorCount");
      auto n = count ? int_field(*count, "resource.guestAccelerators[].acceleratorCount")
                     : Result<std::int64_t>(std::int64_t{0});
      if (!n) return n.error();
      if (accelerator.type.empty() || *n < 1)
        return invalid(
            "Invalid value for field 'resource.guestAccelerators': an accelerator "
            "needs acceleratorType and an acceleratorCount of at least 1.");
      accelerator.count = *n;
      out.accelerators.push_back(std::move(accelerator));
    }
    if (!out.accelerators.empty() && out.scheduling.on_host_maintenance == "MIGRATE")
      return invalid(
          "Instances with guest accelerators do not support live migration; set "
          "scheduling.onHostMaintenance to TERMINATE.");
  }
  if (const Json* accounts = body.find("serviceAccounts"); accounts && accounts->as_array()) {
    for (const auto& item : *accounts->as_array()) {
      if (auto ok = known_fields(item, {"email", "scopes"}, "resource.serviceAccounts[]"); !ok)
        return ok.error();
      GceServiceAccount account;
      account.email = string_field(item, "email").value_or("default");
      if (const Json* scopes = item.find("scopes"); scopes && scopes->as_array())
        for (const auto& scope : *scopes->as_array())
          if (auto text = scope.as_string()) account.scopes.emplace_back(*text);
      out.service_accounts.push_back(std::move(account));
    }
  }
  if (const Json* interfaces = body.find("networkInterfaces");
      interfaces && interfaces->as_array() && !interfaces->as_array()->empty()) {
    const Json& first = interfaces->as_array()->front();
    out.network = string_field(first, "network").value_or(out.network);
    out.subnetwork = string_field(first, "subnetwork").value_or("");
    const Json* access = first.find("accessConfigs");
    out.external_ip = access && access->as_array() && !access->as_array()->empty();
    out.nic_type = string_field(first, "nicType").value_or("");
  }
  if (const Json* performance = body.find("networkPerformanceConfig"); performance) {
    out.egress_tier = string_field(*performance, "totalEgressBandwidthTier").value_or("DEFAULT");
    if (out.egress_tier != "DEFAULT" && out.egress_tier != "TIER_1")
      return invalid(
          "Invalid value for field "
          "'resource.networkPerformanceConfig.totalEgressBandwidthTier': '" +
          out.egress_tier + "'.");
    if (out.egress_tier == "TIER_1") {
      // Google's rule: N2, N2D, C2, C2D and C3 machines of 30+ vCPUs, with a gVNIC.
      const std::string& type = out.machine_type;
      const std::string series = type.substr(0, type.find('-'));
      const auto dash = type.rfind('-');
      const int vcpus = dash == std::string::npos ? 0 : std::atoi(type.c_str() + dash + 1);
      const bool series_ok =
          series == "n2" || series == "n2d" || series == "c2" || series == "c2d" || series == "c3";
      if (!series_ok || vcpus < 30)
        return invalid(
            "Invalid value for field "
            "'resource.networkPerformanceConfig.totalEgressBandwidthTier': "
            "'TIER_1'. Tier_1 networking is only supported on N2, N2D, C2, C2D "
            "and C3 machine types with at least 30 vCPUs; '" +
            type + "' is not one.");
      if (out.nic_type != "GVNIC")
        return invalid(
            "Invalid value for field "
            "'resource.networkPerformanceConfig.totalEgressBandwidthTier': "
            "'TIER_1'. Tier_1 networking requires the GVNIC nicType.");
    }
  }
  if (const Json* tags = body.find("tags")) {
    if (const Json* items = tags->find("items"); items && items->as_array())
      for (const auto& tag : *items->as_array())
        if (auto text = tag.as_string()) out.network_tags.emplace_back(*text);
  }
  return out;
}

Json gce_instance_json(const GceInstance& instance, std::string_view status, std::string_view ip) {
  const std::string zone = zone_link(instance.project, instance.zone);
  Json out = Json::object();
  out.set("kind", "compute#instance");
  out.set("id", instance.id);
  out.set("creationTimestamp", instance.creation_timestamp);
  out.set("name", instance.name);
  if (!instance.description.empty()) out.set("description", instance.description);
  out.set("zone", zone);
  out.set("machineType", zone + "/machineTypes/" + instance.machine_type);
  out.set("status", status);
  if (!instance.status_message.empty()) out.set("statusMessage", instance.status_message);
  out.set("selfLink", instance_link(instance));
  Json labels = Json::object();
  for (const auto& [key, value] : instance.labels) labels.set(key, value);
  out.set("labels", std::move(labels));
  out.set("labelFingerprint", "42WmSpB8rSM=");
  Json items = Json::array();
  for (const auto& [key, value] : instance.metadata) {
    Json item = Json::object();
    item.set("key", key);
    item.set("value", value);
    items.push_back(std::move(item));
  }
  Json metadata = Json::object();
  metadata.set("kind", "compute#metadata");
  metadata.set("fingerprint", "xWcTqcN0Vhk=");
  metadata.set("items", std::move(items));
  out.set("metadata", std::move(metadata));
  Json interface = Json::object();
  interface.set("kind", "compute#networkInterface");
  interface.set("name", "nic0");
  interface.set("network", std::string(kComputeBase) + "projects/" + instance.project + "/" +
                               instance.network.substr(instance.network.find("global/")));
  if (!instance.subnetwork.empty()) interface.set("subnetwork", instance.subnetwork);
  if (!ip.empty()) interface.set("networkIP", ip);
  if (instance.external_ip) {
    Json access = Json::object();
    access.set("kind", "compute#accessConfig");
    access.set("type", "ONE_TO_ONE_NAT");
    access.set("name", "External NAT");
    access.set("networkTier", "PREMIUM");
    if (!ip.empty()) access.set("natIP", ip);  // fakecloud's nodes have one address
    Json configs = Json::array();
    configs.push_back(std::move(access));
    interface.set("accessConfigs", std::move(configs));
  }
  if (!instance.nic_type.empty()) interface.set("nicType", instance.nic_type);
  Json interfaces = Json::array();
  interfaces.push_back(std::move(interface));
  out.set("networkInterfaces", std::move(interfaces));
  if (!instance.egress_tier.empty()) {
    Json performance = Json::object();
    performance.set("totalEgressBandwidthTier", instance.egress_tier);
    out.set("networkPerformanceConfig", std::move(performance));
  }
  Json scheduling = Json::object();
  scheduling.set("onHostMaintenance", instance.scheduling.on_host_maintenance);
  scheduling.set("automaticRestart", instance.scheduling.automatic_restart);
  scheduling.set("preemptible", instance.scheduling.preemptible);
  scheduling.set("provisioningModel", instance.scheduling.provisioning_model);
  if (!instance.scheduling.instance_termination_action.empty())
    scheduling.set("instanceTerminationAction", instance.scheduling.instance_termination_action);
  out.set("scheduling", std::move(scheduling));
  Json disks = Json::array();
  for (std::size_t i = 0; i < instance.disks.size(); ++i) {
    const GceDisk& disk = instance.disks[i];
    Json item = Json::object();
    item.set("kind", "compute#attachedDisk");
    item.set("type", "PERSISTENT");
    item.set("mode", "READ_WRITE");
    item.set("index", static_cast<long long>(i));
    item.set("boot", disk.boot);
    item.set("autoDelete", disk.auto_delete);
    item.set("deviceName",
             disk.device_name.empty()
                 ? (i == 0 ? "persistent-disk-0" : "persistent-disk-" + std::to_string(i))
                 : disk.device_name);
    item.set("source", zone + "/disks/" + instance.name + (i == 0 ? "" : "-" + std::to_string(i)));
    item.set("diskSizeGb", std::to_string(disk.size_gb));
    item.set("interface", "SCSI");
    // What the instance was created with (GCE shows the disk; fakecloud keeps the request).
    Json init = Json::object();
    init.set("diskSizeGb", std::to_string(disk.size_gb));
    init.set("diskType", zone + "/diskTypes/" + disk.disk_type);
    if (!disk.source_image.empty()) init.set("sourceImage", disk.source_image);
    item.set("initializeParams", std::move(init));
    disks.push_back(std::move(item));
  }
  out.set("disks", std::move(disks));
  if (!instance.accelerators.empty()) {
    Json accelerators = Json::array();
    for (const auto& accelerator : instance.accelerators) {
      Json item = Json::object();
      item.set("acceleratorType", zone + "/acceleratorTypes/" + accelerator.type);
      item.set("acceleratorCount", accelerator.count);
      accelerators.push_back(std::move(item));
    }
    out.set("guestAccelerators", std::move(accelerators));
  }
  if (!instance.service_accounts.empty()) {
    Json accounts = Json::array();
    for (const auto& account : instance.service_accounts) {
      Json item = Json::object();
      item.set("email", account.email);
      Json scopes = Json::array();
      for (const auto& scope : account.scopes) scopes.push_back(scope);
      item.set("scopes", std::move(scopes));
      accounts.push_back(std::move(item));
    }
    out.set("serviceAccounts", std::move(accounts));
  }
  if (!instance.network_tags.empty()) {
    Json tags = Json::object();
    Json items = Json::array();
    for (const auto& tag : instance.network_tags) items.push_back(tag);
    tags.set("items", std::move(items));
    out.set("tags", std::move(tags));
  }
  return out;
}

Json gce_operation_json(const GceOperation& operation) {
  // A global operation (a firewall rule's) has no zone.
  const std::string zone = operation.zone.empty() ? std::string(kComputeBase) + "projects/" +
                                                        operation.project + "/global"
                                                  : zone_link(operation.project, operation.zone);
  Json out = Json::object();
  out.set("kind", "compute#operation");
  out.set("id", operation.id);
  out.set("name", operation.name);
  if (!operation.zone.empty()) out.set("zone", zone);
  out.set("operationType", operation.operation_type);
  out.set("targetLink", operation.target_link);
  if (!operation.target_id.empty()) out.set("targetId", operation.target_id);
  out.set("status", operation.status);
  if (!operation.status_message.empty()) out.set("statusMessage", operation.status_message);
  out.set("user", operation.user);
  out.set("progress", operation.progress);
  out.set("insertTime", operation.insert_time);
  if (!operation.start_time.empty()) out.set("startTime", operation.start_time);
  if (!operation.end_time.empty()) out.set("endTime", operation.end_time);
  out.set("selfLink", zone + "/operations/" + operation.name);
  if (!operation.error_code.empty()) {
    Json item = Json::object();
    item.set("code", operation.error_code);
    item.set("message", operation.error_message);
    Json errors = Json::array();
    errors.push_back(std::move(item));
    Json error = Json::object();
    error.set("errors", std::move(errors));
    out.set("error", std::move(error));
    out.set("httpErrorStatusCode", operation.http_error_status);
    out.set("httpErrorMessage", operation.http_error_status == 403   ? "FORBIDDEN"
                                : operation.http_error_status == 409 ? "CONFLICT"
                                : operation.http_error_status == 400 ? "BAD REQUEST"
                                                                     : "SERVICE UNAVAILABLE");
  }
  return out;
}

Result<std::vector<GceFilterTerm>> parse_gce_filter(std::string_view filter) {
  std::vector<GceFilterTerm> terms;
  std::size_t at = 0;
  auto skip = [&] {
    while (at < filter.size() && (std::isspace(static_cast<unsigned char>(filter[at])) ||
                                  filter[at] == '(' || filter[at] == ')'))
      ++at;
  };
  auto spaces = [&] {
    while (at < filter.size() && std::isspace(static_cast<unsigned char>(filter[at]))) ++at;
  };
  auto field_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  };
  for (skip(); at < filter.size(); skip()) {
    const std::size_t start = at;
    while (at < filter.size() && field_char(filter[at])) ++at;
    GceFilterTerm term;
    term.field = std::string(filter.substr(start, at - start));
    if (term.field == "AND") continue;
    if (term.field == "OR")
      return invalid("Invalid value for field 'filter': fakecloud does not take OR in filters.");
    if (term.field.empty())
      return invalid("Invalid value for field 'filter': '" + std::string(filter) +
                     "'. Expected a field name at offset " + std::to_string(start) + ".");
    spaces();
    if (filter.substr(at).starts_with("!=")) {
      term.op = GceFilterTerm::Op::kNotEquals;
      at += 2;
    } else if (at < filter.size() && filter[at] == '=') {
      term.op = GceFilterTerm::Op::kEquals;
      ++at;
    } else if (at < filter.size() && filter[at] == ':') {
      term.op = GceFilterTerm::Op::kHas;
      ++at;
    } else {
      return invalid("Invalid value for field 'filter': '" + std::string(filter) +
                     "'. Expected =, != or : after '" + term.field + "'.");
    }
    spaces();
    if (at < filter.size() && filter[at] == '"') {
      const auto close = filter.find('"', at + 1);
      if (close == std::string_view::npos)
        return invalid("Invalid value for field 'filter': unterminated quote.");
      term.value = std::string(filter.substr(at + 1, close - at - 1));
      at = close + 1;
    } else {
      const std::size_t value_start = at;
      while (at < filter.size() && !std::isspace(static_cast<unsigned char>(filter[at])) &&
             filter[at] != ')')
        ++at;
      term.value = std::string(filter.substr(value_start, at - value_start));
    }
    terms.push_back(std::move(term));
  }
  return terms;
}

namespace {

std::optional<std::string> field_value(const GceInstance& instance, std::string_view status,
                                       std::string_view field) {
  if (field.starts_with("labels.")) {
    auto it = instance.labels.find(std::string(field.substr(7)));
    if (it == instance.labels.end()) return std::nullopt;
    return it->second;
  }
  if (field == "name") return instance.name;
  if (field == "status") return std::string(status);
  if (field == "id") return instance.id;
  if (field == "zone") return instance.zone;
  if (field == "machineType") return instance.machine_type;
  if (field == "scheduling.provisioningModel") return instance.scheduling.provisioning_model;
  if (field == "scheduling.preemptible") return instance.scheduling.preemptible ? "true" : "false";
  return std::nullopt;
}

// `=` compares whole values; a value ending in '*' matches a prefix, as GCE's string filters do.
bool equals(std::string_view have, std::string_view want) {
  if (want.ends_with('*')) return have.starts_with(want.substr(0, want.size() - 1));
  return have == want;
}

}  // namespace

bool gce_filter_matches(const std::vector<GceFilterTerm>& terms, const GceInstance& instance,
                        std::string_view status) {
  for (const auto& term : terms) {
    const auto value = field_value(instance, status, term.field);
    // zone and machineType are links in the resource: a filter may give the name or the link.
    const std::string want =
        term.field == "zone" || term.field == "machineType" ? last_segment(term.value) : term.value;
    switch (term.op) {
      case GceFilterTerm::Op::kEquals:
        if (!value || !equals(*value, want)) return false;
        break;
      case GceFilterTerm::Op::kNotEquals:
        if (value && equals(*value, want)) return false;
        break;
      case GceFilterTerm::Op::kHas:
        if (!value) return false;
        if (want != "*" && value->find(want) == std::string::npos) return false;
        break;
    }
  }
  return true;
}

std::optional<std::string> name_from_pattern(std::string_view pattern, std::int64_t number) {
  const auto first = pattern.find('#');
  if (first == std::string_view::npos) return std::nullopt;
  const auto last = pattern.find_last_of('#');
  const auto width = last - first + 1;
  if (pattern.substr(first, width).find_first_not_of('#') != std::string_view::npos)
    return std::nullopt;  // two runs of '#'
  std::string digits = std::to_string(number);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return std::string(pattern.substr(0, first)) + digits + std::string(pattern.substr(last + 1));
}

}  // namespace skyd::fakecloud
