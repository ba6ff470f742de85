#include "daemon/autostop.hpp"

#include "daemon/controller/controller.hpp"
#include "providers/aws/instance_metadata.hpp"
#include "reactor/http_client.hpp"
#include "reactor/http_server.hpp"
#include "reactor/log.hpp"
#include "reactor/metrics.hpp"
#include "reactor/sleep.hpp"

#include <algorithm>

namespace skyd::daemon {
namespace aws = providers::aws;
namespace {

std::string seconds_text(Duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(duration).count()) + "s";
}

metrics::Gauge& idle_gauge() {
  static auto& idle = metrics::registry().gauge(
      "skyd_autostop_idle_seconds",
      "How long skyd has had no open job and no client (0 while busy or autostop is off)", {});
  return idle.with();
}

metrics::Counter& stops(const std::string& result) {
  static auto& family = metrics::registry().counter(
      "skyd_autostop_stops_total",
      "StopInstances calls autostop made for its own instance, by result (requested, failed)",
      {"result"});
  return family.with({result});
}

// Whether the instance carries skyd-role=controller (sky controller up's tag).
Task<Result<bool>> is_controller_vm(aws::AwsProvider& provider, aws::InstanceIdentity identity) {
  aws::DescribeInstancesInput input;
  input.instance_ids = {identity.instance_id};
  auto answer = co_await provider.call(identity.region, aws::build_describe_instances(input));
  if (!answer) co_return answer.error();
  auto parsed = aws::parse_describe_instances(*answer);
  if (!parsed) co_return parsed.error();
  for (const auto& reservation : parsed->reservations) {
    for (const auto& instance : reservation.instances) {
      if (instance.instance_id == identity.instance_id &&
          instance.tag(aws::kRoleTag) == aws::kControllerVmRole)
        co_return true;
    }
  }
  co_return false;
}

Task<Result<std::vector<aws::InstanceStateChange>>> stop_instance(aws::AwsProvider& provider,
                                                                  aws::InstanceIdentity identity) {
  std::vector<std::string> ids{identity.instance_id};
  auto answer = co_await provider.call(identity.region, aws::build_stop_instances(ids));
  if (!answer) co_return answer.error();
  co_return aws::parse_stop_instances(*answer);
}

std::string state_after(const std::vector<aws::InstanceStateChange>& changes) {
  if (changes.empty()) return "unknown";
  return std::string(aws::to_string(changes.front().current));
}

}  // namespace

Autostop::Autostop(asio::any_io_executor executor, AutostopOptions options, Controller* controller,
                   const http::Server* api)
    : options_(std::move(options)),
      controller_(controller),
      api_(api),
      group_(std::move(executor), "autostop") {}

Task<void> Autostop::start() {
  if (options_.idle && *options_.idle == Duration::zero()) {
    logger("skyd")->info("autostop off (autostop_idle: off)");
    co_return;
  }
  group_.spawn(run());
  co_return;
}

Task<void> Autostop::stop() {
  group_.cancel_all();
  co_await group_.wait();
}

Task<bool> Autostop::busy() {
  if (api_->stats().open_connections > 0) co_return true;
  auto open = co_await controller_->queue_summary(std::nullopt, true);
  co_return !open || open->jobs > 0;
}

Task<void> Autostop::run() {
  auto log = logger("skyd");
  auto executor = co_await asio::this_coro::executor;
  const auto metadata_url = aws::metadata_service_url(options_.aws.env);
  if (!metadata_url) {
    if (options_.idle) log->warn("autostop off: instance metadata is disabled");
    co_return;
  }
  auto metadata = http::Endpoint::parse(*metadata_url);
  if (!metadata) {
    if (options_.idle) log->warn("autostop off: {}", metadata.error().message());
    co_return;
  }
  http::Client metadata_client(executor);
  auto identity =
      co_await aws::instance_identity(metadata_client, *metadata, options_.metadata_timeout);
  if (!identity) {
    // Not on EC2 (nothing answers at the metadata address): nothing to stop.
    if (options_.idle) {
      log->warn("autostop off: no EC2 instance metadata error=\"{}\"", identity.error().message());
    }
    co_return;
  }
  aws::AwsProvider provider(executor, options_.aws);
  Duration idle = options_.idle.value_or(kDefaultAutostopIdle);
  if (!options_.idle) {
    auto controller_vm = co_await is_controller_vm(provider, *identity);
    if (!controller_vm) {
      log->warn("autostop off: cannot tell whether instance {} is a controller VM error=\"{}\"",
                identity->instance_id, controller_vm.error().message());
      co_return;
    }
    if (!*controller_vm) {
      log->info("autostop off: instance {} is not a controller VM (no tag {}={})",
                identity->instance_id, aws::kRoleTag, aws::kControllerVmRole);
      co_return;
    }
  }
  log->info("autostop on idle={} instance={} region={}", seconds_text(idle), identity->instance_id,
            identity->region);
  // Checked often enough that the stop comes within a twentieth of the idle time.
  const Duration every =
      std::clamp<Duration>(idle / 20, std::chrono::milliseconds(100), std::chrono::seconds(15));
  auto busy_since = Clock::now();
  for (;;) {
    co_await sleep_for(every);
    if (co_await busy()) {
      busy_since = Clock::now();
      idle_gauge().set(0);
      continue;
    }
    const Duration quiet = Clock::now() - busy_since;
    idle_gauge().set(std::chrono::duration<double>(quiet).count());
    if (quiet < idle) continue;
    const std::string reason = "no open job and no client for " + seconds_text(quiet);
    log->info("autostop stopping instance={} region={} reason=\"{}\"", identity->instance_id,
              identity->region, reason);
    auto changes = co_await stop_instance(provider, *identity);
    if (!changes) {
      stops("failed").inc();
      log->warn("autostop stop failed instance={} error=\"{}\"; trying again after {} idle",
                identity->instance_id, changes.error().message(), seconds_text(idle));
      busy_since = Clock::now();
      continue;
    }
    stops("requested").inc();
    log->info("autostop stop requested instance={} state={}", identity->instance_id,
              state_after(*changes));
    co_return;  // the machine goes down; systemd stops skyd with it
  }
}

}  // namespace skyd::daemon
