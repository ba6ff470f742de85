#include "store/job_status.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace skyd::store {
namespace {

using S = JobStatus;

// docs/job-states.md, row by row: every allowed (from, to). Everything else is refused.
const std::set<std::pair<S, S>> kAllowed = {
    {S::kPending, S::kStarting},
    {S::kPending, S::kRecovering},
    {S::kPending, S::kCancelling},
    {S::kPending, S::kCancelled},
    {S::kPending, S::kFailedPrechecks},
    {S::kPending, S::kFailedNoResource},
    {S::kPending, S::kFailedController},

    {S::kStarting, S::kRunning},
    {S::kStarting, S::kPending},
    {S::kStarting, S::kCancelling},
    {S::kStarting, S::kFailedPrechecks},
    {S::kStarting, S::kFailedNoResource},
    {S::kStarting, S::kFailedController},

    {S::kRunning, S::kRecovering},
    {S::kRunning, S::kSucceeded},
    {S::kRunning, S::kCancelling},
    {S::kRunning, S::kFailed},
    {S::kRunning, S::kFailedSetup},
    {S::kRunning, S::kFailedPrechecks},
    {S::kRunning, S::kFailedController},

    {S::kRecovering, S::kRunning},
    {S::kRecovering, S::kPending},
    {S::kRecovering, S::kCancelling},
    {S::kRecovering, S::kFailed},
    {S::kRecovering, S::kFailedSetup},
    {S::kRecovering, S::kFailedPrechecks},
    {S::kRecovering, S::kFailedNoResource},
    {S::kRecovering, S::kFailedController},

    {S::kCancelling, S::kCancelled},
    {S::kCancelling, S::kFailedController},
};

TEST(JobStateMachine, AllowsExactlyTheDocumentedMatrix) {
  int allowed = 0;
  for (S from : kAllJobStatuses) {
    for (S to : kAllJobStatuses) {
      const bool expected = kAllowed.count({from, to}) > 0;
      EXPECT_EQ(is_transition_allowed(from, to), expected)
          << to_string(from) << " -> " << to_string(to);
      allowed += is_transition_allowed(from, to) ? 1 : 0;
    }
  }
  EXPECT_EQ(allowed, static_cast<int>(kAllowed.size()));
}

TEST(JobStateMachine, RejectsSucceededToRunning) {
  EXPECT_FALSE(is_transition_allowed(S::kSucceeded, S::kRunning));
}

TEST(JobStateMachine, NothingLeavesATerminalStatus) {
  for (S from : kAllJobStatuses) {
    if (!is_terminal(from)) continue;
    for (S to : kAllJobStatuses) EXPECT_FALSE(is_transition_allowed(from, to)) << to_string(from);
  }
}

TEST(JobStateMachine, EveryOpenStatusCanFailOnAControllerError) {
  for (S from : kAllJobStatuses) {
    EXPECT_EQ(is_transition_allowed(from, S::kFailedController), !is_terminal(from))
        << to_string(from);
  }
}

TEST(JobStatus, NamesRoundTripAndUnknownNamesAreRefused) {
  for (S status : kAllJobStatuses) EXPECT_EQ(parse_job_status(to_string(status)), status);
  EXPECT_EQ(to_string(S::kFailedNoResource), "FAILED_NO_RESOURCE");
  EXPECT_FALSE(parse_job_status("SUBMITTED"));
  EXPECT_FALSE(parse_job_status("pending"));
}

TEST(JobStatus, TerminalAndFailureSets) {
  std::set<S> terminal;
  std::set<S> failures;
  for (S status : kAllJobStatuses) {
    if (is_terminal(status)) terminal.insert(status);
    if (is_failure(status)) failures.insert(status);
  }
  EXPECT_EQ(terminal.size(), 7u);
  EXPECT_EQ(failures.size(), 5u);
  EXPECT_TRUE(terminal.count(S::kCancelled));
  EXPECT_FALSE(failures.count(S::kCancelled));
  EXPECT_FALSE(terminal.count(S::kCancelling));
}

}  // namespace
}  // namespace skyd::store
