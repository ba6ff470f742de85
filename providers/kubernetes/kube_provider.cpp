#include "providers/kubernetes/kube_provider.hpp"

#include "providers/kubernetes/kube_claims.hpp"

#include "providers/catalog/kubernetes_shape.hpp"
#include "providers/node_boot.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace skyd::providers::kubernetes {
namespace {

bool is_provider_error(const Error& error, ProviderErrc code) {
  return error.code == make_error_code(code);
}

bool retryable(const Error& error) {
  return error.code.category() == provider_category() &&
         is_retryable(static_cast<ProviderErrc>(error.code.value()));
}

bool valid_token(const std::string& token) {
  return token.size() >= 16 && std::all_of(token.begin(), token.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

int rank_of(const Pod& pod) {
  const auto at = pod.labels.find(std::string(kRankLabel));
  if (at == pod.labels.end()) return -1;
  try {
    return std::stoi(at->second);
  } catch (...) {
    return -1;
  }
}

std::string cluster_of(const Pod& pod) {
  const auto at = pod.annotations.find(std::string(kClusterAnnotation));
  return at == pod.annotations.end() ? std::string() : at->second;
}

// What a pod is to the controller.
InstanceStatus status_of(const Pod& pod) {
  InstanceStatus status;
  status.instance_id = pod.name;
  status.cluster_name = cluster_of(pod);
  status.reason = pod.reason.empty() ? pod.message : pod.reason + ": " + pod.message;
  if (pod.deleting) {
    status.state = InstanceState::kShuttingDown;
  } else if (pod.phase == PodPhase::kRunning) {
    status.state = InstanceState::kRunning;
  } else if (pod.phase == PodPhase::kPending) {
    status.state = InstanceState::kPending;
  } else {
    // Failed (evicted, its node gone), Succeeded (skylet ended) or Unknown: the node is lost,
    // taken away by the cluster rather than by the task.
    status.state = InstanceState::kTerminated;
    status.preempted = true;
    if (status.reason.empty()) status.reason = "the pod is no longer running";
  }
  return status;
}

}  // namespace

KubeProvider::KubeProvider(asio::any_io_executor executor, KubeProviderOptions options)
    : executor_(executor), options_(std::move(options)), client_(executor, [&] {
        http::ClientOptions client = options_.client;
        client.use_system_trust = false;
        return client;
      }()) {
  if (options_.skylet_authority.certificate_pem.empty()) {
    auto authority =
        make_certificate_authority("skyd skylet CA (ephemeral)", 3650, KeyKind::kEd25519);
    if (authority) options_.skylet_authority = std::move(*authority);
  }
}

Task<Result<std::string>> KubeProvider::call(std::string method, std::string target,
                                             std::string body, std::vector<int> accept) {
  if (options_.access_error) co_return *options_.access_error;
  auto endpoint = http::Endpoint::parse(options_.access.server);
  if (!endpoint) {
    co_return make_error(ProviderErrc::kAuth,
                         "kubeconfig " + options_.access.file +
                             ": clusters[].server: " + endpoint.error().message());
  }
  endpoint->pinned_ca_pem = options_.access.ca_pem;
  const std::string action = method + " " + target.substr(0, target.find('?'));
  Backoff backoff(options_.retry);
  for (int attempt = 1;; ++attempt) {
    http::Request request;
    request.method = method;
    request.target = target;
    request.headers.emplace_back("Authorization", "Bearer " + options_.access.token);
    request.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    const http::RequestOptions limit{options_.request_timeout};
    auto response = co_await client_.request(*endpoint, std::move(request), limit);
    Error error;
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      error = make_error(ProviderErrc::kTransient, action + ": " + response.error().message());
    } else if ((response->status >= 200 && response->status < 300) ||
               std::find(accept.begin(), accept.end(), response->status) != accept.end()) {
      co_return std::move(response->body);
    } else {
      error = classify_status(response->status, response->body);
      error.detail = action + ": " + error.detail;
    }
    if (!retryable(error) || !backoff.allows_attempt(attempt)) {
      logger("kubernetes")
          ->warn("api call failed action=\"{}\" attempts={} error=\"{}\"", action, attempt,
                 error.detail);
      co_return error;
    }
    co_await sleep_for(backoff.next_delay());
  }
}

Task<Result<void>> KubeProvider::check_claims(std::vector<VolumeMount> volumes,
                                              std::optional<UserIdentity> owner) {
  const std::string& ns = options_.access.namespace_;
  for (const auto& volume : volumes) {
    auto claim = co_await find_claim(volume.claim);
    if (!claim) co_return claim.error();
    if (!*claim) {
      co_return make_error(ProviderErrc::kInvalid,
                           "volumes." + volume.path + ": no PersistentVolumeClaim `" +
                               volume.claim + "` in namespace `" + ns + "` of context `" +
                               options_.access.context + "`; create the claim first");
    }
    const auto made_for = owner_of(**claim);
    const bool someone_elses =
        owner && owner->uid != 0 && made_for && *made_for != static_cast<std::int64_t>(owner->uid);
    if (someone_elses) {
      co_return make_error(ProviderErrc::kInvalid,
                           "volumes." + volume.path + ": `" + volume.claim +
                               "` is a volume another user made with `sky volumes apply`");
    }
  }
  co_return Result<void>{};
}

Task<Result<std::vector<Pod>>> KubeProvider::list(std::map<std::string, std::string> labels) {
  labels[std::string(kControllerLabel)] = label_value(options_.controller_id);
  const std::string target = pods_path(options_.access.namespace_) + "?" + selector_query(labels);
  auto body = co_await call("GET", target, "");
  if (!body) co_return body.error();
  co_return parse_pod_list(*body);
}

Task<Result<FabricPod>> KubeProvider::fabric_for(int gpus) {
  // Read once for the launches of a while: a burst of them lists the nodes once.
  if (fabric_seen_ && Clock::now() < fabric_seen_at_ + kFabricLifetime)
    co_return fabric_pod(*fabric_seen_, gpus, options_.access.context);
  auto body = co_await call("GET", "/api/v1/nodes", "");
  if (!body) {
    Error error = body.error();
    error.detail =
        "resources.network_tier: best: skyd reads the nodes' labels to find their "
        "fabric, and could not: " +
        error.detail;
    co_return error;
  }
  auto nodes = parse_node_list(*body);
  if (!nodes) co_return nodes.error();
  const FoundFabric found = find_fabric(*nodes);
  fabric_seen_ = found;
  fabric_seen_at_ = Clock::now();
  if (found.fabric != Fabric::kNone)
    logger("kubernetes")
        ->info("fabric found context={} fabric=\"{}\" node={}", options_.access.context,
               to_string(found.fabric), found.node);
  co_return fabric_pod(found, gpus, options_.access.context);
}

Task<Result<Cluster>> KubeProvider::launch(LaunchRequest request) {
  if (request.nodes < 1)
    co_return make_error(ProviderErrc::kInvalid, "a cluster needs at least one node");
  if (!valid_token(request.skylet_token)) {
    co_return make_error(ProviderErrc::kInvalid,
                         "the skylet token must be 16+ letters, digits, '-' or '_'");
  }
  if (options_.access_error) co_return *options_.access_error;
  if (!request.region.empty() && request.region != options_.access.context) {
    co_return make_error(ProviderErrc::kInvalid,
                         "kubernetes context `" + request.region + "` is not the one skyd uses (`" +
                             options_.access.context + "`, kubernetes_context in skyd's config)");
  }
  const auto& settings = request.settings;
  if (settings.disk_size_gb)
    co_return make_error(
        ProviderErrc::kInvalid,
        "resources.disk_size: skyd does not size a pod's disk (ephemeral storage)");
  if (settings.disk_tier)
    co_return make_error(ProviderErrc::kInvalid, "resources.disk_tier: not on kubernetes");
  if (!settings.ports.empty())
    co_return make_error(ProviderErrc::kInvalid,
                         "resources.ports: skyd makes no Kubernetes services for ports");
  if (!settings.labels.empty())
    co_return make_error(ProviderErrc::kInvalid, "resources.labels: not on kubernetes");
  for (const auto& mount : request.mounts) {
    if (mount.source.empty() && mount.mode != MountRequest::Mode::kByNode) {
      co_return make_error(ProviderErrc::kInvalid,
                           "bucket mounts reach local machines only; a pod cannot mount " +
                               mount.bucket + " at " + mount.destination);
    }
  }
  if (!request.task_running) {
    if (auto claimed = co_await check_claims(settings.volumes, request.owner); !claimed)
      co_return claimed.error();
  }
  auto shape = catalog::parse_pod_instance_type(request.instance_type);
  if (!shape) {
    co_return make_error(ProviderErrc::kInvalid,
                         "instance type `" + request.instance_type +
                             "` is not a pod shape (<cpus>CPU--<memory>GB[--<GPU>:<count>])");
  }

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

  const std::string launch = launch_label_for(request.idempotency_token);
  PodSpec spec;
  spec.namespace_ = options_.access.namespace_;
  spec.labels = {{std::string(kControllerLabel), label_value(options_.controller_id)},
                 {std::string(kClusterLabel), label_value(request.cluster_name)},
                 {std::string(kLaunchLabel), launch}};
  for (const auto& [key, value] : request.tags)
    if (key != "Name")
      spec.labels["skyd-tag-" + label_value(key).substr(0, 40)] = label_value(value);
  spec.annotations = {{std::string(kClusterAnnotation), request.cluster_name}};
  spec.image = options_.image;
  // image_id: the pod's container image, with or without `docker:` (as in SkyPilot).
  if (!settings.image_id.empty()) {
    spec.image = wants_container(settings)
                     ? settings.image_id.substr(std::string_view("docker:").size())
                     : settings.image_id;
    spec.skylet_image = options_.image;
  }
  spec.cpus = shape->cpus;
  spec.memory_gb = shape->memory_gb;
  spec.accelerator_name = shape->accelerator_name;
  spec.accelerator_count = shape->accelerator_count;
  spec.boot_script = render_pod_boot(boot);
  spec.skylet_port = options_.skylet_port;
  spec.volumes = settings.volumes;
  if (settings.best_network) {
    auto fabric = co_await fabric_for(shape->accelerator_count);
    if (fabric) {
      spec.fabric_resources = std::move(fabric->resources);
      spec.capabilities = std::move(fabric->capabilities);
      spec.environment = std::move(fabric->environment);
    } else if (!request.task_running) {
      co_return fabric.error();
    } else {
      // Adopting pods that already run with their fabric (each POST is told AlreadyExists): a
      // node list that fails now, or nodes relabelled since, must not take the task for lost.
      logger("kubernetes")
          ->warn("adopting cluster={} without reading the fabric again: {}", request.cluster_name,
                 fabric.error().message());
    }
  }
  const auto deadline = Clock::now() + options_.launch_timeout;

  // Pod names follow from the token and the rank: a repeated launch (a lost answer, a restart)
  // is told AlreadyExists and adopts what stands.
  const std::map<std::string, std::string> by_launch{{std::string(kLaunchLabel), launch}};
  const std::vector<int> exists_is_fine{409};
  int adopted = 0;
  for (int rank = 0; rank < request.nodes; ++rank) {
    PodSpec pod = spec;
    pod.name = pod_name_for(request.cluster_name, request.idempotency_token, rank);
    pod.labels[std::string(kRankLabel)] = std::to_string(rank);
    const std::string manifest = pod_manifest(pod).dump();
    auto made = co_await call("POST", pods_path(spec.namespace_), manifest, exists_is_fine);
    if (!made) {
      co_await discard(by_launch);
      co_return made.error();
    }
    if (status_reason(*made) == "AlreadyExists") {
      ++adopted;
    } else if (!status_reason(*made).empty()) {
      co_await discard(by_launch);
      co_return classify_status(409, *made);
    }
  }
  logger("kubernetes")
      ->info("pods requested cluster={} context={} namespace={} count={} adopted={}",
             request.cluster_name, options_.access.context, spec.namespace_, request.nodes,
             adopted);

  auto running = co_await wait_running(request.idempotency_token, request.nodes, deadline);
  if (!running) {
    co_await discard(by_launch);
    co_return running.error();
  }
  Cluster cluster{request.cluster_name,
                  "kubernetes",
                  options_.access.context,
                  "",
                  request.instance_type,
                  false,
                  {}};
  std::vector<RunningInstance> instances;
  for (const auto& pod : *running) instances.push_back({pod.name, "", "", pod.pod_ip});
  const SkyletReach reach{options_.skylet_port, options_.skylet_authority.certificate_pem, false,
                          options_.scratch_dir, options_.poll_interval};
  auto up =
      co_await bring_up_nodes(client_, cluster, instances, request, tls_name, reach, deadline);
  if (!up) {
    co_await discard(by_launch);
    co_return up.error();
  }
  for (const auto& stray : request.stray_tokens) co_await discard_launch(stray);
  logger("kubernetes")
      ->info("cluster up cluster={} context={} nodes={}", request.cluster_name,
             options_.access.context, cluster.nodes.size());
  co_return cluster;
}

Task<Result<std::vector<Pod>>> KubeProvider::wait_running(std::string token, int nodes,
                                                          Clock::time_point deadline) {
  const std::string launch = launch_label_for(token);
  std::optional<Clock::time_point> unschedulable_since;
  const std::map<std::string, std::string> by_launch{{std::string(kLaunchLabel), launch}};
  for (;;) {
    auto pods = co_await list(by_launch);
    if (!pods) co_return pods.error();
    std::vector<Pod> running;
    bool unschedulable = false;
    for (auto& pod : *pods) {
      if (pod.deleting || pod.phase == PodPhase::kFailed || pod.phase == PodPhase::kSucceeded) {
        co_return make_error(
            ProviderErrc::kTransient,
            "pod " + pod.name + " ended while starting: " + pod.reason + " " + pod.message);
      }
      if (pod.unschedulable) unschedulable = true;
      if (pod.phase == PodPhase::kRunning && !pod.pod_ip.empty()) running.push_back(pod);
    }
    if (running.size() == static_cast<std::size_t>(nodes)) {
      std::sort(running.begin(), running.end(),
                [](const Pod& a, const Pod& b) { return rank_of(a) < rank_of(b); });
      co_return running;
    }
    if (unschedulable && !unschedulable_since) unschedulable_since = Clock::now();
    if (!unschedulable) unschedulable_since.reset();
    if (unschedulable_since && Clock::now() - *unschedulable_since > options_.unschedulable_timeout)
      co_return make_error(ProviderErrc::kNoCapacity,
                           "the cluster cannot schedule the pods (Unschedulable)");
    if (Clock::now() > deadline)
      co_return make_error(ProviderErrc::kNoCapacity, "the pods did not start in time");
    co_await sleep_for(options_.poll_interval);
  }
}

Task<void> KubeProvider::discard_launch(std::string token) {
  std::map<std::string, std::string> labels;
  labels[std::string(kLaunchLabel)] = launch_label_for(token);
  co_await discard(std::move(labels));
}

Task<void> KubeProvider::discard(std::map<std::string, std::string> labels) {
  auto pods = co_await list(std::move(labels));
  if (!pods) {
    logger("kubernetes")->warn("pods not listed for deletion error=\"{}\"", pods.error().detail);
    co_return;
  }
  for (const auto& pod : *pods) {
    const std::string& pod_namespace =
        pod.namespace_.empty() ? options_.access.namespace_ : pod.namespace_;
    const std::string target = pod_path(pod_namespace, pod.name);
    auto deleted = co_await call("DELETE", target, "");
    if (!deleted && !is_provider_error(deleted.error(), ProviderErrc::kNotFound))
      logger("kubernetes")
          ->warn("pod not deleted pod={} error=\"{}\"", pod.name, deleted.error().detail);
  }
}

Task<Result<std::vector<InstanceStatus>>> KubeProvider::describe(
    std::vector<std::string> cluster_names) {
  std::vector<InstanceStatus> out;
  if (cluster_names.empty()) co_return out;
  const std::set<std::string> asked(cluster_names.begin(), cluster_names.end());
  // One LIST of this controller's pods covers every cluster asked about.
  const std::map<std::string, std::string> every;
  auto pods = co_await list(every);
  if (!pods) co_return pods.error();
  for (const auto& pod : *pods) {
    auto status = status_of(pod);
    if (asked.contains(status.cluster_name)) out.push_back(std::move(status));
  }
  co_return out;
}

Task<Result<void>> KubeProvider::terminate(std::string cluster_name) {
  const auto deadline = Clock::now() + options_.terminate_timeout;
  std::set<std::string> asked;
  for (;;) {
    const std::map<std::string, std::string> by_cluster{
        {std::string(kClusterLabel), label_value(cluster_name)}};
    auto pods = co_await list(by_cluster);
    if (!pods) co_return pods.error();
    std::vector<Pod> mine;
    for (auto& pod : *pods)
      if (cluster_of(pod) == cluster_name) mine.push_back(std::move(pod));
    if (mine.empty()) break;  // confirmed gone
    int sent = 0;
    for (const auto& pod : mine) {
      if (!asked.insert(pod.name).second) continue;
      const std::string target = pod_path(options_.access.namespace_, pod.name);
      auto deleted = co_await call("DELETE", target, "");
      if (!deleted && !is_provider_error(deleted.error(), ProviderErrc::kNotFound))
        co_return deleted.error();
      ++sent;
    }
    if (sent > 0)
      logger("kubernetes")->info("pods deleting cluster={} count={}", cluster_name, sent);
    if (Clock::now() > deadline)
      co_return make_error(ProviderErrc::kTransient, "cluster " + cluster_name + " still has pods");
    co_await sleep_for(options_.poll_interval);
  }
  co_return Result<void>{};
}

Task<Result<std::vector<std::string>>> KubeProvider::list_clusters() {
  const std::map<std::string, std::string> every;
  auto pods = co_await list(every);
  if (!pods) co_return pods.error();
  std::set<std::string> names;
  for (const auto& pod : *pods)
    if (auto name = cluster_of(pod); !name.empty()) names.insert(name);
  co_return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace skyd::providers::kubernetes
