#pragma once
// fakecloud: a test server that speaks EC2's Query API (the subset skyd uses) and the instance
// metadata service, checks every request's SigV4 signature, and runs instances either as real
// skylet processes on loopback addresses (process mode) or as simulated nodes (virtual mode).
// Compute Engine's API v1 (FakeGce, fake_gce.hpp) runs its instances on the same machinery.
// Chaos (capacity, quota, throttling, latency, 5xx, preemptions, silent deaths) comes from a
// JSON config and the /_admin endpoints. Runs on one shard: every handler and background task
// runs on the executor given to the constructor; the owner calls shutdown() before destroying it.

#include "providers/aws/ec2_api.hpp"
#include "providers/catalog/catalog.hpp"
#include "providers/node_boot.hpp"
#include "reactor/event.hpp"
#include "reactor/http_server.hpp"
#include "reactor/json.hpp"
#include "reactor/process.hpp"
#include "reactor/task_group.hpp"
#include "tests/fakecloud/fake_gce_api.hpp"
#include "tests/fakecloud/fake_gce_chaos.hpp"
#include "tests/fakecloud/fake_gcp_auth.hpp"
#include "tests/fakecloud/fake_gcp_tokens.hpp"
#include "tests/fakecloud/fake_gcs_chaos.hpp"
#include "tests/fakecloud/fake_images.hpp"
#include "tests/fakecloud/fake_network_interfaces.hpp"
#include "tests/fakecloud/fake_security_groups.hpp"
#include "tests/fakecloud/query_fields.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace skyd::fakecloud {

enum class Mode { kProcess, kVirtual };
std::string_view to_string(Mode mode);

// A request an API call should fail with. Empty match fields match anything.
struct FaultRule {
  std::string action;         // "RunInstances", ... or empty for every action
  std::string zone;           // Placement.AvailabilityZone (RunInstances)
  std::string instance_type;  // (RunInstances)
  std::string market;         // "spot" or "on-demand" (RunInstances)
  std::string code;           // the EC2 error code to answer with
  std::string message;
  int status = 400;
  double rate = 1.0;   // the share of matching calls that fail
  int remaining = -1;  // how many more times it fires; -1: forever
  // Instead of failing, the call is carried out and its answer held back this long (longer than
  // the client waits: the answer is lost). `code` is then unused.
  std::optional<Duration> lose_answer_for;
  // Instead of failing, the call is answered as if done but changes nothing (a cloud that keeps
  // reporting an instance it said it terminates). `code` is then unused.
  bool no_effect = false;
};

struct Chaos {
  std::vector<FaultRule> faults;
  double throttle_rate = 0;   // share of EC2 calls answered RequestLimitExceeded (503)
  double error_5xx_rate = 0;  // share answered InternalError (500)
  Duration latency_min = Duration::zero();
  Duration latency_max = Duration::zero();
  std::optional<Duration> preemption_mean_interval;     // random spot preemptions
  Duration preemption_grace = std::chrono::seconds(2);  // notice -> kill
  std::optional<Duration> silent_death_mean_interval;   // random nodes that die unannounced
  Duration virtual_boot = std::chrono::milliseconds(50);
  Duration virtual_task = std::chrono::seconds(1);
  // A virtual task that checkpoints and exits (143, as on SIGTERM) this long after its node's
  // spot notice; unset: it ignores the notice and runs on until the machine goes.
  std::optional<Duration> virtual_exit_after_notice;
  GceChaos gcp;  // Compute Engine's own faults and timings (the "gcp" section)
  GcsChaos gcs;  // Cloud Storage's faults (the "gcs" section)

  // Reads the JSON config shape documented in tests/fakecloud/README.md; unknown keys are errors.
  static Result<Chaos> from_json(const Json& json);
};

struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // required on requests when set
};

