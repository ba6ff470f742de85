#include "daemon/controller/admission.hpp"

#include <boost/asio/post.hpp>

namespace skyd::daemon {

Admission::Admission(asio::any_io_executor home, AdmissionLimits limits)
    : home_(std::move(home)), limits_(limits) {}

void Admission::hand_over(Line& line) {
  while (!line.waiting.empty() && (line.limit <= 0 || line.held < line.limit)) {
    auto first = line.waiting.begin();
    ++line.held;
    first->second->set();
    line.waiting.erase(first);
  }
}

Task<void> Admission::acquire(std::string key, int limit, int priority, std::int64_t job_id,
                              std::string reason, bool wait_in_line) {
  Line& line = lines_[key];
  line.limit = limit;
  if (!wait_in_line || limit <= 0 || (line.held < limit && line.waiting.empty())) {
    ++line.held;
    co_return;
  }
  Event granted(home_);
  const auto place = std::make_tuple(-priority, job_id, ++arrivals_);
  line.waiting[place] = &granted;
  {
    std::lock_guard lock(reasons_mutex_);
    reasons_[job_id] = std::move(reason);
  }
  // Leaves the line (or gives back a slot granted just as the wait was cancelled) on any exit.
  struct Leave {
    Admission& admission;
    Line& line;
    std::tuple<int, std::int64_t, std::uint64_t> place;
    Event& granted;
    bool done = false;
    ~Leave() {
      {
        std::lock_guard lock(admission.reasons_mutex_);
        admission.reasons_.erase(std::get<1>(place));
      }
      if (done) return;
      if (granted.is_set()) {
        --line.held;
        admission.hand_over(line);
      } else {
        line.waiting.erase(place);
      }
    }
  } leave{*this, line, place, granted};
  co_await granted.wait();
  leave.done = true;
}

void Admission::release(std::string key) {
  asio::post(home_, [this, key = std::move(key)] {
    auto found = lines_.find(key);
    if (found == lines_.end()) return;
    if (found->second.held > 0) --found->second.held;
    hand_over(found->second);
  });
}

std::optional<std::string> Admission::waiting_reason(std::int64_t job_id) const {
  std::lock_guard lock(reasons_mutex_);
  auto found = reasons_.find(job_id);
  if (found == reasons_.end()) return std::nullopt;
  return found->second;
}

}  // namespace skyd::daemon
