#include "providers/gcp/gcp_provider.hpp"

#include "providers/catalog/optimizer.hpp"
#include "providers/node_boot.hpp"
#include "providers/node_files.hpp"
#include "providers/skylet_health.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace skyd::providers::gcp {
namespace {

// The vCPUs a predefined machine type's name ends with (n2-standard-32: 32); 0 when it ends with
// none (e2-medium).
double gce_vcpus_of(const std::string& machine_type) {
  const auto dash = machine_type.rfind('-');
  if (dash == std::string::npos) return 0;
  try {
    std::size_t used = 0;
    const int vcpus = std::stoi(machine_type.substr(dash + 1), &used);
    return used == machine_type.size() - dash - 1 ? vcpus : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

bool valid_token(const std::string& token) {
  return token.size() >= 16 && std::all_of(token.begin(), token.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

// bulkInsert numbers the names in order: that order is the rank.
bool named_before(const GceInstance& a, const GceInstance& b) {
  return a.name < b.name;
}

bool is_provider_error(const Error& error, ProviderErrc code) {
  return error.code == make_error_code(code);
}

bool retryable(const Error& error) {
  return error.code.category() == provider_category() &&
         is_retryable(static_cast<ProviderErrc>(error.code.value()));
}

std::optional<std::string> process_env(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  return std::string(value);
}

}  // namespace

GcpProvider::GcpProvider(asio::any_io_executor executor, GcpProviderOptions options)
    : executor_(executor),
      options_(std::move(options)),
      client_(executor, options_.client),
      census_(
          executor, options_.census_lifetime,
          [this]() -> Task<Result<std::vector<GceInstance>>> {
            const std::string filter = label_filter(
                {{std::string(kControllerLabel), {label_value(options_.controller_id)}}});
            auto instances = co_await list_all(filter);
            if (instances)
              logger("gcp")->info("instances of this controller listed for adoption count={}",
                                  instances->size());
            co_return instances;
          },
          [](const GceInstance& instance) { return instance.label(kLaunchLabel); }, named_before) {
  if (!options_.env) options_.env = process_env;
  std::string url = options_.endpoint;
  if (url.empty()) url = options_.env("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE").value_or("");
  if (url.empty()) url = "https://compute.googleapis.com";
  auto base = parse_api_base(url);
  if (base)
    base_ = std::move(*base);
  else
    base_error_ = base.error();
  std::string tpu_url = options_.tpu_endpoint;
  if (tpu_url.empty()) tpu_url = options_.env("CLOUDSDK_API_ENDPOINT_OVERRIDES_TPU").value_or("");
  if (tpu_url.empty()) tpu_url = "https://tpu.googleapis.com";
  auto tpu_base = parse_tpu_api_base(tpu_url);
  if (tpu_base)
    tpu_base_ = std::move(*tpu_base);
  else
    tpu_base_error_ = tpu_base.error();
  reads_ = std::make_unique<TokenBucket>(options_.requests_per_second, options_.request_burst);
  writes_ = std::make_unique<TokenBucket>(options_.requests_per_second, options_.request_burst);
  if (options_.skylet_authority.certificate_pem.empty()) {
    auto authority =
        make_certificate_authority("skyd skylet CA (ephemeral)", 3650, KeyKind::kEd25519);
    if (authority) options_.skylet_authority = std::move(*authority);
  }
}

GcpProvider::~GcpProvider() = default;

Task<void> GcpProvider::acquire(bool write) {
  // Reads and writes are paced apart, so a backlog of launches never holds up the list that tells
  // the launches already made that their machines are up.
  const Duration wait = (write ? writes_ : reads_)->reserve();
  if (wait > Duration::zero()) co_await sleep_for(wait);
}

Task<Result<std::string>> GcpProvider::call(std::string method, std::string path, std::string body,
                                            int transient_tries) {
  co_return co_await send_call(false, std::move(method), std::move(path), std::move(body),
                               transient_tries);
}

Task<Result<std::string>> GcpProvider::call_tpu(std::string method, std::string path,
                                                std::string body, int transient_tries) {
  co_return co_await send_call(true, std::move(method), std::move(path), std::move(body),
                               transient_tries);
}

Task<Result<std::string>> GcpProvider::send_call(bool tpu, std::string method, std::string path,
                                                 std::string body, int transient_tries) {
  if (!tpu && base_error_) co_return *base_error_;
  if (tpu && tpu_base_error_) co_return *tpu_base_error_;
  const ApiBase& base = tpu ? tpu_base_ : base_;
  if (options_.project.empty())
    co_return make_error(ProviderErrc::kAuth, "gcp: no project is configured (gcp_project)");
  if (!options_.tokens)
    co_return make_error(ProviderErrc::kAuth, "gcp: no credentials are configured");
  auto endpoint = http::Endpoint::parse(base.origin);
  if (!endpoint) co_return make_error(ProviderErrc::kInvalid, endpoint.error().message());
  const std::string action = method + " " + path.substr(0, path.find('?'));
  const bool write = method != "GET";
  Backoff backoff(options_.retry);
  int transient_failures = 0;
  bool token_renewed = false;
  for (int attempt = 1;; ++attempt) {
    co_await acquire(write);
    auto token = co_await options_.tokens->token();
    if (!token) co_return token.error();
    http::Request request;
    request.method = method;
    request.target = base.path + path;
    request.headers.emplace_back("Authorization", "Bearer " + token->value);
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    ++stats_.calls;
    const http::RequestOptions limit{options_.request_timeout};
    auto response = co_await client_.request(*endpoint, std::move(request), limit);
    Error error;
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      error = make_error(ProviderErrc::kTransient, action + ": " + response.error().message());
    } else if (response->status >= 200 && response->status < 300) {
      co_return std::move(response->body);
    } else {
      error = tpu ? tpu_error(response->status, response->body, action)
                  : to_error(parse_error(response->status, response->body), action);
      if (response->status == 401 && !token_renewed) {
        // An expired or revoked token: one more try with a fresh one.
        options_.tokens->invalidate();
        token_renewed = true;
        continue;
      }
    }
    if (is_provider_error(error, ProviderErrc::kThrottled)) ++stats_.throttled;
    if (is_provider_error(error, ProviderErrc::kAuth)) options_.tokens->invalidate();
    if (is_provider_error(error, ProviderErrc::kTransient)) ++transient_failures;
    const bool tries_left = transient_tries <= 0 || transient_failures < transient_tries;
    if (!retryable(error) || !tries_left || !backoff.allows_attempt(attempt)) {
      logger("gcp")->warn("{} call failed action=\"{}\" attempts={} error=\"{}\"",
                          tpu ? "tpu" : "compute", action, attempt, error.detail);
      co_return error;
    }
    ++stats_.retries;
    logger("gcp")->debug("compute call retried action=\"{}\" attempt={} error=\"{}\"", action,
                         attempt, error.detail);
    co_await sleep_for(backoff.next_delay());
  }
}

Task<Result<std::vector<GceInstance>>> GcpProvider::list_all(std::string filter) {
  std::vector<GceInstance> out;
  std::string page_token;
  for (;;) {
    auto body = co_await call(
        "GET", aggregated_list_path(options_.project, filter, options_.page_size, page_token), "");
    if (!body) co_return body.error();
    auto page = parse_aggregated_list(*body);
    if (!page) co_return page.error();
    for (auto& instance : page->instances) out.push_back(std::move(instance));
    if (page->next_page_token.empty()) break;
    page_token = std::move(page->next_page_token);
  }
  co_return out;
}

Task<Result<std::vector<GceInstance>>> GcpProvider::made_by(std::string token) {
  // Named, not built in the co_await expression: g++ 12 mishandles such temporaries.
  const std::string filter = label_filter({{std::string(kLaunchLabel), {launch_label_for(token)}}});
  auto instances = co_await list_all(filter);
  if (!instances) co_return instances.error();
  std::sort(instances->begin(), instances->end(), named_before);
  co_return std::move(*instances);
}

Task<Result<std::vector<GceInstance>>> GcpProvider::made_before(std::string token) {
  auto fresh = [this, token] { return made_by(token); };
  co_return co_await census_.made_before(launch_label_for(token), fresh);
}

Task<Result<void>> GcpProvider::wait_operation(std::string zone, std::string operation,
                                               Clock::time_point deadline) {
  // A global operation (a firewall rule's) has no zone.
  const std::string path = zone.empty() ? global_operation_wait_path(options_.project, operation)
                                        : operation_wait_path(options_.project, zone, operation);
  for (;;) {
    auto body = co_await call("POST", path, "");
    if (!body) co_return body.error();
    auto parsed = parse_operation(*body);
    if (!parsed) co_return parsed.error();
    if (parsed->done()) {
      if (parsed->errors.empty()) co_return Result<void>{};
      co_return operation_error(*parsed);
    }
    // operations.wait returns at its own limit even when the operation is not done yet.
    if (Clock::now() + options_.poll_interval > deadline)
      co_return make_error(ProviderErrc::kTransient,
                           "operation " + operation + " not done in time");
    co_await sleep_for(options_.poll_interval);
  }
}

Task<Result<void>> GcpProvider::finish_operation(std::string zone, std::string answer,
                                                 Clock::time_point deadline) {
  auto operation = parse_operation(answer);
  if (!operation) co_return operation.error();
  if (operation->done() && !operation->errors.empty()) co_return operation_error(*operation);
  co_return co_await wait_operation(std::move(zone), operation->name, deadline);
}

Task<Result<std::vector<GceInstance>>> GcpProvider::wait_running(std::string token, int nodes,
                                                                 Clock::time_point deadline,
                                                                 std::vector<GceInstance> seen) {
  for (;;) {
    // What the launch saw already is the first look: an adopted cluster that runs costs no call.
    Result<std::vector<GceInstance>> instances = std::exchange(seen, {});
    if (instances->empty()) instances = co_await made_by(token);
    if (!instances) co_return instances.error();
    std::size_t running = 0;
    for (const auto& instance : *instances) {
      const auto state = instance_state_of(instance.status);
      if (state == InstanceState::kRunning) {
        ++running;
      } else if (state != InstanceState::kPending) {
        // Gone before it ran: capacity taken back (spot) or an internal failure.
        const auto status = to_instance_status(instance);
        const bool capacity = status.preempted || instance.provisioning_model == "SPOT";
        co_return make_error(
            capacity ? ProviderErrc::kNoCapacity : ProviderErrc::kTransient,
            "instance " + instance.name + " ended while starting: " + status.reason);
      }
    }
    if (static_cast<int>(instances->size()) < nodes && running == instances->size() &&
        !instances->empty()) {
      // A member vanished while starting (a spot VM deleted at once on preemption).
      co_return make_error(ProviderErrc::kNoCapacity, "only " + std::to_string(instances->size()) +
                                                          " of " + std::to_string(nodes) +
                                                          " instances are left");
    }
    if (static_cast<int>(running) == nodes && static_cast<int>(instances->size()) == nodes)
      co_return std::move(*instances);
    if (Clock::now() + options_.poll_interval > deadline)
      co_return make_error(ProviderErrc::kTransient, "instances did not reach RUNNING in time");
    co_await sleep_for(options_.poll_interval);
  }
}

SkyletReach GcpProvider::skylet_reach() const {
  return {options_.skylet_port, options_.skylet_authority.certificate_pem, options_.use_public_ip,
          options_.scratch_dir, options_.poll_interval};
}

Task<void> GcpProvider::discard(std::vector<GceInstance> instances) {
  for (const auto& instance : instances) {
    const std::string path = instance_path(options_.project, instance.zone, instance.name) +
                             "?requestId=" + request_id_for("delete " + instance.id);
    auto deleted = co_await call("DELETE", path, "");
    if (!deleted && !is_provider_error(deleted.error(), ProviderErrc::kNotFound)) {
      logger("gcp")->error("cannot delete instance of a failed launch instance={} error=\"{}\"",
                           instance.name, deleted.error().detail);
    }
  }
}

Task<void> GcpProvider::discard_strays(std::vector<std::string> tokens) {
  for (const auto& token : tokens) {
    auto made = co_await made_by(token);
    if (!made || made->empty()) continue;
    logger("gcp")->warn("instances of a lost answer deleted count={}", made->size());
    co_await discard(std::move(*made));
  }
}

Task<Result<std::string>> GcpProvider::open_ports(std::string cluster_name,
                                                  std::vector<PortRange> ports,
                                                  Clock::time_point deadline) {
  const std::string name = ports_rule_name(cluster_name);
  const std::string body =
      firewall_body(name, kDefaultNetwork, ports,
                    ports_rule_description(options_.controller_id, cluster_name))
          .dump();
  // The rule's name is made from the cluster's: an earlier call (a retry, a skyd that stopped
  // meanwhile) that made it is answered 409 alreadyExists, and its rule is this cluster's.
  auto answer = co_await call("POST", firewalls_path(options_.project), body);
  if (!answer) {
    if (answer.error().message().find("alreadyExists") == std::string::npos)
      co_return answer.error();
    logger("gcp")->info("firewall rule of an earlier call adopted cluster={} rule={}", cluster_name,
                        name);
    co_return name;
  }
  auto done = co_await finish_operation("", *answer, deadline);
  if (!done && done.error().message().find("ALREADY_EXISTS") == std::string::npos)
    co_return done.error();
  logger("gcp")->info("firewall rule made cluster={} rule={} ranges={}", cluster_name, name,
                      ports.size());
  co_return name;
}

Task<Result<void>> GcpProvider::close_ports(std::string cluster_name, Clock::time_point deadline) {
  const std::string name = ports_rule_name(cluster_name);
  // Every cluster is asked for: one call, and a rule left by a skyd that stopped before its
  // record of the ports was kept is deleted too. Gone already (404) is done.
  auto answer = co_await call("DELETE", firewall_path(options_.project, name), "");
  if (!answer) {
    if (is_provider_error(answer.error(), ProviderErrc::kNotFound)) co_return Result<void>{};
    co_return answer.error();
  }
  auto done = co_await finish_operation("", *answer, deadline);
  if (!done && !is_provider_error(done.error(), ProviderErrc::kNotFound)) co_return done.error();
  logger("gcp")->info("firewall rule deleted cluster={} rule={}", cluster_name, name);
  co_return Result<void>{};
}

Task<Result<Cluster>> GcpProvider::launch(LaunchRequest request) {
  if (request.nodes < 1)
    co_return make_error(ProviderErrc::kInvalid, "a cluster needs at least one node");
  if (!valid_token(request.skylet_token)) {
    co_return make_error(ProviderErrc::kInvalid,
                         "the skylet token must be 16+ letters, digits, '-' or '_'");
  }
  if (request.zone.empty())
    co_return make_error(ProviderErrc::kInvalid, "a GCP launch needs a zone");
  if (auto refused = refuse_volumes(request.settings, "gcp"); !refused) co_return refused.error();
  if (catalog::is_tpu_name(request.accelerator_name)) {
    auto slice = catalog::tpu_slice(request.accelerator_name);
    if (!slice) {
      co_return make_error(ProviderErrc::kInvalid, "resources.accelerators: `" +
                                                       request.accelerator_name +
                                                       "` is no Cloud TPU slice skyd knows");
    }
    co_return co_await launch_tpu(std::move(request), std::move(*slice));
  }
  const std::string region = request.region.empty() ? region_of_zone(request.zone) : request.region;
  if (auto checked = check_node_settings(request.settings); !checked) co_return checked.error();
  for (const auto& mount : request.mounts) {
    if (mount.source.empty() && mount.mode != MountRequest::Mode::kByNode) {
      co_return make_error(ProviderErrc::kInvalid,
                           "bucket mounts reach local machines only; a GCP node cannot mount " +
                               mount.bucket + " at " + mount.destination);
    }
  }
  InstanceSpec spec;
  spec.zone = request.zone;
  spec.machine_type = request.instance_type;
  spec.spot = request.use_spot;
  spec.public_ip = options_.use_public_ip;
  spec.service_account = options_.service_account;
  spec.source_image = machine_image(request.settings);
  if (spec.source_image.empty()) {
    const auto configured = options_.images.find(region);
    spec.source_image =
        configured == options_.images.end() ? std::string(kDefaultImage) : configured->second;
  }
  spec.disk_size_gb = request.settings.disk_size_gb;
  if (request.settings.disk_tier || request.settings.disk_size_gb) {
    // disk_size without a tier is medium, as SkyPilot does.
    spec.disk_type = disk_type_for(request.settings.disk_tier.value_or(DiskTier::kMedium),
                                   request.instance_type);
    spec.provisioned_iops = provisioned_iops_for(spec.disk_type);
  }
  if (!request.accelerator_name.empty() && request.accelerator_count > 0 &&
      !has_builtin_gpus(request.instance_type)) {
    auto type = accelerator_type_for(request.accelerator_name);
    if (!type) {
      co_return make_error(ProviderErrc::kInvalid, "resources.accelerators: skyd cannot attach " +
                                                       request.accelerator_name +
                                                       " GPUs on Compute Engine");
    }
    spec.accelerator_type = *type;
    spec.accelerator_count = request.accelerator_count;
  }
  if (request.settings.best_network) {
    // The optimizer only offers machines that take it; anything else is a request that bypassed
    // it, refused rather than silently run on the standard network.
    if (!catalog::gce_tier1_capable(request.instance_type, gce_vcpus_of(request.instance_type))) {
      co_return make_error(ProviderErrc::kInvalid,
                           "resources.network_tier: best on gcp is Tier_1 networking, which " +
                               request.instance_type +
                               " does not take (N2, N2D, C2, C2D and C3 machines of 30+ vCPUs "
                               "only)");
    }
    spec.tier1_network = true;
  }
  for (const auto& [key, value] : request.tags) spec.labels[key] = label_value(value);
  for (const auto& [key, value] : request.settings.labels) spec.labels[key] = value;
  spec.labels[std::string(kClusterLabel)] = label_value(request.cluster_name);
  spec.labels[std::string(kControllerLabel)] = label_value(options_.controller_id);
  spec.labels[std::string(kLaunchLabel)] = launch_label_for(request.idempotency_token);
  if (!request.settings.ports.empty()) {
    // The rule comes first: the instances are reachable on the ports as soon as they boot.
    auto opened = co_await open_ports(request.cluster_name, request.settings.ports,
                                      Clock::now() + options_.launch_timeout);
    if (!opened) co_return opened.error();
    spec.network_tags.push_back(*opened);
  }

  const std::string tls_name = skylet_tls_name(request.cluster_name);
  // Derived from the cluster's token: a retried bulkInsert carries the same startup script.
  const std::vector<std::string> names{tls_name};
  auto certificate = issue_derived_server_certificate(options_.skylet_authority, tls_name, names,
                                                      request.skylet_token);
  if (!certificate) co_return certificate.error();
  SkyletBoot boot;
  boot.token = request.skylet_token;
  boot.port = options_.skylet_port;
  boot.certificate = *certificate;
  boot.notice_signal = options_.notice_signal;
  boot.metadata = MetadataService::kGce;
  boot.container = wants_container(request.settings);
  boot.gpus = request.accelerator_count > 0;
  spec.startup_script = render_user_data(boot);
  const auto deadline = Clock::now() + options_.launch_timeout;

  // What this token made before (a crash, a lost answer) is this launch's cluster: adopt it.
  std::vector<GceInstance> made;
  if (request.token_may_exist) {
    auto found = co_await made_before(request.idempotency_token);
    if (!found) co_return found.error();
    made = std::move(*found);
    if (!made.empty())
      logger("gcp")->info("instances of an earlier call adopted cluster={} zone={} count={}",
                          request.cluster_name, request.zone, made.size());
  }
  if (made.empty()) {
    // From now on only a fresh listing tells.
    census_.sent(launch_label_for(request.idempotency_token), request.cluster_name);
    const std::string body =
        bulk_insert_body(spec, request.nodes,
                         name_prefix_for(request.cluster_name, request.idempotency_token))
            .dump();
    auto answer = co_await call(
        "POST",
        bulk_insert_path(options_.project, request.zone, request_id_for(request.idempotency_token)),
        body, options_.create_tries);
    Result<void> done;
    if (answer) {
      logger("gcp")->info("instances requested cluster={} zone={} count={}", request.cluster_name,
                          request.zone, request.nodes);
      done = co_await finish_operation(request.zone, *answer, deadline);
    } else {
      done = answer.error();
    }
    // Whatever happened, the label tells what exists: a lost answer may still have made them,
    // and a failed all-or-nothing call should have made none.
    auto found = co_await made_by(request.idempotency_token);
    if (found) made = std::move(*found);
    if (!done) {
      if (made.size() == static_cast<std::size_t>(request.nodes) && retryable(done.error())) {
        logger("gcp")->warn("a lost bulkInsert answer resolved cluster={} zone={} count={}",
                            request.cluster_name, request.zone, made.size());
      } else {
        co_await discard(std::move(made));
        co_return done.error();
      }
    }
    if (!found) {
      co_await discard(std::move(made));
      co_return found.error();
    }
  }
  if (made.size() != static_cast<std::size_t>(request.nodes)) {
    co_await discard(std::move(made));
    co_return make_error(ProviderErrc::kNoCapacity,
                         "bulkInsert made " + std::to_string(made.size()) + " of " +
                             std::to_string(request.nodes) + " instances");
  }

  auto running = co_await wait_running(request.idempotency_token, request.nodes, deadline, made);
  if (!running) {
    co_await discard(std::move(made));
    co_return running.error();
  }
  Cluster cluster{request.cluster_name, "gcp", region, request.zone, request.instance_type,
                  request.use_spot,     {}};
  std::vector<RunningInstance> instances;
  for (const auto& instance : *running)
    instances.push_back({instance.name, instance.zone, instance.public_ip, instance.private_ip});
  auto up = co_await bring_up_nodes(node_client(), cluster, instances, request, tls_name,
                                    skylet_reach(), deadline);
  if (!up) {
    co_await discard(std::move(*running));
    co_return up.error();
  }
  if (request.use_spot) {
    auto& seen = seen_spot_[request.cluster_name];
    seen.clear();
    for (const auto& instance : *running) seen.push_back({instance.name, instance.zone});
  }
  if (!request.stray_tokens.empty()) co_await discard_strays(request.stray_tokens);
  logger("gcp")->info("cluster up cluster={} zone={} nodes={}", request.cluster_name, request.zone,
                      cluster.nodes.size());
  co_return cluster;
}

Task<Result<std::vector<InstanceStatus>>> GcpProvider::describe(
    std::vector<std::string> cluster_names) {
  std::vector<InstanceStatus> out;
  if (cluster_names.empty()) co_return out;
  // Labels hold the names as label values; the answer names clusters as they were asked for.
  std::map<std::string, std::string> asked;
  for (const auto& name : cluster_names) asked[label_value(name)] = name;
  // One aggregated list of this controller's instances covers every cluster asked about, in
  // every zone: one call (a page per page_size instances), however many clusters fell silent.
  const std::string filter =
      label_filter({{std::string(kControllerLabel), {label_value(options_.controller_id)}}});
  auto instances = co_await list_all(filter);
  if (!instances) co_return instances.error();
  std::set<std::string> listed;  // "zone/name" of every instance in the answer
  for (const auto& instance : *instances) {
    auto status = to_instance_status(instance);
    auto name = asked.find(status.cluster_name);
    if (name == asked.end()) continue;
    status.cluster_name = name->second;
    listed.insert(instance.zone + "/" + instance.name);
    out.push_back(std::move(status));
  }
  std::set<std::string> clusters(cluster_names.begin(), cluster_names.end());
  co_await add_preempted(listed, std::move(clusters), out);
  auto tpus = co_await list_tpus();
  if (!tpus) co_return tpus.error();
  for (const auto& node : *tpus) {
    auto name = asked.find(node.label(kClusterLabel));
    if (name == asked.end()) continue;
    for (auto& status : to_instance_statuses(node)) {
      status.cluster_name = name->second;
      out.push_back(std::move(status));
    }
  }
  co_return out;
}

Task<void> GcpProvider::add_preempted(const std::set<std::string>& listed,
                                      std::set<std::string> clusters,
                                      std::vector<InstanceStatus>& out) {
  // A spot VM with instanceTerminationAction DELETE disappears soon after its preemption; the
  // zone's `compute.instances.preempted` operation is what is left to tell it from a deletion.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> missing;  // by zone
  for (const auto& cluster : clusters) {
    auto seen = seen_spot_.find(cluster);
    if (seen == seen_spot_.end()) continue;
    for (const auto& instance : seen->second)
      if (!listed.contains(instance.zone + "/" + instance.name))
        missing[instance.zone].emplace_back(instance.name, cluster);
  }
  for (const auto& [zone, instances] : missing) {
    auto body =
        co_await call("GET",
                      operations_list_path(options_.project, zone,
                                           "operationType=\"compute.instances.preempted\"", ""),
                      "");
    if (!body) continue;  // the instance is gone either way; whether preempted stays unknown
    auto page = parse_operation_list(*body);
    if (!page) continue;
    for (const auto& [name, cluster] : instances) {
      InstanceStatus status;
      status.instance_id = name;
      status.cluster_name = cluster;
      status.state = InstanceState::kTerminated;
      for (const auto& operation : page->operations) {
        if (operation.operation_type == "compute.instances.preempted" &&
            last_segment(operation.target_link) == name) {
          status.preempted = true;
          status.reason = "preempted: " + operation.status_message;
        }
      }
      if (status.preempted) out.push_back(std::move(status));
    }
  }
}

Task<Result<void>> GcpProvider::terminate(std::string cluster_name) {
  const auto deadline = Clock::now() + options_.terminate_timeout;
  auto tpus = co_await list_tpus();
  if (!tpus) co_return tpus.error();
  for (const auto& node : *tpus) {
    if (node.label(kClusterLabel) != label_value(cluster_name)) continue;
    auto deleted = co_await delete_tpu(node.zone, node.id, deadline);
    if (!deleted) co_return deleted.error();
    logger("gcp")->info("tpu deleted cluster={} tpu={} zone={}", cluster_name, node.id, node.zone);
  }
  std::set<std::string> asked;  // instances a DELETE was sent for (by id)
  const std::string filter =
      label_filter({{std::string(kClusterLabel), {label_value(cluster_name)}}});
  for (;;) {
    auto instances = co_await list_all(filter);
    if (!instances) co_return instances.error();
    if (instances->empty()) break;  // nothing left
    std::vector<GceInstance> fresh;
    for (const auto& instance : *instances)
      if (asked.insert(instance.id + "/" + instance.name).second) fresh.push_back(instance);
    for (const auto& instance : fresh) {
      const std::string path = instance_path(options_.project, instance.zone, instance.name) +
                               "?requestId=" + request_id_for("delete " + instance.id);
      auto deleted = co_await call("DELETE", path, "");
      if (!deleted && !is_provider_error(deleted.error(), ProviderErrc::kNotFound))
        co_return deleted.error();
    }
    if (!fresh.empty())
      logger("gcp")->info("instances deleting cluster={} count={}", cluster_name, fresh.size());
    if (Clock::now() > deadline) {
      co_return make_error(ProviderErrc::kTransient,
                           "cluster " + cluster_name + " still has instances");
    }
    co_await sleep_for(options_.poll_interval);
  }
  auto closed = co_await close_ports(cluster_name, deadline);
  if (!closed) co_return closed.error();
  seen_spot_.erase(cluster_name);
  census_.torn_down(cluster_name);
  co_return Result<void>{};
}

Task<Result<std::vector<std::string>>> GcpProvider::list_clusters() {
  const std::string filter =
      label_filter({{std::string(kControllerLabel), {label_value(options_.controller_id)}}});
  auto instances = co_await list_all(filter);
  if (!instances) co_return instances.error();
  std::set<std::string> names;
  for (const auto& instance : *instances)
    if (auto name = instance.label(kClusterLabel); !name.empty()) names.insert(name);
  auto tpus = co_await list_tpus();
  if (!tpus) co_return tpus.error();
  for (const auto& node : *tpus)
    if (auto name = node.label(kClusterLabel); !name.empty()) names.insert(name);
  // A cluster whose instances are gone but whose rule is left (skyd stopped between the two) is
  // a cluster to sweep too: terminating it deletes the rule.
  std::string page_token;
  for (;;) {
    auto body = co_await call("GET", firewall_list_path(options_.project, "", page_token), "");
    if (!body) co_return body.error();
    auto page = parse_firewall_list(*body);
    if (!page) co_return page.error();
    for (const auto& rule : page->firewalls) {
      if (!rule.name.starts_with("skyd-ports-")) continue;
      auto cluster = cluster_of_ports_rule(rule.description, options_.controller_id);
      if (!cluster.empty() && ports_rule_name(cluster) == rule.name) names.insert(cluster);
    }
    if (page->next_page_token.empty()) break;
    page_token = std::move(page->next_page_token);
  }
  co_return std::vector<std::string>(names.begin(), names.end());
}

// --- Cloud TPUs ---

namespace {

// A failed launch's TPU that could not be deleted now: the sweep (list_clusters) finds it later.
void log_undeleted(const std::string& node_id, const Error& error) {
  logger("gcp")->error("cannot delete the TPU of a failed launch tpu={} error=\"{}\"", node_id,
                       error.detail);
}

}  // namespace

Task<Result<std::vector<TpuNode>>> GcpProvider::list_tpus() {
  std::vector<TpuNode> out;
  std::string page_token;
  const std::string controller = label_value(options_.controller_id);
  for (;;) {
    auto body = co_await call_tpu(
        "GET", tpu_list_path(options_.project, "-", options_.page_size, page_token), "");
    if (!body) {
      // A project without the Cloud TPU API (disabled, or an endpoint that does not serve it)
      // holds no TPUs of ours: Compute Engine alone goes on working.
      if (is_provider_error(body.error(), ProviderErrc::kNotFound) ||
          body.error().message().find("SERVICE_DISABLED") != std::string::npos) {
        logger("gcp")->debug("tpu list unavailable error=\"{}\"", body.error().detail);
        co_return out;
      }
      co_return body.error();
    }
    auto page = parse_tpu_node_list(*body);
    if (!page) co_return page.error();
    for (auto& node : page->nodes)
      if (node.label(kControllerLabel) == controller) out.push_back(std::move(node));
    if (page->next_page_token.empty()) break;
    page_token = std::move(page->next_page_token);
  }
  co_return out;
}

Task<Result<void>> GcpProvider::wait_tpu_operation(std::string operation,
                                                   Clock::time_point deadline) {
  for (;;) {
    auto body = co_await call_tpu("GET", tpu_operation_path(operation), "");
    if (!body) co_return body.error();
    auto parsed = parse_tpu_operation(*body);
    if (!parsed) co_return parsed.error();
    if (parsed->done) {
      if (parsed->error_code == 0) co_return Result<void>{};
      co_return tpu_operation_error(*parsed);
    }
    if (Clock::now() + options_.poll_interval > deadline)
      co_return make_error(ProviderErrc::kTransient,
                           "operation " + operation + " not done in time");
    co_await sleep_for(options_.poll_interval);
  }
}

Task<Result<TpuNode>> GcpProvider::wait_tpu_ready(std::string zone, std::string node_id, int hosts,
                                                  Clock::time_point deadline) {
  for (;;) {
    auto body = co_await call_tpu("GET", tpu_node_path(options_.project, zone, node_id), "");
    if (!body) {
      if (is_provider_error(body.error(), ProviderErrc::kNotFound))
        co_return make_error(ProviderErrc::kNoCapacity,
                             "TPU " + node_id + " went away while starting");
      co_return body.error();
    }
    auto node = parse_tpu_node(*body);
    if (!node) co_return node.error();
    const auto state = tpu_state_of(node->state);
    if (state == InstanceState::kRunning && static_cast<int>(node->endpoints.size()) >= hosts)
      co_return std::move(*node);
    if (state == InstanceState::kTerminated || state == InstanceState::kShuttingDown) {
      co_return make_error(ProviderErrc::kNoCapacity,
                           "TPU " + node_id + " ended while starting: " + node->state);
    }
    if (Clock::now() + options_.poll_interval > deadline)
      co_return make_error(ProviderErrc::kTransient, "TPU " + node_id + " not READY in time");
    co_await sleep_for(options_.poll_interval);
  }
}

Task<Result<void>> GcpProvider::delete_tpu(std::string zone, std::string node_id,
                                           Clock::time_point deadline) {
  auto answer = co_await call_tpu("DELETE", tpu_node_path(options_.project, zone, node_id), "");
  if (!answer) {
    if (is_provider_error(answer.error(), ProviderErrc::kNotFound)) co_return Result<void>{};
    co_return answer.error();
  }
  auto operation = parse_tpu_operation(*answer);
  if (!operation) co_return operation.error();
  auto done = co_await wait_tpu_operation(operation->name, deadline);
  if (!done && !is_provider_error(done.error(), ProviderErrc::kNotFound)) co_return done.error();
  co_return Result<void>{};
}

Task<Result<Cluster>> GcpProvider::launch_tpu(LaunchRequest request, catalog::TpuSlice slice) {
  // A slice is one TPU VM node; its hosts are the cluster's nodes (SkyPilot's num_nodes: 1).
  if (request.nodes != 1) {
    co_return make_error(ProviderErrc::kInvalid,
                         "num_nodes: a TPU slice's hosts are the task's nodes; ask for one slice "
                         "(num_nodes: 1), a bigger one for more hosts");
  }
  const NodeSettings& settings = request.settings;
  // What a TPU VM does not take is refused by name, never dropped.
  if (!settings.image_id.empty())
    co_return make_error(ProviderErrc::kInvalid,
                         "resources.image_id: a TPU VM boots Google's runtime image "
                         "(accelerator_args.runtime_version names it), not an image of skyd's");
  if (settings.disk_size_gb || settings.disk_tier)
    co_return make_error(ProviderErrc::kInvalid,
                         "resources.disk_size/disk_tier: a TPU VM's boot disk is Google's; skyd "
                         "cannot size it");
  if (!settings.ports.empty())
    co_return make_error(ProviderErrc::kInvalid, "resources.ports: skyd opens no ports on TPU VMs");
  if (settings.best_network)
    co_return make_error(ProviderErrc::kInvalid,
                         "resources.network_tier: best is Tier_1 networking on Compute Engine "
                         "machines; a TPU VM's network is the TPU's own");
  if (auto checked = check_labels(settings.labels); !checked) co_return checked.error();
  for (const auto& mount : request.mounts) {
    if (mount.source.empty() && mount.mode != MountRequest::Mode::kByNode) {
      co_return make_error(ProviderErrc::kInvalid,
                           "bucket mounts reach local machines only; a GCP node cannot mount " +
                               mount.bucket + " at " + mount.destination);
    }
  }
  const std::string region = request.region.empty() ? region_of_zone(request.zone) : request.region;
  TpuNodeSpec spec;
  spec.accelerator_type = slice.accelerator_type;
  spec.runtime_version = settings.tpu_runtime_version.empty()
                             ? catalog::default_tpu_runtime_version(slice)
                             : settings.tpu_runtime_version;
  spec.spot = request.use_spot;
  spec.external_ips = options_.use_public_ip;
  spec.service_account = options_.service_account;
  for (const auto& [key, value] : request.tags) spec.labels[key] = label_value(value);
  for (const auto& [key, value] : settings.labels) spec.labels[key] = value;
  spec.labels[std::string(kClusterLabel)] = label_value(request.cluster_name);
  spec.labels[std::string(kControllerLabel)] = label_value(options_.controller_id);
  spec.labels[std::string(kLaunchLabel)] = launch_label_for(request.idempotency_token);

  const std::string tls_name = skylet_tls_name(request.cluster_name);
  const std::vector<std::string> names{tls_name};
  auto certificate = issue_derived_server_certificate(options_.skylet_authority, tls_name, names,
                                                      request.skylet_token);
  if (!certificate) co_return certificate.error();
  SkyletBoot boot;
  boot.token = request.skylet_token;
  boot.port = options_.skylet_port;
  boot.certificate = *certificate;
  boot.notice_signal = options_.notice_signal;
  boot.metadata = MetadataService::kGce;
  spec.startup_script = render_user_data(boot);
  const auto deadline = Clock::now() + options_.launch_timeout;

  const std::string node_id =
      tpu_node_id_for(request.cluster_name, request.idempotency_token, settings.tpu_name);
  const std::string launch_label = launch_label_for(request.idempotency_token);
  const std::string body = tpu_node_body(spec).dump();
  auto answer = co_await call_tpu("POST",
                                  tpu_create_path(options_.project, request.zone, node_id,
                                                  request_id_for(request.idempotency_token)),
                                  body, options_.create_tries);
  Result<void> done;
  if (answer) {
    logger("gcp")->info("tpu requested cluster={} zone={} tpu={} type={} runtime={}",
                        request.cluster_name, request.zone, node_id, spec.accelerator_type,
                        spec.runtime_version);
    auto operation = parse_tpu_operation(*answer);
    if (!operation) {
      done = operation.error();
    } else if (operation->done && operation->error_code != 0) {
      done = tpu_operation_error(*operation);
    } else {
      done = co_await wait_tpu_operation(operation->name, deadline);
    }
  } else if (answer.error().message().find("ALREADY_EXISTS") != std::string::npos) {
    // A node by this id exists: this launch's (a retry, an answer lost) or someone else's.
    auto existing =
        co_await call_tpu("GET", tpu_node_path(options_.project, request.zone, node_id), "");
    auto parsed = existing ? parse_tpu_node(*existing) : Result<TpuNode>(existing.error());
    if (!parsed) co_return parsed.error();
    if (parsed->label(kLaunchLabel) != launch_label) {
      co_return make_error(ProviderErrc::kInvalid, "accelerator_args.tpu_name: a TPU named `" +
                                                       node_id + "` exists already in " +
                                                       request.zone + " and is not this job's");
    }
    logger("gcp")->info("tpu of an earlier call adopted cluster={} tpu={}", request.cluster_name,
                        node_id);
  } else {
    done = answer.error();
  }
  if (!done) {
    // A refused request made nothing; anything else may have made the node: it goes.
    if (!is_provider_error(done.error(), ProviderErrc::kInvalid)) {
      auto removed = co_await delete_tpu(request.zone, node_id, deadline);
      if (!removed) log_undeleted(node_id, removed.error());
    }
    co_return done.error();
  }
  auto ready = co_await wait_tpu_ready(request.zone, node_id, slice.hosts, deadline);
  if (!ready) {
    auto removed = co_await delete_tpu(request.zone, node_id, deadline);
    if (!removed) log_undeleted(node_id, removed.error());
    co_return ready.error();
  }
  Cluster cluster{request.cluster_name, "gcp", region, request.zone, request.instance_type,
                  request.use_spot,     {}};
  std::vector<RunningInstance> hosts;
  for (std::size_t worker = 0; worker < ready->endpoints.size(); ++worker) {
    const auto& endpoint = ready->endpoints[worker];
    hosts.push_back({node_id + "/w-" + std::to_string(worker), request.zone, endpoint.external_ip,
                     endpoint.ip});
  }
  auto up = co_await bring_up_nodes(node_client(), cluster, hosts, request, tls_name,
                                    skylet_reach(), deadline);
  if (!up) {
    auto removed = co_await delete_tpu(request.zone, node_id, deadline);
    if (!removed) log_undeleted(node_id, removed.error());
    co_return up.error();
  }
  logger("gcp")->info("tpu up cluster={} zone={} tpu={} hosts={}", request.cluster_name,
                      request.zone, node_id, cluster.nodes.size());
  co_return cluster;
}

}  // namespace skyd::providers::gcp
