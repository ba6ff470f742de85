#include "providers/aws/aws_provider.hpp"
#include "providers/aws/ec2_catalog_api.hpp"
#include "providers/skylet_health.hpp"

#include "reactor/crypto.hpp"
#include "reactor/event.hpp"
#include "reactor/log.hpp"
#include "reactor/shard_pool.hpp"
#include "reactor/sleep.hpp"

#include <algorithm>
#include <optional>
#include <utility>

namespace skyd::providers::aws {
namespace {

// EC2 resolves "resolve:ssm:<parameter>" image ids itself: the operator publishes the skylet
// image's id per region under this parameter, so no AMI id is baked into the binary.
constexpr const char* kDefaultImage = "resolve:ssm:/skyd/skylet-image";
constexpr std::size_t kMaxFilterValues = 200;
constexpr std::size_t kMaxTerminateBatch = 1000;

bool valid_token(const std::string& token) {
  return token.size() >= 16 && std::all_of(token.begin(), token.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

// EC2 caps ClientToken at 64 characters; a longer token is hashed (still stable per request).
std::string client_token_for(const std::string& token) {
  return token.size() <= 64 ? token : sha256_hex(token);
}

// The rank: the order of the answer RunInstances would have given.
bool launched_before(const Ec2Instance& a, const Ec2Instance& b) {
  return a.launch_index < b.launch_index;
}

// `items` cut into pieces of at most `size` (EC2's limits on filter values and ids a call).
std::vector<std::vector<std::string>> in_chunks(const std::vector<std::string>& items,
                                                std::size_t size) {
  std::vector<std::vector<std::string>> chunks;
  for (std::size_t begin = 0; begin < items.size(); begin += size) {
    const auto end = std::min(items.size(), begin + size);
    chunks.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(begin),
                        items.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return chunks;
}

// Clusters for a log line or an error: "cluster NAME", or how many and the first.
std::string describe_names(const std::vector<std::string>& names) {
  if (names.size() == 1) return "cluster " + names.front();
  return std::to_string(names.size()) + " clusters (" + (names.empty() ? "" : names.front()) +
         ", ...)";
}

std::vector<std::string> ids_of(const std::vector<Ec2Instance>& instances) {
  std::vector<std::string> ids;
  for (const auto& instance : instances) ids.push_back(instance.instance_id);
  return ids;
}

std::vector<RunningInstance> running_instances(const std::vector<Ec2Instance>& described) {
  std::vector<RunningInstance> instances;
  for (const auto& instance : described)
    instances.push_back(
        {instance.instance_id, instance.zone, instance.public_ip, instance.private_ip});
  return instances;
}

// The whole cluster, running and reachable, as described.
bool all_running(const std::vector<Ec2Instance>& described, int nodes) {
  if (static_cast<int>(described.size()) != nodes) return false;
  return std::all_of(described.begin(), described.end(), [](const Ec2Instance& instance) {
    return instance.state == Ec2State::kRunning && !instance.private_ip.empty();
  });
}

// The ids in launch order.
std::vector<std::string> in_launch_order(std::vector<Ec2Instance> instances) {
  std::sort(instances.begin(), instances.end(), launched_before);
  return ids_of(instances);
}

}  // namespace

std::map<std::string, std::string> default_images() {
  std::map<std::string, std::string> images;
  for (const char* region :
       {"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1",
        "eu-west-2", "eu-central-1", "eu-north-1", "ap-northeast-1", "ap-southeast-1",
        "ap-southeast-2", "ap-south-1", "sa-east-1"})
    images[region] = kDefaultImage;
  return images;
}

AwsProvider::AwsProvider(asio::any_io_executor executor, AwsProviderOptions options)
    : executor_(executor),
      options_(std::move(options)),
      client_(executor, options_.client),
      credentials_(client_, options_.env),
      descriptions_(
          executor, options_.describe_gather,
          [this](std::vector<std::string> names) { return describe_now(std::move(names)); }),
      terminations_(executor, options_.terminate_gather, [this](std::vector<std::string> names) {
        return terminate_now(std::move(names));
      }) {
  endpoint_override_ = options_.endpoint;
  if (endpoint_override_.empty())
    endpoint_override_ = options_.env("AWS_ENDPOINT_URL_EC2").value_or("");
  if (endpoint_override_.empty())
    endpoint_override_ = options_.env("AWS_ENDPOINT_URL").value_or("");
  if (options_.regions.empty()) options_.regions.push_back(options_.default_region);
  if (options_.skylet_authority.certificate_pem.empty()) {
    auto authority =
        make_certificate_authority("skyd skylet CA (ephemeral)", 3650, KeyKind::kEd25519);
    if (authority) options_.skylet_authority = std::move(*authority);
  }
}

std::string AwsProvider::skylet_tls_name(const std::string& cluster_name) {
  return providers::skylet_tls_name(cluster_name);
}

AwsProvider::~AwsProvider() = default;

Result<http::Endpoint> AwsProvider::endpoint_for(const std::string& region) const {
  if (!endpoint_override_.empty()) return http::Endpoint::parse(endpoint_override_);
  return http::Endpoint::parse("https://ec2." + region + ".amazonaws.com");
}

std::vector<std::string> AwsProvider::all_regions() const {
  std::set<std::string> regions(options_.regions.begin(), options_.regions.end());
  regions.insert(launched_regions_.begin(), launched_regions_.end());
  return {regions.begin(), regions.end()};
}

Task<void> AwsProvider::acquire(const std::string& region, const std::string& action) {
  // EC2 keeps separate buckets for non-mutating (Describe*) and mutating calls, so a backlog of
  // launches never holds up the describe that tells the waiting launches their machines are up.
  const bool describes = action.starts_with("Describe");
  auto& bucket = buckets_[region + (describes ? "/non-mutating" : "/mutating")];
  if (!bucket)
    bucket = std::make_unique<TokenBucket>(options_.requests_per_second, options_.request_burst);
  const Duration wait = bucket->reserve();
  if (wait > Duration::zero()) co_await sleep_for(wait);
}

Task<Result<std::string>> AwsProvider::call(std::string region, QueryParams params) {
  co_return co_await call(std::move(region), std::move(params),
                          options_.retry.max_attempts.value_or(0));
}

Task<Result<std::string>> AwsProvider::call(std::string region, QueryParams params,
                                            int transient_tries) {
  auto endpoint = endpoint_for(region);
  if (!endpoint) co_return make_error(ProviderErrc::kInvalid, endpoint.error().message());
  SignedCall call{
      region, "ec2", *endpoint, param(params, "Action").value_or("?"), form_encode(params), ""};
  co_return co_await send(std::move(call), transient_tries);
}

Task<Result<std::string>> AwsProvider::call_pricing(std::string operation, std::string json_body) {
  std::string url = options_.pricing_endpoint;
  if (url.empty()) url = options_.env("AWS_ENDPOINT_URL_PRICING").value_or("");
  if (url.empty()) url = options_.env("AWS_ENDPOINT_URL").value_or("");
  if (url.empty()) url = "https://api.pricing.us-east-1.amazonaws.com";
  auto endpoint = http::Endpoint::parse(url);
  if (!endpoint) co_return make_error(ProviderErrc::kInvalid, endpoint.error().message());
  SignedCall call{"us-east-1",
                  "pricing",
                  *endpoint,
                  operation,
                  std::move(json_body),
                  "AWSPriceListService." + operation};
  co_return co_await send(std::move(call), options_.retry.max_attempts.value_or(0));
}

Task<Result<std::string>> AwsProvider::send(SignedCall call, int transient_tries) {
  const std::string& action = call.action;
  const bool json = !call.json_target.empty();
  Backoff backoff(options_.retry);
  int transient_failures = 0;  // answers that did not come (or said "try later"): limited apart
  // Named, not built in the co_await expression: g++ 12 destroys such temporaries twice.
  const std::string bucket = call.region + (json ? "/" + call.service : "");
  for (int attempt = 1;; ++attempt) {
    co_await acquire(bucket, action);
    auto credentials = co_await credentials_.get();
    if (!credentials) co_return credentials.error();
    SignableRequest signable;
    signable.method = "POST";
    signable.target = "/";
    signable.body = call.body;
    signable.headers = {{"Host", call.endpoint.host_header()}};
    if (json) {
      signable.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
      signable.headers.emplace_back("X-Amz-Target", call.json_target);
    } else {
      signable.headers.emplace_back("Content-Type",
                                    "application/x-www-form-urlencoded; charset=utf-8");
    }
    const SigningParams signing{call.region, call.service, amz_date_now(), true, true};
    sign_request(signable, *credentials, signing);
    http::Request request;
    request.method = signable.method;
    request.target = signable.target;
    request.headers = std::move(signable.headers);
    request.body = call.body;
    ++stats_.calls;
    const http::RequestOptions limit{options_.request_timeout};
    auto response = co_await client_.request(call.endpoint, std::move(request), limit);
    Error error;
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      error = make_error(ProviderErrc::kTransient, action + ": " + response.error().message());
    } else if (response->status >= 200 && response->status < 300) {
      co_return std::move(response->body);
    } else {
      error = to_error(json ? parse_json_error(response->status, response->body)
                            : parse_error(response->status, response->body),
                       action);
    }
    const auto code = static_cast<ProviderErrc>(error.code.value());
    if (error.code.category() == provider_category() && code == ProviderErrc::kThrottled)
      ++stats_.throttled;
    if (error.code == make_error_code(ProviderErrc::kAuth)) credentials_.invalidate();
    const bool retryable = error.code.category() == provider_category() && is_retryable(code);
    if (retryable && code == ProviderErrc::kTransient) ++transient_failures;
    const bool tries_left = transient_tries <= 0 || transient_failures < transient_tries;
    if (!retryable || !tries_left || !backoff.allows_attempt(attempt)) {
      logger("aws")->warn("{} call failed action={} region={} attempts={} error=\"{}\"",
                          call.service, action, call.region, attempt, error.detail);
      co_return error;
    }
    ++stats_.retries;
    logger("aws")->debug("{} call retried action={} region={} attempt={} error=\"{}\"",
                         call.service, action, call.region, attempt, error.detail);
    co_await sleep_for(backoff.next_delay());
  }
}

Task<Result<std::vector<Ec2Instance>>> AwsProvider::describe_all(std::string region,
                                                                 std::vector<Ec2Filter> filters) {
  std::vector<Ec2Instance> out;
  DescribeInstancesInput input;
  input.filters = std::move(filters);
  input.max_results = options_.describe_page_size;
  for (;;) {
    QueryParams params = build_describe_instances(input);
    auto body = co_await call(region, std::move(params));
    if (!body) co_return body.error();
    auto page = parse_describe_instances(*body);
    if (!page) co_return page.error();
    for (auto& reservation : page->reservations)
      for (auto& instance : reservation.instances) out.push_back(std::move(instance));
    if (page->next_token.empty()) break;
    input.next_token = std::move(page->next_token);
  }
  co_return out;
}

Task<Result<std::vector<std::string>>> AwsProvider::create_instances(const LaunchRequest& request,
                                                                     std::string region,
                                                                     std::string image,
                                                                     std::string tls_name,
                                                                     std::string client_token) {
  // Derived from the cluster's token: a retried RunInstances carries the same user data.
  const std::vector<std::string> names{tls_name};
  auto certificate = issue_derived_server_certificate(options_.skylet_authority, tls_name, names,
                                                      request.skylet_token);
  if (!certificate) co_return certificate.error();
  auto disk = co_await root_disk(region, image, request.settings);
  if (!disk) co_return disk.error();

  RunInstancesInput input;
  input.image_id = image;
  input.instance_type = request.instance_type;
  input.count = request.nodes;
  input.zone = request.zone;
  input.spot = request.use_spot;
  input.tags = request.tags;
  for (const auto& [key, value] : request.settings.labels) input.tags[key] = value;
  input.security_group_ids = options_.security_group_ids;
  input.instance_profile = options_.instance_profile;
  input.efa_interfaces = request.settings.best_network ? request.settings.efa_interfaces : 0;
  if (!request.settings.ports.empty()) {
    if (input.security_group_ids.empty()) {
      // Without the operator's groups the nodes would be in the VPC's default group, which lets
      // the controller reach skylet: they stay in it, beside the cluster's own.
      std::vector<Ec2Filter> named_default{{"group-name", {"default"}}};
      auto fallback = co_await security_groups(region, std::move(named_default));
      if (!fallback) co_return fallback.error();
      if (fallback->empty()) {
        co_return make_error(ProviderErrc::kInvalid,
                             "resources.ports: region " + region +
                                 " has no default security group; set aws_security_groups");
      }
      input.security_group_ids.push_back(fallback->front().group_id);
    }
    auto opened = co_await open_ports(region, request.cluster_name, request.settings.ports);
    if (!opened) co_return opened.error();
    input.security_group_ids.push_back(*opened);
  }
  input.tags[std::string(kClusterTag)] = request.cluster_name;
  input.tags[std::string(kControllerTag)] = options_.controller_id;
  input.tags[std::string(kNameTag)] = request.cluster_name;
  SkyletBoot boot{request.skylet_token, options_.skylet_port, *certificate, options_.notice_signal};
  boot.container = wants_container(request.settings);
  boot.gpus = request.accelerator_count > 0;
  input.user_data = render_user_data(boot);
  input.root_disk = std::move(*disk);
  input.client_token = client_token;
  // From now on only a fresh describe tells what it made.
  census_of(region).sent(client_token, request.cluster_name);
  QueryParams params = build_run_instances(input);
  auto body = co_await call(region, std::move(params), options_.create_tries);
  if (!body && is_retryable(static_cast<ProviderErrc>(body.error().code.value())) &&
      body.error().code.category() == provider_category()) {
    // The answer never came (or said "try again"): the call may still have made instances.
    // Their token tells; a launch elsewhere must not leave them behind.
    auto made = co_await made_by(region, client_token);
    if (made && !made->empty()) {
      logger("aws")->warn("a lost RunInstances answer resolved cluster={} region={} count={}",
                          request.cluster_name, region, made->size());
      co_return std::move(*made);
    }
  }
  if (!body) co_return body.error();
  auto reservation = parse_run_instances(*body);
  if (!reservation) co_return reservation.error();
  std::vector<std::string> ids;
  for (const auto& instance : reservation->instances) ids.push_back(instance.instance_id);
  logger("aws")->info("instances requested cluster={} region={} zone={} reservation={} count={}",
                      request.cluster_name, region, request.zone, reservation->reservation_id,
                      ids.size());
  co_return ids;
}

Task<Result<Cluster>> AwsProvider::launch(LaunchRequest request) {
  if (request.nodes < 1)
    co_return make_error(ProviderErrc::kInvalid, "a cluster needs at least one node");
  if (!valid_token(request.skylet_token)) {
    co_return make_error(ProviderErrc::kInvalid,
                         "the skylet token must be 16+ letters, digits, '-' or '_'");
  }
  const std::string region = request.region.empty() ? options_.default_region : request.region;
  if (auto refused = refuse_volumes(request.settings, "aws"); !refused) co_return refused.error();
  if (auto checked = check_node_settings(request.settings); !checked) co_return checked.error();
  std::string image = machine_image(request.settings);
  if (image.empty()) {
    const auto configured = options_.images.find(region);
    if (configured == options_.images.end())
      co_return make_error(ProviderErrc::kInvalid, "no image configured for region " + region);
    image = configured->second;
  }
  for (const auto& mount : request.mounts) {
    if (mount.source.empty() && mount.mode != MountRequest::Mode::kByNode) {
      co_return make_error(ProviderErrc::kInvalid,
                           "bucket mounts reach local machines only; an EC2 node cannot mount " +
                               mount.bucket + " at " + mount.destination);
    }
  }
  const std::string tls_name = skylet_tls_name(request.cluster_name);
  launched_regions_.insert(region);
  const std::string client_token = client_token_for(request.idempotency_token);
  const auto deadline = Clock::now() + options_.launch_timeout;

  // What this token made before (a crash, a lost answer) is this launch's cluster: adopt it.
  std::vector<std::string> ids;
  if (request.token_may_exist) {
    auto made = co_await made_before(region, client_token);
    if (!made) co_return made.error();
    ids = ids_of(*made);
    if (!ids.empty())
      logger("aws")->debug("instances of an earlier call adopted cluster={} region={} count={}",
                           request.cluster_name, region, ids.size());
    if (request.task_running && all_running(*made, request.nodes)) {
      Cluster cluster{request.cluster_name, "aws", region, request.zone, request.instance_type,
                      request.use_spot,     {}};
      add_nodes(cluster, running_instances(*made), tls_name, skylet_reach());
      co_return cluster;
    }
  }
  if (ids.empty()) {
    auto created = co_await create_instances(request, region, image, tls_name, client_token);
    if (!created) co_return created.error();
    ids = std::move(*created);
  }
  if (static_cast<int>(ids.size()) != request.nodes) {
    co_await discard(region, ids);
    co_return make_error(ProviderErrc::kNoCapacity,
                         "RunInstances returned " + std::to_string(ids.size()) + " of " +
                             std::to_string(request.nodes) + " instances");
  }

  auto running = co_await wait_running(region, ids, deadline);
  if (!running) {
    co_await discard(region, ids);
    co_return running.error();
  }
  Cluster cluster{request.cluster_name, "aws", region, request.zone, request.instance_type,
                  request.use_spot,     {}};
  const std::vector<RunningInstance> instances = running_instances(*running);
  auto up = co_await bring_up_nodes(node_client(), cluster, instances, request, tls_name,
                                    skylet_reach(), deadline);
  if (!up) {
    co_await discard(region, ids);
    co_return up.error();
  }
  if (!request.stray_tokens.empty()) co_await discard_strays(request.stray_tokens);
  logger("aws")->info("cluster up cluster={} region={} zone={} nodes={}", request.cluster_name,
                      region, cluster.zone, cluster.nodes.size());
  co_return cluster;
}

// The instances launches in one region are waiting for. One DescribeInstances per poll covers all
// of them, however many launches are in flight: the waiter that finds nobody polling polls for
// everyone, the others wait to be told. A burst of launches thus costs the rate limiter one
// describe per poll interval, not one per launch.
struct AwsProvider::LaunchWatch {
  explicit LaunchWatch(asio::any_io_executor executor) : changed(executor) {}
  std::map<std::string, int> waiters;       // instance id -> launches waiting for it
  std::map<std::string, Ec2Instance> seen;  // the latest description of each
  std::map<std::string, Error> failed;      // ids whose last describe failed (not "unknown id")
  Clock::time_point next_poll = Clock::time_point::min();
  bool polling = false;
  Notifier changed;
};

Task<void> AwsProvider::poll_launches(std::string region, LaunchWatch* watch) {
  // Whatever happens to this coroutine (even cancellation), the next waiter can take over.
  struct Handover {
    LaunchWatch* watch;
    ~Handover() {
      watch->polling = false;
      watch->changed.notify_all();
    }
  } handover{watch};
  if (Clock::now() < watch->next_poll) co_await sleep_for(watch->next_poll - Clock::now());
  std::vector<std::string> ids;
  for (const auto& [id, count] : watch->waiters) ids.push_back(id);
  constexpr std::size_t kValuesPerFilter = 200;  // EC2's limit on one filter's values
  for (std::size_t from = 0; from < ids.size(); from += kValuesPerFilter) {
    const auto to = std::min(ids.size(), from + kValuesPerFilter);
    std::vector<Ec2Filter> filters{
        {"instance-id", std::vector<std::string>(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                                 ids.begin() + static_cast<std::ptrdiff_t>(to))}};
    auto instances = co_await describe_all(region, filters);
    // The poller's own launch was cancelled: nobody else's launch failed; the next one polls.
    if (!instances && is_cancellation(instances.error().code)) co_return;
    for (std::size_t i = from; i < to; ++i) {
      if (!watch->waiters.contains(ids[i])) continue;  // its launch ended meanwhile
      // Right after RunInstances EC2 may not know the ids yet (eventual consistency).
      if (!instances && instances.error().code != make_error_code(ProviderErrc::kNotFound))
        watch->failed.insert_or_assign(ids[i], instances.error());
      else
        watch->failed.erase(ids[i]);
    }
    if (!instances) continue;
    for (auto& instance : *instances) {
      if (watch->waiters.contains(instance.instance_id))
        watch->seen[instance.instance_id] = std::move(instance);
    }
  }
  watch->next_poll = Clock::now() + options_.poll_interval;
}

Task<Result<std::vector<Ec2Instance>>> AwsProvider::wait_running(std::string region,
                                                                 std::vector<std::string> ids,
                                                                 Clock::time_point deadline) {
  auto& slot = launch_watches_[region];
  if (!slot) slot = std::make_unique<LaunchWatch>(executor_);
  LaunchWatch* watch = slot.get();
  for (const auto& id : ids) ++watch->waiters[id];
  struct Release {
    LaunchWatch* watch;
    const std::vector<std::string>& ids;
    ~Release() {
      for (const auto& id : ids) {
        if (--watch->waiters[id] > 0) continue;
        watch->waiters.erase(id);
        watch->seen.erase(id);
        watch->failed.erase(id);
      }
    }
  } release{watch, ids};

  for (;;) {
    std::size_t running = 0;
    for (const auto& id : ids) {
      auto found = watch->seen.find(id);
      if (found == watch->seen.end()) continue;
      const Ec2Instance& instance = found->second;
      if (instance.state == Ec2State::kRunning) {
        ++running;
      } else if (instance.state != Ec2State::kPending) {
        // Gone before it ran: capacity taken back (spot) or an internal failure.
        const bool capacity = instance.state_reason_code.find("Capacity") != std::string::npos ||
                              instance.state_reason_code.starts_with("Server.Spot");
        co_return make_error(capacity ? ProviderErrc::kNoCapacity : ProviderErrc::kTransient,
                             "instance " + instance.instance_id + " ended while starting: " +
                                 instance.state_reason_code + " " + instance.state_reason_message);
      }
    }
    if (running == ids.size()) {
      std::vector<Ec2Instance> ordered;  // in RunInstances order: that order is the rank
      for (const auto& id : ids) ordered.push_back(watch->seen.at(id));
      co_return ordered;
    }
    for (const auto& id : ids)
      if (auto failed = watch->failed.find(id); failed != watch->failed.end())
        co_return failed->second;
    if (Clock::now() + options_.poll_interval > deadline)
      co_return make_error(ProviderErrc::kTransient, "instances did not reach running in time");
    if (!watch->polling) {
      watch->polling = true;
      co_await poll_launches(region, watch);
    } else {
      co_await watch->changed.wait();
    }
  }
}

SkyletReach AwsProvider::skylet_reach() const {
  return {options_.skylet_port, options_.skylet_authority.certificate_pem, options_.use_public_ip,
          options_.scratch_dir, options_.poll_interval};
}

Task<void> AwsProvider::discard(std::string region, std::vector<std::string> ids) {
  if (ids.empty()) co_return;
  QueryParams params = build_terminate_instances(ids);
  auto terminated = co_await call(region, std::move(params));
  if (!terminated) {
    logger("aws")->error("cannot terminate instances of a failed launch region={} error=\"{}\"",
                         region, terminated.error().detail);
  }
}

Task<Result<std::vector<Ec2Instance>>> AwsProvider::described_made_by(std::string region,
                                                                      std::string client_token) {
  std::vector<Ec2Filter> filters{
      {"client-token", {client_token}},
      {"instance-state-name", {"pending", "running", "stopping", "stopped"}}};
  co_return co_await describe_all(region, filters);
}

Task<Result<std::vector<std::string>>> AwsProvider::made_by(std::string region,
                                                            std::string client_token) {
  auto instances = co_await described_made_by(region, client_token);
  if (!instances) co_return instances.error();
  co_return in_launch_order(std::move(*instances));
}

AdoptionCensus<Ec2Instance>& AwsProvider::census_of(const std::string& region) {
  auto& census = censuses_[region];
  if (!census) {
    auto list = [this, region]() -> Task<Result<std::vector<Ec2Instance>>> {
      if (options_.census_home && options_.census_home != this) {
        // Named, not a temporary of the co_await: g++ 12 destroys such a lambda's captures twice.
        AwsProvider* home = options_.census_home;
        std::function<Task<Result<std::vector<Ec2Instance>>>()> listed_at_home = [home, region] {
          return home->controller_instances(region);
        };
        co_return co_await ShardPool::call_on<Result<std::vector<Ec2Instance>>>(
            options_.census_home_executor, std::move(listed_at_home));
      }
      std::vector<Ec2Filter> ours{
          {"tag:" + std::string(kControllerTag), {options_.controller_id}},
          {"instance-state-name", {"pending", "running", "stopping", "stopped"}}};
      auto instances = co_await describe_all(region, std::move(ours));
      if (instances)
        logger("aws")->info(
            "instances of this controller described for adoption region={} count={}", region,
            instances->size());
      co_return instances;
    };
    census = std::make_unique<AdoptionCensus<Ec2Instance>>(
        executor_, options_.census_lifetime, std::move(list),
        [](const Ec2Instance& instance) { return instance.client_token; }, launched_before);
  }
  return *census;
}

Task<Result<std::vector<Ec2Instance>>> AwsProvider::controller_instances(std::string region) {
  co_return co_await census_of(region).listing();
}

Task<Result<std::vector<Ec2Instance>>> AwsProvider::made_before(std::string region,
                                                                std::string client_token) {
  auto fresh = [this, region, client_token] { return described_made_by(region, client_token); };
  co_return co_await census_of(region).made_before(client_token, fresh);
}

Task<Result<std::optional<BlockDeviceMapping>>> AwsProvider::root_disk(std::string region,
                                                                       std::string image,
                                                                       NodeSettings settings) {
  const bool asks_for_disk = settings.disk_size_gb || settings.disk_tier;
  const bool users_image = !machine_image(settings).empty();
  // The user's AMI is looked up even without disk settings: an unknown one is refused by the
  // field's name here rather than as RunInstances' bare InvalidAMIID.NotFound.
  if (!asks_for_disk && !(users_image && image.starts_with("ami-"))) co_return std::nullopt;
  std::optional<BlockDeviceMapping> mapping;
  if (asks_for_disk) {
    auto volume = root_volume_for(settings);
    if (!volume) co_return volume.error();
    mapping = BlockDeviceMapping{options_.image_root_device, std::move(*volume)};
  }
  if (!image.starts_with("ami-")) co_return mapping;
  auto body = co_await call(region, build_describe_images(image));
  const std::string field = users_image ? "resources.image_id: " : "the configured image ";
  if (!body) {
    const auto code = static_cast<ProviderErrc>(body.error().code.value());
    if (body.error().code.category() == provider_category() &&
        (code == ProviderErrc::kNotFound || code == ProviderErrc::kInvalid)) {
      co_return make_error(ProviderErrc::kInvalid, field + image + " is not an image in " + region +
                                                       ": " + body.error().message());
    }
    co_return body.error();
  }
  auto images = parse_describe_images(*body);
  if (!images) co_return images.error();
  if (images->empty())
    co_return make_error(ProviderErrc::kInvalid, field + image + " is not an image in " + region);
  if (mapping && !images->front().root_device_name.empty())
    mapping->device_name = images->front().root_device_name;
  co_return mapping;
}

Task<Result<std::vector<Ec2SecurityGroup>>> AwsProvider::security_groups(
    std::string region, std::vector<Ec2Filter> filters) {
  auto body = co_await call(region, build_describe_security_groups(filters));
  if (!body) co_return body.error();
  co_return parse_describe_security_groups(*body);
}

Task<Result<std::string>> AwsProvider::open_ports(std::string region, std::string cluster_name,
                                                  std::vector<PortRange> ports) {
  const std::string name = ports_group_name(cluster_name);
  std::string group_id;
  // Looked up first: an earlier call (a retry, a restart) may have made it.
  for (int looks = 0; group_id.empty(); ++looks) {
    std::vector<Ec2Filter> named{{"group-name", {name}}};
    auto found = co_await security_groups(region, std::move(named));
    if (!found) co_return found.error();
    if (!found->empty()) {
      group_id = found->front().group_id;
      break;
    }
    if (looks > 0)
      co_return make_error(ProviderErrc::kTransient, "security group " + name + " vanished");
    const std::map<std::string, std::string> tags{
        {std::string(kClusterTag), cluster_name},
        {std::string(kControllerTag), options_.controller_id},
        {std::string(kNameTag), name}};
    auto created = co_await call(
        region,
        build_create_security_group(name, "skyd cluster " + cluster_name + ": task ports", tags));
    if (created) {
      auto id = parse_create_security_group(*created);
      if (!id) co_return id.error();
      group_id = *id;
      logger("aws")->info("security group made cluster={} region={} group={}", cluster_name, region,
                          group_id);
    } else if (created.error().message().find("InvalidGroup.Duplicate") == std::string::npos) {
      co_return created.error();
    }  // a duplicate: made meanwhile, look again
  }
  auto authorized = co_await call(region, build_authorize_ingress(group_id, ports));
  if (!authorized &&
      authorized.error().message().find("InvalidPermission.Duplicate") == std::string::npos)
    co_return authorized.error();
  co_return group_id;
}

Task<Result<void>> AwsProvider::close_ports(std::string region,
                                            std::vector<std::string> cluster_names,
                                            Clock::time_point deadline) {
  std::vector<Ec2SecurityGroup> groups;
  for (auto& names : in_chunks(cluster_names, kMaxFilterValues)) {
    std::vector<Ec2Filter> owned{{"tag:" + std::string(kClusterTag), std::move(names)},
                                 {"tag:" + std::string(kControllerTag), {options_.controller_id}}};
    auto found = co_await security_groups(region, std::move(owned));
    if (!found) co_return found.error();
    groups.insert(groups.end(), found->begin(), found->end());
  }
  for (const auto& group : groups) {
    for (;;) {
      auto deleted = co_await call(region, build_delete_security_group(group.group_id));
      if (deleted || deleted.error().code == make_error_code(ProviderErrc::kNotFound)) break;
      // Instances shutting down still hold it: EC2 lets it go once they are terminated.
      if (deleted.error().message().find("DependencyViolation") == std::string::npos ||
          Clock::now() > deadline)
        co_return deleted.error();
      co_await sleep_for(options_.poll_interval);
    }
    const auto cluster = group.tags.find(std::string(kClusterTag));
    logger("aws")->info("security group deleted cluster={} region={} group={}",
                        cluster == group.tags.end() ? "" : cluster->second, region, group.group_id);
  }
  co_return Result<void>{};
}

Task<void> AwsProvider::discard_strays(std::vector<std::string> tokens) {
  for (const auto& region : all_regions()) {
    for (const auto& token : tokens) {
      auto made = co_await made_by(region, client_token_for(token));
      if (!made || made->empty()) continue;
      logger("aws")->warn("instances of a lost answer terminated region={} count={}", region,
                          made->size());
      co_await discard(region, *made);
    }
  }
}

Task<Result<std::vector<InstanceStatus>>> AwsProvider::describe(
    std::vector<std::string> cluster_names) {
  if (cluster_names.empty()) co_return std::vector<InstanceStatus>{};
  const std::set<std::string> wanted(cluster_names.begin(), cluster_names.end());
  auto all = co_await descriptions_.call(std::move(cluster_names));
  if (!all) co_return all.error();
  std::vector<InstanceStatus> mine;
  for (const auto& status : *all)
    if (wanted.contains(status.cluster_name)) mine.push_back(status);
  co_return mine;
}

Task<Result<std::vector<InstanceStatus>>> AwsProvider::describe_now(
    std::vector<std::string> cluster_names) {
  std::vector<InstanceStatus> out;
  for (const auto& region : all_regions()) {
    for (auto& names : in_chunks(cluster_names, kMaxFilterValues)) {
      std::vector<Ec2Filter> filters{{"tag:" + std::string(kClusterTag), std::move(names)}};
      auto instances = co_await describe_all(region, filters);
      if (!instances) co_return instances.error();
      for (const auto& instance : *instances) out.push_back(to_instance_status(instance));
    }
  }
  co_return out;
}

Task<Result<void>> AwsProvider::terminate(std::string cluster_name) {
  std::vector<std::string> names{std::move(cluster_name)};
  co_return co_await terminations_.call(std::move(names));
}

Task<Result<void>> AwsProvider::terminate_now(std::vector<std::string> cluster_names) {
  const auto deadline = Clock::now() + options_.terminate_timeout;
  for (const auto& region : all_regions()) {
    for (bool asked = false;; asked = true) {
      std::vector<std::string> ids;
      for (auto& names : in_chunks(cluster_names, kMaxFilterValues)) {
        std::vector<Ec2Filter> filters{
            {"tag:" + std::string(kClusterTag), std::move(names)},
            {"instance-state-name", {"pending", "running", "stopping", "stopped"}}};
        auto instances = co_await describe_all(region, filters);
        if (!instances) co_return instances.error();
        for (const auto& instance : *instances) ids.push_back(instance.instance_id);
      }
      if (ids.empty()) break;  // nothing left that is not already going
      // Still reported after a terminate: give the cloud a moment before asking again.
      if (asked) co_await sleep_for(options_.poll_interval);
      for (auto& batch : in_chunks(ids, kMaxTerminateBatch)) {
        auto changes = co_await call(region, build_terminate_instances(batch));
        if (!changes && changes.error().code != make_error_code(ProviderErrc::kNotFound))
          co_return changes.error();
      }
      logger("aws")->info("instances terminating {} region={} count={}",
                          describe_names(cluster_names), region, ids.size());
      if (Clock::now() > deadline) {
        co_return make_error(ProviderErrc::kTransient,
                             describe_names(cluster_names) + " still has live instances");
      }
      // Loop: describe again to confirm every instance left pending/running.
    }
    auto closed = co_await close_ports(region, cluster_names, deadline);
    if (!closed) co_return closed.error();
    if (auto census = censuses_.find(region); census != censuses_.end())
      for (const auto& name : cluster_names) census->second->torn_down(name);
  }
  co_return Result<void>{};
}

Task<Result<std::vector<std::string>>> AwsProvider::list_clusters() {
  std::set<std::string> names;
  const auto listed_since = std::exchange(swept_, true) ? Clock::now() : made_at_;
  for (const auto& region : all_regions()) {
    // The controller's instances but those already shutting down (on their way out: nothing left
    // to sweep there), as adoption lists them: a restart's sweep shares the listing its adoption
    // makes instead of a second one of every instance beside it. A later sweep takes only a
    // listing asked for since it began: one from before could name clusters torn down since.
    // The sweep runs on the first shard, whose census lists by itself.
    auto instances = co_await census_of(region).listing_since(listed_since);
    if (!instances) co_return instances.error();
    for (const auto& instance : *instances)
      if (auto name = instance.tag(kClusterTag); !name.empty()) names.insert(name);
    // A cluster whose instances are gone but whose ports group is left (skyd stopped between
    // the two) is a cluster to sweep too: terminating it deletes the group.
    std::vector<Ec2Filter> ours{{"tag:" + std::string(kControllerTag), {options_.controller_id}}};
    auto groups = co_await security_groups(region, std::move(ours));
    if (!groups) co_return groups.error();
    for (const auto& group : *groups) {
      const auto tag = group.tags.find(std::string(kClusterTag));
      if (tag != group.tags.end() && !tag->second.empty()) names.insert(tag->second);
    }
  }
  co_return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace skyd::providers::aws
