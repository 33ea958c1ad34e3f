#include "nodes/real/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren {
namespace {

using ::testing::HasSubstr;

TEST(ResolveHost, LiteralsNeedNoLookup) {
  auto v4 = resolve_host("192.0.2.7");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*v4, std::vector<IpAddress>{IpAddress::v4(192, 0, 2, 7)});
  auto v6 = resolve_host("[2001:db8::1]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->at(0).to_string(), "2001:db8::1");
}

TEST(ResolveHost, LocalhostIsLoopback) {
  auto r = resolve_host("localhost");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_FALSE(r->empty());
  for (const IpAddress& a : *r) EXPECT_TRUE(a.is_loopback()) << a.to_string();
}

TEST(ResolveHost, FailuresNameTheHost) {
  auto r = resolve_host("no-such-host.invalid");  // RFC 6761: never resolves
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("cannot resolve 'no-such-host.invalid'"));
  EXPECT_FALSE(resolve_host("").ok());
}

TEST(ResolveEndpoint, AcceptsLiteralsWithPorts) {
  auto v4 = resolve_endpoint("192.0.2.1:3478", Family::ipv6);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->to_string(), "192.0.2.1:3478");  // the only address wins over the preference
  auto v6 = resolve_endpoint("[2001:db8::2]:443", Family::ipv4);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->to_string(), "[2001:db8::2]:443");
}

TEST(ResolveEndpoint, LocalhostHonoursThePreferredFamilyWhenItCan) {
  auto v4 = resolve_endpoint("localhost:3478", Family::ipv4);
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(v4->port, 3478);
  EXPECT_TRUE(v4->address.is_loopback());
  auto all = resolve_host("localhost");
  ASSERT_TRUE(all.ok());
  bool has_v4 = false;
  for (const IpAddress& a : *all) has_v4 |= a.is_v4();
  if (has_v4) {
    EXPECT_EQ(v4->address, IpAddress::loopback(Family::ipv4));
  }
}

TEST(ResolveEndpoint, RejectsMalformedInputWithAHint) {
  auto no_port = resolve_endpoint("example.org", Family::ipv4);
  ASSERT_FALSE(no_port.ok());
  EXPECT_THAT(no_port.error().message, HasSubstr("has no port"));
  auto bare_v6 = resolve_endpoint("2001:db8::1:3478", Family::ipv6);
  ASSERT_FALSE(bare_v6.ok());
  EXPECT_THAT(bare_v6.error().message, HasSubstr("brackets"));
  EXPECT_FALSE(resolve_endpoint("localhost:65536", Family::ipv4).ok());
  EXPECT_FALSE(resolve_endpoint("localhost:http", Family::ipv4).ok());
  EXPECT_FALSE(resolve_endpoint(":3478", Family::ipv4).ok());
  EXPECT_FALSE(resolve_endpoint("[2001:db8::1]3478", Family::ipv6).ok());
  EXPECT_FALSE(resolve_endpoint("[::1]:", Family::ipv6).ok());
}

}  // namespace
}  // namespace warren
