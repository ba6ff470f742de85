#include "tests/fakecloud/fake_gce.hpp"

#include "reactor/log.hpp"
#include "tests/fakecloud/fake_cloud.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skyd::fakecloud {
namespace {

using providers::aws::Ec2State;

http::Response gce_error(int code, std::string_view reason, std::string_view message) {
  return http::Response::json(code, gce_error_body(code, reason, message));
}

bool is_live(Ec2State state) {
  return state == Ec2State::kPending || state == Ec2State::kRunning;
}

std::string resource_path(const std::string& project, const std::string& zone,
                          std::string_view kind, const std::string& name) {
  return "projects/" + project + "/zones/" + zone + "/" + std::string(kind) + "/" + name;
}

http::Response not_found(const std::string& project, const std::string& zone, std::string_view kind,
                         const std::string& name) {
  return gce_error(404, "notFound",
                   "The resource '" + resource_path(project, zone, kind, name) + "' was not found");
}

}  // namespace

FakeGce::FakeGce(FakeCloud& cloud, asio::any_io_executor executor)
    : cloud_(cloud), executor_(executor), operations_(executor), metadata_changed_(executor) {}

GceChaos& FakeGce::chaos() {
  return cloud_.options_.chaos.gcp;
}

void FakeGce::add_routes(http::Router& router) {
  auto handler = [this](http::Request& request) { return compute(request); };
  const std::string zone = "/compute/v1/projects/{project}/zones/{zone}";
  router.add("POST", zone + "/instances", "Compute Engine: insert an instance", handler);
  router.add("GET", zone + "/instances", "Compute Engine: list instances", handler);
  router.add("POST", zone + "/instances/{name}", "Compute Engine: bulkInsert", handler);
  router.add("GET", zone + "/instances/{name}", "Compute Engine: get an instance", handler);
  router.add("DELETE", zone + "/instances/{name}", "Compute Engine: delete an instance", handler);
  router.add("GET", zone + "/operations/{operation}", "Compute Engine: a zone operation", handler);
  router.add("POST", zone + "/operations/{operation}/wait", "Compute Engine: wait for it", handler);
  router.add("GET", "/compute/v1/projects/{project}/aggregated/instances",
             "Compute Engine: instances of every zone", handler);
  const std::string global = "/compute/v1/projects/{project}/global";
  router.add("POST", global + "/firewalls", "Compute Engine: insert a firewall rule", handler);
  router.add("GET", global + "/firewalls", "Compute Engine: list firewall rules", handler);
  router.add("GET", global + "/firewalls/{name}", "Compute Engine: get a firewall rule", handler);
  router.add("DELETE", global + "/firewalls/{name}", "Compute Engine: delete a firewall rule",
             handler);
  router.add("GET", global + "/operations/{operation}", "Compute Engine: a global operation",
             handler);
  router.add("POST", global + "/operations/{operation}/wait", "Compute Engine: wait for it",
             handler);
  add_tpu_routes(router);
  auto admin_handler = [this](http::Request& request) { return admin(request); };
  for (const char* what : {"instances", "stats", "operations", "firewalls"})
    router.add("GET", std::string("/_admin/gcp/") + what, "admin (Compute Engine)", admin_handler);
  for (const char* what :
       {"tokens", "chaos", "faults", "reset", "preempt", "kill", "maintenance", "revoke_tokens"})
    router.add("POST", std::string("/_admin/gcp/") + what, "admin (Compute Engine)", admin_handler);
}

// --- calls ---

