#include "nodes/common/channel_frame.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warren {
namespace {

using ::testing::HasSubstr;

std::vector<Frame> drain(FrameDecoder& d) {
  std::vector<Frame> out;
  while (true) {
    auto f = d.next();
    EXPECT_TRUE(f.ok()) << f.error().message;
    if (!f.ok() || !*f) return out;
    out.push_back(std::move(**f));
  }
}

TEST(ChannelFrameTest, LayoutIsTypeThenBigEndianLengthThenPayload) {
  Bytes out;
  ASSERT_TRUE(append_frame(out, FrameType::record, Bytes{0xaa, 0xbb}).ok());
  EXPECT_EQ(out, (Bytes{4, 0x00, 0x02, 0xaa, 0xbb}));
  Bytes big(300, 1);
  Bytes framed;
  ASSERT_TRUE(append_frame(framed, FrameType::handshake_response, big).ok());
  EXPECT_EQ(framed[0], 2);
  EXPECT_EQ(framed[1], 0x01);
  EXPECT_EQ(framed[2], 0x2c);
}

TEST(ChannelFrameTest, RefusesPayloadsTheLengthCannotSay) {
  Bytes out;
  EXPECT_TRUE(append_frame(out, FrameType::record, Bytes(kMaxFramePayloadBytes)).ok());
  Bytes none;
  Status s = append_frame(none, FrameType::record, Bytes(kMaxFramePayloadBytes + 1));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("65535"));
  EXPECT_TRUE(none.empty());
}

TEST(ChannelFrameTest, ErrorFramesCarryACutReason) {
  Bytes f = error_frame(std::string(5000, 'x'));
  EXPECT_EQ(f.size(), kFrameHeaderBytes + kMaxErrorReasonBytes);
  EXPECT_EQ(f[0], 3);
}

TEST(ChannelFrameTest, DecodesFramesSplitAnywhere) {
  Bytes wire;
  ASSERT_TRUE(append_frame(wire, FrameType::handshake_response, Bytes(48, 7)).ok());
  ASSERT_TRUE(append_frame(wire, FrameType::record, Bytes()).ok());
  ASSERT_TRUE(append_frame(wire, FrameType::error, ByteView(std::string_view("bye"))).ok());
  for (size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    FrameDecoder d;
    std::vector<Frame> frames;
    for (size_t i = 0; i < wire.size(); i += chunk) {
      d.feed(ByteView(wire).sub(i, chunk));
      for (Frame& f : drain(d)) frames.push_back(std::move(f));
    }
    ASSERT_EQ(frames.size(), 3u) << chunk;
    EXPECT_EQ(frames[0].type, 2);
    EXPECT_EQ(frames[0].payload, Bytes(48, 7));
    EXPECT_EQ(frames[1].type, 4);
    EXPECT_TRUE(frames[1].payload.empty());
    EXPECT_EQ(ByteView(frames[2].payload).as_string(), "bye");
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(ChannelFrameTest, OversizedFrameIsAnErrorAtTheHeaderAndStaysOne) {
  FrameDecoder d(100);
  d.feed(Bytes{4, 0x00, 0x65});  // 101 bytes announced, none sent
  auto f = d.next();
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.error().message, HasSubstr("announces 101 bytes"));
  Bytes ok;
  ASSERT_TRUE(append_frame(ok, FrameType::record, Bytes(1)).ok());
  d.feed(ok);
  EXPECT_FALSE(d.next().ok());
}

TEST(ChannelFrameTest, UnknownTypesAreTheCallersBusiness) {
  FrameDecoder d;
  d.feed(Bytes{0xff, 0x00, 0x01, 0x42});
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, 0xff);
}

std::vector<Bytes> drain(MessageAssembler& a) {
  std::vector<Bytes> out;
  while (true) {
    auto m = a.next();
    EXPECT_TRUE(m.ok()) << m.error().message;
    if (!m.ok() || !*m) return out;
    out.push_back(std::move(**m));
  }
}

TEST(ChannelFrameTest, MessagesAreLengthPrefixedAndReassembledAcrossRecords) {
  Bytes stream;
  append_message(stream, ByteView(std::string_view("first")));
  append_message(stream, ByteView());
  append_message(stream, Bytes(70000, 9));
  EXPECT_EQ(Bytes(stream.begin(), stream.begin() + 4), (Bytes{0, 0, 0, 5}));
  for (size_t record : {1u, 3u, 4u, 5u, 1000u, 65519u}) {
    MessageAssembler a(1 << 20);
    std::vector<Bytes> messages;
    for (size_t i = 0; i < stream.size(); i += record) {
      a.feed(ByteView(stream).sub(i, record));
      for (Bytes& m : drain(a)) messages.push_back(std::move(m));
    }
    ASSERT_EQ(messages.size(), 3u) << record;
    EXPECT_EQ(ByteView(messages[0]).as_string(), "first");
    EXPECT_TRUE(messages[1].empty());
    EXPECT_EQ(messages[2], Bytes(70000, 9));
    EXPECT_FALSE(a.mid_message());
  }
}

TEST(ChannelFrameTest, OversizedMessageIsRefusedBeforeItsBytesArrive) {
  MessageAssembler a(1000);
  a.feed(Bytes{0x00, 0x00, 0x03});
  EXPECT_TRUE(a.mid_message());
  auto none = a.next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  a.feed(Bytes{0xe9});  // 1001
  auto m = a.next();
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message, HasSubstr("1001 bytes"));
  EXPECT_THAT(m.error().message, HasSubstr("limit is 1000"));
  EXPECT_FALSE(a.next().ok());  // sticky

  MessageAssembler exact(1000);
  Bytes stream;
  append_message(stream, Bytes(1000));
  exact.feed(stream);
  auto got = exact.next();
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->size(), 1000u);
}

}  // namespace
}  // namespace warren
