#include "reactor/json.hpp"

#include <gtest/gtest.h>

namespace skyd {
namespace {

TEST(Json, WritesObjectsInInsertionOrderWithEscapes) {
  Json body = Json::object();
  body.set("name", "train \"bert\"\n");
  body.set("id", 42);
  body.set("ok", true);
  body.set("ratio", 0.5);
  body.set("none", nullptr);
  Json list = Json::array();
  list.push_back(1);
  list.push_back("two");
  body.set("list", list);
  EXPECT_EQ(
      body.dump(),
      R"({"name":"train \"bert\"\n","id":42,"ok":true,"ratio":0.5,"none":null,"list":[1,"two"]})");
}

TEST(Json, EscapesControlCharacters) {
  EXPECT_EQ(Json(std::string("a\x01"
                             "b"))
                .dump(),
            R"("a\u0001b")");
}

TEST(Json, ParsesWhatItWrites) {
  Json body = Json::object();
  body.set("text", "ünïcode \t tab");
  body.set("big", static_cast<long long>(1) << 60);
  body.set("nested", Json::object());
  auto parsed = parse_json(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, body);
  EXPECT_EQ(parsed->find("big")->as_int(), static_cast<long long>(1) << 60);
}

TEST(Json, ReportsSyntaxErrors) {
  auto parsed = parse_json(R"({"a": )");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().detail.find("invalid JSON"), std::string::npos);
}

TEST(Json, SetReplacesAnExistingMember) {
  Json body = Json::object();
  body.set("a", 1);
  body.set("a", 2);
  EXPECT_EQ(body.dump(), R"({"a":2})");
}

}  // namespace
}  // namespace skyd