struct FakeCloudOptions {
  Mode mode = Mode::kProcess;
  std::vector<AccessKey> keys;  // accepted signers
  std::string role_name = "skyd-node";
  AccessKey role_key;  // what the IMDS role document hands out (also accepted)
  // What an instance launched with an instance profile (IamInstanceProfile.Name or .Arn) gets
  // from its own metadata service under iam/security-credentials/<the profile's role>: tests set
  // the keys of their S3 server. Empty: such an instance's credentials answer 404.
  AccessKey instance_profile_key;
  // Process mode: each node's skylet gets its own mount namespace and root (skylet
  // --private-root), as a real machine has its own disk: absolute paths it writes or mounts on
  // (file_mounts at /checkpoint) stay off the host. Needs root.
  bool private_node_roots = false;
  std::string skylet_binary;
  // Process mode: the container runtime fakecloud's machine images carry. A skylet whose boot asks
  // for one (image_id: docker:IMAGE) is started with it (--container-runtime), and with
  // --container-gpus when the boot asks for the node's GPUs.
  std::string node_container_runtime = "podman";
  std::string work_dir;  // sandboxes of process-mode skylets
  Duration skylet_start_timeout = std::chrono::seconds(20);
  Duration metadata_poll = std::chrono::milliseconds(200);  // skylet's IMDS poll interval
  Chaos chaos;
  std::map<std::string, FakeImage> images = default_images();  // the AMIs of every region
  std::uint64_t seed = std::random_device{}();
  // The account's instance types, zones and prices that DescribeInstanceTypes, offerings, spot
  // price history and GetProducts serve (see fake_catalog_api.hpp). Empty: the built-in catalog.
  // Compute Engine's zones and machine types come from its gcp rows.
  std::string catalog_dir;
  // The one project Compute Engine calls may name; empty: any project.
  std::string gcp_project;
  // Google's token endpoint and metadata token (fake_gcp_auth.hpp).
  FakeGcpAuthOptions gcp_auth;
  // Where Cloud Storage keeps object bytes; empty: <work_dir>/gcs, or without a work_dir a
  // temporary directory removed at the end.
  std::string gcs_dir;
  std::string kube_token;  // the bearer token fakecloud's Kubernetes API takes (empty: random)
};

class FakeGce;
class FakeGcs;
class FakeKube;

class FakeCloud {
 public:
  FakeCloud(asio::any_io_executor executor, FakeCloudOptions options);
  ~FakeCloud();
  FakeCloud(const FakeCloud&) = delete;
  FakeCloud& operator=(const FakeCloud&) = delete;

  // EC2 at POST /, IMDS at /latest/..., the admin API at /_admin/....
  http::Router router();
  // The skylet API every virtual node answers (bearer token = the cluster's token).
  http::Router virtual_node_router();
  // Listens for the virtual nodes over TLS: each cluster's certificate (from its user data) is
  // presented to a client asking for that cluster's name (SNI), as its own node would.
  Result<void> listen_virtual_nodes(http::Server& server, const std::string& host,
                                    std::uint16_t port);
  // Starts the background chaos loops (random preemptions and deaths).
  void start();
  // Kills every instance's processes and stops background work.
  Task<void> shutdown();

  std::size_t live_instances() const;  // pending or running (either cloud's)

  // The Google access tokens Compute Engine calls must carry (issued by the token endpoint and
  // the admin API).
  FakeGcpTokens& gcp_tokens() { return gcp_tokens_; }
  FakeKube& kube() { return *kube_; }

  struct Instance;
  struct CertificateBook;
  // Virtual mode: one attempt's run on one node, from its start (POST /tasks without hold_run,
  // or the release of a held one) until its task ends or its node stops running.
  struct AttemptRun {
    std::string attempt_id;   // job-<J>-task-<T>-attempt-<A>
    std::string task;         // job-<J>-task-<T>; empty when the id is not of that form
    std::string instance_id;  // the node it runs on
    std::chrono::system_clock::time_point started_at;
  };

