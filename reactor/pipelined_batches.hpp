#pragma once
// Writes that arrive together -- a cancel of every job, a wave of launches -- made in batches:
// while one batch is out, the next gathers, and goes out as one call when the first is back. A
// write that comes alone goes at once, a batch of one: nothing waits for company, and under load
// each call carries what arrived while the last one was out.
//
// The batch call must not wait for anything but its own work (a row lock another writer holds):
// the next batch waits for it. It leaves such a request unanswered (std::nullopt), and its caller
// then makes it alone, outside the line of batches, where it can wait for what the batch would
// not or learn why it did not apply. A request whose key is already in the gathering batch is
// made alone too, so one batch never holds two writes to one thing. When the caller that was to
// send a batch is cancelled before its answer, the others join the next one. A caller cancelled
// while it waits may still have its write made by the batch it is in: as with a statement in
// flight, only a later read can tell. One shard only.

#include "reactor/coro.hpp"
#include "reactor/event.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace skyd {

template <typename Request, typename Answer, typename Key>
class PipelinedBatches {
 public:
  using Alone = std::function<Task<Answer>(Request)>;
  // One answer per request, in the order given; std::nullopt: not made, left to its caller.
  using Together = std::function<Task<std::vector<std::optional<Answer>>>(std::vector<Request>)>;
  using KeyOf = std::function<Key(const Request&)>;

  struct Stats {
    std::uint64_t alone = 0;    // requests made alone: left unanswered, or already gathering
    std::uint64_t batches = 0;  // calls of `together`
    std::uint64_t batched = 0;  // requests those calls carried
  };

  PipelinedBatches(asio::any_io_executor executor, std::size_t max_batch, KeyOf key_of, Alone alone,
                   Together together)
      : executor_(executor),
        max_batch_(max_batch),
        key_of_(std::move(key_of)),
        alone_(std::move(alone)),
        together_(std::move(together)),
        idle_(executor) {}

  Task<Answer> call(Request request) {
    for (;;) {
      std::shared_ptr<Batch> batch = gathering_;
      const Key key = key_of_(request);
      if (batch && batch->keys.contains(key)) co_return co_await make_alone(std::move(request));
      const bool sends = !batch || batch->requests.size() >= max_batch_;
      if (sends) {
        batch = std::make_shared<Batch>(executor_);
        gathering_ = batch;
      }
      const std::size_t mine = batch->requests.size();
      batch->requests.push_back(request);
      batch->keys.insert(key);
      if (sends) {
        co_return co_await send(batch, std::move(request));
      }
      while (!batch->answered && !batch->abandoned) co_await batch->done.wait();
      if (!batch->answered) continue;
      if (batch->answers[mine]) co_return std::move(*batch->answers[mine]);
      co_return co_await make_alone(std::move(request));
    }
  }

  const Stats& stats() const { return stats_; }

 private:
  struct Batch {
    explicit Batch(asio::any_io_executor executor) : done(std::move(executor)) {}
    std::vector<Request> requests;
    std::set<Key> keys;
    std::vector<std::optional<Answer>> answers;
    bool answered = false;
    bool abandoned = false;  // its sender was cancelled first: the others join the next batch
    Notifier done;
  };

  // The sender waits for the batch out before it, then sends what gathered meanwhile (its own
  // request first). Its own answer comes back like the others'; left unanswered, it is made alone
  // once the batch is back, so the next batch need not wait for it.
  Task<Answer> send(std::shared_ptr<Batch> batch, Request request) {
    std::optional<Answer> answer;
    {
      struct Finish {  // also when cancelled: the others are told either way, and at once
        PipelinedBatches* self;
        std::shared_ptr<Batch> batch;
        ~Finish() {
          if (self->gathering_ == batch) self->gathering_.reset();
          if (!batch->answered) batch->abandoned = true;
          batch->done.notify_all();
        }
      } finish{this, batch};
      while (out_) co_await idle_.wait();
      if (gathering_ == batch) gathering_.reset();  // from here on, callers gather the next batch
      answer = co_await send_out(*batch);
    }
    if (answer) co_return std::move(*answer);
    co_return co_await make_alone(std::move(request));
  }

  // The batch's call, with nothing else out meanwhile.
  Task<std::optional<Answer>> send_out(Batch& batch) {
    struct Out {
      PipelinedBatches* self;
      explicit Out(PipelinedBatches* s) : self(s) { self->out_ = true; }
      ~Out() {
        self->out_ = false;
        self->idle_.notify_all();
      }
    } out{this};
    ++stats_.batches;
    stats_.batched += batch.requests.size();
    batch.answers = co_await together_(batch.requests);
    batch.answers.resize(batch.requests.size());
    batch.answered = true;
    co_return std::move(batch.answers.front());
  }

  Task<Answer> make_alone(Request request) {
    ++stats_.alone;
    co_return co_await alone_(std::move(request));
  }

  asio::any_io_executor executor_;
  std::size_t max_batch_;
  KeyOf key_of_;
  Alone alone_;
  Together together_;
  std::shared_ptr<Batch> gathering_;  // the batch taking requests
  bool out_ = false;                  // a batch (or a request alone) is being sent
  Notifier idle_;                     // notified when it is back
  Stats stats_;
};

}  // namespace skyd
