// External port assignment: preserve, sequential and random, collisions between inside
// hosts, exhaustion of a tiny range, reproducibility of random ports, paired pooling.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "nat-models/nat_table.h"
#include "nat_test_util.h"

namespace warren::nat {
namespace {

using testing::at_s;
using testing::ep;
using testing::kNatAddress;
using testing::kNatAddress2;
using testing::kSyn;
using testing::make_config;

constexpr Behaviour kEI = Behaviour::endpoint_independent;
constexpr Behaviour kAPD = Behaviour::address_and_port_dependent;

Endpoint inside(int host, uint16_t port) {
  return Endpoint(IpAddress::v4(192, 168, 1, static_cast<uint8_t>(host)), port);
}

const Endpoint kServer = Endpoint(IpAddress::v4(198, 51, 100, 1), 3478);

NatConfig ranged(PortAssignment ports, uint16_t lo, uint16_t hi) {
  NatConfig c = make_config(kEI, kAPD, ports);
  c.port_min = lo;
  c.port_max = hi;
  return c;
}

TEST(NatPorts, PreserveKeepsTheInsidePortWhenFree) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 41641), kServer, at_s(0)).endpoint.port, 41641);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 5000), kServer, at_s(0)).endpoint.port, 5000);
}

TEST(NatPorts, PreserveCollisionTakesTheNextFreePortUpward) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  // Three hosts all use source port 5000; the second finds it taken, the third finds 5000
  // and 5001 taken.
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 5000), kServer, at_s(0)).endpoint.port, 5000);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(11, 5000), kServer, at_s(0)).endpoint.port, 5001);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(12, 5000), kServer, at_s(0)).endpoint.port, 5002);
  // The first host's mapping is untouched and still admits its server's reply.
  EXPECT_EQ(nat.inbound(Protocol::udp, kServer, ep("192.0.2.1:5000"), at_s(1)).endpoint,
            inside(10, 5000));
  EXPECT_EQ(nat.inbound(Protocol::udp, kServer, ep("192.0.2.1:5001"), at_s(1)).endpoint,
            inside(11, 5000));
}

TEST(NatPorts, PreserveWrapsWithinTheRangeAndStartsInsideIt) {
  SeededRng rng(1, "nat");
  NatTable nat(ranged(PortAssignment::preserve, 2000, 2003), rng);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 2003), kServer, at_s(0)).endpoint.port, 2003);
  // 2003 is taken and the top of the range: wrap to 2000.
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(11, 2003), kServer, at_s(0)).endpoint.port, 2000);
  // An inside port outside the range starts the search at the bottom of the range.
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(12, 80), kServer, at_s(0)).endpoint.port, 2001);
}

TEST(NatPorts, SequentialHandsOutConsecutivePortsAndWraps) {
  SeededRng rng(1, "nat");
  NatTable nat(ranged(PortAssignment::sequential, 3000, 3002), rng);
  std::vector<uint16_t> ports;
  for (int h = 0; h < 3; ++h) {
    ports.push_back(
        nat.outbound(Protocol::udp, inside(10 + h, 40000), kServer, at_s(0)).endpoint.port);
  }
  EXPECT_EQ(ports, (std::vector<uint16_t>{3000, 3001, 3002}));
  // Free 3001 by letting everything expire except host 10 and 12 (refreshed at 200 s).
  nat.outbound(Protocol::udp, inside(10, 40000), kServer, at_s(200));
  nat.outbound(Protocol::udp, inside(12, 40000), kServer, at_s(200));
  // At 300 s host 11's mapping (3001) has expired; the cursor wrapped to 3000, which is
  // taken, so the next free port after it is 3001.
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(13, 40000), kServer, at_s(300)).endpoint.port, 3001);
}

TEST(NatPorts, SequentialIgnoresTheInsidePort) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD, PortAssignment::sequential), rng);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 5000), kServer, at_s(0)).endpoint.port, 1024);
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 5001), kServer, at_s(0)).endpoint.port, 1025);
}

std::vector<uint16_t> random_ports(uint64_t seed, int count) {
  SeededRng rng(seed, "nat");
  NatTable nat(make_config(kEI, kAPD, PortAssignment::random), rng);
  std::vector<uint16_t> ports;
  for (int i = 0; i < count; ++i) {
    const Translation t =
        nat.outbound(Protocol::udp, inside(10, static_cast<uint16_t>(5000 + i)), kServer, at_s(0));
    EXPECT_TRUE(t.ok());
    ports.push_back(t.endpoint.port);
  }
  return ports;
}

TEST(NatPorts, RandomPortsReproduceFromTheSeed) {
  const std::vector<uint16_t> a = random_ports(7, 50);
  EXPECT_EQ(a, random_ports(7, 50));
  EXPECT_NE(a, random_ports(8, 50));
  const std::set<uint16_t> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), a.size());  // no port overloading
  for (uint16_t p : a) EXPECT_GE(p, 1024);
  // Not simply the inside ports or a sequence.
  EXPECT_NE(a[0], 5000);
  EXPECT_NE(a[1], a[0] + 1);
}

TEST(NatPorts, RandomStaysInRangeAndFillsATinyRangeExactly) {
  SeededRng rng(3, "nat");
  NatTable nat(ranged(PortAssignment::random, 4000, 4007), rng);
  std::set<uint16_t> seen;
  for (int h = 0; h < 8; ++h) {
    const Translation t = nat.outbound(Protocol::udp, inside(10 + h, 5000), kServer, at_s(0));
    ASSERT_TRUE(t.ok()) << h;
    EXPECT_GE(t.endpoint.port, 4000);
    EXPECT_LE(t.endpoint.port, 4007);
    seen.insert(t.endpoint.port);
  }
  EXPECT_EQ(seen.size(), 8u);
}

