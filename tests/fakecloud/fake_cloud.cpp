#include "tests/fakecloud/fake_cloud.hpp"
#include "tests/fakecloud/fake_network_interfaces.hpp"
#include "tests/fakecloud/query_fields.hpp"

#include "providers/aws/aws_auth.hpp"
#include "providers/aws/ec2_api.hpp"
#include "providers/catalog/catalog_dir.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/numbers.hpp"
#include "reactor/timeout.hpp"
#include "tests/fakecloud/fake_catalog_api.hpp"
#include "tests/fakecloud/fake_gce.hpp"
#include "tests/fakecloud/fake_gcs.hpp"
#include "tests/fakecloud/fake_kube.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

namespace skyd::fakecloud {
namespace aws = providers::aws;
using aws::Ec2State;
using Params = aws::QueryParams;

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::kProcess:
      return "process";
    case Mode::kVirtual:
      return "virtual";
  }
  return "unknown";
}

namespace {

struct InstanceProfile {
  std::string name;  // empty: none asked for
  std::string arn;
  std::string id;
};

bool is_iam_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) ||
                  std::string_view("+=,.@_-").find(static_cast<char>(c)) != std::string_view::npos;
         });
}

// IamInstanceProfile.Name or IamInstanceProfile.Arn
// (arn:aws:iam::ACCOUNT:instance-profile/[PATH/]NAME).
Result<InstanceProfile> instance_profile(const aws::QueryParams& params) {
  InstanceProfile profile;
  const auto name = aws::param(params, "IamInstanceProfile.Name");
  const auto arn = aws::param(params, "IamInstanceProfile.Arn");
  if (!name && !arn) return profile;
  if (arn) {
    constexpr std::string_view kKind = ":instance-profile/";
    const auto kind = arn->find(kKind);
    if (!arn->starts_with("arn:aws:iam::") || kind == std::string::npos)
      return make_error(NetErrc::kProtocol, "Value (" + *arn +
                                                ") for parameter iamInstanceProfile.arn is "
                                                "invalid. Invalid IAM Instance Profile ARN");
    profile.arn = *arn;
    profile.name = arn->substr(arn->rfind('/') + 1);
    if (name && *name != profile.name)
      return make_error(NetErrc::kProtocol,
                        "The parameter iamInstanceProfile.name and iamInstanceProfile.arn name "
                        "different instance profiles");
  } else {
    profile.name = *name;
    profile.arn = "arn:aws:iam::123456789012:instance-profile/" + profile.name;
  }
  if (!is_iam_name(profile.name))
    return make_error(NetErrc::kProtocol, "Value (" + profile.name +
                                              ") for parameter iamInstanceProfile.name is "
                                              "invalid. Invalid IAM Instance Profile name");
  // A stable id per name, in IAM's form (AIPA + 17 characters).
  std::string id = sha256_hex(profile.name).substr(0, 17);
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  profile.id = "AIPA" + id;
  return profile;
}

Result<Duration> duration_ms(const Json& value, std::string_view key) {
  auto ms = value.as_int();
  if (!ms || *ms < 0)
    return make_error(NetErrc::kProtocol, std::string(key) + " must be a number of milliseconds");
  return Duration(std::chrono::milliseconds(*ms));
}

Result<double> share(const Json& value, std::string_view key) {
  auto rate = value.as_double();
  if (!rate && value.as_int()) rate = static_cast<double>(*value.as_int());
  if (!rate || *rate < 0 || *rate > 1)
    return make_error(NetErrc::kProtocol, std::string(key) + " must be a share between 0 and 1");
  return *rate;
}

std::string text(const Json& value) {
  auto s = value.as_string();
  return s ? std::string(*s) : std::string();
}

// What HTTP status EC2 gives an error code, when the fault rule does not say.
int default_status(std::string_view code) {
  if (code == "RequestLimitExceeded" || code == "Unavailable") return 503;
  if (code == "AuthFailure") return 401;
  if (code == "UnauthorizedOperation") return 403;
  if (code.starts_with("Insufficient") || code == "InternalError") return 500;
  return 400;
}

Result<FaultRule> fault_from_json(const Json& json) {
  if (!json.as_object()) return make_error(NetErrc::kProtocol, "a fault must be an object");
  FaultRule rule;
  bool status_set = false;
  for (const auto& [key, value] : *json.as_object()) {
    if (key == "action")
      rule.action = text(value);
    else if (key == "zone")
      rule.zone = text(value);
    else if (key == "instance_type")
      rule.instance_type = text(value);
    else if (key == "market")
      rule.market = text(value);
    else if (key == "code")
      rule.code = text(value);
    else if (key == "message")
      rule.message = text(value);
    else if (key == "status") {
      rule.status = static_cast<int>(value.as_int().value_or(400));
      status_set = true;
    } else if (key == "rate") {
      auto rate = share(value, "faults[].rate");
      if (!rate) return rate.error();
      rule.rate = *rate;
    } else if (key == "count") {
      rule.remaining = static_cast<int>(value.as_int().value_or(-1));
    } else if (key == "no_effect") {
      rule.no_effect = value.as_bool().value_or(false);
    } else if (key == "lose_answer_ms") {
      auto held = duration_ms(value, "faults[].lose_answer_ms");
      if (!held) return held.error();
      rule.lose_answer_for = *held;
    } else {
      return make_error(NetErrc::kProtocol, "unknown key faults[]." + key);
    }
  }
  if (rule.lose_answer_for && rule.code.empty()) rule.code = "(answer lost)";
  if (rule.no_effect && rule.code.empty()) rule.code = "(no effect)";
  if (rule.code.empty()) return make_error(NetErrc::kProtocol, "a fault needs a code");
  if (!status_set) rule.status = default_status(rule.code);
  if (rule.message.empty()) rule.message = "fakecloud injected " + rule.code;
  return rule;
}

http::Response xml(int status, std::string body) {
  return http::Response::text(status, std::move(body), "text/xml;charset=UTF-8");
}

http::Response ec2_error(int status, std::string_view code, std::string_view message,
                         std::string_view request_id) {
  return xml(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" +
                         aws::xml_escape(code) + "</Code><Message>" + aws::xml_escape(message) +
                         "</Message></Error></Errors><RequestID>" + std::string(request_id) +
                         "</RequestID></Response>");
}

