#include "nodes/common/json_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::json_checks {
namespace {

using ::testing::HasSubstr;

TEST(Suggestion, NamesTheClosestCandidate) {
  EXPECT_EQ(suggestion("rotuer", {"host", "router", "nat"}), " (did you mean \"router\"?)");
  EXPECT_EQ(suggestion("delay_sm", {"delay_ms", "loss"}), " (did you mean \"delay_ms\"?)");
}

TEST(Suggestion, StaysQuietWhenNothingIsClose) {
  EXPECT_EQ(suggestion("banana", {"host", "router", "nat"}), "");
  EXPECT_EQ(suggestion("", {"a"}), "");
}

TEST(Suggestion, TiesGoToTheEarlierCandidate) {
  EXPECT_EQ(suggestion("abc", {"abx", "aby"}), " (did you mean \"abx\"?)");
}

TEST(Suggestion, SwappedLettersAndPrefixesAreClose) {
  EXPECT_EQ(suggestion("coer", {"core", "edge"}), " (did you mean \"core\"?)");
  EXPECT_EQ(suggestion("delay", {"loss", "delay_ms"}), " (did you mean \"delay_ms\"?)");
  EXPECT_EQ(suggestion("rate_mbps_x", {"rate_mbps"}), " (did you mean \"rate_mbps\"?)");
}

TEST(Suggestion, ShortWordsGetNoGuess) {
  EXPECT_EQ(suggestion("c", {"a", "b"}), "");
  EXPECT_EQ(suggestion("ab", {"ax"}), "");
}

TEST(CheckKeys, RejectsATypoWithASuggestion) {
  Status st = check_keys(json{{"uplnk", "core"}}, "t.json: nodes[0]", {"name", "uplink"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "t.json: nodes[0]: unknown key \"uplnk\" (did you mean \"uplink\"?)");
}

TEST(CheckKeys, ListsValidKeysWhenNothingIsClose) {
  Status st = check_keys(json{{"zzzzzz", 1}}, "w", {"name", "kind"});
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, HasSubstr("(valid keys: name kind)"));
}

TEST(CheckKeys, ExplainsKeysThatBelongToAnotherKind) {
  Status st =
      check_keys(json{{"outside", "core"}}, "w", {"name"}, {"outside"}, "does not apply to a host");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "w: key \"outside\" does not apply to a host");
}

TEST(OptionalInteger, AcceptsWholeNumbersInRange) {
  auto v = optional_integer(json{{"n", 5}}, "n", "w", 1, 10);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, 5);
  auto f = optional_integer(json{{"n", 5.0}}, "n", "w", 1, 10);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(**f, 5);
  auto missing = optional_integer(json::object(), "n", "w", 1, 10);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(OptionalInteger, RejectsFractionsRangeAndTypes) {
  EXPECT_FALSE(optional_integer(json{{"n", 2.5}}, "n", "w", 1, 10).ok());
  EXPECT_FALSE(optional_integer(json{{"n", 0}}, "n", "w", 1, 10).ok());
  EXPECT_FALSE(optional_integer(json{{"n", -3}}, "n", "w", 1, 10).ok());
  EXPECT_FALSE(optional_integer(json{{"n", 18446744073709551615ull}}, "n", "w", 1, 10).ok());
  EXPECT_FALSE(optional_integer(json{{"n", "5"}}, "n", "w", 1, 10).ok());
  EXPECT_FALSE(optional_integer(json{{"n", true}}, "n", "w", 1, 10).ok());
}

TEST(OptionalNumber, RejectsOutOfRangeAndStrings) {
  auto r = optional_number(json{{"x", 100}}, "x", "t.json: links[0]", 0, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("t.json: links[0].x: value 100 is out of range"));
  auto s = optional_number(json{{"x", "5"}}, "x", "w", 0, 10);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("expected a number, got a string"));
}

TEST(CheckName, AcceptsOrdinaryNames) {
  EXPECT_TRUE(check_name("c-port-restricted-cone", "w").ok());
  EXPECT_TRUE(check_name("pop_1.example", "w").ok());
}

TEST(CheckName, RejectsUnsafeNames) {
  EXPECT_FALSE(check_name("", "w").ok());
  EXPECT_FALSE(check_name("-lead", "w").ok());
  EXPECT_FALSE(check_name("with space", "w").ok());
  EXPECT_FALSE(check_name("quote\"d", "w").ok());
  EXPECT_FALSE(check_name(std::string(kMaxNameLength + 1, 'a'), "w").ok());
}

}  // namespace
}  // namespace warren::json_checks
