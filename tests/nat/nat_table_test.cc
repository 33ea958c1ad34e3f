// NatTable lifetime behaviour: UDP expiry at the exact boundary, refresh by outbound traffic
// only (unless inbound_refresh), per-remote permissions, hairpinning, flush, bounds.
#include "nat-models/nat_table.h"

#include <gtest/gtest.h>

#include <utility>

#include "nat_test_util.h"

namespace warren::nat {
namespace {

using testing::at_ns;
using testing::at_s;
using testing::ep;
using testing::make_config;

constexpr Behaviour kEI = Behaviour::endpoint_independent;
constexpr Behaviour kAPD = Behaviour::address_and_port_dependent;

const Endpoint kHost = ep("192.168.1.10:5000");
const Endpoint kHost2 = ep("192.168.1.11:6000");
const Endpoint kS1 = ep("198.51.100.1:3478");
const Endpoint kS2 = ep("198.51.100.2:3478");
const Endpoint kExt = ep("192.0.2.1:5000");

constexpr int64_t kUdpTimeoutNs = 300'000'000'000;

TEST(NatExpiry, UdpMappingLivesExactlyTheTimeoutAfterTheLastOutbound) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  ASSERT_EQ(nat.outbound(Protocol::udp, kHost, kS1, at_s(0)).endpoint, kExt);
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, kExt, at_ns(kUdpTimeoutNs - 1)).ok());
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_ns(kUdpTimeoutNs)).drop, Drop::no_mapping);
  EXPECT_EQ(nat.stats().mappings_expired, 1u);
  EXPECT_EQ(nat.mapping_count(), 0u);  // removed lazily by that lookup
}

TEST(NatExpiry, OutboundRefreshes) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  nat.outbound(Protocol::udp, kHost, kS1, at_s(200));
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, kExt, at_ns(500 * 1'000'000'000LL - 1)).ok());
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_s(500)).drop, Drop::no_mapping);
}

TEST(NatExpiry, InboundDoesNotRefreshByDefault) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, kExt, at_s(200)).ok());
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, kExt, at_s(299)).ok());
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_s(300)).drop, Drop::no_mapping);
}

TEST(NatExpiry, InboundRefreshesWhenConfigured) {
  SeededRng rng(1, "nat");
  NatConfig c = make_config(kEI, kAPD);
  c.inbound_refresh = true;
  NatTable nat(c, rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, kExt, at_s(200)).ok());
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, kExt, at_s(499)).ok());
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_s(799)).drop, Drop::no_mapping);
}

TEST(NatExpiry, ConfiguredTimeoutIsHonoured) {
  SeededRng rng(1, "nat");
  NatConfig c = *nat_preset("cgnat-aggressive");
  c.external_addresses = {testing::kNatAddress};
  NatTable nat(c, rng);
  const Endpoint ext = nat.outbound(Protocol::udp, kHost, kS1, at_s(0)).endpoint;
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS1, ext, at_s(29)).ok());
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, ext, at_s(30)).drop, Drop::no_mapping);
}

TEST(NatExpiry, PermissionsExpirePerRemote) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  nat.outbound(Protocol::udp, kHost, kS2, at_s(200));
  // The mapping lives until 500 s, but S1 was last sent to at 0 s: its permission is gone.
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_s(350)).drop, Drop::filtered);
  EXPECT_TRUE(nat.inbound(Protocol::udp, kS2, kExt, at_s(350)).ok());
}

TEST(NatExpiry, AddressPermissionsExpireToo) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, Behaviour::address_dependent), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  nat.outbound(Protocol::udp, kHost, kS2, at_s(200));
  const Endpoint s1_other_port = ep("198.51.100.1:9999");
  const Endpoint s2_other_port = ep("198.51.100.2:9999");
  EXPECT_TRUE(nat.inbound(Protocol::udp, s1_other_port, kExt, at_s(299)).ok());
  EXPECT_EQ(nat.inbound(Protocol::udp, s1_other_port, kExt, at_s(300)).drop, Drop::filtered);
  EXPECT_TRUE(nat.inbound(Protocol::udp, s2_other_port, kExt, at_s(300)).ok());
}

