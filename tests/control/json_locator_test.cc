#include "nodes/common/json_locator.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace warren {
namespace {

const char* const kPolicy =
    "{\n"                                            // 1
    "  \"groups\": {\"group:eng\": [\"alice\"]},\n"  // 2
    "  \"acls\": [\n"                                // 3
    "    {\"action\": \"accept\",\n"                 // 4
    "     \"src\": [\"*\"],\n"                       // 5
    "     \"dst\": [\n"                              // 6
    "       \"a:22\",\n"                             // 7
    "       \"b:*\"]}\n"                             // 8
    "  ]\n"                                          // 9
    "}\n";

TEST(JsonLocator, FindsValuesAndKeysByPointer) {
  JsonLocator loc(kPolicy);
  EXPECT_EQ(loc.value_position(""), (TextPosition{1, 1}));
  EXPECT_EQ(loc.key_position("/groups"), (TextPosition{2, 3}));
  EXPECT_EQ(loc.value_position("/groups"), (TextPosition{2, 13}));
  EXPECT_EQ(loc.value_position("/groups/group:eng/0"), (TextPosition{2, 28}));
  EXPECT_EQ(loc.value_position("/acls/0"), (TextPosition{4, 5}));
  EXPECT_EQ(loc.key_position("/acls/0/src"), (TextPosition{5, 6}));
  EXPECT_EQ(loc.value_position("/acls/0/dst/0"), (TextPosition{7, 8}));
  EXPECT_EQ(loc.value_position("/acls/0/dst/1"), (TextPosition{8, 8}));
  EXPECT_EQ(loc.line_of("/acls/0/dst/1"), 8);
}

TEST(JsonLocator, UnknownPointersFallBackToTheNearestAncestor) {
  JsonLocator loc(kPolicy);
  EXPECT_FALSE(loc.value_position("/acls/5").has_value());
  EXPECT_FALSE(loc.value_position("/nope").has_value());
  EXPECT_FALSE(loc.value_position("acls").has_value());  // not a pointer
  EXPECT_EQ(loc.line_of("/acls/0/dst/9"), 6);
  EXPECT_EQ(loc.line_of("/acls/7/src"), 3);
  EXPECT_EQ(loc.line_of("/zzz"), 1);
}

TEST(JsonLocator, DecodesEscapedKeysAndEscapesPointerTokens) {
  JsonLocator loc("{\"a/b\": 1,\n \"t~\\u0041\": [true, null]}");
  EXPECT_EQ(loc.value_position("/a~1b"), (TextPosition{1, 9}));
  EXPECT_EQ(loc.value_position("/t~0A/1"), (TextPosition{2, 21}));
  EXPECT_EQ(json_pointer_token("a/b~c"), "a~1b~0c");
}

TEST(JsonLocator, CountsColumnsInCharactersNotBytes) {
  JsonLocator loc("{\"é\": \"ü\", \"k\": 2}");
  EXPECT_EQ(loc.value_position("/k"), (TextPosition{1, 17}));
  EXPECT_EQ(position_of_offset("ab\néx", 5), (TextPosition{2, 2}));
}

TEST(JsonLocator, ReportsTheFirstDuplicateKey) {
  JsonLocator loc("{\"a\": {\"x\": 1,\n \"x\": 2}, \"a\": 3}");
  ASSERT_TRUE(loc.first_duplicate().has_value());
  EXPECT_EQ(loc.first_duplicate()->key, "x");
  EXPECT_EQ(loc.first_duplicate()->pointer, "/a/x");
  EXPECT_EQ(loc.first_duplicate()->first, (TextPosition{1, 8}));
  EXPECT_EQ(loc.first_duplicate()->second, (TextPosition{2, 2}));
  EXPECT_FALSE(JsonLocator("{\"a\": 1, \"b\": {\"a\": 2}}").first_duplicate().has_value());
}

TEST(JsonLocator, StopsAtASyntaxErrorKeepingWhatCameBefore) {
  JsonLocator loc("{\"a\": [1, 2],\n \"b\": ?, \"c\": 3}");
  EXPECT_TRUE(loc.value_position("/a/1").has_value());
  EXPECT_FALSE(loc.value_position("/c").has_value());
}

TEST(JsonLocator, StopsBeyondTheDepthLimit) {
  std::string deep(kMaxJsonDepth + 5, '[');
  JsonLocator loc(deep);
  EXPECT_TRUE(loc.too_deep());
  EXPECT_EQ(loc.too_deep_at(), (TextPosition{1, static_cast<int>(kMaxJsonDepth) + 1}));
  EXPECT_FALSE(JsonLocator("[[[]]]").too_deep());
}

TEST(PositionOfOffset, MapsNlohmannParseErrorBytes) {
  std::string text = "{\n  \"a\": 1,\n  \"b\": tru\n}";
  try {
    auto doc = nlohmann::json::parse(text);
    FAIL() << "parsed " << doc.dump();
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_EQ(position_of_offset(text, e.byte - 1).line, 3);
  }
  EXPECT_EQ(position_of_offset("abc", 99), (TextPosition{1, 4}));
}

TEST(HujsonToJson, BlanksCommentsAndTrailingCommasKeepingPositions) {
  std::string text =
      "{ // note\n"
      "  \"a\": [1, 2,], /* multi\n"
      "  line */ \"b\": \"x // not a comment,]\",\n"
      "}";
  std::string out = hujson_to_json(text);
  ASSERT_EQ(out.size(), text.size());
  auto doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["a"], nlohmann::json({1, 2}));
  EXPECT_EQ(doc["b"], "x // not a comment,]");
  EXPECT_EQ(JsonLocator(out).value_position("/b"), (TextPosition{3, 16}));
}

TEST(HujsonToJson, LeavesPlainJsonAndRealErrorsAlone) {
  std::string text = "{\"a\": [1, {\"b\": \"\\\"/*\"}], \"c\": \"//\"}";
  EXPECT_EQ(hujson_to_json(text), text);
  // Only a comma that follows a value is a trailing comma; the rest is for the parser to reject.
  EXPECT_EQ(hujson_to_json("[1,,]"), "[1,,]");
  EXPECT_EQ(hujson_to_json("[,]"), "[,]");
  EXPECT_EQ(hujson_to_json("{\"a\":,}"), "{\"a\":,}");
  EXPECT_EQ(hujson_to_json("[[1],]"), "[[1] ]");
}

}  // namespace
}  // namespace warren
