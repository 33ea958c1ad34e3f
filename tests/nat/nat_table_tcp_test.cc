// TCP mappings follow the connection's state (RFC 5382): transitory until the handshake
// completes, established after, transitory again after FIN both ways or RST.
#include <gtest/gtest.h>

#include "nat-models/nat_table.h"
#include "nat_test_util.h"

namespace warren::nat {
namespace {

using testing::at_ns;
using testing::at_s;
using testing::ep;
using testing::kAck;
using testing::kFinAck;
using testing::kRst;
using testing::kSyn;
using testing::kSynAck;
using testing::make_config;

constexpr Behaviour kEI = Behaviour::endpoint_independent;
constexpr Behaviour kAPD = Behaviour::address_and_port_dependent;

const Endpoint kHost = ep("192.168.1.10:40000");
const Endpoint kServer = ep("198.51.100.1:443");
const Endpoint kServer2 = ep("198.51.100.2:443");
const Endpoint kExt = ep("192.0.2.1:40000");

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kTransitory = 240;
constexpr int64_t kEstablished = 7440;

class NatTcp : public ::testing::Test {
 protected:
  bool out(int64_t t, TcpFlags f, const Endpoint& remote = kServer) {
    return nat_.outbound(Protocol::tcp, kHost, remote, at_s(t), f).ok();
  }
  Drop in_ns(int64_t t_ns, TcpFlags f, const Endpoint& remote = kServer) {
    return nat_.inbound(Protocol::tcp, remote, kExt, at_ns(t_ns), f).drop;
  }
  Drop in(int64_t t, TcpFlags f, const Endpoint& remote = kServer) {
    return in_ns(t * kSecond, f, remote);
  }
  void handshake() {
    ASSERT_TRUE(out(0, kSyn));
    ASSERT_EQ(in(1, kSynAck), Drop::none);
    ASSERT_TRUE(out(2, kAck));
  }

