// Compute Engine's per-instance metadata server and fakecloud's /_admin/gcp/... calls.
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "tests/fakecloud/chaos_json.hpp"
#include "tests/fakecloud/fake_gce.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skyd::fakecloud {
namespace {

using providers::aws::Ec2State;

constexpr std::string_view kMetadataRoot = "/computeMetadata/v1/";
constexpr std::string_view kProjectNumber = "123456789012";

long long epoch_ms(std::chrono::system_clock::time_point at) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

// What the metadata server answers for a path under computeMetadata/v1/; nullopt: 404.
std::optional<std::string> metadata_value(const FakeCloud::Instance& instance,
                                          std::string_view path, std::string& content_type) {
  const GceInstance& gce = *instance.gce;
  content_type = "application/text";
  if (path == "instance/preempted") return gce.preempted ? "TRUE" : "FALSE";
  if (path == "instance/maintenance-event") return gce.maintenance_event;
  if (path == "instance/id") return gce.id;
  if (path == "instance/name") return gce.name;
  if (path == "instance/hostname")
    return gce.name + "." + gce.zone + ".c." + gce.project + ".internal";
  if (path == "instance/zone")
    return "projects/" + std::string(kProjectNumber) + "/zones/" + gce.zone;
  if (path == "instance/machine-type")
    return "projects/" + std::string(kProjectNumber) + "/machineTypes/" + gce.machine_type;
  if (path == "instance/network-interfaces/0/ip") return instance.ip;
  if (path == "instance/scheduling/provisioning-model") return gce.scheduling.provisioning_model;
  if (path.starts_with("instance/attributes/")) {
    const std::string* value = gce.metadata_value(path.substr(20));
    return value ? std::optional<std::string>(*value) : std::nullopt;
  }
  if (path == "project/project-id") return gce.project;
  if (path == "project/numeric-project-id") return std::string(kProjectNumber);
  if (path == "instance/service-accounts/default/email" && !gce.service_accounts.empty()) {
    const std::string& email = gce.service_accounts.front().email;
    return email == "default"
               ? std::string(kProjectNumber) + "-compute@developer.gserviceaccount.com"
               : email;
  }
  return std::nullopt;
}

std::string etag_of(const std::string& value) {
  return sha256_hex(value).substr(0, 16);
}

}  // namespace

http::Router FakeGce::metadata_router(const std::string& instance_id) {
  http::Router router;
  auto handler = [this, instance_id](http::Request& request) {
    return metadata(request, instance_id);
  };
  std::string pattern = std::string(kMetadataRoot) + "{a}";
  for (const char* segment : {"/{b}", "/{c}", "/{d}", "/{e}"}) {
    pattern += segment;
    router.add("GET", pattern, "Compute Engine metadata", handler);
  }
  return router;
}

Task<http::Response> FakeGce::metadata(http::Request& request, std::string instance_id) {
  const std::string* flavor = request.header("Metadata-Flavor");
  if (!flavor || *flavor != "Google") {
    // As Google's server: no header, no answer (a guard against forwarded requests).
    co_return http::Response::text(403, "Missing required header \"Metadata-Flavor\": \"Google\"",
                                   "text/html; charset=UTF-8");
  }
  const std::string path = request.path.substr(kMetadataRoot.size());
  FakeCloud::Instance* instance = cloud_.find(instance_id);
  std::string content_type;
  auto value = instance ? metadata_value(*instance, path, content_type) : std::nullopt;
  if (path == "instance/service-accounts/default/token" && instance &&
      !instance->gce->service_accounts.empty()) {
    // The VM's service account's access token (accepted by Compute Engine calls).
    std::string type;
    const std::string account =
        metadata_value(*instance, "instance/service-accounts/default/email", type).value_or("");
    Json token = Json::object();
    token.set("access_token", cloud_.gcp_tokens_.issue(account, std::chrono::hours(1)));
    token.set("expires_in", 3599);
    token.set("token_type", "Bearer");
    value = token.dump();
    content_type = "application/json";
  }
  if (!value) co_return http::Response::text(404, "Not Found", "text/html; charset=UTF-8");
  if (request.query_param("wait_for_change").value_or("") == "true") {
    // Long poll: until the value's ETag differs from last_etag (or, without one, until the next
    // change), or timeout_sec passes.
    const std::string last(request.query_param("last_etag").value_or(""));
    const auto timeout = std::chrono::seconds(
        std::clamp<long long>(request.query_int("timeout_sec").value_or(3600), 1, 3600));
    asio::steady_timer limit(executor_, timeout);
    const std::string first_etag = etag_of(*value);
    while ((last.empty() ? etag_of(*value) == first_etag : etag_of(*value) == last) &&
           Clock::now() < limit.expiry()) {
      using namespace asio::experimental::awaitable_operators;
      co_await (metadata_changed_.wait() || limit.async_wait(asio::as_tuple(asio::use_awaitable)));
      instance = cloud_.find(instance_id);
      if (auto now = metadata_value(*instance, path, content_type)) value = std::move(now);
    }
  }
  http::Response response = http::Response::text(200, *value, content_type);
  response.set_header("Metadata-Flavor", "Google");
  response.set_header("ETag", etag_of(*value));
  co_return response;
}

