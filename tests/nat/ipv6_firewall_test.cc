#include "nat-models/ipv6_firewall.h"

#include <gtest/gtest.h>

#include <array>

#include "nat_test_util.h"

namespace warren::nat {
namespace {

using testing::at_ns;
using testing::at_s;
using testing::ep;
using testing::kAck;
using testing::kRst;
using testing::kSyn;
using testing::kSynAck;

const Endpoint kHost = ep("[2001:db8:1::10]:41641");
const Endpoint kHostOtherPort = ep("[2001:db8:1::10]:41642");
const Endpoint kRemote = ep("[2001:db8:2::1]:41641");
const Endpoint kRemoteOtherPort = ep("[2001:db8:2::1]:41642");
const Endpoint kStranger = ep("[2001:db8:3::1]:41641");

constexpr int64_t kSecond = 1'000'000'000;

TEST(Ipv6Firewall, UnsolicitedInboundIsDropped) {
  Ipv6Firewall fw;
  EXPECT_FALSE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(0)));
  EXPECT_FALSE(fw.inbound(Protocol::tcp, kRemote, kHost, at_s(0), kSyn));
  EXPECT_EQ(fw.stats().inbound_dropped, 2u);
  EXPECT_EQ(fw.state_count(), 0u);  // dropped packets open nothing
}

TEST(Ipv6Firewall, OutboundOpensExactlyItsFiveTuple) {
  Ipv6Firewall fw;
  EXPECT_TRUE(fw.outbound(Protocol::udp, kHost, kRemote, at_s(0)));
  EXPECT_TRUE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(1)));
  EXPECT_FALSE(fw.inbound(Protocol::udp, kRemoteOtherPort, kHost, at_s(1)));
  EXPECT_FALSE(fw.inbound(Protocol::udp, kStranger, kHost, at_s(1)));
  EXPECT_FALSE(fw.inbound(Protocol::udp, kRemote, kHostOtherPort, at_s(1)));
  EXPECT_FALSE(fw.inbound(Protocol::tcp, kRemote, kHost, at_s(1), kSynAck));
  EXPECT_EQ(fw.stats().outbound, 1u);
  EXPECT_EQ(fw.stats().inbound_admitted, 1u);
  EXPECT_EQ(fw.stats().inbound_dropped, 4u);
}

TEST(Ipv6Firewall, UdpStateExpiresAtTheTimeoutAndOnlyOutboundRefreshes) {
  Ipv6Firewall fw;
  fw.outbound(Protocol::udp, kHost, kRemote, at_s(0));
  EXPECT_TRUE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(200)));  // does not refresh
  EXPECT_TRUE(fw.inbound(Protocol::udp, kRemote, kHost, at_ns(300 * kSecond - 1)));
  EXPECT_FALSE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(300)));
  EXPECT_EQ(fw.stats().states_expired, 1u);

  fw.outbound(Protocol::udp, kHost, kRemote, at_s(1000));
  fw.outbound(Protocol::udp, kHost, kRemote, at_s(1200));
  EXPECT_TRUE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(1499)));
  EXPECT_FALSE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(1500)));
}

TEST(Ipv6Firewall, InboundRefreshWhenConfigured) {
  FirewallConfig c;
  c.inbound_refresh = true;
  Ipv6Firewall fw(c);
  fw.outbound(Protocol::udp, kHost, kRemote, at_s(0));
  EXPECT_TRUE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(200)));
  EXPECT_TRUE(fw.inbound(Protocol::udp, kRemote, kHost, at_s(499)));
}

TEST(Ipv6Firewall, TcpFollowsTheHandshake) {
  Ipv6Firewall fw;
  ASSERT_TRUE(fw.outbound(Protocol::tcp, kHost, kRemote, at_s(0), kSyn));
  ASSERT_TRUE(fw.inbound(Protocol::tcp, kRemote, kHost, at_s(1), kSynAck));
  ASSERT_TRUE(fw.outbound(Protocol::tcp, kHost, kRemote, at_s(2), kAck));
  // Established: far past the transitory timeout, still open.
  EXPECT_TRUE(fw.inbound(Protocol::tcp, kRemote, kHost, at_s(2 + 7000), kAck));
  ASSERT_TRUE(fw.outbound(Protocol::tcp, kHost, kRemote, at_s(9100), kRst));
  EXPECT_FALSE(fw.inbound(Protocol::tcp, kRemote, kHost, at_s(9100 + 240), kAck));
}

TEST(Ipv6Firewall, TcpHandshakeThatNeverCompletesIsTransitory) {
  Ipv6Firewall fw;
  fw.outbound(Protocol::tcp, kHost, kRemote, at_s(0), kSyn);
  EXPECT_TRUE(fw.inbound(Protocol::tcp, kRemote, kHost, at_ns(240 * kSecond - 1), kSynAck));
  fw.expire(at_ns(2 * 240 * kSecond - 1));
  EXPECT_EQ(fw.state_count(), 0u);
}

TEST(Ipv6Firewall, ExpireAndFlush) {
  Ipv6Firewall fw;
  fw.outbound(Protocol::udp, kHost, kRemote, at_s(0));
  fw.outbound(Protocol::udp, kHost, kStranger, at_s(100));
  fw.expire(at_s(299));
  EXPECT_EQ(fw.state_count(), 2u);
  fw.expire(at_s(300));
  EXPECT_EQ(fw.state_count(), 1u);
  fw.flush();
  EXPECT_EQ(fw.state_count(), 0u);
  EXPECT_FALSE(fw.inbound(Protocol::udp, kStranger, kHost, at_s(301)));
  EXPECT_EQ(fw.stats().states_expired, 1u);
}

TEST(Ipv6Firewall, FullTableDropsNewFlowsUntilStateExpires) {
  Ipv6Firewall fw;
  auto remote = [](size_t i) {
    std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
    b[12] = static_cast<uint8_t>(i >> 24);
    b[13] = static_cast<uint8_t>(i >> 16);
    b[14] = static_cast<uint8_t>(i >> 8);
    b[15] = static_cast<uint8_t>(i);
    return Endpoint(IpAddress::v6(b), 443);
  };
  for (size_t i = 0; i < kMaxFirewallStates; ++i) {
    ASSERT_TRUE(fw.outbound(Protocol::udp, kHost, remote(i), at_s(0)));
  }
  EXPECT_FALSE(fw.outbound(Protocol::udp, kHost, kStranger, at_s(1)));
  EXPECT_EQ(fw.stats().outbound_dropped_table_full, 1u);
  // Existing flows keep working while the table is full.
  EXPECT_TRUE(fw.outbound(Protocol::udp, kHost, remote(0), at_s(1)));
  EXPECT_TRUE(fw.outbound(Protocol::udp, kHost, kStranger, at_s(300)));
  EXPECT_EQ(fw.state_count(), 2u);
}

}  // namespace
}  // namespace warren::nat
