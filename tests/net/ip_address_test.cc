#include "nodes/net/ip_address.h"

#include <gtest/gtest.h>

namespace warren {
namespace {

TEST(IpAddress, ParsesAndFormatsIpv4) {
  auto a = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_value(), 0xC0000201u);
  EXPECT_EQ(a->to_string(), "192.0.2.1");
}

TEST(IpAddress, RejectsMalformedIpv4WithTheInputInTheMessage) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.x", "01.2.3.4", "1..2.3",
                          "1.2.3.4 ", "-1.2.3.4"}) {
    auto a = IpAddress::parse(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_NE(a.error().message.find(bad), std::string::npos) << bad;
    }
  }
}

TEST(IpAddress, ParsesIpv6Forms) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"2001:db8::1", "2001:db8::1"},
      {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"::", "::"},
      {"::1", "::1"},
      {"fe80::", "fe80::"},
      {"1:0:0:1:0:0:0:1", "1:0:0:1::1"},           // longest run wins
      {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},         // first of equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // single zero group not compressed
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
      {"fd7a:115c:a1e0::", "fd7a:115c:a1e0::"},
  };
  for (const auto& c : cases) {
    auto a = IpAddress::parse(c.in);
    ASSERT_TRUE(a.ok()) << c.in << ": " << a.error().message;
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->to_string(), c.out) << c.in;
  }
}

TEST(IpAddress, RejectsMalformedIpv6) {
  for (const char* bad : {":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
                          "g::1", "1:", ":1", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
                          "::1.2.3.4:5", "1:2:3:4:5:6:7:8::"}) {
    EXPECT_FALSE(IpAddress::parse(bad).ok()) << bad;
  }
}

TEST(IpAddress, ClassifiesSpecialAddresses) {
  EXPECT_TRUE(IpAddress::parse("127.0.0.5")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("169.254.1.1")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("fe80::1")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("ff02::1")->is_multicast());
  EXPECT_TRUE(IpAddress::parse("0.0.0.0")->is_unspecified());
  EXPECT_TRUE(IpAddress::parse("::")->is_unspecified());
  EXPECT_EQ(IpAddress::parse("::ffff:198.51.100.7")->unmap(), *IpAddress::parse("198.51.100.7"));
}

TEST(IpAddress, OrdersIpv4BeforeIpv6) {
  EXPECT_LT(*IpAddress::parse("255.255.255.255"), *IpAddress::parse("::"));
  EXPECT_LT(*IpAddress::parse("192.0.2.1"), *IpAddress::parse("192.0.2.2"));
  EXPECT_NE(IpAddress::any(Family::ipv4), IpAddress::any(Family::ipv6));
}

}  // namespace
}  // namespace warren
