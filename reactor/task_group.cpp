#include "reactor/task_group.hpp"

#include "reactor/error.hpp"
#include "reactor/log.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

namespace skyd {

TaskGroup::TaskGroup(asio::any_io_executor executor, std::string name)
    : executor_(executor), name_(std::move(name)), changed_(executor) {}

void TaskGroup::spawn(Task<void> work) {
  auto child = children_.emplace(children_.end());
  asio::co_spawn(
      executor_, std::move(work),
      asio::bind_cancellation_slot(child->signal.slot(), [this, child](std::exception_ptr error) {
        // The child's slot is still referenced while
        // this handler runs: erase it afterwards.
        asio::post(executor_, [this, child, error] { finished(child, error); });
      }));
}

void TaskGroup::finished(std::list<Child>::iterator child, std::exception_ptr error) {
  children_.erase(child);
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
      if (!is_cancellation(e.code())) {
        logger("reactor")->error("task failed group={} error=\"{}\"", name_, e.what());
      }
    } catch (const std::exception& e) {
      logger("reactor")->error("task failed group={} error=\"{}\"", name_, e.what());
    }
  }
  changed_.notify_all();
}

void TaskGroup::cancel_all() {
  for (auto& child : children_) child.signal.emit(asio::cancellation_type::terminal);
}

Task<void> TaskGroup::wait() {
  while (!children_.empty()) co_await changed_.wait();
}

}  // namespace skyd