std::string new_request_id() {
  const std::string hex = random_hex(16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

void append_state(std::string& out, std::string_view element, Ec2State state) {
  out += "<" + std::string(element) + "><code>" + std::to_string(aws::ec2_state_code(state)) +
         "</code><name>" + std::string(aws::to_string(state)) + "</name></" + std::string(element) +
         ">";
}

void append_instance(std::string& out, const FakeCloud::Instance& instance, int index) {
  out += "<item><instanceId>" + instance.id + "</instanceId><imageId>" +
         aws::xml_escape(instance.image_id) + "</imageId>";
  append_state(out, "instanceState", instance.state);
  const bool has_ip = !instance.ip.empty() && instance.state != Ec2State::kTerminated;
  out +=
      "<privateDnsName>" +
      (has_ip ? "ip-" + instance.ip + "." + instance.region + ".compute.internal" : std::string()) +
      "</privateDnsName><dnsName/><reason/><amiLaunchIndex>" + std::to_string(index) +
      "</amiLaunchIndex><instanceType>" + aws::xml_escape(instance.instance_type) +
      "</instanceType><launchTime>" + instance.launch_time +
      "</launchTime><placement><availabilityZone>" + aws::xml_escape(instance.zone) +
      "</availabilityZone><groupName/><tenancy>default</tenancy></placement>"
      "<monitoring><state>disabled</state></monitoring>";
  if (has_ip) out += "<privateIpAddress>" + instance.ip + "</privateIpAddress>";
  // The public address: a process-mode machine's loopback address stands in for it, and goes
  // with a stop as EC2's does.
  if (has_ip && instance.state == Ec2State::kRunning && instance.ip != "127.0.0.1")
    out += "<ipAddress>" + instance.ip + "</ipAddress>";
  if (!instance.reason_code.empty()) {
    out += "<stateReason><code>" + aws::xml_escape(instance.reason_code) + "</code><message>" +
           aws::xml_escape(instance.reason_message) + "</message></stateReason>";
  }
  out += "<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>";
  append_block_devices(out, instance.root_device_name, instance.block_devices,
                       instance.launch_time);
  append_network_interfaces(out, instance.network_interfaces);
  if (!instance.client_token.empty())
    out += "<clientToken>" + aws::xml_escape(instance.client_token) + "</clientToken>";
  if (instance.spot) out += "<instanceLifecycle>spot</instanceLifecycle>";
  if (!instance.profile_arn.empty()) {
    out += "<iamInstanceProfile><arn>" + aws::xml_escape(instance.profile_arn) + "</arn><id>" +
           instance.profile_id + "</id></iamInstanceProfile>";
  }
  out += "<tagSet>";
  for (const auto& [key, value] : instance.tags) {
    out += "<item><key>" + aws::xml_escape(key) + "</key><value>" + aws::xml_escape(value) +
           "</value></item>";
  }
  out += "</tagSet></item>";
}

constexpr std::string_view kXmlns = " xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"";
constexpr std::string_view kOwner = "123456789012";

// The EFA interfaces the account's catalog says `type` takes (0: none, or an unknown type).
int max_efa_interfaces(const catalog::Catalog& catalog, const std::string& type) {
  for (const auto& offering : catalog.offerings()) {
    if (offering.cloud == "aws" && offering.instance_type == type)
      return offering.max_efa_interfaces;
  }
  return 0;
}

long long epoch_ms(std::chrono::system_clock::time_point at) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

Json instance_json(const FakeCloud::Instance& instance) {
  Json item = Json::object();
  item.set("instance_id", instance.id);
  item.set("state", aws::to_string(instance.state));
  item.set("region", instance.region);
  item.set("zone", instance.zone);
  item.set("instance_type", instance.instance_type);
  item.set("image_id", instance.image_id);
  item.set("spot", instance.spot);
  item.set("ip", instance.ip);
  item.set("reason", instance.reason_code);
  item.set("dead", instance.dead);
  item.set("noticed", !instance.notice.empty());
  item.set("requested_at_ms", epoch_ms(instance.requested_at));
  if (!instance.notice.empty()) item.set("noticed_at_ms", epoch_ms(instance.noticed_at));
  if (instance.skylet) item.set("pid", static_cast<long long>(instance.skylet->pid()));
  if (!instance.container_runtime.empty())
    item.set("container_runtime", instance.container_runtime);
  // The instance's own metadata service (process mode), for clients that test what it serves.
  if (instance.metadata) {
    item.set("metadata_url",
             "http://" + instance.ip + ":" + std::to_string(instance.metadata->tcp_port()));
  }
  Json tags = Json::object();
  for (const auto& [key, value] : instance.tags) tags.set(key, value);
  item.set("tags", std::move(tags));
  Json groups = Json::array();
  for (const auto& group : instance.security_groups) groups.push_back(group);
  item.set("security_groups", std::move(groups));
  Json interfaces = Json::array();
  for (const auto& interface : instance.network_interfaces) {
    Json entry = Json::object();
    entry.set("type", interface.type);
    entry.set("card", interface.card);
    entry.set("device", interface.device);
    interfaces.push_back(std::move(entry));
  }
  item.set("network_interfaces", std::move(interfaces));
  item.set("root_device_name", instance.root_device_name);
  item.set("user_data", instance.user_data);
  item.set("iam_instance_profile", instance.profile_arn);
  Json devices = Json::array();
  for (const auto& device : instance.block_devices) {
    Json volume = Json::object();
    volume.set("device_name", device.device_name);
    volume.set("volume_id", device.volume_id);
    volume.set("volume_size", static_cast<long long>(device.size_gb));
    volume.set("volume_type", device.volume_type);
    if (device.iops) volume.set("iops", static_cast<long long>(*device.iops));
    if (device.throughput) volume.set("throughput", static_cast<long long>(*device.throughput));
    volume.set("delete_on_termination", device.delete_on_termination);
    devices.push_back(std::move(volume));
  }
  item.set("block_devices", std::move(devices));
  return item;
}

bool is_live(Ec2State state) {
  return state == Ec2State::kPending || state == Ec2State::kRunning;
}

// EC2 zone ids (use1-az1) name a zone the same way in every account, and each account maps them
// to zone names its own way. This fake account maps azN to the region's N-th zone letter
// (use1-az2 is us-east-1b). The id's prefix is the region's: its area, the initials of its
// direction (northeast: ne) and its number (us-east-1: use1, ap-southeast-2: apse2).
std::optional<std::string> zone_of_id(const std::string& region, const std::string& id) {
  const std::size_t first = region.find('-'), last = region.rfind('-');
  if (first == std::string::npos || last == first) return std::nullopt;
  const std::string direction = region.substr(first + 1, last - first - 1);
  static const std::map<std::string, std::string> kInitials = {
      {"north", "n"},      {"south", "s"},      {"east", "e"},
      {"west", "w"},       {"central", "c"},    {"northeast", "ne"},
      {"northwest", "nw"}, {"southeast", "se"}, {"southwest", "sw"}};
  const auto initials = kInitials.find(direction);
  if (initials == kInitials.end()) return std::nullopt;
  const std::string prefix =
      region.substr(0, first) + initials->second + region.substr(last + 1) + "-az";
  if (!id.starts_with(prefix) || id.size() != prefix.size() + 1) return std::nullopt;
  const char number = id.back();
  if (number < '1' || number > '6') return std::nullopt;
  return region + static_cast<char>('a' + (number - '1'));
}

// The zone a call places instances in: Placement.AvailabilityZone, or the zone its
// Placement.AvailabilityZoneId names in this account; empty when it names none (or a bad id).
std::string placement_zone(const Params& params, const std::string& region) {
  if (auto name = aws::param(params, "Placement.AvailabilityZone")) return *name;
  if (auto id = aws::param(params, "Placement.AvailabilityZoneId"))
    return zone_of_id(region, *id).value_or("");
  return "";
}

}  // namespace

Result<Chaos> Chaos::from_json(const Json& json) {
  if (!json.as_object()) return make_error(NetErrc::kProtocol, "the chaos config is an object");
  Chaos out;
  // Each knob by name: rates are shares in [0, 1], the rest milliseconds (0 or null turns an
  // optional interval off).
  const std::pair<const char*, double Chaos::*> kRates[] = {
      {"throttle_rate", &Chaos::throttle_rate}, {"error_5xx_rate", &Chaos::error_5xx_rate}};
  const std::pair<const char*, Duration Chaos::*> kDurations[] = {
      {"latency_min_ms", &Chaos::latency_min},
      {"latency_max_ms", &Chaos::latency_max},
      {"preemption_grace_ms", &Chaos::preemption_grace},
      {"virtual_boot_ms", &Chaos::virtual_boot},
      {"virtual_task_ms", &Chaos::virtual_task}};
  const std::pair<const char*, std::optional<Duration> Chaos::*> kIntervals[] = {
      {"preemption_mean_interval_ms", &Chaos::preemption_mean_interval},
      {"silent_death_mean_interval_ms", &Chaos::silent_death_mean_interval},
      {"virtual_exit_after_notice_ms", &Chaos::virtual_exit_after_notice}};
  for (const auto& [key, value] : *json.as_object()) {
    bool known = false;
    if (key == "gcp") {
      auto gcp = GceChaos::from_json(value);
      if (!gcp) return gcp.error();
      out.gcp = std::move(*gcp);
      known = true;
    }
    if (key == "gcs") {
      auto gcs = GcsChaos::from_json(value);
      if (!gcs) return gcs.error();
      out.gcs = std::move(*gcs);
      known = true;
    }
    if (key == "faults") {
      if (!value.as_array()) return make_error(NetErrc::kProtocol, "faults must be a list");
      for (const auto& item : *value.as_array()) {
        auto rule = fault_from_json(item);
        if (!rule) return rule.error();
        out.faults.push_back(std::move(*rule));
      }
      known = true;
    }
    for (const auto& [name, member] : kRates) {
      if (key != name) continue;
      auto rate = share(value, key);
      if (!rate) return rate.error();
      out.*member = *rate;
      known = true;
    }
    for (const auto& [name, member] : kDurations) {
      if (key != name) continue;
      auto duration = duration_ms(value, key);
      if (!duration) return duration.error();
      out.*member = *duration;
      known = true;
    }
    for (const auto& [name, member] : kIntervals) {
      if (key != name) continue;
      known = true;
      if (value.is_null() || value.as_int() == 0) {
        (out.*member).reset();
        continue;
      }
      auto duration = duration_ms(value, key);
      if (!duration) return duration.error();
      out.*member = *duration;
    }
    if (!known) return make_error(NetErrc::kProtocol, "unknown chaos key '" + key + "'");
  }
  if (out.latency_max < out.latency_min) out.latency_max = out.latency_min;
  return out;
}

struct FakeCloud::CertificateBook {
  std::mutex mutex;
  std::map<std::string, CertifiedKey> by_name;
};

FakeCloud::FakeCloud(asio::any_io_executor executor, FakeCloudOptions options)
    : executor_(executor),
      options_(std::move(options)),
      background_(executor, "fakecloud"),
      random_(options_.seed),
      certificates_(std::make_shared<CertificateBook>()) {
  if (!options_.work_dir.empty()) std::filesystem::create_directories(options_.work_dir);
  catalog_ = std::shared_ptr<const catalog::Catalog>(std::shared_ptr<const catalog::Catalog>(),
                                                     &catalog::Catalog::builtin());
  if (!options_.catalog_dir.empty()) {
    auto loaded = catalog::load_catalog_dir(options_.catalog_dir);
    // A test names its own catalog: a bad one is the test's bug, said at once.
    if (!loaded) throw std::runtime_error("fakecloud catalog: " + loaded.error().detail);
    catalog_ = std::make_shared<const catalog::Catalog>(std::move(*loaded));
  }
  gce_ = std::make_unique<FakeGce>(*this, executor_);
  kube_ = std::make_unique<FakeKube>(
      *this, executor_, options_.kube_token.empty() ? random_hex(24) : options_.kube_token);
  FakeGcsOptions gcs;
  gcs.directory = !options_.gcs_dir.empty()    ? options_.gcs_dir
                  : !options_.work_dir.empty() ? options_.work_dir + "/gcs"
                                               : std::string();
  gcs.only_project = options_.gcp_project;
  gcs.seed = options_.seed + 1;
  gcs_ = std::make_unique<FakeGcs>(gcp_tokens_, options_.chaos.gcs, std::move(gcs));
}

FakeCloud::~FakeCloud() = default;

std::size_t FakeCloud::live_instances() const {
  std::size_t n = 0;
  for (const auto& [id, instance] : instances_) n += is_live(instance->state) ? 1 : 0;
  return n;
}

bool FakeCloud::chance(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return std::uniform_real_distribution<double>(0, 1)(random_) < rate;
}

FakeCloud::Instance* FakeCloud::find(const std::string& id) {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

std::string FakeCloud::next_ip() {
  // 127.100.0.0 - 127.199.255.255, random, so parallel fakeclouds (and the local provider's
  // 127.0.x.y) rarely meet; a taken address only costs a retry.
  std::uniform_int_distribution<int> a(100, 199), b(0, 255), c(1, 254);
  return "127." + std::to_string(a(random_)) + "." + std::to_string(b(random_)) + "." +
         std::to_string(c(random_));
}

http::Router FakeCloud::router() {
  http::Router router;
  router.add("POST", "/", "EC2 Query API (SigV4)",
             [this](http::Request& request) { return ec2(request); });
  router.add("GET", "/", "EC2 Query API (SigV4), query-string form",
             [this](http::Request& request) { return ec2(request); });
  auto metadata = [this](http::Request& request) { return imds(request, std::string()); };
  router.add("PUT", "/latest/api/token", "IMDSv2 session token", metadata);
  for (const char* pattern : {"/latest/meta-data/{a}", "/latest/meta-data/{a}/{b}",
                              "/latest/meta-data/{a}/{b}/{c}", "/latest/meta-data/{a}/{b}/{c}/{d}"})
    router.add("GET", pattern, "instance metadata", metadata);
  auto admin_handler = [this](http::Request& request) { return admin(request); };
  for (const char* what : {"instances", "stats", "info", "attempts", "security_groups"})
    router.add("GET", std::string("/_admin/") + what, "admin", admin_handler);
  for (const char* what :
       {"chaos", "faults", "preempt", "reclaim", "kill", "restart_agent", "reset"})
    router.add("POST", std::string("/_admin/") + what, "admin", admin_handler);
  gce_->add_routes(router);
  kube_->add_admin_routes(router);
  gcs_->add_routes(router);
  gcp_auth_.add_routes(router);
  return router;
}

Result<void> FakeCloud::listen_virtual_nodes(http::Server& server, const std::string& host,
                                             std::uint16_t port) {
  auto fallback = make_certificate_authority("fakecloud virtual node");
  if (!fallback) return fallback.error();
  return server.listen_tls(host, port, *fallback, [book = certificates_](const std::string& name) {
    std::lock_guard lock(book->mutex);
    auto found = book->by_name.find(name);
    return found == book->by_name.end() ? std::optional<CertifiedKey>()
                                        : std::optional<CertifiedKey>(found->second);
  });
}

http::Router FakeCloud::virtual_node_router() {
  http::Router router;
  auto handler = [this](http::Request& request) { return virtual_node(request); };
  router.add("GET", "/health", "node health", handler);
  router.add("POST", "/tasks", "start an attempt", handler);
  router.add("GET", "/tasks/{id}", "attempt status", handler);
  router.add("GET", "/tasks/{id}/logs", "attempt output", handler);
  router.add("POST", "/tasks/{id}/signal", "cancel the attempt", handler);
  router.add("POST", "/tasks/{id}/release", "let a held attempt run", handler);
  router.add("GET", "/events", "node events", handler);
  router.add("GET", "/files/{name}", "an upload's state (virtual nodes keep no files)", handler);
  return router;
}

void FakeCloud::start() {
  background_.spawn(chaos_loop(true));
  background_.spawn(chaos_loop(false));
}

Task<void> FakeCloud::shutdown() {
  stopping_ = true;
  background_.cancel_all();
  co_await background_.wait();
  for (auto& [id, instance] : instances_) {
    if (instance->skylet && !instance->skylet->exited()) {
      instance->skylet->signal_group(SIGKILL);
      co_await instance->skylet->wait();
    }
    if (instance->metadata) co_await instance->metadata->drain(std::chrono::milliseconds(100));
    instance->metadata.reset();
  }
}

// --- signatures ---

Result<void> FakeCloud::check_signature(const http::Request& request, std::string& region,
                                        std::string_view service) const {
  const std::string* authorization = request.header("Authorization");
  if (!authorization)
    return make_error(providers::ProviderErrc::kAuth, "MissingAuthenticationToken");
  auto parsed = aws::parse_authorization(*authorization);
  if (!parsed) return parsed.error();
  const std::string* date = request.header("X-Amz-Date");
  if (!date || !date->starts_with(parsed->date))
    return make_error(providers::ProviderErrc::kAuth, "X-Amz-Date is missing or outside the scope");
  if (parsed->service != service)
    return make_error(
        providers::ProviderErrc::kAuth,
        "credential scope names service " + parsed->service + ", not " + std::string(service));
  const AccessKey* key = nullptr;
  for (const auto& candidate : options_.keys)
    if (candidate.access_key_id == parsed->access_key_id) key = &candidate;
  if (options_.role_key.access_key_id == parsed->access_key_id) key = &options_.role_key;
  if (!key) return make_error(providers::ProviderErrc::kAuth, "unknown access key");
  if (!key->session_token.empty()) {
    const std::string* token = request.header("X-Amz-Security-Token");
    if (!token || *token != key->session_token)
      return make_error(providers::ProviderErrc::kAuth, "missing or wrong security token");
  }
  aws::SignableRequest signable;
  signable.method = request.method;
  signable.target = request.target;
  signable.body = request.body;
  for (const auto& name : parsed->signed_headers) {
    bool found = false;
    for (const auto& [header, value] : request.headers) {
      std::string lower = header;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower == name) {
        signable.headers.emplace_back(lower, value);
        found = true;
      }
    }
    if (!found)
      return make_error(providers::ProviderErrc::kAuth, "signed header " + name + " is missing");
  }
  const aws::Credentials credentials{key->access_key_id, key->secret_access_key, "", "", {}};
  const aws::SigningParams params{parsed->region, std::string(service), *date, true, true};
  const auto expected = aws::compute_signature(signable, credentials, params);
  if (expected.signature.size() != parsed->signature.size() ||
      CRYPTO_memcmp(expected.signature.data(), parsed->signature.data(),
                    expected.signature.size()) != 0)
    return make_error(providers::ProviderErrc::kAuth, "signature does not match");
  region = parsed->region;
  return {};
}

std::optional<FaultRule> FakeCloud::pick_fault(const std::string& action, const std::string& zone,
                                               const std::string& type, const std::string& market) {
  for (auto& rule : options_.chaos.faults) {
    if (rule.remaining == 0) continue;
    if (!rule.action.empty() && rule.action != action) continue;
    if (!rule.zone.empty() && rule.zone != zone) continue;
    if (!rule.instance_type.empty() && rule.instance_type != type) continue;
    if (!rule.market.empty() && rule.market != market) continue;
    if (!chance(rule.rate)) continue;
    if (rule.remaining > 0) --rule.remaining;
    ++faults_fired_;
    return rule;
  }
  return std::nullopt;
}

// --- EC2 ---

Task<http::Response> FakeCloud::ec2(http::Request& request) {
  const std::string request_id = new_request_id();
  const auto& chaos = options_.chaos;
  if (chaos.latency_max > Duration::zero()) {
    const auto span = (chaos.latency_max - chaos.latency_min).count();
    const Duration delay =
        chaos.latency_min + Duration(std::uniform_int_distribution<long long>(0, span)(random_));
    asio::steady_timer timer(executor_, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
  std::string region;
  if (request.header("X-Amz-Target")) co_return pricing(request, request_id);
  if (auto signed_ok = check_signature(request, region, "ec2"); !signed_ok) {
    ++signature_failures_;
    logger("fakecloud")->warn("signature rejected reason=\"{}\"", signed_ok.error().detail);
    co_return ec2_error(401, "AuthFailure",
                        "AWS was not able to validate the provided access credentials (" +
                            signed_ok.error().detail + ")",
                        request_id);
  }
  Params params = aws::form_decode(request.body);
  for (const auto& [key, value] : request.query) params.emplace_back(key, value);
  const std::string action = aws::param(params, "Action").value_or("");
  ++calls_[action.empty() ? "(none)" : action];
  if (action.empty() || !aws::param(params, "Version"))
    co_return ec2_error(400, "MissingParameter", "Action and Version are required", request_id);
  if (chance(chaos.throttle_rate)) {
    ++throttled_;
    co_return ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.", request_id);
  }
  if (chance(chaos.error_5xx_rate)) {
    ++errors_5xx_;
    co_return ec2_error(500, "InternalError", "An internal error has occurred", request_id);
  }
  const std::string market =
      action != "RunInstances"
          ? std::string()
          : (aws::param(params, "InstanceMarketOptions.MarketType") == "spot" ? "spot"
                                                                              : "on-demand");
  std::optional<Duration> lose_answer_for;
  if (auto fault = pick_fault(action, placement_zone(params, region),
                              aws::param(params, "InstanceType").value_or(""), market)) {
    if (fault->code == "RequestLimitExceeded") ++throttled_;
    if (fault->no_effect && action == "TerminateInstances")
      co_return terminations_without_effect(request_id, params);
    if (!fault->lose_answer_for)
      co_return ec2_error(fault->status, fault->code, fault->message, request_id);
    lose_answer_for = fault->lose_answer_for;
  }
  if (lose_answer_for) {
    // The call happens; its answer comes too late for the client (a lost answer).
    http::Response done = co_await dispatch(action, region, request_id, std::move(params));
    ++answers_lost_;
    asio::steady_timer held(executor_, *lose_answer_for);
    co_await held.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return done;
  }
  co_return co_await dispatch(action, region, request_id, std::move(params));
}

http::Response FakeCloud::pricing(const http::Request& request, const std::string& request_id) {
  auto json_error = [&](int status, const std::string& code, const std::string& message) {
    Json body = Json::object();
    body.set("__type", "com.amazonaws.awspricing#" + code);
    body.set("message", message);
    http::Response response =
        http::Response::text(status, body.dump(), "application/x-amz-json-1.1");
    response.headers.emplace_back("x-amzn-RequestId", request_id);
    return response;
  };
  std::string region;
  if (auto signed_ok = check_signature(request, region, "pricing"); !signed_ok) {
    ++signature_failures_;
    return json_error(403, "UnrecognizedClientException", signed_ok.error().detail);
  }
  const std::string target = *request.header("X-Amz-Target");
  ++calls_[target];
  if (target != "AWSPriceListService.GetProducts") {
    return json_error(400, "UnknownOperationException", "fakecloud serves GetProducts only");
  }
  if (chance(options_.chaos.throttle_rate)) {
    ++throttled_;
    return json_error(400, "ThrottlingException", "Rate exceeded");
  }
  auto answer = get_products(*catalog_, request.body);
  if (!answer) return json_error(400, answer.error().code, answer.error().message);
  http::Response response =
      http::Response::text(200, std::move(*answer), "application/x-amz-json-1.1");
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  return response;
}

http::Response FakeCloud::terminations_without_effect(const std::string& request_id,
                                                      const Params& params) const {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TerminateInstancesResponse" +
                     std::string(kXmlns) + "><requestId>" + request_id +
                     "</requestId><instancesSet>";
  for (const auto& id : aws::param_list(params, "InstanceId")) {
    body += "<item><instanceId>" + aws::xml_escape(id) + "</instanceId>";
    append_state(body, "currentState", Ec2State::kShuttingDown);
    append_state(body, "previousState", Ec2State::kRunning);
    body += "</item>";
  }
  return xml(200, body + "</instancesSet></TerminateInstancesResponse>");
}

Task<http::Response> FakeCloud::dispatch(std::string action, std::string region,
                                         std::string request_id, Params params) {
  if (action == "RunInstances") co_return co_await run_instances(region, request_id, params);
  if (action == "DescribeInstances") co_return describe_instances(region, request_id, params);
  if (action == "DescribeImages") co_return describe_images(request_id, params);
  if (action == "DescribeVolumes") co_return describe_volumes(region, request_id, params);
  if (action == "CreateSecurityGroup" || action == "AuthorizeSecurityGroupIngress" ||
      action == "DescribeSecurityGroups" || action == "DeleteSecurityGroup") {
    auto in_use = [this](const std::string& group_id) {
      for (const auto& [id, instance] : instances_) {
        if (instance->state == Ec2State::kTerminated) continue;
        const auto& groups = instance->security_groups;
        if (std::find(groups.begin(), groups.end(), group_id) != groups.end()) return true;
      }
      return false;
    };
    SecurityGroups::Answer answer =
        action == "CreateSecurityGroup" ? security_groups_.create(region, request_id, params)
        : action == "AuthorizeSecurityGroupIngress"
            ? security_groups_.authorize(region, request_id, params)
        : action == "DescribeSecurityGroups"
            ? security_groups_.describe(region, request_id, params)
            : security_groups_.remove(region, request_id, params, in_use);
    if (auto* refused = std::get_if<ApiError>(&answer))
      co_return ec2_error(400, refused->code, refused->message, request_id);
    co_return xml(200, std::get<std::string>(std::move(answer)));
  }
  if (action == "TerminateInstances") co_return terminate_instances(region, request_id, params);
  if (action == "StopInstances" || action == "StartInstances")
    co_return change_power(region, request_id, params, action == "StartInstances");
  using CatalogCall = ApiAnswer<std::string> (*)(const catalog::Catalog&, const std::string&,
                                                 const std::string&, const Params&);
  const CatalogCall catalog_call =
      action == "DescribeInstanceTypes"           ? &describe_instance_types
      : action == "DescribeInstanceTypeOfferings" ? &describe_instance_type_offerings
      : action == "DescribeSpotPriceHistory"      ? &describe_spot_price_history
                                                  : nullptr;
  if (catalog_call) {
    auto answer = catalog_call(*catalog_, region, request_id, params);
    if (!answer) co_return ec2_error(400, answer.error().code, answer.error().message, request_id);
    co_return xml(200, std::move(*answer));
  }
  co_return ec2_error(400, "InvalidAction",
                      "The action " + action + " is not valid for this web service.", request_id);
}

Task<http::Response> FakeCloud::run_instances(std::string region, std::string request_id,
                                              Params params) {
  auto required = [&](const char* name) { return aws::param(params, name).value_or(""); };
  const std::string image = required("ImageId"), type = required("InstanceType");
  if (image.empty() || type.empty()) {
    co_return ec2_error(400, "MissingParameter",
                        "The request must contain the parameters ImageId and InstanceType",
                        request_id);
  }
  FakeImage booted;
  if (auto refused = find_image(options_.images, image, booted))
    co_return ec2_error(400, refused->code, refused->message, request_id);
  std::vector<BlockDevice> volumes;
  if (auto refused = block_devices(params, booted, volumes))
    co_return ec2_error(400, refused->code, refused->message, request_id);
  int min_count = 0, max_count = 0;
  try {
    min_count = std::stoi(required("MinCount"));
    max_count = std::stoi(required("MaxCount"));
  } catch (const std::exception&) {
    co_return ec2_error(400, "InvalidParameterValue", "MinCount and MaxCount must be integers",
                        request_id);
  }
  if (min_count < 1 || max_count < min_count) {
    co_return ec2_error(400, "InvalidParameterValue",
                        "MinCount must be at least 1 and not above MaxCount", request_id);
  }
  const auto zone_id = aws::param(params, "Placement.AvailabilityZoneId");
  if (zone_id && aws::param(params, "Placement.AvailabilityZone")) {
    co_return ec2_error(400, "InvalidParameterCombination",
                        "Specify either AvailabilityZone or AvailabilityZoneId, not both",
                        request_id);
  }
  if (zone_id && !zone_of_id(region, *zone_id)) {
    co_return ec2_error(400, "InvalidParameterValue",
                        "Invalid availability zone ID: [" + *zone_id + "]", request_id);
  }
  std::string zone = placement_zone(params, region);
  if (zone.empty()) zone = region + "a";
  if (!zone.starts_with(region) || zone.size() != region.size() + 1) {
    co_return ec2_error(400, "InvalidParameterValue", "Invalid availability zone: [" + zone + "]",
                        request_id);
  }

  // Idempotency: the same ClientToken returns the first call's reservation, never a second one.
  const std::string client_token = aws::param(params, "ClientToken").value_or("");
  Params fingerprint_fields;
  for (const auto& field : params)
    if (field.first != "ClientToken") fingerprint_fields.push_back(field);
  std::sort(fingerprint_fields.begin(), fingerprint_fields.end());
  const std::string fingerprint = sha256_hex(aws::form_encode(fingerprint_fields));
  const std::string token_key = region + "/" + client_token;
  if (!client_token.empty()) {
    if (client_token.size() > 64) {
      co_return ec2_error(400, "InvalidParameterValue", "ClientToken must be at most 64 characters",
                          request_id);
    }
    if (auto it = client_tokens_.find(token_key); it != client_tokens_.end()) {
      const auto bar = it->second.find('|');
      if (it->second.substr(0, bar) != fingerprint) {
        co_return ec2_error(400, "IdempotentParameterMismatch",
                            "The client token you have provided is associated with a resource "
                            "that is already deleted or has different parameters.",
                            request_id);
      }
      const std::string reservation_id = it->second.substr(bar + 1);
      std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RunInstancesResponse" +
                         std::string(kXmlns) + "><requestId>" + request_id +
                         "</requestId><reservationId>" + reservation_id + "</reservationId>" +
                         "<ownerId>" + std::string(kOwner) + "</ownerId><groupSet/><instancesSet>";
      int index = 0;
      for (const auto& id : reservations_[reservation_id])
        append_instance(body, *instances_.at(id), index++);
      body += "</instancesSet></RunInstancesResponse>";
      co_return xml(200, std::move(body));
    }
  }

  std::optional<aws::SkyletBoot> boot;
  std::string raw_user_data;
  if (auto user_data = aws::param(params, "UserData")) {
    auto decoded = aws::base64_decode(*user_data);
    if (!decoded) {
      co_return ec2_error(400, "InvalidParameterValue", "Invalid BASE64 encoding of user data",
                          request_id);
    }
    raw_user_data = *decoded;
    boot = aws::parse_skylet_boot(*decoded);
    if (boot) remember_certificate(boot->certificate);
  }
  auto profile = instance_profile(params);
  if (!profile) {
    co_return ec2_error(400, "InvalidParameterValue", profile.error().detail, request_id);
  }
  const std::map<std::string, std::string> tags = tag_specification(params, "instance");
  const bool spot = aws::param(params, "InstanceMarketOptions.MarketType") == "spot";
  std::vector<NetworkInterface> interfaces;
  if (auto refused = network_interfaces(params, aws::param_list(params, "SecurityGroupId"), type,
                                        max_efa_interfaces(*catalog_, type), interfaces)) {
    co_return ec2_error(400, refused->code, refused->message, request_id);
  }
  std::vector<std::string> groups;  // every interface's: what holds a group in use
  for (const auto& interface : interfaces)
    groups.insert(groups.end(), interface.groups.begin(), interface.groups.end());

  const std::string reservation_id = "r-" + random_hex(9).substr(0, 17);
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RunInstancesResponse" +
                     std::string(kXmlns) + "><requestId>" + request_id +
                     "</requestId><reservationId>" + reservation_id + "</reservationId><ownerId>" +
                     std::string(kOwner) + "</ownerId><groupSet/><instancesSet>";
  auto& members = reservations_[reservation_id];
  for (int i = 0; i < max_count; ++i) {
    auto instance = std::make_unique<Instance>();
    instance->id = "i-" + random_hex(9).substr(0, 17);
    instance->reservation_id = reservation_id;
    instance->region = region;
    instance->zone = zone;
    instance->instance_type = type;
    instance->image_id = image;
    instance->client_token = client_token;
    instance->spot = spot;
    instance->tags = tags;
    instance->security_groups = groups;
    instance->network_interfaces = interfaces;
    if (i > 0) {  // each instance has interfaces of its own
      for (auto& interface : instance->network_interfaces) interface.id = resource_id("eni-");
    }
    instance->root_device_name = booted.root_device_name;
    instance->block_devices = volumes;
    if (i > 0) {  // each instance has volumes of its own
      for (auto& volume : instance->block_devices)
        volume.volume_id = "vol-" + random_hex(9).substr(0, 17);
    }
    instance->boot = boot;
    instance->user_data = raw_user_data;
    if (!profile->name.empty()) {
      instance->profile_arn = profile->arn;
      instance->profile_role = profile->name;
      instance->profile_id = profile->id;
    }
    instance->requested_at = std::chrono::system_clock::now();
    instance->launch_time = aws::format_iso8601(instance->requested_at);
    if (options_.mode == Mode::kVirtual) instance->ip = "127.0.0.1";
    append_instance(body, *instance, i);
    members.push_back(instance->id);
    const std::string id = instance->id;
    add_instance(std::move(instance));
    if (options_.mode == Mode::kProcess && boot) {
      background_.spawn(this->boot(id));
    } else if (options_.mode == Mode::kProcess) {
      background_.spawn(boot_without_agent(id));
    } else {
      background_.spawn(delay_then(options_.chaos.virtual_boot, id));
    }
  }
  body += "</instancesSet></RunInstancesResponse>";
  if (!client_token.empty()) client_tokens_[token_key] = fingerprint + "|" + reservation_id;
  logger("fakecloud")
      ->info("run instances reservation={} count={} zone={} type={} spot={}", reservation_id,
             max_count, zone, type, spot);
  co_return xml(200, std::move(body));
}

http::Response FakeCloud::describe_volumes(const std::string& region, const std::string& request_id,
                                           const Params& params) const {
  // VolumeId.N and the filter attachment.instance-id; a volume deleted with its instance is gone.
  const auto wanted = aws::param_list(params, "VolumeId");
  std::set<std::string> attached_to;
  for (const auto& filter : query_filters(params)) {
    if (filter.name != "attachment.instance-id") {
      return ec2_error(400, "InvalidParameterValue", "The filter '" + filter.name + "' is invalid",
                       request_id);
    }
    attached_to.insert(filter.values.begin(), filter.values.end());
  }
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeVolumesResponse" +
                     std::string(kXmlns) + "><requestId>" + request_id + "</requestId><volumeSet>";
  std::set<std::string> found;
  for (const auto& [id, instance] : instances_) {
    if (instance->region != region || instance->gce) continue;
    if (!attached_to.empty() && !attached_to.contains(id)) continue;
    for (const auto& device : instance->block_devices) {
      if (instance->state == Ec2State::kTerminated && device.delete_on_termination) continue;
      if (!wanted.empty() &&
          std::find(wanted.begin(), wanted.end(), device.volume_id) == wanted.end())
        continue;
      found.insert(device.volume_id);
      append_volume(body, device, id, instance->zone, instance->launch_time);
    }
  }
  for (const auto& id : wanted) {
    if (!found.contains(id)) {
      return ec2_error(400, "InvalidVolume.NotFound", "The volume '" + id + "' does not exist.",
                       request_id);
    }
  }
  return xml(200, body + "</volumeSet></DescribeVolumesResponse>");
}

http::Response FakeCloud::describe_images(const std::string& request_id,
                                          const Params& params) const {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeImagesResponse" +
                     std::string(kXmlns) + "><requestId>" + request_id + "</requestId><imagesSet>";
  for (const auto& id : aws::param_list(params, "ImageId")) {
    FakeImage image;
    if (auto refused = find_image(options_.images, id, image))
      return ec2_error(400, refused->code, refused->message, request_id);
    if (id.starts_with("resolve:ssm:")) {
      return ec2_error(400, "InvalidAMIID.Malformed", "Invalid id: \"" + id + "\"", request_id);
    }
    append_image(body, id, image);
  }
  return xml(200, body + "</imagesSet></DescribeImagesResponse>");
}

namespace {
// A DescribeInstances of every instance one controller tagged (no instance, call or cluster
// named): what a restarted controller lists its instances with.
bool lists_a_whole_controller(const std::vector<std::string>& ids,
                              const std::vector<QueryFilter>& filters) {
  if (!ids.empty()) return false;
  bool by_controller = false;
  for (const auto& filter : filters) {
    if (filter.name == "tag:skyd-controller") by_controller = true;
    if (filter.name != "tag:skyd-controller" && filter.name != "instance-state-name") return false;
  }
  return by_controller;
}
}  // namespace

http::Response FakeCloud::describe_instances(const std::string& region,
                                             const std::string& request_id, const Params& params) {
  const auto ids = aws::param_list(params, "InstanceId");
  int max_results = 0;
  if (auto max = aws::param(params, "MaxResults")) {
    if (!ids.empty()) {
      return ec2_error(400, "InvalidParameterCombination",
                       "The parameter instancesSet cannot be used with the parameter maxResults",
                       request_id);
    }
    max_results = std::atoi(max->c_str());
    if (max_results < 5 || max_results > 1000) {
      return ec2_error(400, "InvalidParameterValue",
                       "Value ( " + *max +
                           " ) for parameter maxResults is invalid. Expecting a "
                           "value between 5 and 1000.",
                       request_id);
    }
  }
  for (const auto& id : ids) {
    const Instance* instance = find(id);
    if (!instance || instance->region != region || instance->gce) {
      return ec2_error(400, "InvalidInstanceID.NotFound",
                       "The instance ID '" + id + "' does not exist", request_id);
    }
  }
  const std::vector<QueryFilter> filters = query_filters(params);
  for (const auto& filter : filters) {
    if (filter.value_count > 200) {
      return ec2_error(400, "FilterLimitExceeded",
                       "The maximum number of filter values specified on a single call is 200",
                       request_id);
    }
    if (filter.name == "instance-id") {
      describe_ids_max_ =
          std::max<std::int64_t>(describe_ids_max_, static_cast<std::int64_t>(filter.value_count));
    }
    if (filter.name == "client-token") ++describes_by_client_token_;
    static const std::set<std::string> kKnown = {
        "tag-key",       "instance-state-name", "instance-id",    "availability-zone",
        "instance-type", "instance-lifecycle",  "reservation-id", "client-token"};
    if (!filter.name.starts_with("tag:") && !kKnown.contains(filter.name)) {
      return ec2_error(400, "InvalidParameterValue", "The filter '" + filter.name + "' is invalid",
                       request_id);
    }
  }
  if (lists_a_whole_controller(ids, filters) && !aws::param(params, "NextToken"))
    ++controller_listings_[region];
  auto matches = [&](const Instance& instance) {
    if (instance.region != region || instance.gce) return false;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), instance.id) == ids.end()) return false;
    for (const auto& filter : filters) {
      std::string value;
      if (filter.name.starts_with("tag:")) {
        auto tag = instance.tags.find(filter.name.substr(4));
        if (tag == instance.tags.end()) return false;
        value = tag->second;
      } else if (filter.name == "tag-key") {
        bool any = false;
        for (const auto& key : filter.values) any = any || instance.tags.contains(key);
        if (!any) return false;
        continue;
      } else if (filter.name == "instance-state-name") {
        value = aws::to_string(instance.state);
      } else if (filter.name == "instance-id") {
        value = instance.id;
      } else if (filter.name == "availability-zone") {
        value = instance.zone;
      } else if (filter.name == "instance-type") {
        value = instance.instance_type;
      } else if (filter.name == "instance-lifecycle") {
        value = instance.spot ? "spot" : "";
      } else if (filter.name == "reservation-id") {
        value = instance.reservation_id;
      } else if (filter.name == "client-token") {
        value = instance.client_token;
      }
      if (!filter.values.contains(value)) return false;
    }
    return true;
  };
  std::vector<const Instance*> matched;
  for (const Instance* instance : describe_candidates(ids, filters))
    if (matches(*instance)) matched.push_back(instance);

  std::size_t begin = 0;
  if (auto token = aws::param(params, "NextToken")) {
    if (!token->starts_with("fc-")) {
      return ec2_error(400, "InvalidParameterValue", "The nextToken is invalid", request_id);
    }
    begin = std::min<std::size_t>(std::strtoull(token->c_str() + 3, nullptr, 10), matched.size());
  }
  const std::size_t end =
      max_results > 0 ? std::min(matched.size(), begin + max_results) : matched.size();

  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeInstancesResponse" +
                     std::string(kXmlns) + "><requestId>" + request_id +
                     "</requestId><reservationSet>";
  for (std::size_t i = begin; i < end;) {
    const std::string& reservation = matched[i]->reservation_id;
    body += "<item><reservationId>" + reservation + "</reservationId><ownerId>" +
            std::string(kOwner) + "</ownerId><groupSet/><instancesSet>";
    int index = 0;
    for (; i < end && matched[i]->reservation_id == reservation; ++i)
      append_instance(body, *matched[i], index++);
    body += "</instancesSet></item>";
  }
  body += "</reservationSet>";
  if (end < matched.size()) body += "<nextToken>fc-" + std::to_string(end) + "</nextToken>";
  body += "</DescribeInstancesResponse>";
  return xml(200, std::move(body));
}

