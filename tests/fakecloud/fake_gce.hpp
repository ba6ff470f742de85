#pragma once
// fakecloud's Compute Engine API v1 (the subset skyd uses) on fakecloud's main port: instances
// insert, bulkInsert, get, list, aggregated list and delete, zone operations get and wait, every
// call checked for an `Authorization: Bearer` token FakeGcpTokens issued. Instances are
// FakeCloud instances with a GCE view: process mode boots a real skylet from the
// `startup-script` metadata value with its own Compute Engine metadata server (preempted and
// maintenance-event with wait_for_change), virtual mode reuses EC2's virtual nodes. VPC firewall
// rules (global/firewalls) and their global operations are kept too, as records: they filter no
// traffic. Chaos comes
// from the config's "gcp" section and /_admin/gcp/... . Runs on fakecloud's shard; owned by
// FakeCloud, which it reaches as a friend.

#include "reactor/event.hpp"
#include "reactor/http_server.hpp"
#include "tests/fakecloud/fake_cloud.hpp"
#include "tests/fakecloud/fake_gce_firewalls.hpp"
#include "tests/fakecloud/fake_gce_operations.hpp"

#include <map>
#include <string>
#include <vector>

namespace skyd::fakecloud {

class FakeGce {
 public:
  FakeGce(FakeCloud& cloud, asio::any_io_executor executor);

  // /compute/v1/... and /_admin/gcp/... on fakecloud's main router.
  void add_routes(http::Router& router);
  // The routes of one instance's metadata server (computeMetadata/v1/...).
  http::Router metadata_router(const std::string& instance_id);

  // A spot instance's preemption: preempted=TRUE on its metadata server (and a spot notice on
  // its virtual node), then after `grace` STOPPING -> TERMINATED, deleted when its
  // instanceTerminationAction is DELETE, recorded as a compute.instances.preempted operation.
  Task<void> preempt(std::string instance_id, Duration grace);
  // Silent death: the skylet is killed and the instance shows TERMINATED, with no notice.
  void kill(std::string instance_id);

  // The Cloud TPU API v2 (fake_gce_tpu.cpp): nodes create (?nodeId, ?requestId), get, list
  // (location "-": every zone), delete, and their long-running operations, in Google's JSON
  // shapes and errors (404 NOT_FOUND, 409 ALREADY_EXISTS, 429 RESOURCE_EXHAUSTED for quota, a
  // create operation failing with RESOURCE_EXHAUSTED for capacity). Each host of a slice is a
  // FakeCloud instance with a GCE view (hidden from Compute Engine's lists) that boots a real
  // skylet from the node's startup-script. /_admin/gcp/tpus lists nodes, tpu_preempt preempts a
  // spot node (the hosts' notice, then PREEMPTED), tpu_fail_next makes the next create fail.
  void add_tpu_routes(http::Router& router);
  Task<void> preempt_tpu(std::string key, Duration grace);

 private:
  struct Call {
    std::string project, zone, name, operation;  // from the path
    std::string account;                         // the token's service account
  };

  Task<http::Response> compute(http::Request& request);
  Task<http::Response> insert(Call call, http::Request& request);
  Task<http::Response> bulk_insert(Call call, http::Request& request);
  http::Response get(const Call& call);
  http::Response list(const Call& call, const http::Request& request, bool aggregated);
  // global/firewalls: insert (409 alreadyExists on a name in use), get, list, delete; insert and
  // delete answer with a global operation that is DONE after operation_time.
  Task<http::Response> insert_firewall(Call call, http::Request& request);
  http::Response get_firewall(const Call& call);
  http::Response list_firewalls(const Call& call, const http::Request& request);
  Task<http::Response> delete_firewall(Call call);
  Task<void> run_firewall(std::string project, std::string operation, std::string key,
                          bool deleting);
  Task<http::Response> remove(Call call, http::Request& request);
  Task<http::Response> operation(Call call, bool wait);
  Task<http::Response> admin(http::Request& request);

