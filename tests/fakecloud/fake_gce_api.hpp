#pragma once
// Compute Engine API v1 shapes for fakecloud, as pure functions: the instance resource an insert
// sends (checked field by field, as GCE checks it), the JSON an instance and an operation answer
// with, Google's error envelope, list filters (`labels.KEY=VALUE AND status=RUNNING`) and
// bulkInsert's name patterns. No sockets, no clock: unit-tested on their own.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::fakecloud {

// Where the real API's links point (selfLink, zone, machineType ...).
inline constexpr std::string_view kComputeBase = "https://www.googleapis.com/compute/v1/";

struct GceScheduling {
  std::string provisioning_model = "STANDARD";  // STANDARD or SPOT
  std::string instance_termination_action;      // DELETE, STOP; empty: not set
  std::string on_host_maintenance = "MIGRATE";  // MIGRATE or TERMINATE
  bool automatic_restart = true;
  bool preemptible = false;
  bool spot() const { return provisioning_model == "SPOT" || preemptible; }
};

struct GceDisk {
  bool boot = false;
  bool auto_delete = true;
  std::string device_name;
  std::int64_t size_gb = 10;
  std::string disk_type = "pd-standard";  // the type's name
  std::string source_image;
};

struct GceAccelerator {
  std::string type;  // the type's name, e.g. nvidia-tesla-t4
  std::int64_t count = 0;
};

struct GceServiceAccount {
  std::string email;
  std::vector<std::string> scopes;
};

// The Compute Engine view of one instance (fakecloud keeps its lifecycle beside it).
struct GceInstance {
  std::string project;
  std::string zone;
  std::string name;
  std::string id;            // decimal
  std::string machine_type;  // the type's name, e.g. n2-standard-8
  std::string description;
  std::map<std::string, std::string> labels;
  std::vector<std::pair<std::string, std::string>> metadata;  // items, in order
  GceScheduling scheduling;
  std::vector<GceDisk> disks;
  std::vector<GceAccelerator> accelerators;
  std::vector<GceServiceAccount> service_accounts;
  std::string network = "global/networks/default";
  std::string subnetwork;
  bool external_ip = false;  // accessConfigs[0] asked for
  std::vector<std::string> network_tags;
  std::string nic_type;     // networkInterfaces[0].nicType (GVNIC, VIRTIO_NET); empty: not set
  std::string egress_tier;  // networkPerformanceConfig.totalEgressBandwidthTier; empty: not set
  std::string creation_timestamp;  // RFC 3339
  std::string status_message;
  bool staging = false;   // its insert is DONE: PROVISIONING -> STAGING until it runs
  bool deleting = false;  // a delete (or a preemption with DELETE) is taking it away
  bool deleted = false;   // gone from the API; kept for the admin view
  // The instance's metadata server (preemption and maintenance notices).
  bool preempted = false;
  std::string maintenance_event = "NONE";
  // A Cloud TPU host ("project/zone/node"): not a Compute Engine instance of the API's lists.
  std::string tpu_node;

  const std::string* metadata_value(std::string_view key) const;
};

// The region of a zone: us-central1-a -> us-central1.
std::string region_of_zone(std::string_view zone);
// The last path segment of a link or partial URL ("zones/z/machineTypes/n1" -> "n1").
std::string last_segment(std::string_view link);
std::string zone_link(std::string_view project, std::string_view zone);
std::string instance_link(const GceInstance& instance);

// A name GCE accepts for an instance: [a-z]([-a-z0-9]{0,61}[a-z0-9])?
bool is_resource_name(std::string_view name);
// A label key ([a-z][-_a-z0-9]{0,62}) or value ([-_a-z0-9]{0,63}).
bool is_label_key(std::string_view key);
bool is_label_value(std::string_view value);

// Google's error envelope: {"error":{"code","message","errors":[{"domain":"global","reason",
// "message"}],"status"}}; the status is the one Google gives the HTTP code.
Json gce_error_body(int code, std::string_view reason, std::string_view message);
// The "error" object Google's JSON APIs answer with (Compute Engine's adds "status"):
// {"code","message","errors":[{"message","domain","reason"[,"locationType","location"]}]}.
Json google_error(int code, std::string_view reason, std::string_view message);
std::string_view google_status_of(int code);  // 400 -> INVALID_ARGUMENT, ...

// An instance resource as an insert (or bulkInsert's instanceProperties) sends it, checked: the
// name, a machine type in `zone`, labels, metadata items, scheduling's enums, disks and
// accelerators. `properties` (bulkInsert) takes bare machine type names and no name. Unknown
// fields are refused by name, as Google's JSON parser refuses them. The error's detail is GCE's
// message for a 400 "invalid".
Result<GceInstance> parse_instance_resource(const Json& body, std::string_view project,
                                            std::string_view zone, bool properties);

// What GET .../instances/{name} answers. `status` is GCE's (PROVISIONING, RUNNING ...); `ip`
// the network address (empty until it has one).
Json gce_instance_json(const GceInstance& instance, std::string_view status, std::string_view ip);

struct GceOperation {
  std::string id;  // decimal
  std::string name;
  std::string project;
  std::string zone;
  std::string operation_type;  // insert, delete, bulkInsert, compute.instances.preempted
  std::string target_link;
  std::string target_id;
  std::string user;                // who asked (the token's account); "system" for GCE's own
  std::string status = "PENDING";  // PENDING, RUNNING, DONE
  int progress = 0;
  std::string insert_time, start_time, end_time;  // RFC 3339; empty until reached
  std::string status_message;
  // Set when a DONE operation failed: GCE's code (ZONE_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED,
  // ...) and message, with the HTTP status the API reports for it.
  std::string error_code, error_message;
  int http_error_status = 0;
};
Json gce_operation_json(const GceOperation& operation);

// One `FIELD OP VALUE` term of a list filter.
struct GceFilterTerm {
  std::string field;  // name, status, zone, machineType, id, labels.KEY, scheduling.X
  enum class Op { kEquals, kNotEquals, kHas } op = Op::kEquals;
  std::string value;  // kHas with "*": the field is present
};
// Parses `labels.a=b AND status=RUNNING`, `(labels.a = "b") (labels.c:*)`: terms joined with
// AND or spaces, in optional parentheses. OR is refused by name.
Result<std::vector<GceFilterTerm>> parse_gce_filter(std::string_view filter);
bool gce_filter_matches(const std::vector<GceFilterTerm>& terms, const GceInstance& instance,
                        std::string_view status);

// bulkInsert's namePattern: one run of '#' stands for the number, zero-padded to its width
// ("node-####" -> node-0001). nullopt when the pattern has no run, or two.
std::optional<std::string> name_from_pattern(std::string_view pattern, std::int64_t number);

}  // namespace skyd::fakecloud
