// The checkpoint a task reports in $SKYPILOT_PROGRESS_FILE: a newline-terminated whole number of
// seconds; anything else is not a report.
#include "daemon/skylet/progress_file.hpp"
#include "tests/support/test_support.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace skyd::skylet {
namespace {

using testing::TempDir;
using Kind = ProgressRead::Kind;

TEST(ProgressFile, ANewlineTerminatedNumberIsTheSecondsOfWork) {
  EXPECT_EQ(parse_progress("3600\n").kind, Kind::kSeconds);
  EXPECT_EQ(parse_progress("3600\n").seconds, 3600);
  EXPECT_EQ(parse_progress("  42 \r\n").seconds, 42);
  EXPECT_EQ(parse_progress("0\n").kind, Kind::kSeconds);
  EXPECT_EQ(parse_progress("").kind, Kind::kNothing) << "not written yet";
}

TEST(ProgressFile, AnythingElseIsNotAReportAndSaysWhy) {
  for (const std::string& text :
       std::vector<std::string>{"3600", "abc\n", "-5\n", "1.5\n", "0.5\n", "\n", "12 34\n",
                                "1\n2\n", "99999999999999999999999\n", std::string("7\0\n", 3)}) {
    const ProgressRead read = parse_progress(text);
    EXPECT_EQ(read.kind, Kind::kBad) << text;
    EXPECT_FALSE(read.why.empty()) << text;
  }
  EXPECT_NE(parse_progress("3600").why.find("newline"), std::string::npos)
      << "a write seen half done is not taken";
  EXPECT_EQ(parse_progress(std::string("\x01\n", 2)).why, "not a whole number of seconds (\"??\")")
      << "the content is shown printable";
}

TEST(ProgressFile, ReadingIsBoundedAndTakesRegularFilesOnly) {
  TempDir dir;
  EXPECT_EQ(read_progress_file(dir.file("missing")).kind, Kind::kNothing);
  std::ofstream(dir.file("progress")) << "120\n";
  EXPECT_EQ(read_progress_file(dir.file("progress")).seconds, 120);
  std::ofstream(dir.file("long")) << std::string(1 << 20, '1') << "\n";
  const ProgressRead long_read = read_progress_file(dir.file("long"));
  EXPECT_EQ(long_read.kind, Kind::kBad);
  EXPECT_NE(long_read.why.find("longer than 64 bytes"), std::string::npos) << long_read.why;
  // A FIFO would block an ordinary read until a writer came; a link may point anywhere.
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_progress_file(dir.file("fifo")).kind, Kind::kBad);
  std::filesystem::create_symlink(dir.file("progress"), dir.file("link"));
  EXPECT_EQ(read_progress_file(dir.file("link")).kind, Kind::kNothing);
}

}  // namespace
}  // namespace skyd::skylet
