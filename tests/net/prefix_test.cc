#include "nodes/net/prefix.h"

#include <gtest/gtest.h>

namespace warren {
namespace {

TEST(Prefix, ParsesAndContains) {
  auto p = Prefix::parse("100.64.0.0/10");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->contains(*IpAddress::parse("100.127.255.255")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("100.128.0.0")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("::1")));
  auto v6 = Prefix::parse("fd7a:115c:a1e0::/48");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->contains(*IpAddress::parse("fd7a:115c:a1e0:ab12:4843:cd96:6258:b240")));
  EXPECT_EQ(Prefix::parse("0.0.0.0/0")->to_string(), "0.0.0.0/0");
}

TEST(Prefix, RejectsHostBitsAndSuggestsTheNetwork) {
  auto p = Prefix::parse("192.168.1.7/24");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("192.168.1.0/24"), std::string::npos);
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0", "10.0.0.0/", "10.0.0.0/x"}) {
    EXPECT_FALSE(Prefix::parse(bad).ok()) << bad;
  }
}

TEST(Prefix, EnumeratesHosts) {
  auto p = *Prefix::parse("192.0.2.0/24");
  EXPECT_EQ(p.host(1)->to_string(), "192.0.2.1");
  EXPECT_EQ(p.host(255)->to_string(), "192.0.2.255");
  EXPECT_FALSE(p.host(256).ok());
  auto v6 = *Prefix::parse("2001:db8::/32");
  EXPECT_EQ(v6.host(0x10001)->to_string(), "2001:db8::1:1");
  EXPECT_EQ(Prefix::containing(*IpAddress::parse("198.51.100.77"), 24).to_string(),
            "198.51.100.0/24");
}

}  // namespace
}  // namespace warren
