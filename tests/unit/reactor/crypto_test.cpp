#include "reactor/crypto.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace skyd {
namespace {

// RFC 4231's test cases 1, 2 and 6, and an empty key and message.
struct HmacCase {
  std::string key;
  std::string data;
  std::string mac_hex;
};
const std::vector<HmacCase>& hmac_cases() {
  static const std::vector<HmacCase> cases{
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
  };
  return cases;
}

TEST(HmacSha256, MatchesRfc4231AndKeepsNoKeyFromOneCallToTheNext) {
  // Twice round, so that each key follows a different one (an empty key after a long one).
  for (int round = 0; round < 2; ++round) {
    for (const auto& c : hmac_cases()) EXPECT_EQ(hmac_sha256_hex(c.key, c.data), c.mac_hex);
  }
  EXPECT_EQ(hmac_sha256_hex(std::string_view(), ""), hmac_cases().back().mac_hex);
}

TEST(HmacSha256, ThreadsComputeAtOnceWithoutSharingAContext) {
  std::vector<std::thread> threads;
  std::vector<int> right(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &right] {
      for (int i = 0; i < 500; ++i) {
        const auto& c = hmac_cases()[static_cast<std::size_t>(i + t) % hmac_cases().size()];
        if (hmac_sha256_hex(c.key, c.data) == c.mac_hex) ++right[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : right) EXPECT_EQ(count, 500);
}

}  // namespace
}  // namespace skyd
