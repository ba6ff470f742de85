// Latency of EC2 calls through the AWS provider against an in-process fakecloud with virtual
// nodes: RunInstances, DescribeInstances (one call covering every cluster) and a whole launch
// (RunInstances, DescribeInstances until running, skylet health). p50/p99 per row, as a table.
// fakecloud runs on its own shard, the provider on another, so the two share no thread.
//
//   build/bench/fakecloud_bench [--calls N] [--concurrency C]

#include "providers/aws/aws_provider.hpp"
#include "reactor/log.hpp"
#include "reactor/shard_pool.hpp"
#include "tests/fakecloud/fake_cloud.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

using namespace skyd;
using providers::aws::AwsProvider;

namespace {

enum class Op { kRunInstances, kDescribe, kLaunch };

struct Sample {
  std::vector<double> latencies_ms;
  int failures = 0;
};

providers::LaunchRequest launch_request(int id) {
  providers::LaunchRequest request;
  request.cluster_name = "bench-" + std::to_string(id);
  request.nodes = 1;
  request.instance_type = "m5.large";
  request.region = "us-east-1";
  request.use_spot = true;
  request.idempotency_token = request.cluster_name + "-token";
  request.skylet_token = "bench-token-" + std::to_string(100000 + id);
  return request;
}

Task<Sample> worker(AwsProvider* provider, Op op, int first, int count,
                    std::vector<std::string> clusters) {
  Sample sample;
  for (int i = first; i < first + count; ++i) {
    const auto start = Clock::now();
    bool ok = false;
    if (op == Op::kRunInstances) {
      providers::aws::RunInstancesInput input;
      input.image_id = "ami-0a1b2c3d4e5f60718";
      input.instance_type = "m5.large";
      input.client_token = "bench-run-" + std::to_string(i);
      input.tags = {{"skyd-cluster", "bench-run-" + std::to_string(i)}};
      providers::aws::QueryParams params = providers::aws::build_run_instances(input);
      std::string region = "us-east-1";
      ok = static_cast<bool>(co_await provider->call(std::move(region), std::move(params)));
    } else if (op == Op::kDescribe) {
      ok = static_cast<bool>(co_await provider->describe(clusters));
    } else {
      ok = static_cast<bool>(co_await provider->launch(launch_request(i)));
    }
    sample.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!ok) ++sample.failures;
  }
  co_return sample;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

void row(ShardPool& pool, AwsProvider* provider, const char* name, Op op, int calls,
         int concurrency, std::vector<std::string> clusters, int id_base) {
  const auto start = Clock::now();
  std::vector<std::future<Sample>> futures;
  const int per_worker = std::max(1, calls / concurrency);
  for (int w = 0; w < concurrency; ++w) {
    const int first = id_base + w * per_worker;
    futures.push_back(pool.submit<Sample>(0, [provider, op, first, per_worker, clusters] {
      return worker(provider, op, first, per_worker, clusters);
    }));
  }
  Sample all;
  for (auto& future : futures) {
    Sample sample = future.get();
    all.failures += sample.failures;
    all.latencies_ms.insert(all.latencies_ms.end(), sample.latencies_ms.begin(),
                            sample.latencies_ms.end());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto n = all.latencies_ms.size();
  const double p50 = percentile(all.latencies_ms, 0.50);
  const double p99 = percentile(all.latencies_ms, 0.99);
  std::printf("| %-36s | %6zu | %4d | %8.2f | %8.2f | %9.0f | %4d |\n", name, n, concurrency, p50,
              p99, static_cast<double>(n) / seconds, all.failures);
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 1000, concurrency = 16;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--calls" && i + 1 < argc)
      calls = std::atoi(argv[++i]);
    else if (arg == "--concurrency" && i + 1 < argc)
      concurrency = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: fakecloud_bench [--calls N] [--concurrency C]\n");
      return 2;
    }
  }
  init_logging(LogOptions{.level = "error", .file = {}, .timestamps = true});

  ShardPool cloud_shard(1);
  fakecloud::FakeCloudOptions cloud_options;
  cloud_options.mode = fakecloud::Mode::kVirtual;
  cloud_options.keys = {{"AKIDBENCH", "bench-secret", ""}};
  cloud_options.chaos.virtual_boot = Duration::zero();
  fakecloud::FakeCloud cloud(cloud_shard.executor(0), cloud_options);
  http::ServerOptions server_options;
  http::Server api(cloud_shard.executors(), cloud.router(), server_options);
  http::Server nodes(cloud_shard.executors(), cloud.virtual_node_router());
  if (!api.listen_tcp("127.0.0.1", 0) || !cloud.listen_virtual_nodes(nodes, "127.0.0.1", 0))
    return 1;
  api.start();
  nodes.start();
  cloud_shard.start();

  ShardPool provider_shard(1);
  provider_shard.start();
  auto make = [&](double rate, double burst) {
    providers::aws::AwsProviderOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(api.tcp_port());
    options.env = [](const char* name) -> std::optional<std::string> {
      if (std::string_view(name) == "AWS_ACCESS_KEY_ID") return "AKIDBENCH";
      if (std::string_view(name) == "AWS_SECRET_ACCESS_KEY") return "bench-secret";
      return std::nullopt;
    };
    options.skylet_port = nodes.tcp_port();
    options.poll_interval = std::chrono::milliseconds(5);
    options.requests_per_second = rate;
    options.request_burst = burst;
    return std::make_unique<AwsProvider>(provider_shard.executor(0), options);
  };
  auto fast = make(1e9, 1e9);

  std::printf(
      "fakecloud virtual mode, provider and fakecloud on one shard each, loopback HTTP\n\n");
  std::printf("| %-36s | %6s | %4s | %8s | %8s | %9s | %4s |\n", "operation", "calls", "conc",
              "p50 ms", "p99 ms", "calls/s", "fail");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(38, '-').c_str(), std::string(8, '-').c_str(),
              std::string(6, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str(), std::string(11, '-').c_str(),
              std::string(6, '-').c_str());
  row(provider_shard, fast.get(), "RunInstances", Op::kRunInstances, calls, 1, {}, 0);
  row(provider_shard, fast.get(), "RunInstances", Op::kRunInstances, calls, concurrency, {}, calls);
  std::vector<std::string> clusters;
  for (int i = 0; i < 100; ++i) clusters.push_back("bench-run-" + std::to_string(i));
  row(provider_shard, fast.get(), "DescribeInstances (100 clusters)", Op::kDescribe, calls / 4, 1,
      clusters, 0);
  row(provider_shard, fast.get(), "DescribeInstances (100 clusters)", Op::kDescribe, calls / 4,
      concurrency, clusters, 0);
  row(provider_shard, fast.get(), "launch (run+describe+health)", Op::kLaunch, calls / 4,
      concurrency, {}, 0);
  // The same burst through the default-shaped bucket: smoothed to the rate, never throttled.
  auto limited = make(100, 50);
  row(provider_shard, limited.get(), "RunInstances, bucket 100/s burst 50", Op::kRunInstances, 200,
      concurrency, {}, 10 * calls);

  fast.reset();
  limited.reset();
  provider_shard.stop();
  auto* target = &cloud;
  cloud_shard.submit<void>(0, [target] { return target->shutdown(); }).get();
  cloud_shard.submit<void>(0, [&api] { return api.drain(std::chrono::milliseconds(100)); }).get();
  cloud_shard.submit<void>(0, [&nodes] { return nodes.drain(std::chrono::milliseconds(100)); })
      .get();
  cloud_shard.stop();
  return 0;
}