std::optional<http::Response> FakeCloud::refuse_instance_ids(const std::string& region,
                                                             const std::string& request_id,
                                                             const std::vector<std::string>& ids) {
  if (ids.empty()) {
    return ec2_error(400, "MissingParameter", "The request must contain the parameter InstanceId",
                     request_id);
  }
  for (const auto& id : ids) {
    const Instance* instance = find(id);
    if (!instance || instance->region != region || instance->gce) {
      return ec2_error(400, "InvalidInstanceID.NotFound",
                       "The instance ID '" + id + "' does not exist", request_id);
    }
  }
  return std::nullopt;
}

http::Response FakeCloud::terminate_instances(const std::string& region,
                                              const std::string& request_id, const Params& params) {
  const auto ids = aws::param_list(params, "InstanceId");
  if (auto refused = refuse_instance_ids(region, request_id, ids)) return std::move(*refused);
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TerminateInstancesResponse" +
                     std::string(kXmlns) + "><requestId>" + request_id +
                     "</requestId><instancesSet>";
  for (const auto& id : ids) {
    Instance& instance = *find(id);
    const Ec2State previous = instance.state;
    const bool live =
        is_live(previous) || previous == Ec2State::kStopping || previous == Ec2State::kStopped;
    if (live) {
      leave_running(instance);
      instance.state = Ec2State::kShuttingDown;
      instance.reason_code = "Client.UserInitiatedShutdown";
      instance.reason_message = "Client.UserInitiatedShutdown: User initiated shutdown";
    }
    body += "<item><instanceId>" + id + "</instanceId>";
    append_state(body, "currentState", instance.state);
    append_state(body, "previousState", previous);
    // Spawned after the answer is written: the stop may finish before this handler returns.
    if (live)
      background_.spawn(stop(id, instance.reason_code, instance.reason_message, Duration::zero()));
    body += "</item>";
  }
  body += "</instancesSet></TerminateInstancesResponse>";
  logger("fakecloud")->info("terminate instances count={}", ids.size());
  return xml(200, std::move(body));
}