  struct TpuNode {
    std::string project, zone, id, numeric_id;
    std::string accelerator_type, runtime_version, network;
    std::string state = "CREATING";
    std::string create_time;
    bool spot = false;
    bool external_ips = false;
    std::map<std::string, std::string> labels, metadata;
    std::vector<std::string> hosts;  // FakeCloud instance ids, in worker order
  };
  struct TpuOperation {
    std::string name, verb, target, create_time;
    bool done = false;
    int error_code = 0;  // google.rpc.Code
    std::string error_message;
    Json response;
  };
  Task<http::Response> tpu(http::Request& request);
  Task<http::Response> tpu_create(Call call, http::Request& request);
  http::Response tpu_get(const Call& call);
  http::Response tpu_list(const Call& call, const http::Request& request);
  http::Response tpu_delete(const Call& call);
  Task<void> run_tpu_create(std::string key, std::string operation);
  Task<void> run_tpu_delete(std::string key, std::string operation);
  Task<http::Response> tpu_admin(http::Request& request);
  Json tpu_node_json(const TpuNode& node) const;
  http::Response tpu_operation_get(const std::string& name) const;
  TpuOperation& new_tpu_operation(const TpuNode& node, std::string verb);
  Task<http::Response> metadata(http::Request& request, std::string instance_id);

  // Creates a PROVISIONING instance from a checked resource (its id and boot filled in).
  std::string create_instance(GceInstance resource);
  // The operation's timeline: RUNNING halfway through operation_time, DONE at its end; a
  // successful insert then boots its instances.
  Task<void> run_insert(std::string project, std::string zone, std::string operation,
                        std::vector<std::string> instance_ids, std::string error_code,
                        std::string error_message, int http_status);
  Task<void> run_delete(std::string project, std::string zone, std::string operation,
                        std::string instance_id);
  Task<void> sleep(Duration duration);

  // The instance named in a zone (not deleted), or nullptr.
  FakeCloud::Instance* named(const std::string& project, const std::string& zone,
                             const std::string& name);
  std::string status_of(const FakeCloud::Instance& instance) const;
  bool zone_known(const std::string& zone) const;
  bool machine_type_known(const std::string& zone, const std::string& type) const;
  // Live instances in a zone (what zone_capacity limits).
  int live_in_zone(const std::string& zone) const;
  // The chaos for a call that makes instances: an HTTP error to answer now, or (filled in) the
  // error its DONE operation will carry.
  std::optional<http::Response> chaos_for(const std::string& action, const std::string& zone,
                                          const GceInstance& resource, std::string& error_code,
                                          std::string& error_message, int& http_status);
  std::optional<GceFault> pick_fault(const std::string& action, const std::string& zone,
                                     const std::string& machine_type,
                                     const std::string& provisioning_model);
  GceChaos& chaos();
  Json admin_instance_json(const FakeCloud::Instance& instance) const;
  // The instances an admin call names: ?name= (and ?zone=), ?cluster= (the skyd-cluster label)
  // or ?all_spot=1; only live ones.
  std::vector<std::string> admin_targets(const http::Request& request);
  void metadata_changed() { metadata_changed_.notify_all(); }

  FakeCloud& cloud_;
  asio::any_io_executor executor_;
  GceOperations operations_;
  std::map<std::string, std::string> names_;  // project/zone/name -> instance id (not deleted)
  struct Firewall {
    GceFirewallRule rule;
    bool ready = false;     // its insert is DONE: get and list show it
    bool deleting = false;  // a delete is taking it away
  };
  std::map<std::string, Firewall> firewalls_;  // project/name
  std::uint64_t next_firewall_id_ = 0;
  std::map<std::string, std::int64_t> calls_;
  std::int64_t throttled_ = 0, auth_failures_ = 0, faults_fired_ = 0, errors_5xx_ = 0;
  std::int64_t lists_by_launch_label_ = 0;  // lists asking for one launch's instances
  std::uint64_t next_id_ = 0;
  Notifier metadata_changed_;
  std::map<std::string, TpuNode> tpus_;                 // project/zone/id
  std::map<std::string, TpuOperation> tpu_operations_;  // by full name
  std::map<std::string, std::string> tpu_requests_;     // requestId -> operation name
  std::string tpu_fail_next_;                           // "quota", "capacity" or empty
  std::uint64_t next_tpu_operation_ = 0;
  std::map<std::string, std::int64_t>
      tpu_calls_;  // a metadata server value changed (preempted, maintenance)
};

}  // namespace skyd::fakecloud
