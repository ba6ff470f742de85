// The cost ledger on EC2 (fakecloud, one instance = one real skylet): a finished run is priced at
// its placement's price x nodes x time, in the SQL views, `sky jobs queue -v` and /metrics.
#include "tests/support/deadline_checks.hpp"

namespace skyd::testing {
namespace {

constexpr double kOnDemandPrice = 0.096;  // m6i.large in us-east-1, from the fake cloud's catalog

TEST(CostLedger, AFinishedRunCostsItsPriceTimesNodesTimesItsTime) {
  AwsWorld world;
  const auto yaml = world.skyd.write_file(
      "paid.yaml",
      "name: paid\nnum_nodes: 2\nresources:\n  cloud: aws\n  region: us-east-1\n  "
      "instance_type: m6i.large\nrun: sleep 3\n");
  expect_two_node_run_priced(world.skyd, yaml, kOnDemandPrice);
}

}  // namespace
}  // namespace skyd::testing