http::Response FakeCloud::change_power(const std::string& region, const std::string& request_id,
                                       const Params& params, bool start) {
  const std::string action = start ? "StartInstances" : "StopInstances";
  const auto ids = aws::param_list(params, "InstanceId");
  if (auto refused = refuse_instance_ids(region, request_id, ids)) return std::move(*refused);
  // EC2 checks every instance before it changes any.
  for (const auto& id : ids) {
    const Instance* instance = find(id);
    if (!start && instance->spot) {
      return ec2_error(400, "UnsupportedOperation",
                       "You can't stop the Spot Instance '" + id +
                           "' because it is associated with a one-time Spot Instance request. "
                           "You can only stop Spot Instances associated with persistent Spot "
                           "Instance requests.",
                       request_id);
    }
    const Ec2State state = instance->state;
    const bool allowed = start ? state == Ec2State::kStopped || state == Ec2State::kPending ||
                                     state == Ec2State::kRunning
                               : state == Ec2State::kRunning || state == Ec2State::kStopping ||
                                     state == Ec2State::kStopped;
    if (!allowed) {
      return ec2_error(400, "IncorrectInstanceState",
                       start ? "The instance '" + id +
                                   "' is not in a state from which it can be "
                                   "started."
                             : "This instance '" + id +
                                   "' is not in a state from which it can "
                                   "be stopped.",
                       request_id);
    }
  }
  const std::string root = action + "Response";
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + root + std::string(kXmlns) +
                     "><requestId>" + request_id + "</requestId><instancesSet>";
  for (const auto& id : ids) {
    Instance& instance = *find(id);
    const Ec2State previous = instance.state;
    if (start && previous == Ec2State::kStopped) {
      instance.state = Ec2State::kPending;
      instance.reason_code.clear();
      instance.reason_message.clear();
      instance.dead = false;
      // A rebooted machine runs nothing of what ran before.
      instance.attempts.clear();
      instance.held.clear();
      instance.cancelled.clear();
      instance.run_for.clear();
      instance.events.clear();
      if (options_.mode == Mode::kProcess && instance.boot) {
        background_.spawn(boot(id));
      } else if (options_.mode == Mode::kProcess) {
        background_.spawn(boot_without_agent(id));
      } else {
        background_.spawn(delay_then(options_.chaos.virtual_boot, id));
      }
    } else if (!start && previous == Ec2State::kRunning) {
      leave_running(instance);
      instance.state = Ec2State::kStopping;
      instance.reason_code = "Client.UserInitiatedShutdown";
      instance.reason_message = "Client.UserInitiatedShutdown: User initiated shutdown";
      background_.spawn(power_off(id));
    }
    body += "<item><instanceId>" + id + "</instanceId>";
    append_state(body, "currentState", instance.state);
    append_state(body, "previousState", previous);
    body += "</item>";
  }
  body += "</instancesSet></" + root + ">";
  logger("fakecloud")
      ->info("{} count={}", start ? "start instances" : "stop instances", ids.size());
  return xml(200, std::move(body));
}

