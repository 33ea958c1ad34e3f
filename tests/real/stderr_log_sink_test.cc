#include "nodes/real/stderr_log_sink.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace warren {
namespace {

TEST(StderrLogSink, FormatsUtcMillisecondsLevelComponentAndMessage) {
  // 2026-11-26T15:30:00.123Z
  const int64_t ms = 1795707000123;
  EXPECT_EQ(StderrLogSink::format(ms, LogLevel::info, "relay/stun", "listening"),
            "2026-11-26T15:30:00.123Z info relay/stun: listening");
  EXPECT_EQ(StderrLogSink::format(0, LogLevel::warn, "", "x"), "1970-01-01T00:00:00.000Z warn x");
}

TEST(StderrLogSink, EscapesControlCharactersSoLinesCannotBeForged) {
  EXPECT_EQ(StderrLogSink::format(0, LogLevel::error, "c", "a\nb\rc\x01"),
            "1970-01-01T00:00:00.000Z error c: a\\nb\\rc\\x01");
}

TEST(StderrLogSink, WritesOneLinePerCall) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    StderrLogSink sink(f);
    Logger log(&sink, nullptr, "comp", LogLevel::info);
    log.info("first");
    log.debug("hidden");
    log.error("second");
  }
  std::rewind(f);
  char buf[512] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string text(buf, n);
  EXPECT_NE(text.find(" info comp: first\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" error comp: second\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_EQ(text[4], '-');
  EXPECT_EQ(text[23], 'Z');
}

}  // namespace
}  // namespace warren
