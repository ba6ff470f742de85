#include "reactor/shell_quote.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace skyd {
namespace {

// What sh prints for `printf %s <word>`: the word the shell read back.
std::string echoed_by_sh(const std::string& word) {
  FILE* pipe = popen(("printf %s " + word).c_str(), "r");
  std::string out;
  if (!pipe) return out;
  std::array<char, 256> buffer;
  for (std::size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
    out.append(buffer.data(), n);
  pclose(pipe);
  return out;
}

TEST(SingleQuoted, PlainTextIsWrapped) {
  EXPECT_EQ(single_quoted("abc def"), "'abc def'");
}

TEST(SingleQuoted, EmptyStringIsAnEmptyWord) {
  EXPECT_EQ(single_quoted(""), "''");
}

TEST(SingleQuoted, EmbeddedQuotesAreClosedEscapedAndReopened) {
  EXPECT_EQ(single_quoted("it's"), "'it'\\''s'");
  EXPECT_EQ(single_quoted("''"), "''\\'''\\'''");
}

TEST(SingleQuoted, TheShellReadsBackTheSameText) {
  for (const std::string text : {"it's $HOME `id` \"x\" \\n ;|&", "'", "a\nb", "*"})
    EXPECT_EQ(echoed_by_sh(single_quoted(text)), text) << text;
}

}  // namespace
}  // namespace skyd