 private:
  friend class FakeGce;   // Compute Engine's instances live beside EC2's, on the same machinery
  friend class FakeKube;  // and so do Kubernetes pods
  Task<http::Response> ec2(http::Request& request);
  http::Response terminations_without_effect(
      const std::string& request_id,
      const std::vector<std::pair<std::string, std::string>>& params) const;
  Task<http::Response> dispatch(std::string action, std::string region, std::string request_id,
                                std::vector<std::pair<std::string, std::string>> params);
  Task<http::Response> run_instances(std::string region, std::string request_id,
                                     std::vector<std::pair<std::string, std::string>> params);
  http::Response describe_volumes(
      const std::string& region, const std::string& request_id,
      const std::vector<std::pair<std::string, std::string>>& params) const;
  http::Response describe_images(
      const std::string& request_id,
      const std::vector<std::pair<std::string, std::string>>& params) const;
  http::Response describe_instances(const std::string& region, const std::string& request_id,
                                    const std::vector<std::pair<std::string, std::string>>& params);
  http::Response terminate_instances(
      const std::string& region, const std::string& request_id,
      const std::vector<std::pair<std::string, std::string>>& params);
  // The refusal of a call naming no instance, or one this region's EC2 does not have.
  std::optional<http::Response> refuse_instance_ids(const std::string& region,
                                                    const std::string& request_id,
                                                    const std::vector<std::string>& ids);
  // StopInstances (`start` false) and StartInstances: running -> stopping -> stopped, and
  // stopped -> pending -> running, with EC2's refusals (a one-time spot instance cannot stop).
  http::Response change_power(const std::string& region, const std::string& request_id,
                              const std::vector<std::pair<std::string, std::string>>& params,
                              bool start);
  Task<http::Response> imds(http::Request& request, std::string instance_id);
  Task<http::Response> admin(http::Request& request);
  Task<http::Response> virtual_node(http::Request& request);

  Task<void> boot(std::string instance_id);
  // Process mode, user data that is not skylet's (a controller VM's): the machine has its own
  // metadata server on its own address, and runs nothing fakecloud could start.
  Task<void> boot_without_agent(std::string instance_id);
  // The machine shuts down for a StopInstances: its processes (skylet and every task it started)
  // end, its metadata server goes; its sandbox (its disk) stays for the next start.
  Task<void> power_off(std::string instance_id);
  // After the processes of a stopping machine ended (or at once in virtual mode): stopped,
  // unless something else (a terminate) took the instance meanwhile.
  void finish_stopping(Instance& instance);
  // The routes of an instance's own metadata server: EC2's IMDS, or Compute Engine's.
  http::Router node_metadata_router(const std::string& instance_id);
  Task<void> stop(std::string instance_id, std::string reason_code, std::string reason_message,
                  Duration grace);
  Task<void> preempt(std::string instance_id, Duration grace);
  Task<void> chaos_loop(bool preemptions);
  Task<void> delay_then(Duration delay, std::string instance_id);
  // Checks a SigV4 signature made for `service` (ec2, or pricing for the Price List API).
  Result<void> check_signature(const http::Request& request, std::string& region,
                               std::string_view service) const;
  // The Price List service: JSON protocol, X-Amz-Target AWSPriceListService.<operation>.
  http::Response pricing(const http::Request& request, const std::string& request_id);
  std::optional<FaultRule> pick_fault(const std::string& action, const std::string& zone,
                                      const std::string& type, const std::string& market);
  Instance* find(const std::string& id);
  // When a virtual attempt's run ends (it may be in the future): after its run time (the
  // task's FAKECLOUD_RUN_MS, else virtual_task), or sooner when it exits on its node's notice.
  struct VirtualEnd {
    Clock::time_point at;
    bool on_notice = false;
  };
  VirtualEnd virtual_end(const Instance& node, const std::string& attempt) const;
  // Whether the run is live now: its node runs and answers, and its task has not ended.
  bool run_is_live(const AttemptRun& run, Clock::time_point now);
  // A virtual attempt's run starts on `node`: recorded, and counted as an overlap when another
  // attempt of the same task is live at this moment.
  void run_started(const Instance& node, const std::string& attempt);
  // The instance stops running (shutting down, or dead): the end of every run on it.
  static void forget_attempts(Instance& instance);
  static void leave_running(Instance& instance);
  // The instances one skylet token reaches (a cluster's), and what wakes their nodes' long polls:
  // one notifier a cluster, not one for every node, which would wake (and re-arm) every node's
  // poll for each event.
  struct TokenHolders {
    std::map<std::string, Instance*> instances;  // by id
    std::unique_ptr<Notifier> events_changed;    // made when first waited on
  };
  // The cluster whose token the "Bearer ..." header carries; nullptr for any other header.
  TokenHolders* token_holders(std::string_view authorization);
  // The cluster's first running instance: the virtual node that answers for it.
  static Instance* live_node(const TokenHolders& cluster);
  // Keeps a new instance (by id, and by its skylet token), last in launch order.
  void add_instance(std::unique_ptr<Instance> instance);
  // Appends an event to the node and wakes the long polls on its cluster.
  void add_event(Instance& instance, Json event);
  Notifier& events_changed(TokenHolders& cluster);
  // The instances a DescribeInstances can match, in launch order: those its ids, an instance-id,
  // client-token or tag filter name when it has one (a superset of the answer), else every one.
  std::vector<const Instance*> describe_candidates(const std::vector<std::string>& ids,
                                                   const std::vector<QueryFilter>& filters);
  std::string next_ip();
  // A node's TLS certificate (from its boot script), presented by the virtual nodes' listener.
  void remember_certificate(const CertifiedKey& certificate);
  // Marks the instance dead (skylet killed, nothing answers); the cloud may still report it.
  void kill_silently(Instance& instance);
  bool chance(double rate);

