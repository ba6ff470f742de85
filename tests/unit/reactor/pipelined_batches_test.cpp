#include "reactor/pipelined_batches.hpp"
#include "reactor/event.hpp"
#include "reactor/task_group.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/post.hpp>

#include <map>
#include <memory>
#include <vector>

namespace skyd {
namespace {

using testing::run_co;

// A store that doubles numbers. Its calls wait at a gate the test opens once every caller is in
// line, so others gather while the first is out. The batch call leaves odd numbers unanswered
// when told to. It records what each call carried.
struct Doubler {
  explicit Doubler(asio::any_io_executor executor) : gate(std::move(executor)) {}
  Event gate;
  std::vector<int> alone;
  std::vector<std::vector<int>> batches;
  bool leaves_odd = false;

  Task<void> take_a_while() { co_await gate.wait(); }

  PipelinedBatches<int, int, int> batches_of(asio::any_io_executor executor, std::size_t max) {
    return PipelinedBatches<int, int, int>(
        executor, max, [](const int& n) { return n; },
        [this](int n) -> Task<int> {
          alone.push_back(n);
          co_await take_a_while();
          co_return 2 * n;
        },
        [this](std::vector<int> numbers) -> Task<std::vector<std::optional<int>>> {
          batches.push_back(numbers);
          co_await take_a_while();
          std::vector<std::optional<int>> doubled;
          for (int n : numbers) {
            if (leaves_odd && n % 2) {
              doubled.emplace_back();
            } else {
              doubled.emplace_back(2 * n);
            }
          }
          co_return doubled;
        });
  }
};

using Answers = std::map<int, int>;

Task<void> ask(PipelinedBatches<int, int, int>& batches, int n, std::shared_ptr<Answers> into) {
  into->emplace(n, co_await batches.call(n));
}

// Lets every coroutine started so far run to where it waits.
Task<void> let_them_run() {
  for (int i = 0; i < 3; ++i)
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

Task<void> gathered(bool leaves_odd) {
  auto executor = co_await asio::this_coro::executor;
  Doubler store(executor);
  store.leaves_odd = leaves_odd;
  auto batches = store.batches_of(executor, 100);
  auto answers = std::make_shared<Answers>();
  TaskGroup group(executor, "callers");
  for (int n = 1; n <= 50; ++n) group.spawn(ask(batches, n, answers));
  co_await let_them_run();
  store.gate.set();
  co_await group.wait();

  CO_ASSERT(answers->size() == 50u);
  for (const auto& [n, doubled] : *answers) EXPECT_EQ(doubled, 2 * n);
  // The first went at once, a batch of one; the other 49 came while it was out, and went as one.
  CO_ASSERT(store.batches.size() == 2u);
  EXPECT_EQ(store.batches[0], std::vector<int>{1});
  EXPECT_EQ(store.batches[1].size(), 49u);
  EXPECT_EQ(store.batches[1].front(), 2) << "in the order they came";
  std::vector<int> alone_expected;
  if (leaves_odd) {
    for (int n = 1; n <= 49; n += 2) alone_expected.push_back(n);  // left by the batches
  }
  EXPECT_EQ(store.alone, alone_expected);
  EXPECT_EQ(batches.stats().batches, 2u);
  EXPECT_EQ(batches.stats().batched, 50u);
  EXPECT_EQ(batches.stats().alone, alone_expected.size());
}

TEST(PipelinedBatches, WhatComesWhileACallIsOutGoesAsOneCallWhenItIsBack) {
  run_co<void>([] { return gathered(false); });
}

TEST(PipelinedBatches, WhatTheBatchLeavesUnansweredItsCallerMakesAlone) {
  run_co<void>([] { return gathered(true); });
}

Task<void> bounded_and_distinct() {
  auto executor = co_await asio::this_coro::executor;
  Doubler store(executor);
  auto batches = store.batches_of(executor, 10);
  auto answers = std::make_shared<Answers>();
  auto twice = std::make_shared<Answers>();
  TaskGroup group(executor, "callers");
  for (int n = 1; n <= 25; ++n) group.spawn(ask(batches, n, answers));
  group.spawn(ask(batches, 23, twice));  // 23 is already gathering: it goes alone
  co_await let_them_run();
  store.gate.set();
  co_await group.wait();

  EXPECT_EQ(answers->size(), 25u);
  EXPECT_EQ(twice->at(23), 46);
  std::vector<std::size_t> sizes;
  for (const auto& batch : store.batches) sizes.push_back(batch.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 10, 10, 4})) << "at most 10 a call";
  EXPECT_EQ(store.alone, (std::vector<int>{23}));
}

TEST(PipelinedBatches, ABatchHoldsAtMostItsLimitAndNoKeyTwice) {
  run_co<void>([] { return bounded_and_distinct(); });
}

// The caller that was to send a batch is cancelled while the one before is out: the others of
// its batch send their own, and it is never sent.
Task<void> sender_cancelled() {
  auto executor = co_await asio::this_coro::executor;
  Doubler store(executor);
  auto batches = store.batches_of(executor, 100);
  auto answers = std::make_shared<Answers>();
  TaskGroup first(executor, "first"), sender(executor, "sender"), others(executor, "others");
  first.spawn(ask(batches, 1, answers));   // goes at once
  sender.spawn(ask(batches, 2, answers));  // gathers the next batch, waits for 1
  for (int n = 3; n <= 5; ++n) others.spawn(ask(batches, n, answers));
  co_await let_them_run();
  sender.cancel_all();
  co_await let_them_run();
  store.gate.set();
  co_await first.wait();
  co_await sender.wait();
  co_await others.wait();

  EXPECT_FALSE(answers->contains(2));
  EXPECT_EQ(answers->size(), 4u);
  for (const auto& [n, doubled] : *answers) EXPECT_EQ(doubled, 2 * n);
  CO_ASSERT(store.batches.size() == 2u);
  EXPECT_EQ(store.batches[1], (std::vector<int>{3, 4, 5}));
}

TEST(PipelinedBatches, WhenItsSenderIsCancelledTheOthersSendTheirOwn) {
  run_co<void>([] { return sender_cancelled(); });
}

}  // namespace
}  // namespace skyd
