#pragma once
// Owns the coroutines spawned on one executor, so nothing runs detached: `cancel_all()` sends
// each a terminal cancellation and `wait()` completes once all have finished. An exception that
// escapes a child is logged (cancellation is not). Runs on, and must be used from, one shard.
//
// A group that lives in a coroutine frame is made with `scoped()`, never as a local: its children
// usually use that frame (events, results, the object whose member they are), and a local group
// would go with the frame when a cancellation unwinds it while its children still run. Long-lived
// groups (a shard's, a provider's) are members, cancelled and awaited by their owner's shutdown;
// destroying one cancels what is left but cannot wait for it.

#include "reactor/coro.hpp"
#include "reactor/event.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

namespace skyd {

class TaskGroup {
 public:
  TaskGroup(asio::any_io_executor executor, std::string name);
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Runs `body` with a new group for what it spawns and returns -- whether `body` returned,
  // threw, or the caller was cancelled -- only after every child was cancelled and has ended;
  // then gives `body`'s result or rethrows its exception. Children may therefore use the caller's
  // frame and what it borrows (not `body`'s own frame: it ends before the children are joined).
  // The join is not cut short by the caller's cancellation, which its next co_await still sees.
  template <typename T>
  static Task<T> scoped(std::string name, std::function<Task<T>(TaskGroup&)> body);
  static Task<void> scoped(std::string name, std::function<Task<void>(TaskGroup&)> body);

  void spawn(Task<void> work);
  void cancel_all();
  Task<void> wait();  // until no child is left; throws operation_aborted when cancelled
  std::size_t size() const { return state_->children.size(); }
  const asio::any_io_executor& executor() const { return state_->executor; }

 private:
  // Cancels every child and waits until none is left, whatever the caller's cancellation state;
  // the caller has turned throw-on-cancel off (scoped()).
  Task<void> join();

  struct Child {
    asio::cancellation_signal signal;
  };
  struct State {
    State(asio::any_io_executor ex, std::string group_name)
        : executor(ex), name(std::move(group_name)), changed(ex) {}
    asio::any_io_executor executor;
    std::string name;
    std::list<Child> children;
    Notifier changed;
  };
  static void finished(const std::shared_ptr<State>& state, std::list<Child>::iterator child,
                       std::exception_ptr error);

  std::shared_ptr<State> state_;
};

template <typename T>
Task<T> TaskGroup::scoped(std::string name, std::function<Task<T>(TaskGroup&)> body) {
  TaskGroup group(co_await asio::this_coro::executor, std::move(name));
  std::optional<T> value;
  std::exception_ptr failure;
  try {
    value.emplace(co_await body(group));
  } catch (...) {
    failure = std::current_exception();
  }
  // No co_await may throw before the children are joined, not even for a cancellation.
  const bool throwing = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await group.join();
  co_await asio::this_coro::throw_if_cancelled(throwing);
  if (failure) std::rethrow_exception(failure);
  co_return std::move(*value);
}

}  // namespace skyd