// --- instance lifecycle ---

Task<void> FakeCloud::delay_then(Duration delay, std::string instance_id) {
  if (delay > Duration::zero()) {
    asio::steady_timer timer(executor_, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
  Instance* instance = find(instance_id);
  if (instance && instance->state == Ec2State::kPending) instance->state = Ec2State::kRunning;
}

namespace {

Task<Result<void>> read_line(asio::posix::stream_descriptor& pipe, std::string& out) {
  auto [ec, n] = co_await asio::async_read_until(pipe, asio::dynamic_buffer(out), '\n',
                                                 asio::as_tuple(asio::use_awaitable));
  if (ec) co_return make_error(NetErrc::kClosed, "skylet exited before it listened");
  co_return Result<void>{};
}

}  // namespace

http::Router FakeCloud::node_metadata_router(const std::string& instance_id) {
  const Instance* instance = find(instance_id);
  if (instance && instance->gce) return gce_->metadata_router(instance_id);
  http::Router router;
  auto handler = [this, instance_id](http::Request& request) { return imds(request, instance_id); };
  router.add("PUT", "/latest/api/token", "IMDSv2 session token", handler);
  for (const char* pattern : {"/latest/meta-data/{a}", "/latest/meta-data/{a}/{b}",
                              "/latest/meta-data/{a}/{b}/{c}", "/latest/meta-data/{a}/{b}/{c}/{d}"})
    router.add("GET", pattern, "instance metadata", handler);
  return router;
}

Task<void> FakeCloud::boot(std::string instance_id) {
  Instance* instance = find(instance_id);
  const std::string sandbox = options_.work_dir + "/" + instance_id;
  std::filesystem::create_directories(sandbox + "/work");
  {
    std::ofstream token(sandbox + "/token");
    token << instance->boot->token;
  }
  std::filesystem::permissions(
      sandbox + "/token", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // What cloud-init writes from the user data: the certificate and key skylet serves TLS with.
  const bool tls = !instance->boot->certificate.certificate_pem.empty();
  if (tls) {
    std::ofstream(sandbox + "/skylet.crt") << instance->boot->certificate.certificate_pem;
    std::ofstream(sandbox + "/skylet.key") << instance->boot->certificate.private_key_pem;
    std::filesystem::permissions(sandbox + "/skylet.key", std::filesystem::perms::owner_read |
                                                              std::filesystem::perms::owner_write);
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    // A machine started again keeps its private address (as on EC2), while that address is free.
    const std::string ip = attempt == 0 && !instance->ip.empty() ? instance->ip : next_ip();
    // The instance's own metadata service, on its own address (as 169.254.169.254 is per host).
    auto metadata = std::make_unique<http::Server>(std::vector<asio::any_io_executor>{executor_},
                                                   node_metadata_router(instance_id));
    if (!metadata->listen_tcp(ip, 0)) continue;  // address taken: another one
    metadata->start();
    const std::string metadata_url = "http://" + ip + ":" + std::to_string(metadata->tcp_port());

    int ready_pipe[2];
    if (::pipe2(ready_pipe, O_CLOEXEC) != 0) break;
    ProcessOptions spawn;
    spawn.argv = {
        options_.skylet_binary,
        "--listen",
        ip + ":" + std::to_string(instance->boot->port),
        "--token-file",
        sandbox + "/token",
        "--work-dir",
        sandbox + "/work",
        "--ready-fd",
        "3",
        "--metadata-url",
        metadata_url,
        "--metadata-flavor",
        instance->gce ? "gce" : "ec2",
        "--metadata-interval-ms",
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.metadata_poll).count()),
        "--cancel-grace-ms",
        "1000"};
    // A pod's claims are mounts of its own root: never the host's paths.
    if (options_.private_node_roots || !instance->binds.empty()) {
      spawn.argv.insert(spawn.argv.end(), {"--private-root", sandbox + "/machine"});
      for (const auto& [source, destination] : instance->binds)
        spawn.argv.insert(spawn.argv.end(), {"--bind", source, destination});
    }
    if (tls) {
      spawn.argv.insert(spawn.argv.end(), {"--tls-cert", sandbox + "/skylet.crt", "--tls-key",
                                           sandbox + "/skylet.key"});
    }
    if (!instance->boot->notice_signal.empty())
      spawn.argv.insert(spawn.argv.end(), {"--notice-signal", instance->boot->notice_signal});
    if (instance->boot->container) {
      spawn.argv.insert(spawn.argv.end(), {"--container-runtime", options_.node_container_runtime});
      instance->container_runtime = options_.node_container_runtime;
    }
    if (instance->boot->container && instance->boot->gpus) spawn.argv.push_back("--container-gpus");
    auto overrides = instance->env;
    overrides["HOME"] = sandbox;
    spawn.environment = environment_with(overrides, {"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
                                                     "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"});
    spawn.capture_output = false;
    spawn.output_file = sandbox + "/skylet.log";
    spawn.extra_fds = {{3, ready_pipe[1]}};
    auto process = Process::spawn(executor_, std::move(spawn));
    ::close(ready_pipe[1]);
    asio::posix::stream_descriptor ready(executor_, ready_pipe[0]);
    if (!process) {
      logger("fakecloud")
          ->error("skylet failed to start instance={} error=\"{}\"", instance_id,
                  process.error().message());
      co_await metadata->drain(Duration::zero());
      break;
    }
    std::string line;
    std::string what = "starting skylet";
    auto listening = co_await with_timeout(read_line(ready, line), options_.skylet_start_timeout,
                                           std::move(what));
    if (!listening) {
      (*process)->signal_group(SIGKILL);
      co_await (*process)->wait();
      co_await metadata->drain(Duration::zero());
      continue;  // most likely the port on this address was taken
    }
    // Terminated (or deleted) while skylet started: nothing will stop this skylet but us.
    instance = find(instance_id);
    if (!instance ||
        (instance->state != Ec2State::kPending && instance->state != Ec2State::kRunning)) {
      (*process)->signal_group(SIGKILL);
      co_await (*process)->wait();
      co_await metadata->drain(Duration::zero());
      co_return;
    }
    instance->ip = ip;
    instance->skylet = std::move(*process);
    instance->metadata = std::move(metadata);
    if (instance->state == Ec2State::kPending) {
      instance->state = Ec2State::kRunning;
      logger("fakecloud")
          ->info("instance running id={} ip={} port={} pid={}", instance_id, ip,
                 instance->boot->port, instance->skylet->pid());
    }
    co_return;
  }
  // Could not start: the instance ends the way EC2 reports an internal failure.
  instance->state = Ec2State::kTerminated;
  instance->reason_code = "Server.InternalError";
  instance->reason_message = "Server.InternalError: Internal error on launch";
}

Task<void> FakeCloud::boot_without_agent(std::string instance_id) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    Instance* instance = find(instance_id);
    if (!instance || instance->state != Ec2State::kPending) co_return;
    const std::string ip = attempt == 0 && !instance->ip.empty() ? instance->ip : next_ip();
    auto metadata = std::make_unique<http::Server>(std::vector<asio::any_io_executor>{executor_},
                                                   node_metadata_router(instance_id));
    if (!metadata->listen_tcp(ip, 0)) continue;  // address taken: another one
    metadata->start();
    instance->ip = ip;
    instance->metadata = std::move(metadata);
    instance->state = Ec2State::kRunning;
    logger("fakecloud")->info("instance running id={} ip={} (no skylet)", instance_id, ip);
    co_return;
  }
  Instance* instance = find(instance_id);
  if (!instance || instance->state != Ec2State::kPending) co_return;
  instance->state = Ec2State::kTerminated;
  instance->reason_code = "Server.InternalError";
  instance->reason_message = "Server.InternalError: Internal error on launch";
}

