#pragma once
// Adopting clusters after a restart from one listing of the controller's instances. A restarted
// skyd asks, for every open cluster, "what did the creation call with this token make?". Asked of
// the cloud one cluster at a time that is a describe per cluster: minutes of rate limit for
// thousands of jobs. A call made before the restart has made all it will make by the time skyd
// is back, so one listing of every instance this controller owns answers all of them; only a
// call this process sent itself may have made instances after a listing, and those the caller
// asks about on their own.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/event.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace skyd::providers {

template <typename Instance>
class AdoptionCensus {
 public:
  using Listing = std::function<Task<Result<std::vector<Instance>>>()>;
  using MakerOf = std::function<std::string(const Instance&)>;
  using Before = std::function<bool(const Instance&, const Instance&)>;

  // `list` lists every live instance of this controller; `maker_of` names the token that made one;
  // `before` orders what one token made (its launch order: a node's rank).
  AdoptionCensus(asio::any_io_executor executor, Duration lifetime, Listing list, MakerOf maker_of,
                 Before before)
      : lifetime_(lifetime),
        list_(std::move(list)),
        maker_of_(std::move(maker_of)),
        before_(std::move(before)),
        listed_(std::move(executor)) {}

  // Notes a creation call this process sends for `cluster`: what it makes may come after any
  // listing. Kept until the cluster is torn down.
  void sent(const std::string& maker, const std::string& cluster) {
    sent_[maker] = cluster;
    sent_for_[cluster].insert(maker);
  }
  bool was_sent(const std::string& maker) const { return sent_.contains(maker); }
  // The cluster is gone: its creation calls need no fresh look any more.
  void torn_down(const std::string& cluster) {
    const auto makers = sent_for_.find(cluster);
    if (makers == sent_for_.end()) return;
    for (const auto& maker : makers->second) {
      const auto noted = sent_.find(maker);
      if (noted != sent_.end() && noted->second == cluster) sent_.erase(noted);
    }
    sent_for_.erase(makers);
  }
  std::size_t sent_count() const { return sent_.size(); }

  // What `maker` made before this launch, in launch order: from the census, or from `fresh` (a
  // look at just this maker's instances) when this process sent it and a listing may be too old.
  Task<Result<std::vector<Instance>>> made_before(std::string maker, Listing fresh) {
    Result<std::vector<Instance>> made = std::vector<Instance>{};
    if (was_sent(maker)) {
      made = co_await fresh();
    } else {
      made = co_await made_by(maker);
    }
    if (!made) co_return made.error();
    std::sort(made->begin(), made->end(), before_);
    co_return made;
  }

  // What `maker` made, as a listing at most `lifetime` old saw it; one listing serves every caller
  // that asks meanwhile. Blind to what a maker this process sent made after that listing.
  Task<Result<std::vector<Instance>>> made_by(std::string maker) {
    auto listed = co_await listed_recently();
    if (!listed) co_return listed.error();
    const auto found = by_maker_.find(maker);
    co_return found == by_maker_.end() ? std::vector<Instance>{} : found->second;
  }

  // Every instance of a listing at most `lifetime` old: what another shard's census of the same
  // instances can take instead of listing them again.
  Task<Result<std::vector<Instance>>> listing() {
    auto listed = co_await listed_recently();
    if (!listed) co_return listed.error();
    co_return every_listed();
  }
  // Every instance of a listing that began at `since` or later: what the sweep of leaked clusters
  // takes (a restart's sweep shares the listing adoption makes; a later sweep sees no cluster
  // torn down before it began). Only on the census that lists by itself: one that takes another
  // census's listing() gets it as that one has it.
  Task<Result<std::vector<Instance>>> listing_since(Clock::time_point since) {
    while (listing_) co_await listed_.wait();
    if (!listed_at_ || listing_began_ < since) {
      auto listed = co_await list_now();
      if (!listed) co_return listed.error();
    }
    co_return every_listed();
  }

 private:
  Duration lifetime_;
  Listing list_;
  MakerOf maker_of_;
  Before before_;
  Notifier listed_;
  bool listing_ = false;
  // When the last listing came back: adoption's freshness. Measured from its end, so a listing
  // that took longer than `lifetime` still serves the callers that waited for it.
  std::optional<Clock::time_point> listed_at_;
  // When that listing was asked for: the sweep's bound, which must not name a cluster torn down
  // before the sweep began.
  Clock::time_point listing_began_;
  std::map<std::string, std::vector<Instance>> by_maker_;
  std::vector<Instance> made_by_none_;       // listed with no token: nobody adopts them
  std::map<std::string, std::string> sent_;  // maker -> its cluster
  std::map<std::string, std::set<std::string>> sent_for_;  // cluster -> its makers

  // Lists again when the last listing is older than `lifetime`; callers meanwhile share it.
  Task<Result<void>> listed_recently() {
    while (listing_) co_await listed_.wait();
    if (listed_at_ && Clock::now() - *listed_at_ <= lifetime_) co_return Result<void>{};
    co_return co_await list_now();
  }

  std::vector<Instance> every_listed() const {
    std::vector<Instance> every = made_by_none_;
    for (const auto& [maker, made] : by_maker_) every.insert(every.end(), made.begin(), made.end());
    return every;
  }

  // One listing; callers meanwhile wait for it (listing_). Whoever lists is often a job's
  // runner: when that job is cancelled mid-listing, the others must not wait for good.
  Task<Result<void>> list_now() {
    struct Underway {
      AdoptionCensus& census;
      explicit Underway(AdoptionCensus& of) : census(of) { census.listing_ = true; }
      ~Underway() {
        census.listing_ = false;
        census.listed_.notify_all();
      }
    };
    const auto began = Clock::now();
    Result<std::vector<Instance>> instances = std::vector<Instance>{};
    {
      Underway underway(*this);
      instances = co_await list_();
    }
    if (!instances) co_return instances.error();
    by_maker_.clear();
    made_by_none_.clear();
    for (auto& instance : *instances) {
      std::string key = maker_of_(instance);
      if (key.empty()) {
        made_by_none_.push_back(std::move(instance));
      } else {
        by_maker_[std::move(key)].push_back(std::move(instance));
      }
    }
    listed_at_ = Clock::now();
    listing_began_ = began;
    co_return Result<void>{};
  }
};

}  // namespace skyd::providers
