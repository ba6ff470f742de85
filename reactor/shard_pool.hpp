#pragma once
// The reactor: N shards, each one thread running its own io_context. Work pinned to a shard stays
// there (no locks in job code); other shards reach it by posting. Each shard owns a TaskGroup, so
// `stop()` can cancel every coroutine and wait for it before the threads end.

#include "reactor/coro.hpp"
#include "reactor/task_group.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
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
  // the caller's own executor. Cancelling the caller cancels the work (on the work's shard).
  template <typename T>
  static Task<T> call_on(asio::any_io_executor target, std::function<Task<T>()> make_work) {
    // Asio 1.81 forwards a cancellation to another executor through a pointer into the caller's
    // handler, which may be gone by the time it runs (the work ended meanwhile). The signal here
    // is owned by both sides, and is emitted only on the work's shard.
    auto signal = std::make_shared<asio::cancellation_signal>();
    asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    asio::cancellation_slot caller = state.slot();
    if (caller.is_connected()) {
      caller.assign([target, signal](asio::cancellation_type type) {
        asio::post(target, [signal, type] { signal->emit(type); });
      });
    }
    auto on_target = run_cancellable(signal, std::move(make_work));
    auto token = asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable);
    co_return co_await asio::co_spawn(target, std::move(on_target), std::move(token));
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
  // On the work's shard: runs it under `signal` (emitted on this shard only).
  template <typename T>
  static Task<T> run_cancellable(std::shared_ptr<asio::cancellation_signal> signal,
                                 std::function<Task<T>()> make_work) {
    auto work = run_made(std::move(make_work));
    auto token = asio::bind_cancellation_slot(signal->slot(), asio::use_awaitable);
    co_return co_await asio::co_spawn(co_await asio::this_coro::executor, std::move(work),
                                      std::move(token));
  }
  static Task<void> run_made(std::function<Task<void>()> make_work) { co_await make_work(); }

  std::vector<std::unique_ptr<Shard>> shards_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace skyd
