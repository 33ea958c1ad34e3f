#include "nodes/net/endpoint.h"

#include <gtest/gtest.h>

namespace warren {
namespace {

TEST(Endpoint, ParsesBothFamilies) {
  auto a = Endpoint::parse("192.0.2.1:3478");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 3478);
  EXPECT_EQ(a->to_string(), "192.0.2.1:3478");
  auto b = Endpoint::parse("[2001:db8::1]:65535");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->family(), Family::ipv6);
  EXPECT_EQ(b->to_string(), "[2001:db8::1]:65535");
}

TEST(Endpoint, RejectsBadInputWithAHint) {
  auto unbracketed = Endpoint::parse("2001:db8::1:80");
  ASSERT_FALSE(unbracketed.ok());
  EXPECT_NE(unbracketed.error().message.find("brackets"), std::string::npos);
  for (const char* bad : {"192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:x",
                          "[2001:db8::1]", "[2001:db8::1]80", "[192.0.2.1]:80", ":80", "[]:80"}) {
    EXPECT_FALSE(Endpoint::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace warren