Task<http::Response> FakeGce::compute(http::Request& request) {
  Call call;
  call.project = request.path_params["project"];
  call.zone = request.path_params["zone"];
  call.name = request.path_params["name"];
  call.operation = request.path_params["operation"];
  const std::string* authorization = request.header("Authorization");
  std::optional<std::string> account;
  if (authorization && authorization->starts_with("Bearer "))
    account = cloud_.gcp_tokens_.account_of(std::string_view(*authorization).substr(7));
  if (!account) {
    ++auth_failures_;
    co_return gce_error(401, "authError",
                        "Request had invalid authentication credentials. Expected OAuth 2 access "
                        "token, login cookie or other valid authentication credential.");
  }
  call.account = *account;
  const bool aggregated = request.path.find("/aggregated/") != std::string::npos;
  const bool global = request.path.find("/global/") != std::string::npos;
  std::string action;
  if (global && call.operation.empty()) {
    if (request.method == "POST")
      action = "firewalls.insert";
    else if (request.method == "DELETE")
      action = "firewalls.delete";
    else
      action = call.name.empty() ? "firewalls.list" : "firewalls.get";
  } else if (aggregated)
    action = "aggregatedList";
  else if (!call.operation.empty())
    action = "operations";
  else if (request.method == "POST")
    action = call.name.empty() ? "insert" : "bulkInsert";
  else if (request.method == "DELETE")
    action = "delete";
  else
    action = call.name.empty() ? "list" : "get";
  ++calls_[action];
  if (action == "bulkInsert" && call.name != "bulkInsert")
    co_return gce_error(404, "notFound", "Unknown method " + call.name + " on instances");
  if (!cloud_.options_.gcp_project.empty() && call.project != cloud_.options_.gcp_project)
    co_return gce_error(404, "notFound",
                        "The resource 'projects/" + call.project + "' was not found");
  if (!aggregated && !global && !zone_known(call.zone))
    co_return gce_error(400, "invalid",
                        "Invalid value for field 'zone': '" + call.zone + "'. Unknown zone.");
  if (cloud_.chance(chaos().throttle_rate)) {
    ++throttled_;
    co_return gce_error(403, "rateLimitExceeded", gce_default_message("rateLimitExceeded", ""));
  }
  if (cloud_.chance(chaos().error_5xx_rate)) {
    ++errors_5xx_;
    co_return gce_error(503, "backendError", gce_default_message("backendError", ""));
  }
  // Inserts match their faults once they know the machine type; every other call here.
  if (action != "insert" && action != "bulkInsert") {
    if (auto fault = pick_fault(action, call.zone, "", "")) {
      if (fault->code == "rateLimitExceeded") ++throttled_;
      co_return gce_error(
          fault->status, fault->code,
          fault->message.empty() ? gce_default_message(fault->code, call.zone) : fault->message);
    }
  }
  if (action == "firewalls.insert") co_return co_await insert_firewall(std::move(call), request);
  if (action == "firewalls.get") co_return get_firewall(call);
  if (action == "firewalls.list") co_return list_firewalls(call, request);
  if (action == "firewalls.delete") co_return co_await delete_firewall(std::move(call));
  if (action == "insert") co_return co_await insert(std::move(call), request);
  if (action == "bulkInsert") co_return co_await bulk_insert(std::move(call), request);
  if (action == "get") co_return get(call);
  if (action == "delete") co_return co_await remove(std::move(call), request);
  if (action == "operations")
    co_return co_await operation(std::move(call), request.path.ends_with("/wait"));
  co_return list(call, request, aggregated);
}

std::optional<http::Response> FakeGce::chaos_for(const std::string& action, const std::string& zone,
                                                 const GceInstance& resource,
                                                 std::string& error_code,
                                                 std::string& error_message, int& http_status) {
  const std::string model = resource.scheduling.spot() ? "SPOT" : "STANDARD";
  auto fault = pick_fault(action, zone, resource.machine_type, model);
  if (!fault) return std::nullopt;
  const std::string message =
      fault->message.empty() ? gce_default_message(fault->code, zone) : fault->message;
  if (!fault->in_operation()) {
    if (fault->code == "rateLimitExceeded") ++throttled_;
    return gce_error(fault->status, fault->code, message);
  }
  error_code = fault->code;
  error_message = message;
  http_status = fault->status;
  return std::nullopt;
}

std::optional<GceFault> FakeGce::pick_fault(const std::string& action, const std::string& zone,
                                            const std::string& machine_type,
                                            const std::string& provisioning_model) {
  for (auto& fault : chaos().faults) {
    if (fault.remaining == 0) continue;
    const bool action_matches = fault.action.empty() || fault.action == action ||
                                (fault.action == "insert" && action == "bulkInsert");
    if (!action_matches) continue;
    if (!fault.zone.empty() && fault.zone != zone) continue;
    if (!fault.machine_type.empty() && fault.machine_type != machine_type) continue;
    if (!fault.provisioning_model.empty() && fault.provisioning_model != provisioning_model)
      continue;
    // An operation error only means something for a call that makes instances.
    if (fault.in_operation() && action != "insert" && action != "bulkInsert") continue;
    if (!cloud_.chance(fault.rate)) continue;
    if (fault.remaining > 0) --fault.remaining;
    ++faults_fired_;
    return fault;
  }
  return std::nullopt;
}

bool FakeGce::zone_known(const std::string& zone) const {
  const auto& zones = cloud_.catalog_->zones("gcp");
  return std::find(zones.begin(), zones.end(), zone) != zones.end();
}