Task<void> FakeCloud::power_off(std::string instance_id) {
  Instance* instance = find(instance_id);
  if (options_.mode == Mode::kVirtual) {
    asio::steady_timer timer(executor_, options_.chaos.virtual_boot);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if ((instance = find(instance_id))) finish_stopping(*instance);
    co_return;
  }
  // Taken from the instance, so a terminate arriving meanwhile finds nothing left to stop.
  std::unique_ptr<Process> skylet = std::move(instance->skylet);
  std::unique_ptr<http::Server> metadata = std::move(instance->metadata);
  if (skylet && !skylet->exited()) {
    // A shutdown: processes get SIGTERM, then SIGKILL when they linger.
    skylet->signal_group(SIGTERM);
    auto wait = [](Process* process) -> Task<Result<void>> {
      co_await process->wait();
      co_return Result<void>{};
    };
    std::string what = "skylet exit";
    (void)co_await with_timeout(wait(skylet.get()), std::chrono::seconds(2), std::move(what));
    if (!skylet->exited()) skylet->signal_group(SIGKILL);
    co_await skylet->wait();
  }
  // The tasks skylet started in their own groups end with the machine.
  const std::string group_file = options_.work_dir + "/" + instance_id + "/work/pgids";
  {
    std::ifstream groups(group_file);
    for (pid_t group = 0; groups >> group;)
      if (group > 0) ::kill(-group, SIGKILL);
  }
  // The next boot's skylet starts a list of its own (these ids may be reused by then).
  std::error_code ignored;
  std::filesystem::remove(group_file, ignored);
  if (metadata) co_await metadata->drain(Duration::zero());
  if ((instance = find(instance_id))) finish_stopping(*instance);
}

void FakeCloud::finish_stopping(Instance& instance) {
  if (instance.state != Ec2State::kStopping) return;
  instance.state = Ec2State::kStopped;
  logger("fakecloud")->info("instance stopped id={}", instance.id);
}

Task<void> FakeCloud::stop(std::string instance_id, std::string reason_code,
                           std::string reason_message, Duration grace) {
  Instance* instance = find(instance_id);
  leave_running(*instance);
  instance->state = Ec2State::kShuttingDown;
  instance->reason_code = std::move(reason_code);
  instance->reason_message = std::move(reason_message);
  if (instance->skylet && !instance->skylet->exited()) {
    if (grace > Duration::zero()) {
      instance->skylet->signal_group(SIGTERM);
      auto wait = [](Process* process) -> Task<Result<void>> {
        co_await process->wait();
        co_return Result<void>{};
      };
      std::string what = "skylet exit";
      auto ended = co_await with_timeout(wait(instance->skylet.get()), grace, std::move(what));
      (void)ended;
    }
    if (!instance->skylet->exited()) instance->skylet->signal_group(SIGKILL);
    co_await instance->skylet->wait();
    // The machine is gone with everything on it: the tasks skylet started in their own groups too.
    std::ifstream groups(options_.work_dir + "/" + instance_id + "/work/pgids");
    for (pid_t group = 0; groups >> group;)
      if (group > 0) ::kill(-group, SIGKILL);
  }
  if (instance->metadata) {
    co_await instance->metadata->drain(Duration::zero());
    instance->metadata.reset();
  }
  instance->state = Ec2State::kTerminated;
  logger("fakecloud")
      ->info("instance terminated id={} reason={}", instance_id, instance->reason_code);
}

Task<void> FakeCloud::preempt(std::string instance_id, Duration grace) {
  Instance* instance = find(instance_id);
  if (!instance || !is_live(instance->state) || !instance->notice.empty()) co_return;
  const auto when = std::chrono::system_clock::now() +
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(grace);
  Json notice = Json::object();
  notice.set("action", "terminate");
  notice.set("time", aws::format_iso8601(when));
  instance->notice = notice.dump();
  instance->noticed_at = std::chrono::system_clock::now();
  instance->noticed_steady = Clock::now();
  Json event = Json::object();
  event.set("kind", "spot_notice");
  event.set("source", "instance-metadata");
  event.set("detail", notice);
  add_event(*instance, std::move(event));
  logger("fakecloud")
      ->info("spot interruption notice id={} grace_ms={}", instance_id,
             std::chrono::duration_cast<std::chrono::milliseconds>(grace).count());
  asio::steady_timer timer(executor_, grace);
  co_await timer.async_wait(asio::use_awaitable);
  std::string code = "Server.SpotInstanceTermination";
  std::string message = "Server.SpotInstanceTermination: Spot instance termination";
  co_await stop(instance_id, std::move(code), std::move(message), Duration::zero());
}

Task<void> FakeCloud::chaos_loop(bool preemptions) {
  asio::steady_timer timer(executor_);
  for (;;) {
    const auto& mean = preemptions ? options_.chaos.preemption_mean_interval
                                   : options_.chaos.silent_death_mean_interval;
    // Re-read the knob every second so /_admin/chaos can turn it on or off.
    Duration wait = std::chrono::seconds(1);
    if (mean) {
      std::exponential_distribution<double> gap(1.0 / static_cast<double>(mean->count()));
      wait = Duration(static_cast<Duration::rep>(gap(random_)));
    }
    timer.expires_after(wait);
    co_await timer.async_wait(asio::use_awaitable);
    if (!mean) continue;
    std::vector<std::string> candidates;
    for (const auto& [id, instance] : instances_) {
      if (instance->state != Ec2State::kRunning || instance->dead) continue;
      if (preemptions && (!instance->spot || !instance->notice.empty())) continue;
      if (instance->gce && instance->gce->deleting) continue;
      candidates.push_back(id);
    }
    if (candidates.empty()) continue;
    const std::string victim =
        candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(random_)];
    Instance* instance = find(victim);
    if (instance->gce && preemptions) {
      background_.spawn(gce_->preempt(victim, options_.chaos.gcp.preemption_grace));
    } else if (instance->gce) {
      gce_->kill(victim);
    } else if (preemptions) {
      background_.spawn(preempt(victim, options_.chaos.preemption_grace));
    } else {
      kill_silently(*instance);
      logger("fakecloud")->info("instance died silently id={}", victim);
    }
  }
}

// --- IMDS ---

Task<http::Response> FakeCloud::imds(http::Request& request, std::string instance_id) {
  if (request.method == "PUT") {
    const std::string* ttl = request.header("X-aws-ec2-metadata-token-ttl-seconds");
    const int seconds = ttl ? std::atoi(ttl->c_str()) : 0;
    if (seconds < 1 || seconds > 21600)
      co_return http::Response::text(400, "missing or invalid token TTL");
    const std::string token = random_hex(24);
    imds_tokens_[token] = instance_id;
    http::Response answer = http::Response::text(200, token);
    // The AWS SDKs read the token's lifetime from this header, and retry without it.
    answer.set_header("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", std::to_string(seconds));
    co_return answer;
  }
  const std::string* token = request.header("X-aws-ec2-metadata-token");
  if (!token || !imds_tokens_.contains(*token)) co_return http::Response::text(401, "");
  const std::string path = request.path;
  Instance* instance = instance_id.empty() ? nullptr : find(instance_id);
  const std::string credentials = "/latest/meta-data/iam/security-credentials/";
  if (instance) {
    // What a program on the machine asks about itself (skyd's autostop: which instance, where).
    if (path == "/latest/meta-data/instance-id") co_return http::Response::text(200, instance->id);
    if (path == "/latest/meta-data/placement/region")
      co_return http::Response::text(200, instance->region);
    if (path == "/latest/meta-data/placement/availability-zone")
      co_return http::Response::text(200, instance->zone);
    if (path == "/latest/meta-data/instance-type")
      co_return http::Response::text(200, instance->instance_type);
    if (path == "/latest/meta-data/ami-id") co_return http::Response::text(200, instance->image_id);
    if (path == "/latest/meta-data/local-ipv4") co_return http::Response::text(200, instance->ip);
  }
  if (path == "/latest/meta-data/spot/instance-action") {
    if (!instance || instance->notice.empty()) co_return http::Response::text(404, "Not Found");
    co_return http::Response::text(200, instance->notice, "application/json");
  }
  // An instance's own service serves its instance profile's role, and nothing without one (as
  // EC2 does); the service skyd itself asks (no instance) serves fakecloud's role.
  const std::string role = instance ? instance->profile_role : options_.role_name;
  const AccessKey& key = instance ? options_.instance_profile_key : options_.role_key;
  const bool has_role = !role.empty() && !key.access_key_id.empty();
  if (path == credentials || path + "/" == credentials) {
    if (!has_role) co_return http::Response::text(404, "Not Found");
    co_return http::Response::text(200, role);
  }
  if (has_role && path == credentials + role) {
    Json document = Json::object();
    document.set("Code", "Success");
    document.set("LastUpdated", aws::format_iso8601(std::chrono::system_clock::now()));
    document.set("Type", "AWS-HMAC");
    document.set("AccessKeyId", key.access_key_id);
    document.set("SecretAccessKey", key.secret_access_key);
    document.set("Token", key.session_token);
    document.set("Expiration",
                 aws::format_iso8601(std::chrono::system_clock::now() + std::chrono::hours(6)));
    co_return http::Response::text(200, document.dump(), "application/json");
  }
  co_return http::Response::text(404, "Not Found");
}