// --- admin ---

Json FakeGce::admin_instance_json(const FakeCloud::Instance& instance) const {
  const GceInstance& gce = *instance.gce;
  Json item = Json::object();
  item.set("name", gce.name);
  item.set("id", gce.id);
  item.set("project", gce.project);
  item.set("zone", gce.zone);
  item.set("status", status_of(instance));
  item.set("status_message", gce.status_message);
  item.set("machine_type", gce.machine_type);
  item.set("ip", instance.ip);
  item.set("spot", gce.scheduling.spot());
  item.set("preempted", gce.preempted);
  item.set("maintenance_event", gce.maintenance_event);
  item.set("dead", instance.dead);
  item.set("deleted", gce.deleted);
  item.set("requested_at_ms", epoch_ms(instance.requested_at));
  if (instance.skylet) item.set("pid", static_cast<long long>(instance.skylet->pid()));
  if (!instance.container_runtime.empty())
    item.set("container_runtime", instance.container_runtime);
  if (instance.metadata) {
    item.set("metadata_url",
             "http://" + instance.ip + ":" + std::to_string(instance.metadata->tcp_port()));
  }
  Json labels = Json::object();
  for (const auto& [key, value] : gce.labels) labels.set(key, value);
  item.set("labels", std::move(labels));
  Json tags = Json::array();
  for (const auto& tag : gce.network_tags) tags.push_back(Json(tag));
  item.set("network_tags", std::move(tags));
  item.set("nic_type", gce.nic_type);
  item.set("egress_tier", gce.egress_tier);
  Json scheduling = Json::object();
  scheduling.set("provisioning_model", gce.scheduling.provisioning_model);
  scheduling.set("instance_termination_action", gce.scheduling.instance_termination_action);
  scheduling.set("on_host_maintenance", gce.scheduling.on_host_maintenance);
  scheduling.set("automatic_restart", gce.scheduling.automatic_restart);
  item.set("scheduling", std::move(scheduling));
  Json disks = Json::array();
  for (const auto& disk : gce.disks) {
    Json one = Json::object();
    one.set("boot", disk.boot);
    one.set("auto_delete", disk.auto_delete);
    one.set("size_gb", disk.size_gb);
    one.set("disk_type", disk.disk_type);
    one.set("source_image", disk.source_image);
    disks.push_back(std::move(one));
  }
  item.set("disks", std::move(disks));
  Json accelerators = Json::array();
  for (const auto& accelerator : gce.accelerators) {
    Json one = Json::object();
    one.set("type", accelerator.type);
    one.set("count", accelerator.count);
    accelerators.push_back(std::move(one));
  }
  item.set("accelerators", std::move(accelerators));
  return item;
}

std::vector<std::string> FakeGce::admin_targets(const http::Request& request) {
  auto query = [&](const char* name) {
    return std::string(request.query_param(name).value_or(""));
  };
  const std::string name = query("name"), zone = query("zone"), cluster = query("cluster");
  const bool all_spot = query("all_spot") == "1";
  std::vector<std::string> targets;
  for (const auto& id : cloud_.launch_order_) {
    const FakeCloud::Instance& instance = *cloud_.find(id);
    if (!instance.gce || instance.gce->deleted || instance.state != Ec2State::kRunning ||
        instance.dead)
      continue;
    const GceInstance& gce = *instance.gce;
    const auto label = gce.labels.find("skyd-cluster");
    if ((all_spot && gce.scheduling.spot() && !gce.preempted) ||
        (!name.empty() && gce.name == name && (zone.empty() || gce.zone == zone)) ||
        (!cluster.empty() && label != gce.labels.end() && label->second == cluster))
      targets.push_back(id);
  }
  return targets;
}