  asio::any_io_executor executor_;
  FakeCloudOptions options_;
  std::shared_ptr<const catalog::Catalog> catalog_;
  TaskGroup background_;
  std::mt19937_64 random_;
  std::map<std::string, std::unique_ptr<Instance>> instances_;  // by id
  // Hashes a key by its characters, so that a lookup by string_view makes no string.
  struct ByCharacters {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  // Instances by their skylet token, then id: a node's every request finds its cluster without a
  // walk over every instance ever launched, and without a copy of the token.
  // By skylet token; never erased, so a TokenHolders* stays valid (a rehash moves no element).
  std::unordered_map<std::string, TokenHolders, ByCharacters, std::equal_to<>> by_token_;
  // EC2 instances by client token and by tag (key, value): a DescribeInstances that names one
  // looks at those instances only, not at every instance ever launched.
  std::unordered_map<std::string, std::vector<Instance*>> instances_by_client_token_;
  std::map<std::pair<std::string, std::string>, std::vector<Instance*>> instances_by_tag_;
  SecurityGroups security_groups_;
  std::vector<std::string> launch_order_;             // ids, oldest first
  std::map<std::string, std::string> client_tokens_;  // token -> reservation fingerprint key
  std::map<std::string, std::vector<std::string>> reservations_;  // id -> instance ids
  std::map<std::string, std::string> imds_tokens_;                // issued IMDSv2 tokens
  std::map<std::string, std::int64_t> calls_;                     // action -> count
  // A virtual node's calls: "POST /tasks" -> count. Looked up by a key built in node_call_key_,
  // kept between calls so that counting one allocates nothing.
  std::map<std::string, std::int64_t, std::less<>> node_calls_;
  std::string node_call_key_;
  std::int64_t throttled_ = 0, signature_failures_ = 0, faults_fired_ = 0, answers_lost_ = 0;
  std::int64_t errors_5xx_ = 0;        // answered InternalError by error_5xx_rate
  std::int64_t describe_ids_max_ = 0;  // most instance ids one DescribeInstances filtered on
  // DescribeInstances of all of one controller's instances (first pages), by region.
  std::map<std::string, std::int64_t> controller_listings_;
  std::int64_t describes_by_client_token_ = 0;  // DescribeInstances asking for one call's making
  std::vector<AttemptRun> runs_;                // virtual runs, oldest first
  std::map<std::string, std::vector<std::size_t>> runs_by_task_;  // task -> indexes into runs_
  std::vector<Json> overlaps_;  // each pair of attempts of one task that were live at once
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::shared_ptr<CertificateBook> certificates_;  // virtual nodes' certificates by name
  FakeGcpTokens gcp_tokens_;
  std::unique_ptr<FakeGce> gce_;    // Compute Engine API v1 over the same instances
  std::unique_ptr<FakeGcs> gcs_;    // Cloud Storage JSON API
  std::unique_ptr<FakeKube> kube_;  // Kubernetes core/v1 pods
  FakeGcpAuth gcp_auth_{gcp_tokens_, options_.gcp_auth};
};

// One instance of either cloud: EC2's fields, and for a Compute Engine instance its GCE view.
// Its lifecycle (Ec2State), skylet process, metadata server and virtual node are shared.
struct FakeCloud::Instance {
  std::string id;
  std::size_t launch_index = 0;  // its place in launch_order_ (answers list in launch order)
  std::string reservation_id;
  std::string region;
  std::string zone;
  std::string instance_type;
  std::string image_id;
  std::string client_token;
  std::string ip;
  std::string launch_time;
  bool spot = false;
  std::map<std::string, std::string> tags;
  std::vector<std::string> security_groups;
  std::vector<NetworkInterface> network_interfaces;
  std::string root_device_name;
  std::vector<BlockDevice> block_devices;  // the root volume first
  providers::aws::Ec2State state = providers::aws::Ec2State::kPending;
  std::string reason_code;
  std::string reason_message;
  std::optional<providers::SkyletBoot> boot;
  std::string user_data;  // decoded, as RunInstances carried it (shown by /_admin/instances)
  // Process mode: host directories bound into the node's private root (a pod's volume claims),
  // as (source, destination). Needs private_node_roots.
  std::vector<std::pair<std::string, std::string>> binds;
  std::map<std::string, std::string> env;  // a pod's container environment, skylet's
  std::string container_runtime;  // process mode: the skylet's --container-runtime, if its boot
                                  // asked for one (shown by the admin views)
  // IamInstanceProfile: its ARN and id as DescribeInstances reports them, and the role its
  // credentials are served under (fakecloud's profiles hold a role of their own name).
  std::string profile_arn, profile_id, profile_role;
  std::string notice;  // the spot/instance-action document once the instance is marked
  std::chrono::system_clock::time_point requested_at, noticed_at;  // RunInstances; the notice
  Clock::time_point noticed_steady;                                // the notice, for virtual tasks
  bool dead = false;  // died silently: still "running" to EC2, but nothing answers
  // When it stopped running (shutting down, terminated or dead); unset while it runs.
  std::optional<std::chrono::system_clock::time_point> left_running_at;
  std::unique_ptr<Process> skylet;
  std::unique_ptr<http::Server> metadata;  // this instance's own IMDS, on its address
  // Virtual mode: the simulated node's attempts (id -> start) and events.
  std::map<std::string, Clock::time_point> attempts;
  std::set<std::string> held;       // attempts whose run waits for a release (setup is instant)
  std::set<std::string> cancelled;  // attempts ended by a cancel (POST /tasks/{id}/signal)
  std::map<std::string, Duration> run_for;  // attempts whose task sets FAKECLOUD_RUN_MS
  std::vector<Json> events;
  // Set for a Compute Engine instance (EC2's calls never see it).
  std::shared_ptr<GceInstance> gce;
};

}  // namespace skyd::fakecloud
