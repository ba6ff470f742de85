// `job_recovery: {strategy: DEADLINE, ...}`: its fields, its refusals, and its round trip through
// the normalized JSON that skyd reads.
#include "daemon/spec/deadline_text.hpp"
#include "daemon/spec/parser.hpp"
#include "daemon/spec/task_json.hpp"

#include <gtest/gtest.h>

namespace skyd::spec {
namespace {

using namespace std::chrono_literals;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

std::string with_recovery(const std::string& recovery, const std::string& more = "") {
  return "resources:\n  cloud: aws\n" + more + "  job_recovery: " + recovery + "\nrun: train\n";
}

std::optional<DeadlineSpec> deadline_of(const std::string& yaml) {
  auto parsed = parse_pipeline(yaml, "task.yaml");
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().detail);
  if (!parsed) return std::nullopt;
  const auto& recovery = parsed->tasks[0].resources.candidates[0].job_recovery;
  if (!recovery) return std::nullopt;
  EXPECT_EQ(recovery->strategy, RecoveryStrategy::kDeadline);
  return recovery->deadline;
}

std::string error_of(const std::string& yaml) {
  auto parsed = parse_pipeline(yaml, "task.yaml");
  EXPECT_FALSE(parsed) << "parsed unexpectedly: " << yaml;
  return parsed ? "" : parsed.error().detail;
}

TEST(DeadlineText, DurationsReadLargestUnitFirstAndWriteBackExactly) {
  EXPECT_EQ(parse_duration_text("36h"), std::chrono::seconds(36h));
  EXPECT_EQ(parse_duration_text("1h30m"), std::chrono::seconds(90min));
  EXPECT_EQ(parse_duration_text("2d3s"), std::chrono::seconds(48h + 3s));
  EXPECT_EQ(parse_duration_text("0s"), 0s);
  for (const char* bad : {"", "h", "10", "30m1h", "1h1h", "1.5h", "-3m", "3 m", "1y"})
    EXPECT_FALSE(parse_duration_text(bad)) << bad;
  for (auto seconds : {0s, 45s, std::chrono::seconds(90min), std::chrono::seconds(49h + 1s)})
    EXPECT_EQ(parse_duration_text(format_duration_text(seconds)), seconds);
  EXPECT_EQ(format_duration_text(std::chrono::seconds(90min)), "1h30m");
}

TEST(DeadlineText, InstantsNeedTheirZoneAndMayLeaveOutSeconds) {
  const auto noon = std::chrono::sys_days(std::chrono::year(2026) / 12 / 24) + 12h;
  EXPECT_EQ(parse_instant_text("2026-12-24T12:00Z"), noon);
  EXPECT_EQ(parse_instant_text("2026-12-24T12:00:00.250Z"), noon);
  EXPECT_EQ(parse_instant_text("2026-12-24T13:30+01:30"), noon);
  EXPECT_EQ(parse_instant_text("2026-12-24 07:00:00-05:00"), noon);
  for (const char* bad : {"2026-12-24T12:00", "2026-12-24", "2026-13-01T00:00Z",
                          "2026-02-30T00:00Z", "2026-12-24T24:00Z", "2026-12-24T12:00Zjunk"})
    EXPECT_FALSE(parse_instant_text(bad)) << bad;
  EXPECT_EQ(format_instant_text(noon), "2026-12-24T12:00:00Z");
  EXPECT_EQ(parse_instant_text(format_instant_text(noon)), noon);
}

TEST(DeadlineSpec, AnInstantOrATimeAfterSubmissionWithWorkAndDefaults) {
  auto at =
      deadline_of(with_recovery("{strategy: DEADLINE, deadline: 2026-12-24T12:00Z, work: 24h}"));
  ASSERT_TRUE(at);
  EXPECT_EQ(at->at, std::chrono::sys_days(std::chrono::year(2026) / 12 / 24) + 12h);
  EXPECT_FALSE(at->after_submission);
  EXPECT_EQ(at->work, std::chrono::seconds(24h));
  EXPECT_EQ(at->restart_overhead, std::chrono::seconds(10min));
  EXPECT_EQ(at->policy, DeadlinePolicy::kUniformProgress);

  auto after = deadline_of(with_recovery(
      "{strategy: deadline, deadline: 36h, work: 20h, restart_overhead: 0s, deadline_policy: "
      "greedy, max_restarts_on_errors: 2}"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->after_submission, std::chrono::seconds(36h));
  EXPECT_EQ(after->restart_overhead, 0s);
  EXPECT_EQ(after->policy, DeadlinePolicy::kGreedy);
}

TEST(DeadlineSpec, MissingOrMalformedFieldsAreRefusedWithTheirLineAndField) {
  EXPECT_CONTAINS(error_of(with_recovery("DEADLINE")), "task.yaml:3:17: resources.job_recovery:");
  EXPECT_CONTAINS(error_of(with_recovery("{strategy: DEADLINE, work: 2h}")),
                  "resources.job_recovery.deadline: strategy DEADLINE needs `deadline`");
  EXPECT_CONTAINS(error_of(with_recovery("{strategy: DEADLINE, deadline: 3h}")),
                  "resources.job_recovery.work: strategy DEADLINE needs `work`");
  EXPECT_CONTAINS(
      error_of(with_recovery("{strategy: DEADLINE, deadline: 2026-12-24T12:00, work: 1h}")),
      "resources.job_recovery.deadline: expected an RFC 3339 time with its zone");
  EXPECT_CONTAINS(error_of(with_recovery("{strategy: DEADLINE, deadline: soon, work: 1h}")),
                  "resources.job_recovery.deadline: expected a duration");
  EXPECT_CONTAINS(error_of(with_recovery("{strategy: DEADLINE, deadline: 3h, work: 0s}")),
                  "resources.job_recovery.work: expected a duration like 36h, 1h30m, 10m or 45s, "
                  "more than 0s");
  EXPECT_CONTAINS(error_of(with_recovery("{strategy: DEADLINE, deadline: 3h, work: 4h}")),
                  "4h of work cannot finish within the deadline, 3h after submission");
  EXPECT_CONTAINS(error_of(with_recovery(
                      "{strategy: DEADLINE, deadline: 3h, work: 1h, deadline_policy: cheap}")),
                  "resources.job_recovery.deadline_policy: expected uniform_progress, greedy or "
                  "on_demand");
  EXPECT_CONTAINS(error_of(with_recovery("{strategy: FAILOVER, work: 1h}")),
                  "resources.job_recovery.work: `work` is read only with `strategy: DEADLINE`");
}

TEST(DeadlineSpec, UseSpotFalseIsRefusedByName) {
  EXPECT_CONTAINS(
      error_of(
          with_recovery("{strategy: DEADLINE, deadline: 3h, work: 1h}", "  use_spot: false\n")),
      "resources.use_spot: `use_spot: false` cannot be combined with job_recovery strategy "
      "DEADLINE");
  EXPECT_TRUE(deadline_of(
      with_recovery("{strategy: DEADLINE, deadline: 3h, work: 1h}", "  use_spot: true\n")));

  auto parsed =
      parse_pipeline(with_recovery("{strategy: DEADLINE, deadline: 3h, work: 1h}"), "task.yaml");
  ASSERT_TRUE(parsed);
  TaskOverrides overrides;
  overrides.resources.push_back({"use_spot", "false", "--no-use-spot"});
  auto applied = apply_overrides(parsed->tasks[0], overrides);
  ASSERT_FALSE(applied);
  EXPECT_CONTAINS(applied.error().detail, "use_spot: `use_spot: false` cannot be combined");
}

TEST(DeadlineSpec, TheNormalizedJsonReadsBackToTheSameSpec) {
  for (const char* recovery :
       {"{strategy: DEADLINE, deadline: 2026-12-24T13:00+01:00, work: 1h30m, restart_overhead: "
        "3s, deadline_policy: on_demand}",
        "{strategy: DEADLINE, deadline: 60s, work: 20s}"}) {
    auto parsed = parse_pipeline(with_recovery(recovery), "task.yaml");
    ASSERT_TRUE(parsed) << parsed.error().detail;
    auto again = pipeline_from_json(to_json(*parsed, SecretMode::kInclude).dump(), "job 1");
    ASSERT_TRUE(again) << again.error().detail;
    EXPECT_EQ(*again, *parsed) << recovery;
  }
}

}  // namespace
}  // namespace skyd::spec