Task<http::Response> FakeGce::admin(http::Request& request) {
  const std::string what = request.path.substr(std::string("/_admin/gcp/").size());
  if (what == "tokens") {
    // Test-only: a token as the token endpoint would issue it.
    const std::string account(request.query_param("account").value_or(
        "fakecloud-test@fakecloud.iam.gserviceaccount.com"));
    const auto seconds = request.query_int("lifetime_s").value_or(3600);
    Json body = Json::object();
    body.set("access_token", cloud_.gcp_tokens_.issue(account, std::chrono::seconds(seconds)));
    body.set("expires_in", seconds);
    body.set("token_type", "Bearer");
    co_return http::Response::json(200, body);
  }
  if (what == "revoke_tokens") {
    cloud_.gcp_tokens_.revoke_all();
    co_return http::Response::json(200, Json::object());
  }
  if (what == "instances" || what == "stats") {
    std::map<std::string, long long> by_status;
    Json list = Json::array();
    long long live = 0;
    for (const auto& id : cloud_.launch_order_) {
      const FakeCloud::Instance& instance = *cloud_.find(id);
      if (!instance.gce) continue;
      if (instance.gce->deleted) {
        ++by_status["deleted"];
      } else {
        ++by_status[status_of(instance)];
        live += instance.state == Ec2State::kPending || instance.state == Ec2State::kRunning;
      }
      if (what == "instances") list.push_back(admin_instance_json(instance));
    }
    Json body = Json::object();
    body.set("live", live);
    for (const char* status :
         {"PROVISIONING", "STAGING", "RUNNING", "STOPPING", "TERMINATED", "deleted"}) {
      std::string key = status;
      std::transform(key.begin(), key.end(), key.begin(), ::tolower);
      body.set(key, by_status[status]);
    }
    if (what == "instances") body.set("instances", std::move(list));
    Json calls = Json::object();
    for (const auto& [action, count] : calls_) calls.set(action, count);
    body.set("calls", std::move(calls));
    body.set("throttled", throttled_);
    body.set("lists_by_launch_label", lists_by_launch_label_);
    body.set("auth_failures", auth_failures_);
    body.set("faults_fired", faults_fired_);
    body.set("errors_5xx", errors_5xx_);
    body.set("operations", static_cast<long long>(operations_.all().size()));
    co_return http::Response::json(200, body);
  }
  if (what == "firewalls") {
    // Every rule, made or being made, with `ready` and `deleting`: what tests check exists.
    Json list = Json::array();
    for (const auto& [key, firewall] : firewalls_) {
      Json rule = gce_firewall_json(firewall.rule);
      rule.set("ready", firewall.ready);
      rule.set("deleting", firewall.deleting);
      list.push_back(std::move(rule));
    }
    Json body = Json::object();
    body.set("firewalls", std::move(list));
    co_return http::Response::json(200, body);
  }
  if (what == "operations") {
    Json list = Json::array();
    for (const auto& operation : operations_.all()) list.push_back(gce_operation_json(*operation));
    Json body = Json::object();
    body.set("operations", std::move(list));
    co_return http::Response::json(200, body);
  }
  if (what == "chaos" || what == "faults") co_return update_chaos(what, request.body, chaos());
  if (what == "reset") {
    chaos() = GceChaos{};
    co_return http::Response::json(200, Json::object());
  }
  // preempt / kill / maintenance on the instances named.
  const std::vector<std::string> targets = admin_targets(request);
  if (targets.empty())
    co_return http::Response::error(404, "not_found", "no running Compute Engine instance matches");
  Json list = Json::array();
  for (const auto& target : targets) {
    FakeCloud::Instance& instance = *cloud_.find(target);
    list.push_back(instance.gce->name);
    if (what == "preempt") {
      const auto grace_ms = request.query_int("grace_ms");
      const Duration grace =
          grace_ms ? Duration(std::chrono::milliseconds(*grace_ms)) : chaos().preemption_grace;
      cloud_.background_.spawn(preempt(target, grace));
    } else if (what == "kill") {
      kill(target);
    } else {
      instance.gce->maintenance_event =
          std::string(request.query_param("value").value_or("TERMINATE_ON_HOST_MAINTENANCE"));
      metadata_changed();
    }
  }
  Json body = Json::object();
  body.set("instances", std::move(list));
  co_return http::Response::json(200, body);
}

}  // namespace skyd::fakecloud