class Exhaustion : public ::testing::TestWithParam<PortAssignment> {};

TEST_P(Exhaustion, TinyRangeRunsOutThenRecoversAfterExpiry) {
  SeededRng rng(5, "nat");
  NatTable nat(ranged(GetParam(), 2000, 2003), rng);
  for (int h = 0; h < 4; ++h) {
    ASSERT_TRUE(nat.outbound(Protocol::udp, inside(10 + h, 2000), kServer, at_s(0)).ok()) << h;
  }
  const Translation fifth = nat.outbound(Protocol::udp, inside(20, 2000), kServer, at_s(1));
  EXPECT_EQ(fifth.drop, Drop::ports_exhausted);
  EXPECT_EQ(nat.stats().dropped_ports_exhausted, 1u);
  EXPECT_EQ(nat.mapping_count(), 4u);
  // Existing flows keep working while the range is full.
  EXPECT_TRUE(nat.outbound(Protocol::udp, inside(10, 2000), kServer, at_s(2)).ok());
  // TCP has its own port space.
  EXPECT_TRUE(nat.outbound(Protocol::tcp, inside(20, 2000), kServer, at_s(2), kSyn).ok());
  // At 300 s the three mappings not refreshed at 2 s have expired: their ports are free.
  const Translation later = nat.outbound(Protocol::udp, inside(20, 2000), kServer, at_s(300));
  ASSERT_TRUE(later.ok());
  EXPECT_GE(later.endpoint.port, 2000);
  EXPECT_LE(later.endpoint.port, 2003);
}

INSTANTIATE_TEST_SUITE_P(AllModes, Exhaustion,
                         ::testing::Values(PortAssignment::preserve, PortAssignment::sequential,
                                           PortAssignment::random),
                         [](const ::testing::TestParamInfo<PortAssignment>& p) {
                           return std::string(to_string(p.param));
                         });

TEST(NatPorts, SymmetricMappingsNeverShareAnExternalPort) {
  SeededRng rng(9, "nat");
  NatConfig c = *nat_preset("symmetric");
  c.external_addresses = {kNatAddress};
  c.port_min = 10000;
  c.port_max = 10063;
  NatTable nat(c, rng);
  std::set<Endpoint> externals;
  for (int r = 0; r < 64; ++r) {
    const Endpoint remote(IpAddress::v4(198, 51, 100, static_cast<uint8_t>(r)), 3478);
    const Translation t = nat.outbound(Protocol::udp, inside(10, 5000), remote, at_s(0));
    ASSERT_TRUE(t.ok()) << r;
    EXPECT_TRUE(externals.insert(t.endpoint).second) << t.endpoint.to_string();
  }
  EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 5000), ep("203.0.113.1:1"), at_s(0)).drop,
            Drop::ports_exhausted);
}

TEST(NatPorts, EmptyRangeOrNoAddressFailsAsExhausted) {
  SeededRng rng(1, "nat");
  NatConfig no_address = make_config(kEI, kAPD);
  no_address.external_addresses.clear();
  NatTable a(no_address, rng);
  EXPECT_EQ(a.outbound(Protocol::udp, inside(10, 5000), kServer, at_s(0)).drop,
            Drop::ports_exhausted);
  NatTable b(ranged(PortAssignment::preserve, 3000, 2000), rng);
  EXPECT_EQ(b.outbound(Protocol::udp, inside(10, 5000), kServer, at_s(0)).drop,
            Drop::ports_exhausted);
}

TEST(NatPorts, PairedPoolingKeepsOneExternalAddressPerInsideHost) {
  SeededRng rng(1, "nat");
  NatConfig c = *nat_preset("symmetric");
  c.external_addresses = {kNatAddress, kNatAddress2};
  NatTable nat(c, rng);
  // Host 10 pairs with the first address; host 11 with the less loaded second one.
  const Translation a1 = nat.outbound(Protocol::udp, inside(10, 5000), kServer, at_s(0));
  const Translation b1 = nat.outbound(Protocol::udp, inside(11, 5000), kServer, at_s(0));
  EXPECT_EQ(a1.endpoint.address, kNatAddress);
  EXPECT_EQ(b1.endpoint.address, kNatAddress2);
  // Every later mapping of a host, to any remote and protocol, uses its paired address.
  for (int r = 0; r < 10; ++r) {
    const Endpoint remote(IpAddress::v4(203, 0, 113, static_cast<uint8_t>(r)), 443);
    EXPECT_EQ(nat.outbound(Protocol::udp, inside(10, 6000), remote, at_s(1)).endpoint.address,
              kNatAddress);
    EXPECT_EQ(nat.outbound(Protocol::tcp, inside(11, 6000), remote, at_s(1), kSyn).endpoint.address,
              kNatAddress2);
  }
  EXPECT_TRUE(nat.owns(kNatAddress2));
  EXPECT_FALSE(nat.owns(IpAddress::v4(192, 0, 2, 3)));
  // Inbound to the second address reaches host 11.
  EXPECT_EQ(nat.inbound(Protocol::udp, kServer, b1.endpoint, at_s(2)).endpoint, inside(11, 5000));
}

}  // namespace
}  // namespace warren::nat
