#include "tests/fakecloud/fake_gce_firewalls.hpp"

#include "tests/fakecloud/fake_gce_api.hpp"

#include <cctype>
#include <set>

namespace skyd::fakecloud {
namespace {

Error invalid(std::string message) {
  return make_error(NetErrc::kProtocol, std::move(message));
}

Result<std::vector<std::string>> strings_at(const Json& body, std::string_view key,
                                            std::string_view where) {
  std::vector<std::string> out;
  const Json* value = body.find(key);
  if (!value) return out;
  if (!value->as_array())
    return invalid("Invalid JSON payload received. '" + std::string(where) +
                   "' must be a list of strings.");
  for (const auto& item : *value->as_array()) {
    auto text = item.as_string();
    if (!text)
      return invalid("Invalid JSON payload received. '" + std::string(where) +
                     "' must be a list of strings.");
    out.emplace_back(*text);
  }
  return out;
}

std::optional<int> port_number(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int n = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// "N" or "N-M" with 0 <= N <= M <= 65535, as GCE takes a firewall's ports.
bool valid_port_spec(std::string_view spec) {
  const auto dash = spec.find('-');
  auto first = port_number(spec.substr(0, dash));
  if (!first || *first > 65535) return false;
  if (dash == std::string_view::npos) return true;
  auto last = port_number(spec.substr(dash + 1));
  return last && *last <= 65535 && *first <= *last;
}

Result<std::vector<GceFirewallEntry>> entries_at(const Json& body, std::string_view key) {
  std::vector<GceFirewallEntry> out;
  const Json* value = body.find(key);
  if (!value) return out;
  if (!value->as_array())
    return invalid("Invalid JSON payload received. 'resource." + std::string(key) +
                   "' must be a list.");
  static const std::set<std::string> kProtocols = {"tcp", "udp",  "icmp", "esp",
                                                   "ah",  "sctp", "ipip", "all"};
  static const std::set<std::string> kWithPorts = {"tcp", "udp", "sctp", "all"};
  for (std::size_t i = 0; i < value->as_array()->size(); ++i) {
    const Json& item = (*value->as_array())[i];
    const std::string where = "resource." + std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.as_object())
      return invalid("Invalid JSON payload received. '" + where + "' must be an object.");
    for (const auto& [field, ignored] : *item.as_object()) {
      if (field != "IPProtocol" && field != "ports")
        return invalid("Invalid JSON payload received. Unknown name \"" + field + "\" at '" +
                       where + "': Cannot find field.");
    }
    GceFirewallEntry entry;
    const Json* protocol = item.find("IPProtocol");
    entry.protocol = protocol && protocol->as_string() ? std::string(*protocol->as_string()) : "";
    const bool numbered = port_number(entry.protocol) && *port_number(entry.protocol) <= 255;
    if (!kProtocols.contains(entry.protocol) && !numbered)
      return invalid("Invalid value for field '" + where + ".IPProtocol': '" + entry.protocol +
                     "'. Invalid IP protocol specification.");
    auto ports = strings_at(item, "ports", where + ".ports");
    if (!ports) return ports.error();
    entry.ports = std::move(*ports);
    if (!entry.ports.empty() && !kWithPorts.contains(entry.protocol))
      return invalid("Invalid value for field '" + where + ".ports': '" + entry.ports.front() +
                     "'. Ports may only be specified on rules whose protocol is one of [TCP, "
                     "UDP, SCTP].");
    for (std::size_t p = 0; p < entry.ports.size(); ++p) {
      if (!valid_port_spec(entry.ports[p]))
        return invalid("Invalid value for field '" + where + ".ports[" + std::to_string(p) +
                       "]': '" + entry.ports[p] + "'. Invalid port specification.");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

bool valid_cidr(std::string_view cidr) {
  const auto slash = cidr.find('/');
  const std::string_view address = cidr.substr(0, slash);
  int parts = 0;
  std::size_t at = 0;
  while (at <= address.size()) {
    const auto dot = address.find('.', at);
    auto n = port_number(address.substr(at, dot == std::string_view::npos ? dot : dot - at));
    if (!n || *n > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  if (parts != 4) return false;
  if (slash == std::string_view::npos) return true;
  auto bits = port_number(cidr.substr(slash + 1));
  return bits && *bits <= 32;
}

Json string_array(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const auto& item : items) out.push_back(Json(item));
  return out;
}

Json entries_json(const std::vector<GceFirewallEntry>& entries) {
  Json out = Json::array();
  for (const auto& entry : entries) {
    Json item = Json::object();
    item.set("IPProtocol", entry.protocol);
    if (!entry.ports.empty()) item.set("ports", string_array(entry.ports));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<GceFirewallRule> parse_firewall_resource(const Json& body, std::string_view project) {
  static const std::set<std::string> kKnown = {"kind",
                                               "id",
                                               "creationTimestamp",
                                               "name",
                                               "description",
                                               "network",
                                               "priority",
                                               "sourceRanges",
                                               "sourceTags",
                                               "targetTags",
                                               "destinationRanges",
                                               "allowed",
                                               "denied",
                                               "direction",
                                               "disabled",
                                               "logConfig",
                                               "selfLink",
                                               "sourceServiceAccounts",
                                               "targetServiceAccounts"};
  if (!body.as_object()) return invalid("Invalid JSON payload received. Expected an object.");
  for (const auto& [key, ignored] : *body.as_object()) {
    if (!kKnown.contains(key))
      return invalid("Invalid JSON payload received. Unknown name \"" + key +
                     "\" at 'resource': Cannot find field.");
  }
  GceFirewallRule out;
  out.project = std::string(project);
  const Json* name = body.find("name");
  out.name = name && name->as_string() ? std::string(*name->as_string()) : "";
  if (!is_resource_name(out.name))
    return invalid("Invalid value for field 'resource.name': '" + out.name +
                   "'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]"
                   "{0,19})'");
  if (const Json* text = body.find("description"); text && text->as_string())
    out.description = std::string(*text->as_string());
  if (const Json* network = body.find("network"); network && network->as_string())
    out.network = std::string(*network->as_string());
  if (const Json* direction = body.find("direction"); direction && direction->as_string())
    out.direction = std::string(*direction->as_string());
  if (out.direction != "INGRESS" && out.direction != "EGRESS")
    return invalid("Invalid value for field 'resource.direction': '" + out.direction +
                   "'. Must be one of [EGRESS, INGRESS].");
  if (const Json* priority = body.find("priority")) {
    auto n = priority->as_int();
    if (!n || *n < 0 || *n > 65535)
      return invalid("Invalid value for field 'resource.priority': '" + priority->dump() +
                     "'. Must be between 0 and 65535.");
    out.priority = *n;
  }
  if (const Json* disabled = body.find("disabled"); disabled && disabled->as_bool())
    out.disabled = *disabled->as_bool();
  auto allowed = entries_at(body, "allowed");
  if (!allowed) return allowed.error();
  out.allowed = std::move(*allowed);
  auto denied = entries_at(body, "denied");
  if (!denied) return denied.error();
  out.denied = std::move(*denied);
  if (out.allowed.empty() == out.denied.empty())
    return invalid(
        "Invalid value for field 'resource': ''. Exactly one of allowed or denied "
        "must be specified.");
  for (const auto& [key, field] :
       {std::pair<std::string_view, std::vector<std::string>*>{"sourceRanges", &out.source_ranges},
        {"destinationRanges", &out.destination_ranges},
        {"sourceTags", &out.source_tags},
        {"targetTags", &out.target_tags}}) {
    auto items = strings_at(body, key, "resource." + std::string(key));
    if (!items) return items.error();
    *field = std::move(*items);
  }
  for (std::size_t i = 0; i < out.source_ranges.size(); ++i) {
    if (!valid_cidr(out.source_ranges[i]))
      return invalid("Invalid value for field 'resource.sourceRanges[" + std::to_string(i) +
                     "]': '" + out.source_ranges[i] +
                     "'. Must be a valid IPV4 CIDR address range.");
  }
  for (const auto& tags : {&out.source_tags, &out.target_tags}) {
    for (const auto& tag : *tags) {
      if (!is_resource_name(tag))
        return invalid("Invalid value for field 'resource.targetTags': '" + tag +
                       "'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
    }
  }
  // An ingress rule without a source admits everything, as GCE defaults it.
  if (out.direction == "INGRESS" && out.source_ranges.empty() && out.source_tags.empty())
    out.source_ranges.push_back("0.0.0.0/0");
  return out;
}

std::string firewall_network_name(const GceFirewallRule& rule) {
  return last_segment(rule.network);
}

std::string firewall_link(std::string_view project, std::string_view name) {
  return std::string(kComputeBase) + "projects/" + std::string(project) + "/global/firewalls/" +
         std::string(name);
}

Json gce_firewall_json(const GceFirewallRule& rule) {
  Json out = Json::object();
  out.set("kind", "compute#firewall");
  out.set("id", rule.id);
  out.set("creationTimestamp", rule.creation_timestamp);
  out.set("name", rule.name);
  out.set("description", rule.description);
  out.set("network", std::string(kComputeBase) + "projects/" + rule.project + "/global/networks/" +
                         firewall_network_name(rule));
  out.set("priority", rule.priority);
  if (!rule.source_ranges.empty()) out.set("sourceRanges", string_array(rule.source_ranges));
  if (!rule.destination_ranges.empty())
    out.set("destinationRanges", string_array(rule.destination_ranges));
  if (!rule.source_tags.empty()) out.set("sourceTags", string_array(rule.source_tags));
  if (!rule.target_tags.empty()) out.set("targetTags", string_array(rule.target_tags));
  if (!rule.allowed.empty()) out.set("allowed", entries_json(rule.allowed));
  if (!rule.denied.empty()) out.set("denied", entries_json(rule.denied));
  out.set("direction", rule.direction);
  Json log = Json::object();
  log.set("enable", false);
  out.set("logConfig", std::move(log));
  out.set("disabled", rule.disabled);
  out.set("selfLink", firewall_link(rule.project, rule.name));
  return out;
}

}  // namespace skyd::fakecloud
