#include "providers/adoption_census.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>
#include <vector>

namespace skyd::providers {
namespace {

using skyd::testing::run_co;

struct Node {
  std::string maker;
  int rank = 0;
};

// A census over a fixed set of nodes that counts the listings and fresh looks it was asked for.
struct Counted {
  std::vector<Node> live;
  int listings = 0;
  int fresh_looks = 0;
};

AdoptionCensus<Node> census_over(asio::any_io_executor executor, Counted& counted) {
  return AdoptionCensus<Node>(
      std::move(executor), std::chrono::hours(1),
      [&counted]() -> Task<Result<std::vector<Node>>> {
        ++counted.listings;
        co_return counted.live;
      },
      [](const Node& node) { return node.maker; },
      [](const Node& a, const Node& b) { return a.rank < b.rank; });
}

std::vector<int> ranks(const std::vector<Node>& nodes) {
  std::vector<int> out;
  for (const auto& node : nodes) out.push_back(node.rank);
  return out;
}

TEST(AdoptionCensus, ASentTokenIsLookedAtFreshUntilItsClusterIsTornDown) {
  Counted counted;
  counted.live = {{"t1", 2}, {"t2", 1}, {"t1", 0}, {"t1", 1}};
  run_co<void>([&]() -> Task<void> {
    auto census = census_over(co_await asio::this_coro::executor, counted);
    auto fresh = [&counted]() -> Task<Result<std::vector<Node>>> {
      ++counted.fresh_looks;
      co_return std::vector<Node>{{"t1", 1}, {"t1", 0}};
    };
    census.sent("t1", "c1");
    census.sent("t3", "c1");
    census.sent("t2", "c2");
    EXPECT_EQ(census.sent_count(), 3u);

    auto made = co_await census.made_before("t1", fresh);
    EXPECT_TRUE(made);
    EXPECT_EQ(made ? ranks(*made) : std::vector<int>{}, (std::vector<int>{0, 1}));
    EXPECT_EQ(counted.fresh_looks, 1);
    EXPECT_EQ(counted.listings, 0);

    census.torn_down("c1");
    EXPECT_FALSE(census.was_sent("t1"));
    EXPECT_FALSE(census.was_sent("t3"));
    EXPECT_TRUE(census.was_sent("t2"));
    EXPECT_EQ(census.sent_count(), 1u);

    // Not sent any more: the listing answers, in launch order.
    made = co_await census.made_before("t1", fresh);
    EXPECT_TRUE(made);
    EXPECT_EQ(made ? ranks(*made) : std::vector<int>{}, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(counted.fresh_looks, 1);
    EXPECT_EQ(counted.listings, 1);
  });
}

// Another shard's census takes its listing from this one: every instance some token made, from
// the same listing the lookups by token use (one DescribeInstances for the whole process).
TEST(AdoptionCensus, TheWholeListingIsTheSameOneTheLookupsUse) {
  Counted counted;
  counted.live = {{"t1", 0}, {"t2", 0}, {"", 0}, {"t1", 1}};
  run_co<void>([&]() -> Task<void> {
    auto census = census_over(co_await asio::this_coro::executor, counted);
    auto made = co_await census.made_by("t2");
    EXPECT_TRUE(made && made->size() == 1u);
    auto every = co_await census.listing();
    EXPECT_TRUE(every);
    EXPECT_EQ(every ? every->size() : 0u, 4u)
        << "every instance listed, the one no token made too (nobody adopts it; a sweep may)";
    EXPECT_EQ(counted.listings, 1);
  });
}

// The sweep of leaked clusters acts on what it lists: a listing asked for before the sweep began
// could name clusters torn down since, so only one asked for after is taken, however recent.
TEST(AdoptionCensus, TheSweepTakesOnlyAListingAskedForSinceItBegan) {
  Counted counted;
  counted.live = {{"t1", 0}, {"", 0}};
  run_co<void>([&]() -> Task<void> {
    auto census = census_over(co_await asio::this_coro::executor, counted);
    EXPECT_TRUE(co_await census.made_by("t1"));
    EXPECT_EQ(counted.listings, 1);
    const auto sweep_began = Clock::now();
    counted.live.pop_back();  // the untagged instance went after the first listing
    auto every = co_await census.listing_since(sweep_began);
    EXPECT_EQ(counted.listings, 2) << "the first listing was asked for before the sweep began";
    EXPECT_EQ(every ? every->size() : 0u, 1u);
    every = co_await census.listing_since(sweep_began);
    EXPECT_EQ(counted.listings, 2) << "a listing asked for since then is shared";
    EXPECT_TRUE(co_await census.made_by("t1"));
    EXPECT_EQ(counted.listings, 2) << "and serves adoption for its lifetime";
  });
}

// Whoever lists is often a job's runner: a job cancelled mid-listing leaves the others to list
// again, not waiting for good on a listing nobody finishes.
TEST(AdoptionCensus, AListingWhoseCallerIsCancelledLeavesNoOneWaiting) {
  run_co<void>([&]() -> Task<void> {
    using namespace asio::experimental::awaitable_operators;
    auto executor = co_await asio::this_coro::executor;
    int listings = 0;
    AdoptionCensus<Node> census(
        executor, std::chrono::hours(1),
        [&listings, executor]() -> Task<Result<std::vector<Node>>> {
          if (++listings == 1) {  // the first listing never comes back by itself
            asio::steady_timer never(executor, std::chrono::hours(1));
            co_await never.async_wait(asio::use_awaitable);
          }
          co_return std::vector<Node>{{"t1", 0}};
        },
        [](const Node& node) { return node.maker; },
        [](const Node& a, const Node& b) { return a.rank < b.rank; });
    asio::steady_timer cancel_soon(executor, std::chrono::milliseconds(20));
    co_await (census.made_by("t1") || cancel_soon.async_wait(asio::use_awaitable));
    EXPECT_EQ(listings, 1);
    asio::steady_timer patience(executor, std::chrono::seconds(10));
    auto next = co_await (census.made_by("t1") || patience.async_wait(asio::use_awaitable));
    EXPECT_EQ(next.index(), 0u) << "the next caller waited for the cancelled listing";
    if (next.index() == 0) {
      const auto& made = std::get<0>(next);
      EXPECT_TRUE(made && made->size() == 1u);
    }
    EXPECT_EQ(listings, 2);
  });
}

}  // namespace
}  // namespace skyd::providers