TEST(NatExpiry, AnExpiredMappingIsReplacedByANewOne) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  const Translation again = nat.outbound(Protocol::udp, kHost, kS2, at_s(300));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.endpoint, kExt);  // the freed port is preserved again
  EXPECT_EQ(nat.stats().mappings_created, 2u);
  EXPECT_EQ(nat.stats().mappings_expired, 1u);
  // The new mapping has not sent to S1.
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_s(301)).drop, Drop::filtered);
}

TEST(NatExpiry, ExpireSweepsIdleMappings) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  nat.outbound(Protocol::udp, kHost2, kS1, at_s(100));
  nat.expire(at_s(299));
  EXPECT_EQ(nat.mapping_count(), 2u);
  nat.expire(at_s(300));
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_EQ(nat.stats().mappings_expired, 1u);
  nat.expire(at_s(400));
  EXPECT_EQ(nat.mapping_count(), 0u);
  EXPECT_EQ(nat.stats().mappings_expired, 2u);
}

TEST(NatFlush, ForgetsEveryMappingButKeepsCounters) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  nat.outbound(Protocol::udp, kHost, kS1, at_s(0));
  nat.outbound(Protocol::tcp, kHost, kS1, at_s(0), testing::kSyn);
  nat.flush();
  EXPECT_EQ(nat.mapping_count(), 0u);
  EXPECT_EQ(nat.inbound(Protocol::udp, kS1, kExt, at_s(1)).drop, Drop::no_mapping);
  EXPECT_EQ(nat.stats().mappings_created, 2u);
  EXPECT_EQ(nat.stats().mappings_expired, 0u);
  // The table works normally after the reboot.
  EXPECT_EQ(nat.outbound(Protocol::udp, kHost2, kS1, at_s(2)).endpoint, ep("192.0.2.1:6000"));
}

TEST(NatFlush, ResetsTheSequentialCursor) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD, PortAssignment::sequential), rng);
  EXPECT_EQ(nat.outbound(Protocol::udp, kHost, kS1, at_s(0)).endpoint.port, 1024);
  EXPECT_EQ(nat.outbound(Protocol::udp, kHost2, kS1, at_s(0)).endpoint.port, 1025);
  nat.flush();
  EXPECT_EQ(nat.outbound(Protocol::udp, kHost2, kS1, at_s(1)).endpoint.port, 1024);
}

// Two hosts behind one NAT reach each other through its external address.
class Hairpin : public ::testing::Test {
 protected:
  NatTable make(const char* preset, bool hairpinning) {
    NatConfig c = *nat_preset(preset);
    c.external_addresses = {testing::kNatAddress};
    c.hairpinning = hairpinning;
    return NatTable(c, rng_);
  }
  SeededRng rng_{1, "nat"};
};

TEST_F(Hairpin, FullConeDeliversWithTheSendersExternalSource) {
  NatTable nat = make("full-cone", true);
  const Endpoint b_ext = nat.outbound(Protocol::udp, kHost2, kS1, at_s(0)).endpoint;
  const NatTable::Hairpin h = nat.hairpin(Protocol::udp, kHost, b_ext, at_s(1));
  ASSERT_TRUE(h.ok()) << to_string(h.drop);
  EXPECT_EQ(h.destination, kHost2);
  EXPECT_EQ(h.source, kExt);  // not the inside address (RFC 4787 REQ-9)
  EXPECT_EQ(nat.stats().outbound, 2u);
  EXPECT_EQ(nat.stats().inbound, 1u);
}

