#include "policy/deadline_policy.hpp"

#include <gtest/gtest.h>

#include "policy/duration_text.hpp"

namespace skyd::policy {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kStart{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};

// A 24h job due 36h after it started, restart overhead 10m, decided on every change.
DeadlineInputs job(DeadlineStrategy strategy, Seconds elapsed, Seconds done, Holding holding,
                   bool spot) {
  DeadlineInputs in;
  in.strategy = strategy;
  in.start = kStart;
  in.now = kStart + elapsed;
  in.deadline = kStart + hours(36);
  in.total_work = hours(24);
  in.remaining_work = hours(24) - done;
  in.restart_overhead = minutes(10);
  in.holding = holding;
  in.spot_available = spot;
  return in;
}

// Moves `now` so that slack (time to deadline - remaining work) is exactly `slack`.
DeadlineInputs with_slack(DeadlineInputs in, Seconds slack) {
  in.now = in.deadline - in.remaining_work - slack;
  return in;
}

constexpr auto kGreedy = DeadlineStrategy::kGreedy;
constexpr auto kUp = DeadlineStrategy::kUniformProgress;

TEST(DurationText, WritesHoursAndMinutes) {
  EXPECT_EQ(duration_text(minutes(110)), "1h50m");
  EXPECT_EQ(duration_text(hours(3)), "3h");
  EXPECT_EQ(duration_text(minutes(10)), "10m");
  EXPECT_EQ(duration_text(Seconds{45}), "45s");
  EXPECT_EQ(duration_text(Seconds{0}), "0s");
  EXPECT_EQ(duration_text(-minutes(20)), "-20m");
  EXPECT_EQ(duration_text(hours(1) + Seconds{59}), "1h");
}

TEST(DeadlinePolicy, WaitsWithSlackExactlyAtTheSafetyMargin) {
  // The safety net fires below 2 × overhead: at exactly 20m waiting is still safe. (30m of work
  // left keeps Uniform Progress on its line, which would otherwise send it to on-demand.)
  for (auto strategy : {kGreedy, kUp}) {
    const auto in = with_slack(
        job(strategy, hours(0), hours(23) + minutes(30), Holding::kNothing, false), minutes(20));
    const auto decision = decide_deadline(in);
    EXPECT_EQ(decision.placement, Placement::kWait)
        << to_string(strategy) << ": " << describe(decision);
    const auto up_reason = " and progress 23h30m is not behind the uniform line 23h26m";
    EXPECT_EQ(describe(decision),
              std::string("waiting for spot: slack 20m ≥ 2 × restart overhead 10m") +
                  (strategy == kUp ? up_reason : ""));
  }
}

TEST(DeadlinePolicy, SwitchesToOnDemandOneSecondBelowTheSafetyMargin) {
  for (auto strategy : {kGreedy, kUp}) {
    const auto in = with_slack(job(strategy, hours(0), hours(20), Holding::kNothing, true),
                               minutes(20) - Seconds{1});
    const auto decision = decide_deadline(in);
    EXPECT_EQ(decision.placement, Placement::kOnDemand) << to_string(strategy);
    EXPECT_EQ(decision.rule, DeadlineRule::kSafetyNet);
    EXPECT_EQ(describe(decision),
              "switching to on-demand to the end: slack 19m59s < 2 × restart overhead 10m with "
              "4h of work left; losing spot now would miss the deadline");
  }
}

TEST(DeadlinePolicy, TakesSpotOneSecondAboveTheSafetyMargin) {
  for (auto strategy : {kGreedy, kUp}) {
    const auto in = with_slack(job(strategy, hours(0), hours(20), Holding::kPreempted, true),
                               minutes(20) + Seconds{1});
    const auto decision = decide_deadline(in);
    EXPECT_EQ(decision.placement, Placement::kSpot) << to_string(strategy);
    EXPECT_EQ(decision.rule, DeadlineRule::kTakeSpot);
  }
}

TEST(DeadlinePolicy, TickWiderThanOverheadWidensTheMargin) {
  auto in = with_slack(job(kGreedy, hours(0), hours(20), Holding::kNothing, true), minutes(24));
  in.tick = minutes(15);  // margin = 10m + 15m
  const auto decision = decide_deadline(in);
  EXPECT_EQ(decision.placement, Placement::kOnDemand);
  EXPECT_EQ(decision.facts.safety_margin, minutes(25));
  EXPECT_NE(describe(decision).find("restart overhead 10m + decision tick 15m"), std::string::npos);
}

TEST(DeadlinePolicy, ZeroSlackGoesOnDemand) {
  for (auto strategy : {kGreedy, kUp}) {
    auto in = with_slack(job(strategy, hours(0), hours(20), Holding::kNothing, true), Seconds{0});
    in.restart_overhead = Seconds{0};
    const auto decision = decide_deadline(in);
    EXPECT_EQ(decision.placement, Placement::kOnDemand) << to_string(strategy);
    EXPECT_EQ(decision.rule, DeadlineRule::kSafetyNet);
  }
}

TEST(DeadlinePolicy, SlackBelowOneRestartSaysTheDeadlineWillBeMissed) {
  const auto in = with_slack(job(kUp, hours(0), hours(20), Holding::kPreempted, false), minutes(4));
  const auto decision = decide_deadline(in);
  EXPECT_EQ(decision.placement, Placement::kOnDemand);
  EXPECT_EQ(describe(decision),
            "switching to on-demand to the end: slack 4m < restart overhead 10m; the deadline "
            "will be missed by 6m at best");
}

TEST(DeadlinePolicy, DeadlinePassedGoesOnDemandAtOnceAndSaysSo) {
  for (auto strategy : {kGreedy, kUp}) {
    const auto in = job(strategy, hours(38), hours(21), Holding::kSpot, true);
    const auto decision = decide_deadline(in);
    EXPECT_EQ(decision.placement, Placement::kOnDemand);
    EXPECT_EQ(decision.rule, DeadlineRule::kDeadlineMissed);
    EXPECT_EQ(describe(decision),
              "deadline missed 2h ago with 3h of work left: on-demand finishes soonest");
  }
}

TEST(DeadlinePolicy, KeepsARunningSpotInstanceWhateverTheSlack) {
  const auto in = with_slack(job(kUp, hours(0), hours(20), Holding::kSpot, true), minutes(1));
  EXPECT_EQ(decide_deadline(in).rule, DeadlineRule::kKeepSpot);
}

TEST(DeadlinePolicy, FinishedWorkWaits) {
  const auto in = job(kUp, hours(30), hours(24), Holding::kOnDemand, true);
  EXPECT_EQ(decide_deadline(in).rule, DeadlineRule::kWorkDone);
}

TEST(DeadlinePolicy, OnDemandOnlyNeverTakesSpot) {
  const auto in = job(DeadlineStrategy::kOnDemandOnly, hours(0), hours(0), Holding::kNothing, true);
  EXPECT_EQ(decide_deadline(in).placement, Placement::kOnDemand);
}

TEST(GreedyPolicy, WaitsForSpotWhileTheSlackAllows) {
  // Far behind the uniform line (6h gone, nothing done) but 6h of slack left.
  const auto decision = decide_deadline(job(kGreedy, hours(6), hours(0), Holding::kNothing, false));
  EXPECT_EQ(decision.placement, Placement::kWait);
}

TEST(GreedyPolicy, StaysOnDemandOnceThere) {
  const auto decision = decide_deadline(job(kGreedy, hours(6), hours(6), Holding::kOnDemand, true));
  EXPECT_EQ(decision.placement, Placement::kOnDemand);
}

TEST(UniformProgressPolicy, BehindTheLineWithoutSpotGoesOnDemand) {
  // At 6h the line asks for 4h of the 24h; 3h are done.
  const auto decision = decide_deadline(job(kUp, hours(6), hours(3), Holding::kPreempted, false));
  EXPECT_EQ(decision.placement, Placement::kOnDemand);
  EXPECT_EQ(decision.rule, DeadlineRule::kBehindSchedule);
  EXPECT_EQ(describe(decision),
            "switching to on-demand: no spot capacity and progress 3h is behind the uniform "
            "line 4h");
}

TEST(UniformProgressPolicy, OnOrAheadOfTheLineWaitsForSpot) {
  const auto decision = decide_deadline(job(kUp, hours(6), hours(4), Holding::kNothing, false));
  EXPECT_EQ(decision.placement, Placement::kWait);
}

TEST(UniformProgressPolicy, TakesSpotEvenBehindTheLine) {
  const auto decision = decide_deadline(job(kUp, hours(6), hours(1), Holding::kNothing, true));
  EXPECT_EQ(decision.placement, Placement::kSpot);
}

TEST(UniformProgressPolicy, GoesBackToSpotWhenAheadByTwoRestarts) {
  // The line at 6h + 20m asks for 4h13m20s; 4h14m are done.
  const auto decision =
      decide_deadline(job(kUp, hours(6), hours(4) + minutes(14), Holding::kOnDemand, true));
  EXPECT_EQ(decision.placement, Placement::kSpot);
  EXPECT_EQ(decision.rule, DeadlineRule::kBackToSpot);
  EXPECT_TRUE(decision.facts.switching);
  EXPECT_EQ(describe(decision),
            "back to spot: progress 4h14m is ahead of the line by 40s (the uniform line "
            "4h13m two restart overheads from now)");
}

TEST(UniformProgressPolicy, HoldsOnDemandWhenNotFarEnoughAhead) {
  // Ahead of the line now (4h12m > 4h), not of the line two restarts on (4h13m20s).
  const auto decision =
      decide_deadline(job(kUp, hours(6), hours(4) + minutes(12), Holding::kOnDemand, true));
  EXPECT_EQ(decision.placement, Placement::kOnDemand);
  EXPECT_EQ(decision.rule, DeadlineRule::kHoldOnDemand);
}

TEST(UniformProgressPolicy, HoldsOnDemandWithoutSpot) {
  const auto decision = decide_deadline(job(kUp, hours(6), hours(5), Holding::kOnDemand, false));
  EXPECT_EQ(decision.placement, Placement::kOnDemand);
  EXPECT_EQ(describe(decision), "staying on on-demand: no spot capacity");
}

}  // namespace
}  // namespace skyd::policy