  SeededRng rng_{1, "nat"};
  NatTable nat_{make_config(kEI, kAPD), rng_};
};

TEST_F(NatTcp, SynAloneGetsTheTransitoryTimeout) {
  ASSERT_TRUE(out(0, kSyn));
  EXPECT_EQ(in_ns(kTransitory * kSecond - 1, kSynAck), Drop::none);
  // That SYN-ACK refreshed the mapping; without it, it would be gone at 240 s.
  NatTable fresh(make_config(kEI, kAPD), rng_);
  fresh.outbound(Protocol::tcp, kHost, kServer, at_s(0), kSyn);
  EXPECT_EQ(fresh.inbound(Protocol::tcp, kServer, kExt, at_s(kTransitory), kSynAck).drop,
            Drop::no_mapping);
}

TEST_F(NatTcp, HandshakeInProgressStaysTransitory) {
  ASSERT_TRUE(out(0, kSyn));
  ASSERT_EQ(in(10, kSynAck), Drop::none);
  // No final ACK yet: still transitory, 240 s after the last packet.
  EXPECT_EQ(in(10 + kTransitory, kAck), Drop::no_mapping);
}

TEST_F(NatTcp, CompletedHandshakeGetsTheEstablishedTimeout) {
  handshake();
  EXPECT_EQ(in_ns((2 + kEstablished) * kSecond - 1, kAck), Drop::none);
  // Refreshed by that inbound ACK: TCP counts packets both ways.
  EXPECT_EQ(in_ns((2 + kEstablished) * kSecond - 1 + kEstablished * kSecond - 1, kAck), Drop::none);
}

TEST_F(NatTcp, EstablishedExpiresAtExactlyItsTimeout) {
  handshake();
  EXPECT_EQ(in(2 + kEstablished, kAck), Drop::no_mapping);
  EXPECT_EQ(nat_.stats().mappings_expired, 1u);
}

TEST_F(NatTcp, FinBothWaysReturnsToTransitory) {
  handshake();
  ASSERT_TRUE(out(100, kFinAck));
  ASSERT_EQ(in(101, kFinAck), Drop::none);
  ASSERT_TRUE(out(102, kAck));
  EXPECT_EQ(in_ns((102 + kTransitory) * kSecond - 1, kAck), Drop::none);
  EXPECT_EQ(in(103 + 2 * kTransitory, kAck), Drop::no_mapping);
}

TEST_F(NatTcp, HalfCloseStaysEstablished) {
  handshake();
  ASSERT_TRUE(out(100, kFinAck));
  EXPECT_EQ(in(100 + 1000, kAck), Drop::none);  // well past the transitory timeout
}

TEST_F(NatTcp, RstReturnsToTransitory) {
  handshake();
  ASSERT_TRUE(out(100, kRst));
  EXPECT_EQ(in_ns((100 + kTransitory) * kSecond - 1, kAck), Drop::none);
  EXPECT_EQ(nat_.inbound(Protocol::tcp, kServer, kExt, at_s(2 * (100 + kTransitory)), kAck).drop,
            Drop::no_mapping);
}

TEST_F(NatTcp, SimultaneousOpenEstablishes) {
  ASSERT_TRUE(out(0, kSyn));
  ASSERT_EQ(in(1, kSyn), Drop::none);  // the peer's SYN crosses ours
  ASSERT_TRUE(out(2, kSynAck));
  ASSERT_EQ(in(3, kSynAck), Drop::none);
  ASSERT_TRUE(out(4, kAck));
  EXPECT_EQ(in(4 + 1000, kAck), Drop::none);  // established, not transitory
}

TEST_F(NatTcp, UnsolicitedSynIsDropped) {
  EXPECT_EQ(in(0, kSyn), Drop::no_mapping);
  handshake();
  EXPECT_EQ(in(3, kSyn, kServer2), Drop::filtered);  // APDF: another server is not admitted
  EXPECT_EQ(nat_.stats().dropped_no_mapping, 1u);
  EXPECT_EQ(nat_.stats().dropped_filtered, 1u);
}

TEST_F(NatTcp, MappingLivesAsLongAsItsLongestConnection) {
  // Two connections share the endpoint-independent mapping; one is reset.
  handshake();
  ASSERT_TRUE(out(3, kSyn, kServer2));
  ASSERT_EQ(in(4, kSynAck, kServer2), Drop::none);
  ASSERT_TRUE(out(5, kAck, kServer2));
  ASSERT_TRUE(out(10, kRst, kServer2));
  // The reset connection's permission ends 240 s after its last packet; the mapping stays
  // for the established one.
  EXPECT_EQ(in(10 + kTransitory, kAck, kServer2), Drop::filtered);
  EXPECT_EQ(in(10 + kTransitory, kAck), Drop::none);
}

TEST_F(NatTcp, ResettingTheOnlyConnectionShortensTheMapping) {
  handshake();
  ASSERT_TRUE(out(10, kRst));
  nat_.expire(at_s(10 + kTransitory));
  EXPECT_EQ(nat_.mapping_count(), 0u);
}

TEST_F(NatTcp, NewSynAfterCloseStartsOver) {
  handshake();
  ASSERT_TRUE(out(10, kRst));
  // The port is reused for a new connection to the same server: a fresh handshake.
  ASSERT_TRUE(out(20, kSyn));
  ASSERT_EQ(in(21, kSynAck), Drop::none);
  ASSERT_TRUE(out(22, kAck));
  EXPECT_EQ(in(22 + 1000, kAck), Drop::none);
}

TEST(NatTcpFiltering, EndpointIndependentFilteringTracksInboundConnections) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kEI), rng);
  nat.outbound(Protocol::tcp, kHost, kServer, at_s(0), kSyn);
  nat.outbound(Protocol::tcp, kHost, kServer, at_s(0), testing::kRst);
  // A connection opened from outside through the full-cone mapping keeps it alive once
  // established, although the host's own connection was reset.
  ASSERT_TRUE(nat.inbound(Protocol::tcp, kServer2, kExt, at_s(1), kSyn).ok());
  ASSERT_TRUE(nat.outbound(Protocol::tcp, kHost, kServer2, at_s(2), kSynAck).ok());
  ASSERT_TRUE(nat.inbound(Protocol::tcp, kServer2, kExt, at_s(3), kAck).ok());
  EXPECT_TRUE(nat.inbound(Protocol::tcp, kServer2, kExt, at_s(3 + 1000), kAck).ok());
}

}  // namespace
}  // namespace warren::nat
