#include "reactor/shard_pool.hpp"

#include "reactor/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skyd {
namespace {
thread_local std::optional<std::size_t> this_thread_shard;

Task<void> drain_group(TaskGroup& group, Duration grace) {
  using namespace asio::experimental::awaitable_operators;
  group.cancel_all();
  asio::steady_timer deadline(group.executor(), grace);
  co_await (group.wait() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (group.size() > 0) {
    logger("reactor")->warn("shutdown grace expired tasks_left={}", group.size());
  }
}
}  // namespace

ShardPool::Shard::Shard(std::size_t shard_index)
    : index(shard_index),
      keep_running(asio::make_work_guard(context)),
      group(context.get_executor(), "shard-" + std::to_string(shard_index)) {}

ShardPool::ShardPool(std::size_t shards) {
  if (shards == 0) shards = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>(i));
}

ShardPool::~ShardPool() {
  stop();
}

std::vector<asio::any_io_executor> ShardPool::executors() {
  std::vector<asio::any_io_executor> all;
  for (auto& shard : shards_) all.push_back(shard->context.get_executor());
  return all;
}

std::optional<std::size_t> ShardPool::current_shard() {
  return this_thread_shard;
}

void ShardPool::start() {
  if (started_) return;
  started_ = true;
  for (auto& shard : shards_) {
    shard->thread = std::thread([raw = shard.get()] {
      this_thread_shard = raw->index;
      raw->context.run();
    });
  }
}

void ShardPool::spawn(std::size_t shard, std::function<Task<void>()> make_work) {
  Shard* target = shards_.at(shard).get();
  asio::post(target->context, [target, make = std::move(make_work)]() mutable {
    target->group.spawn(run_made(std::move(make)));
  });
}

void ShardPool::stop(Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  if (started_) {
    std::vector<std::future<void>> drained;
    for (auto& shard : shards_) {
      TaskGroup* group = &shard->group;
      drained.push_back(
          asio::co_spawn(shard->context, drain_group(*group, grace), asio::use_future));
    }
    for (auto& done : drained) done.wait();
  }
  for (auto& shard : shards_) {
    shard->keep_running.reset();
    shard->context.stop();
  }
  for (auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
}

}  // namespace skyd
