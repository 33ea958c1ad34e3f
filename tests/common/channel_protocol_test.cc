#include "nodes/common/channel_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warren {
namespace {

using ::testing::HasSubstr;

TEST(ChannelProtocolTest, PrologueBindsTheProtocolName) {
  EXPECT_EQ(ByteView(channel_prologue("warren-control/1")).as_string(), "warren warren-control/1");
}

TEST(ChannelProtocolTest, Base64RoundTripsAndIsStrict) {
  for (size_t n = 0; n < 70; ++n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + 11);
    const std::string text = base64_encode(b);
    EXPECT_EQ(text.size() % 4, 0u);
    auto back = base64_decode(text, 100);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, b);
  }
  EXPECT_EQ(base64_encode(ByteView(std::string_view("hi?"))), "aGk/");
  EXPECT_FALSE(base64_decode("aGk", 100).ok());   // missing padding
  EXPECT_FALSE(base64_decode("aGk_", 100).ok());  // URL alphabet
  EXPECT_FALSE(base64_decode("aG k", 100).ok());  // whitespace
  EXPECT_FALSE(base64_decode("AB==", 100).ok());  // stray bits: not canonical
  EXPECT_TRUE(base64_decode("AA==", 100).ok());
  auto too_long = base64_decode(base64_encode(Bytes(10)), 9);
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.error().message, HasSubstr("longer than"));
}

TEST(ChannelProtocolTest, KeyDocumentRoundTrips) {
  PublicKey key;
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(i);
  const std::string doc = key_document(key, "warren-control/1");
  EXPECT_EQ(doc, "{\"protocol\":\"warren-control/1\",\"public_key\":\"" + to_base64(key) + "\"}");
  auto back = parse_key_document(doc, "warren-control/1");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, key);
  // Unknown fields are ignored so the document can grow.
  auto extended = parse_key_document(
      "{\"public_key\":\"" + to_base64(key) + "\",\"protocol\":\"warren-control/1\",\"v\":2}",
      "warren-control/1");
  EXPECT_TRUE(extended.ok());
}

TEST(ChannelProtocolTest, KeyDocumentErrorsSayWhatIsWrong) {
  const std::string key = to_base64(PublicKey{});
  EXPECT_THAT(parse_key_document("<html>", "p").error().message, HasSubstr("not a JSON object"));
  EXPECT_THAT(parse_key_document("[1]", "p").error().message, HasSubstr("not a JSON object"));
  EXPECT_THAT(parse_key_document("{\"protocol\":\"p\"}", "p").error().message,
              HasSubstr("no \"public_key\""));
  EXPECT_THAT(parse_key_document("{\"public_key\":\"" + key + "\"}", "p").error().message,
              HasSubstr("no \"protocol\""));
  EXPECT_THAT(parse_key_document("{\"public_key\":\"" + key + "\",\"protocol\":\"relay/1\"}", "p")
                  .error()
                  .message,
              HasSubstr("speaks \"relay/1\", not \"p\""));
  EXPECT_THAT(
      parse_key_document("{\"public_key\":\"abc\",\"protocol\":\"p\"}", "p").error().message,
      HasSubstr("public_key"));
  EXPECT_FALSE(parse_key_document(std::string(kMaxKeyDocumentBytes + 1, ' '), "p").ok());
}

TEST(ChannelProtocolTest, PrintableMasksControlBytes) {
  EXPECT_EQ(printable(std::string_view("a\r\nb\x01\xff", 6), 100), "a??b??");
  EXPECT_EQ(printable("abcdef", 3), "abc");
}

}  // namespace
}  // namespace warren
