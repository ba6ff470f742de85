#include "reactor/utf8.hpp"
#include "reactor/numbers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace skyd {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // été € 😀
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                                 // U+10FFFF
}

TEST(Utf8, RefusesStrayOverlongSurrogateAndOutOfRangeSequences) {
  EXPECT_EQ(first_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(first_invalid_utf8("\x80"), 0u);              // a stray continuation byte
  EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(first_invalid_utf8("\xE0\x80\xAF"), 0u);      // overlong, three bytes
  EXPECT_EQ(first_invalid_utf8("x\xED\xA0\x80"), 1u);     // U+D800, a surrogate
  EXPECT_EQ(first_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xE2\x82"), 0u);          // cut short
}

TEST(Utf8, ReplacementCoversTheMaximalInvalidSubpart) {
  EXPECT_EQ(utf8_invalid_length("\xE2\x82x"), 2u);  // a cut three-byte sequence is one unit
  EXPECT_EQ(utf8_invalid_length("\xFF\xFE"), 1u);   // bytes that begin nothing are one each
  EXPECT_EQ(utf8_invalid_length("\xED\xA0\x80"), 1u);
}

TEST(Utf8, CompleteLengthHoldsBackOnlyACutSequence) {
  EXPECT_EQ(utf8_complete_length("abc"), 3u);
  EXPECT_EQ(utf8_complete_length("ab\xE2\x82"), 2u);        // € cut after two bytes
  EXPECT_EQ(utf8_complete_length("ab\xF0\x9F\x98"), 2u);    // 😀 cut after three
  EXPECT_EQ(utf8_complete_length("ab\xE2\x82\xAC"), 5u);    // whole
  EXPECT_EQ(utf8_complete_length("ab\xFF"), 3u);            // invalid, not cut: kept
  EXPECT_EQ(utf8_complete_length("\x80\x80\x80\x80"), 4u);  // no lead byte in reach
}

TEST(Numbers, AnIdIsACanonicalPositiveDecimal) {
  EXPECT_EQ(parse_id("1"), 1);
  EXPECT_EQ(parse_id("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "0", "-1", "+1", " 1", "1 ", "01", "1e3", "0x10", "1.0",
                          "9223372036854775808", "\t1", "1\n"}) {
    EXPECT_EQ(parse_id(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(Numbers, AnInt64HasOneSpelling) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("-3"), -3);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
  for (const char* bad : {"-0", "00", "-", "+3", " 3", "3 ", "-03", "9223372036854775808"}) {
    EXPECT_EQ(parse_int64(bad), std::nullopt) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace skyd
