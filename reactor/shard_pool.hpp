#pragma once
// The reactor: N shards, each one thread running its own io_context. Work pinned to a shard stays
// there (no locks in job code); other shards reach it by posting. Each shard owns a TaskGroup, so
// `stop()` can cancel every coroutine and wait for it before the threads end.

#include "reactor/coro.hpp"
#include "reactor/task_group.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace skyd {

class ShardPool {
 public:
  // shards == 0 means one per core.
  explicit ShardPool(std::size_t shards = 0);
  ~ShardPool();
  ShardPool(const ShardPool&) = delete;
  ShardPool& operator=(const ShardPool&) = delete;

  std::size_t size() const { return shards_.size(); }
  asio::io_context& context(std::size_t shard) { return shards_.at(shard)->context; }
  asio::any_io_executor executor(std::size_t shard) { return context(shard).get_executor(); }
  std::vector<asio::any_io_executor> executors();

  // The shard whose thread is calling, if any.
  static std::optional<std::size_t> current_shard();

  void start();

  // Runs work on the shard, owned by the shard's task group (cancelled and awaited by stop()).
  void spawn(std::size_t shard, std::function<Task<void>()> make_work);

  // Runs work on the shard and hands its result to a caller outside the reactor (main, tests).
  template <typename T>
  std::future<T> submit(std::size_t shard, std::function<Task<T>()> make_work) {
    return asio::co_spawn(executor(shard), run_made(std::move(make_work)), asio::use_future);
  }

  // From a coroutine on any shard: runs work on `shard` and resumes the caller with its result on
  // the caller's own executor. Cancelling the caller cancels the work.
  template <typename T>
  static Task<T> call_on(asio::any_io_executor target, std::function<Task<T>()> make_work) {
    co_return co_await asio::co_spawn(target, run_made(std::move(make_work)), asio::use_awaitable);
  }

  // Cancels every spawned coroutine, waits up to `grace` for them to end, then stops the
  // contexts and joins the threads. Idempotent.
  void stop(Duration grace = std::chrono::seconds(5));

 private:
  struct Shard {
    explicit Shard(std::size_t index);
    std::size_t index;
    asio::io_context context{1};
    asio::executor_work_guard<asio::io_context::executor_type> keep_running;
    TaskGroup group;
    std::thread thread;
  };

  template <typename T>
  static Task<T> run_made(std::function<Task<T>()> make_work) {
    co_return co_await make_work();
  }
  static Task<void> run_made(std::function<Task<void>()> make_work) { co_await make_work(); }

  std::vector<std::unique_ptr<Shard>> shards_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace skyd