TEST_F(Hairpin, PortRestrictedNeedsBothSidesToHaveSent) {
  NatTable nat = make("port-restricted-cone", true);
  const Endpoint b_ext = nat.outbound(Protocol::udp, kHost2, kS1, at_s(0)).endpoint;
  const Endpoint a_ext = nat.outbound(Protocol::udp, kHost, kS1, at_s(0)).endpoint;
  // B's mapping has not sent to A's external endpoint yet.
  EXPECT_EQ(nat.hairpin(Protocol::udp, kHost, b_ext, at_s(1)).drop, Drop::filtered);
  // A's mapping now has sent to B's external endpoint, so B gets through to A ...
  const NatTable::Hairpin b_to_a = nat.hairpin(Protocol::udp, kHost2, a_ext, at_s(2));
  ASSERT_TRUE(b_to_a.ok()) << to_string(b_to_a.drop);
  EXPECT_EQ(b_to_a.destination, kHost);
  EXPECT_EQ(b_to_a.source, b_ext);
  // ... and from then on both ways.
  EXPECT_TRUE(nat.hairpin(Protocol::udp, kHost, b_ext, at_s(3)).ok());
}

TEST_F(Hairpin, DisabledDropsAndCounts) {
  NatTable nat = make("full-cone", false);
  const Endpoint b_ext = nat.outbound(Protocol::udp, kHost2, kS1, at_s(0)).endpoint;
  EXPECT_EQ(nat.hairpin(Protocol::udp, kHost, b_ext, at_s(1)).drop, Drop::hairpin_disabled);
  EXPECT_EQ(nat.stats().dropped_hairpin_disabled, 1u);
  EXPECT_EQ(nat.mapping_count(), 1u);  // the sender got no mapping from the dropped packet
}

TEST_F(Hairpin, ToAnAddressWeDoNotOwnIsNotAHairpin) {
  NatTable nat = make("full-cone", true);
  EXPECT_EQ(nat.hairpin(Protocol::udp, kHost, kS1, at_s(0)).drop, Drop::not_external);
}

TEST_F(Hairpin, ToAPortWithNoMappingIsDropped) {
  NatTable nat = make("full-cone", true);
  EXPECT_EQ(nat.hairpin(Protocol::udp, kHost, ep("192.0.2.1:9999"), at_s(0)).drop,
            Drop::no_mapping);
}

TEST(NatBounds, RemotesPerMappingAreCappedOldestFirst) {
  SeededRng rng(1, "nat");
  NatTable nat(make_config(kEI, kAPD), rng);
  auto remote = [](size_t i) {
    return Endpoint(IpAddress::v4(static_cast<uint32_t>(0x0A000000 + i)), 7);
  };
  // The first remote is contacted earliest, so it is the one closest to expiry.
  for (size_t i = 0; i <= kMaxRemotesPerMapping; ++i) {
    nat.outbound(Protocol::udp, kHost, remote(i), at_ns(static_cast<int64_t>(i)));
  }
  EXPECT_EQ(nat.stats().remotes_evicted, 1u);
  EXPECT_EQ(nat.inbound(Protocol::udp, remote(0), kExt, at_s(1)).drop, Drop::filtered);
  EXPECT_TRUE(nat.inbound(Protocol::udp, remote(1), kExt, at_s(1)).ok());
  EXPECT_TRUE(nat.inbound(Protocol::udp, remote(kMaxRemotesPerMapping), kExt, at_s(1)).ok());
}

TEST(NatTable, MovedTableKeepsItsState) {
  SeededRng rng(1, "nat");
  NatTable a(make_config(kEI, kAPD), rng);
  a.outbound(Protocol::udp, kHost, kS1, at_s(0));
  NatTable b = std::move(a);
  EXPECT_TRUE(b.inbound(Protocol::udp, kS1, kExt, at_s(1)).ok());
  EXPECT_EQ(b.stats().outbound, 1u);
}

TEST(NatTable, DropSpellings) {
  EXPECT_STREQ(to_string(Drop::none), "none");
  EXPECT_STREQ(to_string(Drop::no_mapping), "no-mapping");
  EXPECT_STREQ(to_string(Drop::filtered), "filtered");
  EXPECT_STREQ(to_string(Drop::ports_exhausted), "ports-exhausted");
  EXPECT_STREQ(to_string(Drop::hairpin_disabled), "hairpin-disabled");
  EXPECT_STREQ(to_string(Drop::not_external), "not-external");
  EXPECT_STREQ(to_string(Protocol::udp), "udp");
  EXPECT_STREQ(to_string(Protocol::tcp), "tcp");
}

}  // namespace
}  // namespace warren::nat
