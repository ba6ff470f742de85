// The shelves of OpenSSL's record buffers: which allocations they serve and how many they keep.
#include "reactor/tls_record_buffers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace skyd::http {
namespace {

TEST(TlsRecordBuffers, ARecordSizedAllocationIsServedFromTheThreadsShelfAndGivenBackToIt) {
  namespace shelf = record_buffers;
  EXPECT_EQ(shelf::take(100), nullptr);  // not a record buffer's size: malloc's as usual
  EXPECT_EQ(shelf::take(shelf::kBlockBytes + 1), nullptr);
  const int before = shelf::kept();
  void* block = shelf::take(17 * 1024);
  ASSERT_NE(block, nullptr);
  std::memset(block, 0x5a, shelf::kBlockBytes);  // a whole block, whatever size was asked
  ASSERT_TRUE(shelf::give_back(block));
  EXPECT_EQ(shelf::kept(), before + 1);
  EXPECT_EQ(shelf::take(9 * 1024), block);  // the one kept, for any record size
  EXPECT_EQ(shelf::kept(), before);
  std::free(block);
  void* small = std::malloc(64);
  EXPECT_FALSE(shelf::give_back(small));  // not a block: the caller frees it
  std::free(small);
}

TEST(TlsRecordBuffers, AThreadKeepsAFewBlocksAndFreesTheRest) {
  namespace shelf = record_buffers;
  std::thread([] {
    std::vector<void*> blocks;
    for (int i = 0; i < shelf::kKeptPerThread + 5; ++i) blocks.push_back(shelf::take(17000));
    int kept = 0;
    for (void* block : blocks) {
      if (shelf::give_back(block)) {
        ++kept;
      } else {
        std::free(block);
      }
    }
    EXPECT_EQ(kept, shelf::kKeptPerThread);
    EXPECT_EQ(shelf::kept(), shelf::kKeptPerThread);
  }).join();
}

}  // namespace
}  // namespace skyd::http
