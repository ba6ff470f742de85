#include "reactor/task_group.hpp"

#include "reactor/error.hpp"
#include "reactor/log.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <variant>

namespace skyd {

TaskGroup::TaskGroup(asio::any_io_executor executor, std::string name)
    : state_(std::make_shared<State>(std::move(executor), std::move(name))) {}

TaskGroup::~TaskGroup() {
  cancel_all();
}

void TaskGroup::spawn(Task<void> work) {
  auto child = state_->children.emplace(state_->children.end());
  auto state = state_;
  asio::co_spawn(
      state->executor, std::move(work),
      asio::bind_cancellation_slot(child->signal.slot(), [state, child](std::exception_ptr error) {
        // The child's slot is still referenced while this handler runs: erase it
        // afterwards.
        asio::post(state->executor, [state, child, error] { finished(state, child, error); });
      }));
}

void TaskGroup::finished(const std::shared_ptr<State>& state, std::list<Child>::iterator child,
                         std::exception_ptr error) {
  state->children.erase(child);
  if (error && !is_cancellation(error)) {
    logger("reactor")->error("task failed group={} error=\"{}\"", state->name, describe(error));
  }
  state->changed.notify_all();
}

void TaskGroup::cancel_all() {
  for (auto& child : state_->children) child.signal.emit(asio::cancellation_type::terminal);
}

Task<void> TaskGroup::wait() {
  auto state = state_;
  while (!state->children.empty()) co_await state->changed.wait();
}

Task<void> TaskGroup::join() {
  auto state = state_;
  cancel_all();
  while (!state->children.empty()) co_await state->changed.wait_shielded();
}

namespace {
Task<std::monostate> completed(Task<void> work) {
  co_await std::move(work);
  co_return std::monostate{};
}
}  // namespace

Task<void> TaskGroup::scoped(std::string name, std::function<Task<void>(TaskGroup&)> body) {
  std::function<Task<std::monostate>(TaskGroup&)> valued =
      [body = std::move(body)](TaskGroup& group) { return completed(body(group)); };
  co_await scoped<std::monostate>(std::move(name), std::move(valued));
}

}  // namespace skyd