// --- admin ---

Task<http::Response> FakeCloud::admin(http::Request& request) {
  const std::string what = request.path.substr(std::string("/_admin/").size());
  auto query = [&](const char* name) {
    auto value = request.query_param(name);
    return value ? std::string(*value) : std::string();
  };
  if (what == "security_groups") {
    Json body = Json::object();
    body.set("security_groups", security_groups_.to_json());
    co_return http::Response::json(200, body);
  }
  if (what == "instances" || what == "stats") {
    Json body = Json::object();
    std::map<std::string, long long> by_state;
    Json list = Json::array();
    for (const auto& id : launch_order_) {
      const Instance& instance = *instances_.at(id);
      if (instance.gce) continue;  // Compute Engine's: /_admin/gcp/instances
      ++by_state[std::string(aws::to_string(instance.state))];
      if (what == "instances") list.push_back(instance_json(instance));
    }
    body.set("live", by_state["pending"] + by_state["running"]);
    body.set("running", by_state["running"]);
    body.set("pending", by_state["pending"]);
    body.set("shutting_down", by_state["shutting-down"]);
    body.set("terminated", by_state["terminated"]);
    body.set("stopping", by_state["stopping"]);
    body.set("stopped", by_state["stopped"]);
    if (what == "instances") body.set("instances", std::move(list));
    Json calls = Json::object();
    for (const auto& [action, count] : calls_) calls.set(action, count);
    body.set("calls", std::move(calls));
    Json node_calls = Json::object();
    for (const auto& [route, count] : node_calls_) node_calls.set(route, count);
    body.set("node_calls", std::move(node_calls));
    body.set("throttled", throttled_);
    body.set("signature_failures", signature_failures_);
    body.set("faults_fired", faults_fired_);
    body.set("errors_5xx", errors_5xx_);
    body.set("answers_lost", answers_lost_);
    body.set("describe_ids_max", describe_ids_max_);
    body.set("describes_by_client_token", describes_by_client_token_);
    Json listings = Json::object();
    for (const auto& [region, count] : controller_listings_) listings.set(region, count);
    body.set("controller_listings", std::move(listings));
    body.set("attempt_runs", static_cast<long long>(runs_.size()));
    body.set("attempt_overlaps", static_cast<long long>(overlaps_.size()));
    co_return http::Response::json(200, body);
  }
  if (what == "attempts") {
    const auto now = Clock::now();
    const auto wall_now = std::chrono::system_clock::now();
    Json list = Json::array();
    for (const AttemptRun& run : runs_) {
      Json item = Json::object();
      item.set("attempt_id", run.attempt_id);
      item.set("task", run.task);
      item.set("instance_id", run.instance_id);
      item.set("started_at_ms", epoch_ms(run.started_at));
      // The end: when the node stopped running, or when the task ended, whichever came first.
      const Instance* node = find(run.instance_id);
      std::optional<std::chrono::system_clock::time_point> ended;
      if (node && !node->held.contains(run.attempt_id)) {
        const auto end = virtual_end(*node, run.attempt_id).at;
        if (end <= now)
          ended =
              wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(now - end);
        if (node->left_running_at && (!ended || *node->left_running_at < *ended))
          ended = node->left_running_at;
      }
      item.set("ended_at_ms", ended ? Json(epoch_ms(*ended)) : Json(nullptr));
      list.push_back(std::move(item));
    }
    Json overlaps = Json::array();
    for (const Json& overlap : overlaps_) overlaps.push_back(overlap);
    Json body = Json::object();
    body.set("attempts", std::move(list));
    body.set("overlaps", std::move(overlaps));
    co_return http::Response::json(200, body);
  }
  if (what == "info") {
    Json body = Json::object();
    body.set("mode", to_string(options_.mode));
    co_return http::Response::json(200, body);
  }
  if (what == "chaos" || what == "faults") {
    auto json = parse_json(request.body);
    if (!json) co_return http::Response::error(400, "bad_request", json.error().detail);
    if (what == "chaos") {
      auto chaos = Chaos::from_json(*json);
      if (!chaos) co_return http::Response::error(400, "bad_request", chaos.error().detail);
      options_.chaos = std::move(*chaos);
    } else {
      std::vector<Json> items;
      if (json->as_array()) {
        items = *json->as_array();
      } else {
        items.push_back(*json);
      }
      for (const auto& item : items) {
        auto rule = fault_from_json(item);
        if (!rule) co_return http::Response::error(400, "bad_request", rule.error().detail);
        options_.chaos.faults.push_back(std::move(*rule));
      }
    }
    co_return http::Response::json(200, Json::object());
  }
  if (what == "reset") {
    options_.chaos = Chaos{};
    co_return http::Response::json(200, Json::object());
  }
  // preempt / reclaim / kill / restart_agent: by instance_id, by cluster (the skyd-cluster tag), or
  // every running spot instance at once (all_spot=1).
  std::vector<std::string> targets;
  const std::string id = query("instance_id"), cluster = query("cluster");
  const bool all_spot = query("all_spot") == "1";
  for (const auto& candidate : launch_order_) {
    const Instance& instance = *instances_.at(candidate);
    if (!is_live(instance.state) || instance.gce) continue;
    if ((all_spot && instance.spot && instance.state == Ec2State::kRunning &&
         instance.notice.empty()) ||
        (!id.empty() && instance.id == id) ||
        (!cluster.empty() && instance.tags.count(std::string(aws::kClusterTag)) &&
         instance.tags.at(std::string(aws::kClusterTag)) == cluster))
      targets.push_back(candidate);
  }
  if (targets.empty())
    co_return http::Response::error(404, "not_found", "no live instance matches");
  Json list = Json::array();
  for (const auto& target : targets) {
    list.push_back(target);
    if (what == "preempt") {
      const std::string grace_ms = query("grace_ms");
      const Duration grace =
          grace_ms.empty() ? options_.chaos.preemption_grace
                           : Duration(std::chrono::milliseconds(std::atoll(grace_ms.c_str())));
      background_.spawn(preempt(target, grace));
    } else if (what == "reclaim") {
      // Spot capacity taken back with no notice first: EC2 just ends the instance.
      std::string code = "Server.SpotInstanceTermination";
      std::string message = "Server.SpotInstanceTermination: Spot instance termination";
      background_.spawn(stop(target, std::move(code), std::move(message), Duration::zero()));
    } else if (what == "restart_agent") {
      forget_attempts(*find(target));
    } else {
      kill_silently(*find(target));
    }
  }
  Json body = Json::object();
  body.set("instances", std::move(list));
  co_return http::Response::json(200, body);
}

// --- virtual nodes ---

void FakeCloud::remember_certificate(const CertifiedKey& certificate) {
  if (certificate.certificate_pem.empty()) return;
  std::lock_guard lock(certificates_->mutex);
  certificates_->by_name[common_name_of(certificate.certificate_pem)] = certificate;
}

void FakeCloud::kill_silently(Instance& instance) {
  instance.dead = true;
  leave_running(instance);
  if (instance.skylet) instance.skylet->signal_group(SIGKILL);
}

void FakeCloud::forget_attempts(Instance& instance) {
  // A virtual node's agent that started afresh: the tasks it ran ended with it.
  instance.attempts.clear();
  instance.held.clear();
  instance.cancelled.clear();
  instance.run_for.clear();
}

void FakeCloud::leave_running(Instance& instance) {
  if (!instance.left_running_at) instance.left_running_at = std::chrono::system_clock::now();
}

FakeCloud::VirtualEnd FakeCloud::virtual_end(const Instance& node,
                                             const std::string& attempt) const {
  const auto started = node.attempts.find(attempt);
  if (started == node.attempts.end()) return VirtualEnd{Clock::now()};
  const auto own = node.run_for.find(attempt);
  VirtualEnd ending{started->second +
                    (own != node.run_for.end() ? own->second : options_.chaos.virtual_task)};
  const auto& exit_after = options_.chaos.virtual_exit_after_notice;
  if (exit_after && !node.notice.empty() && node.noticed_steady + *exit_after < ending.at)
    ending = VirtualEnd{node.noticed_steady + *exit_after, true};
  return ending;
}

bool FakeCloud::run_is_live(const AttemptRun& run, Clock::time_point now) {
  const Instance* node = find(run.instance_id);
  return node && node->state == Ec2State::kRunning && !node->dead &&
         !node->held.contains(run.attempt_id) && now < virtual_end(*node, run.attempt_id).at;
}

void FakeCloud::run_started(const Instance& node, const std::string& attempt) {
  const auto now = Clock::now();
  AttemptRun run{attempt, "", node.id, std::chrono::system_clock::now()};
  // job-<J>-task-<T>-attempt-<A>: the task is everything before "-attempt-".
  const auto cut = attempt.rfind("-attempt-");
  if (attempt.starts_with("job-") && cut != std::string::npos) run.task = attempt.substr(0, cut);
  if (!run.task.empty()) {
    auto& earlier = runs_by_task_[run.task];
    for (std::size_t index : earlier) {
      const AttemptRun& other = runs_[index];
      // The nodes of one multi-node attempt run it together: that is not an overlap.
      if (other.attempt_id == attempt || !run_is_live(other, now)) continue;
      Json overlap = Json::object();
      overlap.set("task", run.task);
      overlap.set("attempt_id", attempt);
      overlap.set("instance_id", node.id);
      overlap.set("live_attempt_id", other.attempt_id);
      overlap.set("live_instance_id", other.instance_id);
      overlap.set("at_ms",
                  static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             run.started_at.time_since_epoch())
                                             .count()));
      logger("fakecloud")
          ->error(
              "two live attempts of one task task={} attempt={} live={} instance={} "
              "live_instance={}",
              run.task, attempt, other.attempt_id, node.id, other.instance_id);
      overlaps_.push_back(std::move(overlap));
    }
    earlier.push_back(runs_.size());
  }
  runs_.push_back(std::move(run));
}

