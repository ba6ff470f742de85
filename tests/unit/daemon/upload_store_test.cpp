// The upload store: chunks by offset, resumption from what it holds, the digest check, each
// user's uploads kept apart.
#include "daemon/upload_store.hpp"
#include "reactor/crypto.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace skyd::daemon {
namespace {

using skyd::testing::run_co;
using skyd::testing::TempDir;

const UserIdentity kAlice{4242, 4242, {}};
const UserIdentity kBob{4343, 4343, {}};

struct Fixture {
  TempDir dir;
  UploadStore store{dir.file("incoming"), 1 << 20};

  Result<UploadState> put(const UserIdentity& who, const std::string& digest, std::uint64_t size,
                          std::uint64_t offset, std::string bytes) {
    return run_co<Result<UploadState>>(
        [&, bytes] { return store.put(who, digest, size, offset, bytes); });
  }
  Result<UploadState> state(const UserIdentity& who, const std::string& digest,
                            std::uint64_t size) {
    return run_co<Result<UploadState>>([&] { return store.state(who, digest, size); });
  }
  std::optional<std::string> complete(const UserIdentity& who, const std::string& digest) {
    return run_co<std::optional<std::string>>([&] { return store.complete_file(who, digest); });
  }
};

TEST(UploadStore, ChunksArriveByOffsetAndTheWholeIsCheckedAgainstItsDigest) {
  Fixture f;
  const std::string content = "0123456789abcdef";
  const std::string digest = sha256_hex(content);
  auto first = f.put(kAlice, digest, content.size(), 0, content.substr(0, 10));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->received, 10u);
  EXPECT_FALSE(first->complete);
  EXPECT_FALSE(f.complete(kAlice, digest)) << "not usable before its last byte";
  // A resent chunk from the wrong place is told where the upload stands.
  auto wrong = f.put(kAlice, digest, content.size(), 4, content.substr(4, 6));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, make_error_code(UploadErrc::kWrongOffset));
  EXPECT_NE(wrong.error().detail.find("holds 10 bytes"), std::string::npos) << wrong.error().detail;
  auto resumed = f.state(kAlice, digest, content.size());
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->received, 10u);
  auto last = f.put(kAlice, digest, content.size(), 10, content.substr(10));
  ASSERT_TRUE(last) << last.error().message();
  EXPECT_TRUE(last->complete);
  auto file = f.complete(kAlice, digest);
  ASSERT_TRUE(file);
  EXPECT_EQ(skyd::testing::read_text(*file), content);
  EXPECT_FALSE(f.complete(kBob, digest)) << "bob's uploads are his own, even of the same bytes";
}

TEST(UploadStore, BytesThatDoNotMatchTheDigestAreDroppedAndRefused) {
  Fixture f;
  const std::string digest = sha256_hex("what was promised");
  auto sent = f.put(kAlice, digest, 11, 0, "something e");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, make_error_code(UploadErrc::kMismatch));
  auto after = f.state(kAlice, digest, 11);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->received, 0u) << "nothing of a mismatched upload is kept";
}

TEST(UploadStore, BadDigestsSizesAndOverrunsAreRefusedByName) {
  Fixture f;
  auto bad_digest = f.put(kAlice, "../../etc/passwd", 4, 0, "abcd");
  ASSERT_FALSE(bad_digest);
  EXPECT_NE(bad_digest.error().detail.find("digest"), std::string::npos);
  auto too_big = f.put(kAlice, sha256_hex("x"), 2u << 20, 0, "x");
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().detail.find("max_upload_bytes"), std::string::npos);
  auto overrun = f.put(kAlice, sha256_hex("abc"), 3, 0, "abcd");
  ASSERT_FALSE(overrun);
  EXPECT_NE(overrun.error().detail.find("past the size"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(f.dir.file("etc")));
}

}  // namespace
}  // namespace skyd::daemon
