#include "daemon/controller/failover.hpp"
#include "providers/provider.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

using providers::ProviderErrc;

// m5.large on demand: the built-in catalog carries its price in every region named below
// (0.096 in us-east-1, us-east-2 and us-west-2; 0.107 in eu-west-1).
catalog::PlanRequest m5_large() {
  catalog::ResourceRequest request;
  request.cloud = "aws";
  request.instance_type = "m5.large";
  return catalog::PlanRequest{{request}, false, 1};
}

catalog::Candidate at(std::string cloud, std::string region, std::string zone, bool spot) {
  catalog::Candidate candidate;
  candidate.cloud = std::move(cloud);
  candidate.region = std::move(region);
  candidate.zone = std::move(zone);
  candidate.use_spot = spot;
  return candidate;
}

TEST(Failover, WithoutPreferenceTheCheapestZoneComesFirst) {
  auto planned = plan_candidates(catalog::Catalog::builtin(), m5_large(), {});
  ASSERT_TRUE(planned);
  EXPECT_EQ(planned->front().zone, "us-east-1a");
}

TEST(Failover, EagerNextRegionLeavesTheLostRegionOutForOneRound) {
  auto planned =
      plan_candidates(catalog::Catalog::builtin(), m5_large(), {{"aws/us-east-1"}, std::nullopt});
  ASSERT_TRUE(planned);
  for (const auto& candidate : *planned) EXPECT_NE(candidate.region, "us-east-1");
  EXPECT_EQ(planned->front().region, "us-east-2");
}

TEST(Failover, AnAvoidedRegionIsStillUsedWhenNothingElseFits) {
  catalog::ResourceRequest pinned;
  pinned.cloud = "aws";
  pinned.region = "us-east-1";
  pinned.instance_type = "m5.large";
  auto planned =
      plan_candidates(catalog::Catalog::builtin(), catalog::PlanRequest{{pinned}, false, 1},
                      {{"aws/us-east-1"}, std::nullopt});
  ASSERT_TRUE(planned);
  EXPECT_EQ(planned->front().region, "us-east-1");
}

TEST(Failover, FailoverTriesTheLostRegionFirst) {
  auto planned =
      plan_candidates(catalog::Catalog::builtin(), m5_large(), {{}, std::string("aws/eu-west-1")});
  ASSERT_TRUE(planned);
  EXPECT_EQ(planned->front().region, "eu-west-1");
  EXPECT_EQ(planned->back().region == "eu-west-1", false) << "the other regions still follow";
}

TEST(Failover, ACapacityErrorRulesOutTheZoneForThatMarketOnly) {
  const auto spot = at("aws", "us-east-1", "us-east-1a", true);
  auto excluded = exclusion_for(providers::make_error(ProviderErrc::kNoCapacity, "no"), spot);
  ASSERT_TRUE(excluded);
  std::vector<Exclusion> round{*excluded};
  EXPECT_TRUE(is_excluded(round, spot));
  EXPECT_FALSE(is_excluded(round, at("aws", "us-east-1", "us-east-1b", true)));
  EXPECT_FALSE(is_excluded(round, at("aws", "us-east-1", "us-east-1a", false)))
      << "on-demand is another market";
}

TEST(Failover, AQuotaErrorRulesOutTheRegion) {
  std::vector<Exclusion> round{*exclusion_for(providers::make_error(ProviderErrc::kQuota, "quota"),
                                              at("aws", "us-east-1", "us-east-1a", true))};
  EXPECT_TRUE(is_excluded(round, at("aws", "us-east-1", "us-east-1c", true)));
  EXPECT_FALSE(is_excluded(round, at("aws", "us-west-2", "us-west-2a", true)));
}

TEST(Failover, AnAuthErrorRulesOutTheCloudAndAnInvalidRequestEndsTheRound) {
  const auto candidate = at("aws", "us-east-1", "us-east-1a", true);
  std::vector<Exclusion> round{
      *exclusion_for(providers::make_error(ProviderErrc::kAuth, "denied"), candidate)};
  EXPECT_TRUE(is_excluded(round, at("aws", "eu-west-1", "eu-west-1b", false)));
  EXPECT_FALSE(is_excluded(round, at("gcp", "us-central1", "us-central1-a", false)));
  EXPECT_EQ(classify_launch_error(providers::make_error(ProviderErrc::kInvalid, "bad")),
            LaunchErrorClass::kPrecheck);
  EXPECT_FALSE(exclusion_for(providers::make_error(ProviderErrc::kInvalid, "bad"), candidate));
  EXPECT_EQ(classify_launch_error(providers::make_error(ProviderErrc::kThrottled, "slow")),
            LaunchErrorClass::kTryNext);
}

}  // namespace
}  // namespace skyd::daemon
