#include "daemon/skylet/attempt_log.hpp"
#include "tests/support/test_support.hpp"

namespace skyd::skylet {
namespace {

using testing::run_co;
using testing::TempDir;

Task<std::string> write_past_the_cap(std::string path) {
  AttemptLog log(co_await asio::this_coro::executor, path, 100);
  log.append(std::string(60, 'a'));
  log.append(std::string(60, 'b'));  // crosses the cap: cut, then one marker line
  log.append(std::string(60, 'c'));  // dropped
  co_return log.read(0, 1000);
}

TEST(AttemptLog, OutputPastTheCapIsCutWithOneMarkerLine) {
  TempDir dir;
  const std::string text =
      run_co<std::string>([&] { return write_past_the_cap(dir.file("output.log")); });
  EXPECT_EQ(text, std::string(60, 'a') + std::string(40, 'b') +
                      "\n[skylet: output truncated at 100 bytes]\n");
}

Task<std::string> read_by_offset(std::string path) {
  AttemptLog log(co_await asio::this_coro::executor, path, 1 << 20);
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  log.append(binary);
  std::string back = log.read(200, 1000) + log.read(0, 200);
  co_return back;
}

TEST(AttemptLog, BinaryBytesReadBackByOffset) {
  TempDir dir;
  const std::string back =
      run_co<std::string>([&] { return read_by_offset(dir.file("output.log")); });
  ASSERT_EQ(back.size(), 256u);
  EXPECT_EQ(static_cast<unsigned char>(back[0]), 200);
  EXPECT_EQ(static_cast<unsigned char>(back[56]), 0);
}

}  // namespace
}  // namespace skyd::skylet
