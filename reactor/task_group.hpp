#pragma once
// Owns the coroutines spawned on one executor, so nothing runs detached: `cancel_all()` sends
// each a terminal cancellation and `wait()` completes once all have finished. An exception that
// escapes a child is logged (cancellation is not). Runs on, and must be used from, one shard.
// Destroying a group cancels what is left; the children's bookkeeping outlives the group, so a
// group may go with the coroutine frame that owns it (an unwinding cancel).

#include "reactor/coro.hpp"
#include "reactor/event.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <list>
#include <memory>
#include <string>

namespace skyd {

class TaskGroup {
 public:
  TaskGroup(asio::any_io_executor executor, std::string name);
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void spawn(Task<void> work);
  void cancel_all();
  Task<void> wait();  // until no child is left
  std::size_t size() const { return state_->children.size(); }
  const asio::any_io_executor& executor() const { return state_->executor; }

 private:
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

}  // namespace skyd