bool FakeGce::machine_type_known(const std::string& zone, const std::string& type) const {
  for (const auto& offering : cloud_.catalog_->offerings())
    if (offering.cloud == "gcp" && offering.zone == zone && offering.instance_type == type)
      return true;
  return false;
}

int FakeGce::live_in_zone(const std::string& zone) const {
  int n = 0;
  for (const auto& [id, instance] : cloud_.instances_)
    if (instance->gce && !instance->gce->deleted && instance->zone == zone &&
        is_live(instance->state))
      ++n;
  return n;
}

FakeCloud::Instance* FakeGce::named(const std::string& project, const std::string& zone,
                                    const std::string& name) {
  auto it = names_.find(project + "/" + zone + "/" + name);
  return it == names_.end() ? nullptr : cloud_.find(it->second);
}

std::string FakeGce::status_of(const FakeCloud::Instance& instance) const {
  switch (instance.state) {
    case Ec2State::kPending:
      return instance.gce->staging ? "STAGING" : "PROVISIONING";
    case Ec2State::kRunning:
      return "RUNNING";
    case Ec2State::kShuttingDown:
    case Ec2State::kStopping:
      return "STOPPING";
    case Ec2State::kTerminated:
    case Ec2State::kStopped:
      return "TERMINATED";
  }
  return "TERMINATED";
}

std::string FakeGce::create_instance(GceInstance resource) {
  auto instance = std::make_unique<FakeCloud::Instance>();
  // GCE's ids are 19-digit decimals.
  const std::string id = std::to_string(std::uniform_int_distribution<std::uint64_t>(
      1000000000000000000ULL, 9000000000000000000ULL)(cloud_.random_));
  const auto now = std::chrono::system_clock::now();
  resource.id = id;
  resource.creation_timestamp = gce_time(now);
  instance->id = id;
  instance->region = region_of_zone(resource.zone);
  instance->zone = resource.zone;
  instance->instance_type = resource.machine_type;
  instance->spot = resource.scheduling.spot();
  instance->requested_at = now;
  instance->launch_time = resource.creation_timestamp;
  // The guest agent runs the startup script: fakecloud reads skylet's settings from it.
  if (const std::string* script = resource.metadata_value("startup-script")) {
    instance->boot = providers::parse_skylet_boot(*script);
    if (instance->boot) cloud_.remember_certificate(instance->boot->certificate);
  }
  if (cloud_.options_.mode == Mode::kVirtual) instance->ip = "127.0.0.1";
  names_[resource.project + "/" + resource.zone + "/" + resource.name] = id;
  instance->gce = std::make_shared<GceInstance>(std::move(resource));
  cloud_.add_instance(std::move(instance));
  return id;
}