FakeCloud::TokenHolders* FakeCloud::token_holders(std::string_view authorization) {
  if (!authorization.starts_with("Bearer ")) return nullptr;
  auto cluster = by_token_.find(authorization.substr(7));
  return cluster == by_token_.end() ? nullptr : &cluster->second;
}

FakeCloud::Instance* FakeCloud::live_node(const TokenHolders& cluster) {
  for (const auto& [id, instance] : cluster.instances) {
    if (instance->state == Ec2State::kRunning && !instance->dead) return instance;
  }
  return nullptr;
}

void FakeCloud::add_instance(std::unique_ptr<Instance> instance) {
  const std::string id = instance->id;
  instance->launch_index = launch_order_.size();
  launch_order_.push_back(id);
  if (instance->boot) by_token_[instance->boot->token].instances[id] = instance.get();
  if (!instance->client_token.empty())
    instances_by_client_token_[instance->client_token].push_back(instance.get());
  for (const auto& tag : instance->tags) instances_by_tag_[tag].push_back(instance.get());
  instances_[id] = std::move(instance);
}

void FakeCloud::add_event(Instance& instance, Json event) {
  instance.events.push_back(std::move(event));
  if (!instance.boot) return;
  auto cluster = by_token_.find(instance.boot->token);
  if (cluster != by_token_.end() && cluster->second.events_changed)
    cluster->second.events_changed->notify_all();
}

Notifier& FakeCloud::events_changed(TokenHolders& cluster) {
  if (!cluster.events_changed) cluster.events_changed = std::make_unique<Notifier>(executor_);
  return *cluster.events_changed;
}

std::vector<const FakeCloud::Instance*> FakeCloud::describe_candidates(
    const std::vector<std::string>& ids, const std::vector<QueryFilter>& filters) {
  std::vector<const Instance*> out;
  auto add_ids = [&](const auto& named) {
    for (const auto& id : named)
      if (const Instance* instance = find(id)) out.push_back(instance);
  };
  auto narrowed = [&]() -> bool {
    if (!ids.empty()) {
      add_ids(ids);
      return true;
    }
    for (const auto& filter : filters) {
      if (filter.name == "instance-id") {
        add_ids(filter.values);
        return true;
      }
      if (filter.name == "client-token") {
        for (const auto& token : filter.values) {
          auto made = instances_by_client_token_.find(token);
          if (made != instances_by_client_token_.end())
            out.insert(out.end(), made->second.begin(), made->second.end());
        }
        return true;
      }
      if (filter.name.starts_with("tag:")) {
        const std::string key = filter.name.substr(4);
        for (const auto& value : filter.values) {
          auto tagged = instances_by_tag_.find({key, value});
          if (tagged != instances_by_tag_.end())
            out.insert(out.end(), tagged->second.begin(), tagged->second.end());
        }
        return true;
      }
    }
    return false;
  };
  if (!narrowed()) {
    for (const auto& id : launch_order_) out.push_back(find(id));
    return out;
  }
  auto by_launch = [](const Instance* a, const Instance* b) {
    return a->launch_index < b->launch_index;
  };
  std::sort(out.begin(), out.end(), by_launch);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {
// A virtual node's call by its method and route, appended to `key`:
// "GET /tasks/job-1-task-0-attempt-1/logs" -> "GET /tasks/{id}/logs".
void append_node_call(std::string& key, std::string_view method, std::string_view path) {
  key += method;
  key += ' ';
  if (!path.starts_with("/tasks/")) {
    key += path.starts_with("/files/") ? std::string_view("/files/{name}") : path;
    return;
  }
  const auto rest = path.substr(std::string_view("/tasks/").size());
  const auto slash = rest.find('/');
  key += "/tasks/{id}";
  if (slash != std::string_view::npos) key += rest.substr(slash);
}

// What a virtual node's log poll answers: no output, the attempt's phase and the node's events.
http::Response log_poll_answer(const std::string& phase, std::size_t events) {
  http::Response response;
  response.headers.reserve(6);
  response.headers.emplace_back("Content-Type", "application/octet-stream");
  response.headers.emplace_back("X-Log-Next-Offset", "0");
  response.headers.emplace_back("X-Log-Size", "0");
  response.headers.emplace_back("X-Attempt-Phase", phase);
  response.headers.emplace_back("X-Log-Complete",
                                phase == "RUNNING" || phase == "READY" ? "0" : "1");
  response.headers.emplace_back("X-Node-Events", std::to_string(events));
  return response;
}
}  // namespace

Task<http::Response> FakeCloud::virtual_node(http::Request& request) {
  // The bearer token names the cluster; the node is the cluster's first live instance with it.
  const std::string* authorization = request.header("Authorization");
  TokenHolders* cluster = authorization ? token_holders(*authorization) : nullptr;
  Instance* node = cluster ? live_node(*cluster) : nullptr;
  if (!node)
    co_return http::Response::error(401, "unauthorized", "a valid bearer token is required");
  node_call_key_.clear();
  append_node_call(node_call_key_, request.method, request.path);
  auto counted = node_calls_.find(node_call_key_);
  if (counted == node_calls_.end()) counted = node_calls_.emplace(node_call_key_, 0).first;
  ++counted->second;
  const auto now = Clock::now();
  auto phase_at = [&](const std::string& attempt, Clock::time_point when) {
    const VirtualEnd ending = virtual_end(*node, attempt);
    if (when < ending.at) return "RUNNING";
    return ending.on_notice ? "FAILED" : "SUCCEEDED";
  };
  auto status_of = [&](const std::string& attempt) {
    Json body = Json::object();
    const bool held = node->held.contains(attempt);
    const std::string phase = node->cancelled.contains(attempt) ? "CANCELLED"
                              : held                            ? "READY"
                                                                : phase_at(attempt, now);
    const bool done = phase == "SUCCEEDED" || phase == "FAILED" || phase == "CANCELLED";
    body.set("attempt_id", attempt);
    body.set("phase", phase);
    body.set("setup_exit_code", 0);
    body.set("exit_code", !done ? Json(nullptr) : Json(phase == "FAILED" ? 143 : 0));
    body.set("log_bytes", 0);
    return body;
  };
  if (request.path == "/health") {
    Json body = Json::object();
    body.set("status", "ok");
    body.set("attempts", static_cast<long long>(node->attempts.size()));
    body.set("events", static_cast<long long>(node->events.size()));
    co_return http::Response::json(200, body);
  }
  if (request.path.starts_with("/files/")) {
    Json body = Json::object();
    body.set("size", 0);
    body.set("unpacked", true);
    co_return http::Response::json(200, body);
  }
  const auto number = [&](std::string_view name) -> long long {
    return request.query_int(name).value_or(0);
  };
  if (request.path == "/events") {
    const auto since = static_cast<std::size_t>(std::max(0LL, number("since")));
    const auto wait = std::chrono::milliseconds(std::clamp(number("wait_ms"), 0LL, 60000LL));
    // Long poll like skylet: until an event past `since` arrives or the wait ends.
    const auto deadline = now + wait;
    Notifier& changed = events_changed(*cluster);
    while (node && node->events.size() <= since && Clock::now() < deadline) {
      co_await changed.wait_until(deadline);
      node = live_node(*cluster);
    }
    if (!node)
      co_return http::Response::error(401, "unauthorized", "a valid bearer token is required");
    Json body = Json::object();
    Json list = Json::array();
    for (std::size_t i = since; i < node->events.size(); ++i) list.push_back(node->events[i]);
    body.set("events", std::move(list));
    body.set("next", static_cast<long long>(node->events.size()));
    co_return http::Response::json(200, body);
  }
  if (request.method == "POST" && request.path == "/tasks") {
    auto spec = parse_json(request.body);
    const Json* id = spec ? spec->find("attempt_id") : nullptr;
    if (!id || !id->as_string())
      co_return http::Response::error(400, "bad_request", "attempt_id is required");
    const std::string attempt(*id->as_string());
    const Json* hold = spec->find("hold_run");
    if (node->attempts.try_emplace(attempt, now).second) {
      // The task's own run time, when its environment sets one (a task that runs until it is
      // cancelled or preempted, say).
      const Json* env = spec->find("env");
      const Json* run_ms = env ? env->find("FAKECLOUD_RUN_MS") : nullptr;
      if (run_ms && run_ms->as_string()) {
        const auto ms = parse_int64(*run_ms->as_string());
        if (ms && *ms >= 0) node->run_for[attempt] = std::chrono::milliseconds(*ms);
      }
      if (hold && hold->as_bool().value_or(false))
        node->held.insert(attempt);
      else
        run_started(*node, attempt);
    } else if (!(hold && hold->as_bool().value_or(false)) && node->held.erase(attempt) > 0) {
      // As skylet does: a held attempt started again without a hold is released.
      node->attempts[attempt] = now;
      run_started(*node, attempt);
    }
    co_return http::Response::json(200, status_of(attempt));
  }
  const std::string& attempt = request.path_params["id"];
  if (!node->attempts.contains(attempt))
    co_return http::Response::error(404, "not_found", "no attempt " + attempt);
  if (request.path.ends_with("/signal")) {
    // A cancel the node never hears (a fault with action "SkyletSignal").
    if (auto fault = pick_fault("SkyletSignal", "", "", ""))
      co_return http::Response::error(fault->status, fault->code, fault->message);
    // As skylet does with a cancel: the attempt ends (a held one never runs).
    node->held.erase(attempt);
    node->cancelled.insert(attempt);
    co_return http::Response::json(200, status_of(attempt));
  }
  if (request.path.ends_with("/release")) {
    if (node->held.erase(attempt) > 0) {
      node->attempts[attempt] = now;  // the run starts now
      run_started(*node, attempt);
    }
    co_return http::Response::json(200, status_of(attempt));
  }
  if (request.path.ends_with("/logs") && node->held.contains(attempt)) {
    // Nothing is written while the run is held: wait like skylet's long poll does.
    const auto wait = std::chrono::milliseconds(std::clamp(number("wait_ms"), 0LL, 60000LL));
    asio::steady_timer timer(executor_, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return log_poll_answer("READY", node->events.size());
  }
  if (request.path.ends_with("/logs")) {
    // No output ever; like skylet, the call waits (up to wait_ms) until the task ends, or with
    // events_since until the node has an event past it (its spot notice).
    const auto finish = virtual_end(*node, attempt).at;
    const auto wait = std::chrono::milliseconds(std::clamp(number("wait_ms"), 0LL, 60000LL));
    const auto events_since = request.query_int("events_since");
    const bool events_pending =
        events_since &&
        node->events.size() > static_cast<std::size_t>(std::max<std::int64_t>(0, *events_since));
    if (now < finish && wait > Duration::zero() && !node->cancelled.contains(attempt) &&
        !events_pending) {
      const auto deadline = now + std::min<Duration>(wait, finish - now);
      if (events_since) {
        co_await events_changed(*cluster).wait_until(deadline);
      } else {
        asio::steady_timer timer(executor_, deadline);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    node = live_node(*cluster);
    if (!node)
      co_return http::Response::error(401, "unauthorized", "a valid bearer token is required");
    const std::string phase =
        node->cancelled.contains(attempt) ? "CANCELLED" : phase_at(attempt, Clock::now());
    co_return log_poll_answer(phase, node->events.size());
  }
  co_return http::Response::json(200, status_of(attempt));
}

}  // namespace skyd::fakecloud
