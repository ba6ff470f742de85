// The dashboard in a real browser: a real skyd with its dashboard on a free loopback port, a job
// launched with `sky` that waits for a file, and tests/dashboard/browser_check.mjs driving
// headless Debian Chromium through playwright-core (it creates the file, then expects the page
// to show SUCCEEDED without a reload). Exits 77 (skipped) when chromium, node or
// tests/dashboard/node_modules is missing. Screenshots: <build>/tests/dashboard-screenshots/.
#include "tests/support/skyd_harness.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

namespace skyd::testing {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

std::string node_binary() {
  for (const char* candidate : {"/usr/bin/node", "/usr/local/bin/node"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return "";
}

std::string missing_prerequisite() {
  if (::access(kChromium, X_OK) != 0)
    return "chromium is not installed (scripts/install-deps.sh installs Debian's chromium)";
  if (node_binary().empty()) return "node is not installed (scripts/install-deps.sh)";
  if (!std::filesystem::exists(std::string(SKYD_DASHBOARD_TEST_DIR) +
                               "/node_modules/playwright-core/package.json"))
    return "playwright-core is not installed (npm ci --prefix " +
           std::string(SKYD_DASHBOARD_TEST_DIR) + ")";
  return "";
}

TEST(DashboardBrowser, ListsAJobAndShowsItsStatusChangeLive) {
  SkydHarness skyd(std::map<std::string, std::string>{{"dashboard", "127.0.0.1:0"}});
  const std::string release = skyd.dir() + "/release";
  const std::string started = skyd.dir() + "/started";
  const auto yaml = skyd.write_file(
      "wait.yaml", "name: waits\nresources:\n  infra: local\nrun: |\n  touch " + started +
                       "\n  while [ ! -f " + release + " ]; do sleep 0.1; done\n  echo released\n");
  auto launched = skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  ASSERT_TRUE(skyd.wait_for_file(started));

  auto printed = skyd.sky({"jobs", "dashboard", "--no-browser"});
  std::smatch url;
  ASSERT_TRUE(std::regex_search(printed.out, url, std::regex(R"(http://127\.0\.0\.1:[0-9]+/)")))
      << printed.out << printed.err;

  const std::string screenshots = std::string(SKYD_BUILD_DIR_PATH) + "/tests/dashboard-screenshots";
  std::filesystem::create_directories(screenshots);
  auto checked =
      run_command({node_binary(), std::string(SKYD_DASHBOARD_TEST_DIR) + "/browser_check.mjs",
                   url.str(), "1", release, screenshots},
                  {}, std::chrono::seconds(120));
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  if (checked.exit_code == 0) std::cout << checked.out;
  std::cout << "screenshots: " << screenshots << "\n";
  std::ofstream(release) << "go\n";  // already there unless the check failed early
  EXPECT_TRUE(skyd.wait_for_status(1, {"SUCCEEDED"}));
}

}  // namespace
}  // namespace skyd::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (const auto missing = skyd::testing::missing_prerequisite(); !missing.empty()) {
    std::cout << "SKIP: " << missing << "\n";
    return 77;
  }
  return RUN_ALL_TESTS();
}
