#pragma once
// Compute Engine's VPC firewall rules for fakecloud, as pure functions: the Firewall resource an
// insert sends (checked field by field as GCE checks it: name, network, direction, allowed or
// denied entries with their protocols and port ranges, source ranges, tags) and the JSON a get
// or list answers with. fake_gce.cpp serves them (global/firewalls, global operations).

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::fakecloud {

struct GceFirewallEntry {
  std::string protocol;            // IPProtocol: tcp, udp, icmp, ... or a number
  std::vector<std::string> ports;  // "8080", "9000-9010"; empty: every port
};

struct GceFirewallRule {
  std::string project;
  std::string name;
  std::string id;  // decimal
  std::string description;
  std::string network = "global/networks/default";  // as sent; the answer gives the full link
  std::string direction = "INGRESS";
  std::int64_t priority = 1000;
  std::vector<GceFirewallEntry> allowed;
  std::vector<GceFirewallEntry> denied;
  std::vector<std::string> source_ranges;
  std::vector<std::string> destination_ranges;
  std::vector<std::string> source_tags;
  std::vector<std::string> target_tags;
  bool disabled = false;
  std::string creation_timestamp;  // RFC 3339
};

// The rule an insert sends, checked; the error's detail is GCE's message for a 400 "invalid"
// (a port outside 0..65535 or a range that runs backwards, ports on a protocol without ports,
// both or neither of allowed and denied, a bad name or direction, an unknown field).
Result<GceFirewallRule> parse_firewall_resource(const Json& body, std::string_view project);
// The network's name from the link or partial URL a rule gives ("default").
std::string firewall_network_name(const GceFirewallRule& rule);
std::string firewall_link(std::string_view project, std::string_view name);
// What GET .../global/firewalls/{name} answers.
Json gce_firewall_json(const GceFirewallRule& rule);

}  // namespace skyd::fakecloud
