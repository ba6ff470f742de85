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

TEST(Json, WritesInvalidUtf8AsReplacementCharacters) {
  // What a task printed with `printf '\xff\xfe'`, among valid text.
  const std::string output = "ok \xff\xfe \xC3\xA9 \xE2\x82 end";
  const std::string dumped = Json(output).dump();
  EXPECT_EQ(dumped, "\"ok \xEF\xBF\xBD\xEF\xBF\xBD \xC3\xA9 \xEF\xBF\xBD end\"");
  auto parsed = parse_json(dumped);
  ASSERT_TRUE(parsed) << parsed.error().message();
  Json object = Json::object();
  object.set("bad\xC0key", output);
  EXPECT_TRUE(parse_json(object.dump())) << "keys are sanitized too";
}

TEST(Json, TextProblemsAreNamedByTheirField) {
  auto nul = find_json_text_problem(R"({"pipeline":{"tasks":[{"envs":{"A":"x\u0000"}}]}})");
  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->path, "pipeline.tasks[0].envs.A");
  EXPECT_FALSE(nul->in_key);
  EXPECT_NE(nul->what.find("NUL"), std::string::npos) << nul->what;

  auto bytes = find_json_text_problem("{\"a\":[1,\"ok\",\"\xFF\"]}");
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->path, "a[2]");
  EXPECT_NE(bytes->what.find("UTF-8"), std::string::npos) << bytes->what;

  auto key = find_json_text_problem(R"({"a":{"ok":1,"b\ud800":2}})");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->path, "a");
  EXPECT_TRUE(key->in_key);
  EXPECT_NE(key->what.find("surrogate"), std::string::npos) << key->what;

  auto escaped_key = find_json_text_problem(R"({"\u0041\u00e9":"\udc00"})");
  ASSERT_TRUE(escaped_key);
  EXPECT_EQ(escaped_key->path, "A\xC3\xA9");
}

TEST(Json, CleanTextHasNoProblem) {
  EXPECT_FALSE(find_json_text_problem(R"({"a":"\ud83d\ude00 \u00e9","b":[{"c":"\n"}],"d":null})"));
  EXPECT_FALSE(find_json_text_problem("{\"\xC3\xA9\":\"\xE2\x82\xAC\"}"));
}

TEST(Json, SetReplacesAnExistingMember) {
  Json body = Json::object();
  body.set("a", 1);
  body.set("a", 2);
  EXPECT_EQ(body.dump(), R"({"a":2})");
}

}  // namespace
}  // namespace skyd
