#pragma once
// Calls about names (clusters) that arrive close together -- many nodes falling silent at once, a
// cancel of every job -- answered by one: the first caller waits `gather` for others to join,
// then asks once for every name gathered; the others wait for its answer. A caller cancelled
// before the answer came leaves the others to start a batch of their own. One shard only.

#include "reactor/coro.hpp"
#include "reactor/event.hpp"
#include "reactor/sleep.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace skyd {

template <typename Answer>
class GatheredCall {
 public:
  // Asks for every name of a batch; its answer is what each caller of the batch gets.
  using Ask = std::function<Task<Answer>(std::vector<std::string>)>;

  GatheredCall(asio::any_io_executor executor, Duration gather, Ask ask)
      : executor_(std::move(executor)), gather_(gather), ask_(std::move(ask)) {}

  // The answer of the one call that asked for `names` (and whatever else was gathered with them).
  Task<Answer> call(std::vector<std::string> names) {
    for (;;) {
      std::shared_ptr<Batch> batch = gathering_;
      const bool asks = !batch;
      if (asks) {
        batch = std::make_shared<Batch>(executor_);
        gathering_ = batch;
      }
      batch->names.insert(names.begin(), names.end());
      if (asks) {
        struct Finish {  // also when cancelled: the others are told either way
          GatheredCall* self;
          std::shared_ptr<Batch> batch;
          ~Finish() {
            if (self->gathering_ == batch) self->gathering_.reset();
            if (!batch->answer) batch->abandoned = true;
            batch->done.notify_all();
          }
        } finish{this, batch};
        co_await sleep_for(gather_);
        gathering_.reset();  // from here on, callers start the next batch
        std::vector<std::string> all(batch->names.begin(), batch->names.end());
        batch->answer = co_await ask_(std::move(all));
      } else {
        while (!batch->answer && !batch->abandoned) co_await batch->done.wait();
        if (!batch->answer) continue;
      }
      co_return *batch->answer;
    }
  }

 private:
  struct Batch {
    explicit Batch(asio::any_io_executor executor) : done(std::move(executor)) {}
    std::set<std::string> names;
    std::optional<Answer> answer;
    bool abandoned = false;  // the caller that was to ask was cancelled: the others ask again
    Notifier done;
  };

  asio::any_io_executor executor_;
  Duration gather_;
  Ask ask_;
  std::shared_ptr<Batch> gathering_;  // the batch still taking names
};

}  // namespace skyd
