// The node prefix on every line of a multi-node task's output, whatever the pieces.
#include "daemon/skylet/line_prefix.hpp"

#include <gtest/gtest.h>

namespace skyd::skylet {
namespace {

TEST(LinePrefix, EveryLineGetsThePrefixWhereverThePiecesAreCut) {
  LinePrefixer prefixer("(head, rank=0, pid=7) ");
  std::string out;
  for (std::string_view piece : {"fir", "st\nsec", "ond\n", "\n", "third"})
    out += prefixer.apply(piece);
  EXPECT_EQ(out,
            "(head, rank=0, pid=7) first\n(head, rank=0, pid=7) second\n(head, rank=0, pid=7) \n"
            "(head, rank=0, pid=7) third");
  EXPECT_EQ(prefixer.apply("\nnext\n"), "\n(head, rank=0, pid=7) next\n");
  EXPECT_EQ(prefixer.apply(""), "");
}

TEST(LinePrefix, NodesAreNamedAsSkyPilotPrintsThem) {
  EXPECT_EQ(node_log_prefix("head, rank=0,", 42, "", false), "(head, rank=0, pid=42) ");
  EXPECT_EQ(node_log_prefix("worker1, rank=1,", 43, "10.0.0.2", false),
            "(worker1, rank=1, pid=43, ip=10.0.0.2) ");
  EXPECT_EQ(node_log_prefix("head, rank=0,", 44, "", true), "(setup pid=44) ");
  EXPECT_EQ(node_log_prefix("worker2, rank=2,", 45, "10.0.0.3", true),
            "(setup pid=45, ip=10.0.0.3) ");
}

}  // namespace
}  // namespace skyd::skylet
