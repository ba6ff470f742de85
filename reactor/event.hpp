#pragma once
// A notification that coroutines on one shard can await: `set()` wakes every waiter once and
// stays set until `reset()`. Jobs hold one as their cancel signal (await it with `||` against the
// work), and task groups use one to say "empty". Not thread-safe: owned by one shard.

#include "reactor/coro.hpp"

#include <boost/asio/steady_timer.hpp>

namespace skyd {

class Event {
 public:
  explicit Event(asio::any_io_executor executor);

  void set();
  void reset();
  bool is_set() const { return set_; }

  // Completes when the event is set (at once if it already is). Throws operation_aborted when
  // the awaiting coroutine itself is cancelled.
  Task<void> wait();

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Like Event, but every `notify()` wakes the waiters present at that moment; used for "something
// changed, look again" loops.
class Notifier {
 public:
  explicit Notifier(asio::any_io_executor executor);
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();  // wakes the waiters of wait_until, as a notification
  void notify_all();
  Task<void> wait();  // throws operation_aborted when the awaiting coroutine is cancelled
  // The same, but the awaiting coroutine's cancellation does not end it: for joins that must
  // complete even while their caller is being cancelled.
  Task<void> wait_shielded();
  // Until a notification (true) or `deadline` (false): a long poll's wait. One timer wait, where
  // `wait() || timer` races two coroutines and throws in the loser; thousands of quiet long polls
  // a second end by their deadline. Throws operation_aborted when the awaiting coroutine is
  // cancelled.
  Task<bool> wait_until(Clock::time_point deadline);

 private:
  // A wait_until under way, linked into the notifier from its coroutine's frame; however that
  // frame ends, it leaves the list.
  struct Deadline {
    Notifier* owner;
    asio::steady_timer* timer;
    Deadline* previous = nullptr;
    Deadline* next = nullptr;
    bool linked = false;
    Deadline(Notifier* notifier, asio::steady_timer* waiting) : owner(notifier), timer(waiting) {}
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;
    ~Deadline() {
      if (linked) owner->unlink(*this);
    }
  };
  void link(Deadline& waiting);
  void unlink(Deadline& waiting);

  asio::steady_timer timer_;
  Deadline* deadlines_ = nullptr;
};

}  // namespace skyd