Task<void> FakeGce::sleep(Duration duration) {
  if (duration <= Duration::zero()) co_return;
  asio::steady_timer timer(executor_, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

Task<http::Response> FakeGce::insert(Call call, http::Request& request) {
  const std::string request_id(request.query_param("requestId").value_or(""));
  if (GceOperation* earlier = operations_.by_request(call.project, call.zone, request_id))
    co_return http::Response::json(200, gce_operation_json(*earlier));
  auto body = parse_json(request.body);
  if (!body)
    co_return gce_error(400, "parseError", "Invalid JSON payload received. " + body.error().detail);
  auto resource = parse_instance_resource(*body, call.project, call.zone, false);
  if (!resource) co_return gce_error(400, "invalid", resource.error().detail);
  if (!machine_type_known(call.zone, resource->machine_type))
    co_return gce_error(400, "invalid",
                        "Invalid value for field 'resource.machineType': 'zones/" + call.zone +
                            "/machineTypes/" + resource->machine_type +
                            "'. Machine type with name '" + resource->machine_type +
                            "' does not exist in zone '" + call.zone + "'.");
  if (named(call.project, call.zone, resource->name))
    co_return gce_error(409, "alreadyExists",
                        "The resource '" +
                            resource_path(call.project, call.zone, "instances", resource->name) +
                            "' already exists");
  std::string error_code, error_message;
  int http_status = 0;
  if (auto refused =
          chaos_for("insert", call.zone, *resource, error_code, error_message, http_status))
    co_return std::move(*refused);
  if (error_code.empty()) {
    auto capacity = chaos().zone_capacity.find(call.zone);
    if (capacity != chaos().zone_capacity.end() && live_in_zone(call.zone) >= capacity->second) {
      error_code = "ZONE_RESOURCE_POOL_EXHAUSTED";
      error_message = gce_default_message(error_code, call.zone);
      http_status = 503;
    }
  }
  GceOperation& operation = operations_.create(call.project, call.zone, "insert",
                                               instance_link(*resource), "", call.account);
  std::vector<std::string> ids;
  if (error_code.empty()) {
    ids.push_back(create_instance(std::move(*resource)));
    operation.target_id = ids.back();
  }
  operations_.remember_request(operation, request_id);
  logger("fakecloud")
      ->info("gce insert zone={} operation={} error={}", call.zone, operation.name,
             error_code.empty() ? "none" : error_code);
  cloud_.background_.spawn(run_insert(call.project, call.zone, operation.name, ids, error_code,
                                      error_message, http_status));
  co_return http::Response::json(200, gce_operation_json(operation));
}

Task<http::Response> FakeGce::bulk_insert(Call call, http::Request& request) {
  const std::string request_id(request.query_param("requestId").value_or(""));
  if (GceOperation* earlier = operations_.by_request(call.project, call.zone, request_id))
    co_return http::Response::json(200, gce_operation_json(*earlier));
  auto body = parse_json(request.body);
  if (!body || !body->as_object())
    co_return gce_error(400, "parseError", "Invalid JSON payload received.");
  static const std::set<std::string> kKnown = {"count", "minCount", "namePattern",
                                               "instanceProperties", "perInstanceProperties"};
  // The message's other fields exist on GCE but fakecloud does not model them: refused by name.
  static const std::set<std::string> kUnmodelled = {"sourceInstanceTemplate", "locationPolicy",
                                                    "instanceFlexibilityPolicy"};
  for (const auto& [key, value] : *body->as_object()) {
    const bool empty = value.is_null() || (value.as_object() && value.as_object()->empty()) ||
                       (value.as_string() && value.as_string()->empty());
    if (kUnmodelled.contains(key) && !empty)
      co_return gce_error(400, "invalid",
                          "fakecloud does not model bulkInsert's " + key + "; leave it out.");
    if (!kKnown.contains(key) && !kUnmodelled.contains(key))
      co_return gce_error(400, "invalid",
                          "Invalid JSON payload received. Unknown name \"" + key +
                              "\" at 'bulk_insert_instance_resource_resource': Cannot find field.");
  }
  auto number = [&](const char* key) -> std::optional<std::int64_t> {
    const Json* value = body->find(key);
    if (!value) return std::nullopt;
    if (auto n = value->as_int()) return *n;
    if (auto text = value->as_string()) return std::atoll(std::string(*text).c_str());
    return std::int64_t{-1};
  };
  const std::int64_t count = number("count").value_or(0);
  const std::int64_t min_count = number("minCount").value_or(count);
  if (count < 1 || count > 1000 || min_count < 1 || min_count > count)
    co_return gce_error(400, "invalid",
                        "Invalid value for field 'bulkInsertInstanceResource.count': count must be "
                        "1..1000 and minCount between 1 and count.");
  const Json* properties = body->find("instanceProperties");
  if (!properties)
    co_return gce_error(400, "invalid",
                        "Invalid value for field 'bulkInsertInstanceResource.instanceProperties':"
                        " required.");
  auto resource = parse_instance_resource(*properties, call.project, call.zone, true);
  if (!resource) co_return gce_error(400, "invalid", resource.error().detail);
  if (!machine_type_known(call.zone, resource->machine_type))
    co_return gce_error(400, "invalid",
                        "Invalid value for field 'instanceProperties.machineType': '" +
                            resource->machine_type + "'. Machine type with name '" +
                            resource->machine_type + "' does not exist in zone '" + call.zone +
                            "'.");
  // Names: perInstanceProperties' keys first, then namePattern's next unused numbers.
  std::vector<std::string> names;
  if (const Json* per = body->find("perInstanceProperties"); per && per->as_object()) {
    for (const auto& [name, value] : *per->as_object()) {
      if (!is_resource_name(name))
        co_return gce_error(400, "invalid",
                            "Invalid value for field 'perInstanceProperties': '" + name +
                                "' is not a valid instance name.");
      if (named(call.project, call.zone, name))
        co_return gce_error(409, "alreadyExists",
                            "The resource '" +
                                resource_path(call.project, call.zone, "instances", name) +
                                "' already exists");
      names.push_back(name);
    }
  }
  const std::string pattern(body->find("namePattern") && body->find("namePattern")->as_string()
                                ? *body->find("namePattern")->as_string()
                                : std::string_view());
  if (static_cast<std::int64_t>(names.size()) < count) {
    if (pattern.empty() || !name_from_pattern(pattern, 1))
      co_return gce_error(400, "invalid",
                          "Invalid value for field 'bulkInsertInstanceResource.namePattern': '" +
                              pattern + "'. It needs one run of '#'.");
    for (std::int64_t n = 1; static_cast<std::int64_t>(names.size()) < count; ++n) {
      auto name = name_from_pattern(pattern, n);
      if (!name || !is_resource_name(*name) || name->size() > 63)
        co_return gce_error(
            400, "invalid",
            "Invalid value for field 'namePattern': '" + pattern + "' runs out of names.");
      if (!named(call.project, call.zone, *name) &&
          std::find(names.begin(), names.end(), *name) == names.end())
        names.push_back(*name);
    }
  }
  names.resize(static_cast<std::size_t>(count));
  std::string error_code, error_message;
  int http_status = 0;
  if (auto refused =
          chaos_for("bulkInsert", call.zone, *resource, error_code, error_message, http_status))
    co_return std::move(*refused);
  // Capacity: as many as the zone holds, if that is at least minCount; else none (all or nothing).
  std::int64_t made = count;
  if (error_code.empty()) {
    auto capacity = chaos().zone_capacity.find(call.zone);
    if (capacity != chaos().zone_capacity.end()) {
      made = std::min<std::int64_t>(count, std::max(0, capacity->second - live_in_zone(call.zone)));
      if (made < min_count) {
        made = 0;
        error_code = "ZONE_RESOURCE_POOL_EXHAUSTED";
        error_message = gce_default_message(error_code, call.zone);
        http_status = 503;
      }
    }
  } else {
    made = 0;
  }
  GceOperation& operation = operations_.create(
      call.project, call.zone, "bulkInsert",
      zone_link(call.project, call.zone) + "/instances/bulkInsert", "", call.account);
  std::vector<std::string> ids;
  for (std::int64_t i = 0; i < made; ++i) {
    GceInstance one = *resource;
    one.name = names[static_cast<std::size_t>(i)];
    if (const Json* per = body->find("perInstanceProperties"))
      if (const Json* own = per->find(one.name))
        if (const Json* hostname = own->find("hostname"); hostname && hostname->as_string())
          one.metadata.emplace_back("hostname", std::string(*hostname->as_string()));
    ids.push_back(create_instance(std::move(one)));
  }
  operations_.remember_request(operation, request_id);
  logger("fakecloud")
      ->info("gce bulk insert zone={} count={} made={} operation={} error={}", call.zone, count,
             made, operation.name, error_code.empty() ? "none" : error_code);
  cloud_.background_.spawn(run_insert(call.project, call.zone, operation.name, ids, error_code,
                                      error_message, http_status));
  co_return http::Response::json(200, gce_operation_json(operation));
}

Task<void> FakeGce::run_insert(std::string project, std::string zone, std::string operation,
                               std::vector<std::string> instance_ids, std::string error_code,
                               std::string error_message, int http_status) {
  const Duration half = chaos().operation_time / 2;
  co_await sleep(half);
  if (GceOperation* found = operations_.find(project, zone, operation)) {
    found->progress = 50;
    operations_.start(*found);
  }
  co_await sleep(half);
  for (const auto& id : instance_ids) {
    FakeCloud::Instance* instance = cloud_.find(id);
    if (!instance || instance->state != Ec2State::kPending) continue;  // deleted meanwhile
    instance->gce->staging = true;
    if (cloud_.options_.mode == Mode::kProcess && instance->boot)
      cloud_.background_.spawn(cloud_.boot(id));
    else
      cloud_.background_.spawn(cloud_.delay_then(cloud_.options_.chaos.virtual_boot, id));
  }
  if (GceOperation* found = operations_.find(project, zone, operation))
    operations_.finish(*found, std::move(error_code), std::move(error_message), http_status);
}

http::Response FakeGce::get(const Call& call) {
  const FakeCloud::Instance* instance = named(call.project, call.zone, call.name);
  if (!instance) return not_found(call.project, call.zone, "instances", call.name);
  const std::string status = status_of(*instance);
  return http::Response::json(
      200, gce_instance_json(*instance->gce, status, status == "TERMINATED" ? "" : instance->ip));
}

http::Response FakeGce::list(const Call& call, const http::Request& request, bool aggregated) {
  auto filter = parse_gce_filter(request.query_param("filter").value_or(""));
  if (!filter) return gce_error(400, "invalid", filter.error().detail);
  for (const auto& term : *filter)
    if (term.field == "labels.skyd-launch") ++lists_by_launch_label_;
  std::int64_t max_results = 500;
  if (auto max = request.query_param("maxResults")) {
    auto n = request.query_int("maxResults");
    if (!n || *n < 0 || *n > 500)
      return gce_error(400, "invalid",
                       "Invalid value for field 'maxResults': '" + std::string(*max) +
                           "'. Must be less than or equal to 500");
    if (*n > 0) max_results = *n;
  }
  std::size_t begin = 0;
  if (auto token = request.query_param("pageToken"); token && !token->empty()) {
    if (!token->starts_with("fc-"))
      return gce_error(400, "invalid",
                       "Invalid value for field 'pageToken': '" + std::string(*token) + "'.");
    begin = std::strtoull(std::string(token->substr(3)).c_str(), nullptr, 10);
  }
  std::vector<const FakeCloud::Instance*> matched;
  for (const auto& id : cloud_.launch_order_) {
    const FakeCloud::Instance* instance = cloud_.find(id);
    if (!instance->gce || instance->gce->deleted || instance->gce->project != call.project ||
        !instance->gce->tpu_node.empty())
      continue;
    if (!aggregated && instance->zone != call.zone) continue;
    if (!gce_filter_matches(*filter, *instance->gce, status_of(*instance))) continue;
    matched.push_back(instance);
  }
  begin = std::min(begin, matched.size());
  const std::size_t end = std::min(matched.size(), begin + static_cast<std::size_t>(max_results));
  Json body = Json::object();
  auto json_of = [&](const FakeCloud::Instance& instance) {
    const std::string status = status_of(instance);
    return gce_instance_json(*instance.gce, status, status == "TERMINATED" ? "" : instance.ip);
  };
  if (aggregated) {
    body.set("kind", "compute#instanceAggregatedList");
    body.set("id", "projects/" + call.project + "/aggregated/instances");
    std::map<std::string, Json> by_zone;
    for (std::size_t i = begin; i < end; ++i) {
      Json& zone = by_zone["zones/" + matched[i]->zone];
      if (zone.is_null()) zone = Json::array();
      zone.push_back(json_of(*matched[i]));
    }
    Json items = Json::object();
    for (auto& [zone, instances] : by_zone) {
      Json scoped = Json::object();
      scoped.set("instances", std::move(instances));
      items.set(zone, std::move(scoped));
    }
    body.set("items", std::move(items));
    body.set("selfLink",
             std::string(kComputeBase) + "projects/" + call.project + "/aggregated/instances");
  } else {
    body.set("kind", "compute#instanceList");
    body.set("id", "projects/" + call.project + "/zones/" + call.zone + "/instances");
    // GCE leaves `items` out of an empty page.
    if (end > begin) {
      Json items = Json::array();
      for (std::size_t i = begin; i < end; ++i) items.push_back(json_of(*matched[i]));
      body.set("items", std::move(items));
    }
    body.set("selfLink", zone_link(call.project, call.zone) + "/instances");
  }
  if (end < matched.size()) body.set("nextPageToken", "fc-" + std::to_string(end));
  return http::Response::json(200, body);
}

Task<http::Response> FakeGce::remove(Call call, http::Request& request) {
  const std::string request_id(request.query_param("requestId").value_or(""));
  if (GceOperation* earlier = operations_.by_request(call.project, call.zone, request_id))
    co_return http::Response::json(200, gce_operation_json(*earlier));
  FakeCloud::Instance* instance = named(call.project, call.zone, call.name);
  if (!instance) co_return not_found(call.project, call.zone, "instances", call.name);
  GceOperation& operation = operations_.create(
      call.project, call.zone, "delete", instance_link(*instance->gce), instance->id, call.account);
  operations_.remember_request(operation, request_id);
  if (is_live(instance->state)) {
    FakeCloud::leave_running(*instance);
    instance->state = Ec2State::kShuttingDown;
  }
  logger("fakecloud")->info("gce delete name={} operation={}", call.name, operation.name);
  cloud_.background_.spawn(run_delete(call.project, call.zone, operation.name, instance->id));
  co_return http::Response::json(200, gce_operation_json(operation));
}

Task<void> FakeGce::run_delete(std::string project, std::string zone, std::string operation,
                               std::string instance_id) {
  const Duration half = chaos().operation_time / 2;
  co_await sleep(half);
  if (GceOperation* found = operations_.find(project, zone, operation)) {
    found->progress = 50;
    operations_.start(*found);
  }
  FakeCloud::Instance* instance = cloud_.find(instance_id);
  if (!instance->gce->deleting) {
    instance->gce->deleting = true;
    if (instance->state != Ec2State::kTerminated)
      co_await cloud_.stop(instance_id, "", "", Duration::zero());
    co_await sleep(half);
    instance->gce->deleted = true;
    names_.erase(project + "/" + zone + "/" + instance->gce->name);
  } else {
    // Another delete (or a preemption) is taking it away: this one ends with it.
    for (int i = 0; i < 3000 && !instance->gce->deleted; ++i)
      co_await sleep(std::chrono::milliseconds(20));
  }
  if (GceOperation* found = operations_.find(project, zone, operation)) operations_.finish(*found);
}

Task<http::Response> FakeGce::operation(Call call, bool wait) {
  if (!operations_.find(call.project, call.zone, call.operation)) {
    if (call.zone.empty())
      co_return gce_error(404, "notFound",
                          "The resource 'projects/" + call.project + "/global/operations/" +
                              call.operation + "' was not found");
    co_return not_found(call.project, call.zone, "operations", call.operation);
  }
  if (wait)
    co_await operations_.wait_done(call.project, call.zone, call.operation,
                                   chaos().operation_wait_max);
  const GceOperation* found = operations_.find(call.project, call.zone, call.operation);
  co_return http::Response::json(200, gce_operation_json(*found));
}

// --- preemption and death ---

Task<void> FakeGce::preempt(std::string instance_id, Duration grace) {
  FakeCloud::Instance* instance = cloud_.find(instance_id);
  if (!instance || !instance->gce || instance->state != Ec2State::kRunning || instance->dead ||
      instance->gce->preempted)
    co_return;
  GceInstance& gce = *instance->gce;
  gce.preempted = true;
  metadata_changed();
  // The same notice on the virtual node's /events, in the shape skylet gives it.
  const auto grace_ms = std::chrono::duration_cast<std::chrono::milliseconds>(grace).count();
  Json detail = Json::object();
  detail.set("value", "TRUE");
  detail.set("grace_ms", static_cast<long long>(grace_ms));
  instance->notice = detail.dump();
  instance->noticed_at = std::chrono::system_clock::now();
  instance->noticed_steady = Clock::now();
  Json event = Json::object();
  event.set("kind", "spot_notice");
  event.set("source", "instance-metadata");
  event.set("detail", std::move(detail));
  cloud_.add_event(*instance, std::move(event));
  logger("fakecloud")->info("gce preemption notice name={} grace_ms={}", gce.name, grace_ms);
  co_await sleep(grace);
  instance = cloud_.find(instance_id);
  if (instance->state == Ec2State::kTerminated || instance->gce->deleting) co_return;
  const bool remove = gce.scheduling.instance_termination_action == "DELETE";
  gce.status_message = "Instance was preempted.";
  if (remove) gce.deleting = true;
  GceOperation& operation = operations_.create(gce.project, gce.zone, "compute.instances.preempted",
                                               instance_link(gce), gce.id, "system");
  operation.status_message = "Instance was preempted.";
  operations_.start(operation);
  const std::string name = operation.name, project = gce.project, zone = gce.zone;
  co_await cloud_.stop(instance_id, "compute.instances.preempted", "Instance was preempted.",
                       Duration::zero());
  if (remove) {
    gce.deleted = true;
    names_.erase(project + "/" + zone + "/" + gce.name);
  }
  if (GceOperation* found = operations_.find(project, zone, name)) operations_.finish(*found);
  logger("fakecloud")->info("gce instance preempted name={} deleted={}", gce.name, remove);
}

void FakeGce::kill(std::string instance_id) {
  FakeCloud::Instance* instance = cloud_.find(instance_id);
  if (!instance || !is_live(instance->state)) return;
  cloud_.kill_silently(*instance);
  logger("fakecloud")->info("gce instance died silently name={}", instance->gce->name);
  // The machine is gone: GCE reports it TERMINATED (with no notice and no operation).
  cloud_.background_.spawn(cloud_.stop(instance_id, "", "", Duration::zero()));
}

// --- firewall rules ---

namespace {

http::Response firewall_not_found(const std::string& project, const std::string& name) {
  return gce_error(
      404, "notFound",
      "The resource 'projects/" + project + "/global/firewalls/" + name + "' was not found");
}

}  // namespace

Task<http::Response> FakeGce::insert_firewall(Call call, http::Request& request) {
  auto body = parse_json(request.body);
  if (!body) co_return gce_error(400, "parseError", "Parse Error");
  auto rule = parse_firewall_resource(*body, call.project);
  if (!rule) co_return gce_error(400, "invalid", rule.error().detail);
  // The one network fakecloud has.
  if (firewall_network_name(*rule) != "default")
    co_return gce_error(404, "notFound",
                        "The resource 'projects/" + call.project + "/global/networks/" +
                            firewall_network_name(*rule) + "' was not found");
  const std::string key = call.project + "/" + rule->name;
  if (firewalls_.contains(key))
    co_return gce_error(409, "alreadyExists",
                        "The resource 'projects/" + call.project + "/global/firewalls/" +
                            rule->name + "' already exists");
  rule->id = std::to_string(7000000000000000000ULL + ++next_firewall_id_);
  rule->creation_timestamp = gce_time(std::chrono::system_clock::now());
  GceOperation& operation = operations_.create(
      call.project, "", "insert", firewall_link(call.project, rule->name), rule->id, call.account);
  logger("fakecloud")->info("gce firewall insert name={} operation={}", rule->name, operation.name);
  firewalls_[key] = Firewall{std::move(*rule), false, false};
  cloud_.background_.spawn(run_firewall(call.project, operation.name, key, false));
  co_return http::Response::json(200, gce_operation_json(operation));
}

http::Response FakeGce::get_firewall(const Call& call) {
  auto found = firewalls_.find(call.project + "/" + call.name);
  if (found == firewalls_.end() || !found->second.ready)
    return firewall_not_found(call.project, call.name);
  return http::Response::json(200, gce_firewall_json(found->second.rule));
}

http::Response FakeGce::list_firewalls(const Call& call, const http::Request& request) {
  if (auto filter = request.query_param("filter"); filter && !filter->empty())
    return gce_error(400, "invalid", "fakecloud models no filters on firewall lists");
  std::int64_t max_results = 500;
  if (auto n = request.query_int("maxResults"); n && *n > 0 && *n <= 500) max_results = *n;
  std::size_t begin = 0;
  if (auto token = request.query_param("pageToken"); token && !token->empty()) {
    if (!token->starts_with("fc-"))
      return gce_error(400, "invalid",
                       "Invalid value for field 'pageToken': '" + std::string(*token) + "'.");
    begin = std::strtoull(std::string(token->substr(3)).c_str(), nullptr, 10);
  }
  std::vector<const GceFirewallRule*> matched;
  for (const auto& [key, firewall] : firewalls_)
    if (firewall.ready && firewall.rule.project == call.project) matched.push_back(&firewall.rule);
  begin = std::min(begin, matched.size());
  const std::size_t end = std::min(matched.size(), begin + static_cast<std::size_t>(max_results));
  Json body = Json::object();
  body.set("kind", "compute#firewallList");
  body.set("id", "projects/" + call.project + "/global/firewalls");
  if (end > begin) {  // GCE leaves `items` out of an empty page
    Json items = Json::array();
    for (std::size_t i = begin; i < end; ++i) items.push_back(gce_firewall_json(*matched[i]));
    body.set("items", std::move(items));
  }
  body.set("selfLink",
           std::string(kComputeBase) + "projects/" + call.project + "/global/firewalls");
  if (end < matched.size()) body.set("nextPageToken", "fc-" + std::to_string(end));
  return http::Response::json(200, body);
}

Task<http::Response> FakeGce::delete_firewall(Call call) {
  const std::string key = call.project + "/" + call.name;
  auto found = firewalls_.find(key);
  if (found == firewalls_.end() || found->second.deleting)
    co_return firewall_not_found(call.project, call.name);
  if (!found->second.ready)
    co_return gce_error(400, "resourceNotReady",
                        "The resource 'projects/" + call.project + "/global/firewalls/" +
                            call.name + "' is not ready");
  found->second.deleting = true;
  GceOperation& operation =
      operations_.create(call.project, "", "delete", firewall_link(call.project, call.name),
                         found->second.rule.id, call.account);
  logger("fakecloud")->info("gce firewall delete name={} operation={}", call.name, operation.name);
  cloud_.background_.spawn(run_firewall(call.project, operation.name, key, true));
  co_return http::Response::json(200, gce_operation_json(operation));
}

Task<void> FakeGce::run_firewall(std::string project, std::string operation, std::string key,
                                 bool deleting) {
  const Duration half = chaos().operation_time / 2;
  co_await sleep(half);
  if (GceOperation* found = operations_.find(project, "", operation)) {
    found->progress = 50;
    operations_.start(*found);
  }
  co_await sleep(half);
  if (deleting)
    firewalls_.erase(key);
  else if (auto found = firewalls_.find(key); found != firewalls_.end())
    found->second.ready = true;
  if (GceOperation* found = operations_.find(project, "", operation)) operations_.finish(*found);
}

}  // namespace skyd::fakecloud
