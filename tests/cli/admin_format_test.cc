#include "nodes/cli/admin_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace warren::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseDuration, ReadsTheUnitsPeopleType) {
  EXPECT_EQ(*parse_duration_s("45s"), 45);
  EXPECT_EQ(*parse_duration_s("90m"), 5400);
  EXPECT_EQ(*parse_duration_s("24h"), 86400);
  EXPECT_EQ(*parse_duration_s("7d"), 7 * 86400);
  EXPECT_EQ(*parse_duration_s("1h30m"), 5400);
}

TEST(ParseDuration, RejectsWhatItCannotReadAndSaysWhatWorks) {
  for (const char* bad :
       {"", "90", "m", "5x", "1h 30m", "-5m", "0s", "0h0m", "1.5h", "99999999999d"}) {
    auto d = parse_duration_s(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_THAT(d.error().message, HasSubstr(std::string("\"") + bad + "\"")) << bad;
  }
  EXPECT_THAT(parse_duration_s("5x").error().message, HasSubstr("such as 90m, 24h or 7d"));
}

TEST(FormatUnixSeconds, PrintsUtc) {
  EXPECT_EQ(format_unix_seconds(0), "1970-01-01 00:00:00Z");
  EXPECT_EQ(format_unix_seconds(1767225600), "2026-01-01 00:00:00Z");
}

TEST(AdminTable, AlignsColumnsWithoutTrailingSpaces) {
  AdminTable table({"ID", "NAME", "TAGS"});
  table.add({"1", "laptop", "-"});
  table.add({"12", "büro", "tag:a,tag:b"});
  std::ostringstream out;
  table.print(out, "nothing");
  EXPECT_EQ(out.str(),
            "ID  NAME    TAGS\n"
            "1   laptop  -\n"
            "12  büro    tag:a,tag:b\n");
}

TEST(AdminTable, ShowsTheEmptyMessageWithoutRows) {
  AdminTable table({"ID"});
  std::ostringstream out;
  table.print(out, "no users yet");
  EXPECT_EQ(out.str(), "no users yet\n");
}

TEST(AdminTable, PadsShortRowsAndCutsLongOnes) {
  AdminTable table({"A", "B"});
  table.add({"x"});
  table.add({"y", "z", "extra"});
  std::ostringstream out;
  table.print(out, "");
  EXPECT_EQ(out.str(), "A  B\nx  \ny  z\n");
}

}  // namespace
}  // namespace warren::cli
