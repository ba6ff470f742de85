#pragma once
// Owns the coroutines spawned on one executor, so nothing runs detached: `cancel_all()` sends
// each a terminal cancellation and `wait()` completes once all have finished. An exception that
// escapes a child is logged (cancellation is not). Runs on, and must be used from, one shard.

#include "reactor/coro.hpp"
#include "reactor/event.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <list>
#include <string>

namespace skyd {

class TaskGroup {
 public:
  TaskGroup(asio::any_io_executor executor, std::string name);
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void spawn(Task<void> work);
  void cancel_all();
  Task<void> wait();  // until no child is left
  std::size_t size() const { return children_.size(); }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Child {
    asio::cancellation_signal signal;
  };
  void finished(std::list<Child>::iterator child, std::exception_ptr error);

  asio::any_io_executor executor_;
  std::string name_;
  std::list<Child> children_;
  Notifier changed_;
};

}  // namespace skyd
