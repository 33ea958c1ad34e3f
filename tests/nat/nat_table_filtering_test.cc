// Every mapping x filtering combination against one scripted exchange: an inside host sends
// to S1; then S1 itself, S1 from another port, and S2 try to reach the mapping, and the host
// sends to S1's other port and to S2 to see which flows share the mapping.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "nat-models/nat_table.h"
#include "nat_test_util.h"

namespace warren::nat {
namespace {

using testing::at_s;
using testing::ep;
using testing::make_config;

constexpr Behaviour kEI = Behaviour::endpoint_independent;
constexpr Behaviour kAD = Behaviour::address_dependent;
constexpr Behaviour kAPD = Behaviour::address_and_port_dependent;

class MappingFiltering : public ::testing::TestWithParam<std::tuple<Behaviour, Behaviour>> {
 protected:
  Behaviour mapping() const { return std::get<0>(GetParam()); }
  Behaviour filtering() const { return std::get<1>(GetParam()); }

  SeededRng rng_{1, "nat"};
  NatTable nat_{make_config(mapping(), filtering()), rng_};
  const Endpoint host_ = ep("192.168.1.10:5000");
  const Endpoint s1_ = ep("198.51.100.1:3478");
  const Endpoint s1_other_port_ = ep("198.51.100.1:3479");
  const Endpoint s2_ = ep("198.51.100.2:3478");
};

TEST_P(MappingFiltering, InboundFromRemotesAfterOneOutbound) {
  const Translation out = nat_.outbound(Protocol::udp, host_, s1_, at_s(0));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.endpoint, ep("192.0.2.1:5000"));  // preserve keeps the inside port

  // The remote the host sent to always gets through.
  Translation reply = nat_.inbound(Protocol::udp, s1_, out.endpoint, at_s(1));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.endpoint, host_);

  // Same address, other port: admitted unless filtering is address-and-port-dependent.
  Translation other_port = nat_.inbound(Protocol::udp, s1_other_port_, out.endpoint, at_s(2));
  EXPECT_EQ(other_port.ok(), filtering() != kAPD);
  if (!other_port.ok()) {
    EXPECT_EQ(other_port.drop, Drop::filtered);
  }

  // Another address: admitted only by endpoint-independent filtering.
  Translation other_host = nat_.inbound(Protocol::udp, s2_, out.endpoint, at_s(3));
  EXPECT_EQ(other_host.ok(), filtering() == kEI);
  if (!other_host.ok()) {
    EXPECT_EQ(other_host.drop, Drop::filtered);
  }

  const uint64_t admitted = 1 + (filtering() != kAPD) + (filtering() == kEI);
  EXPECT_EQ(nat_.stats().inbound, admitted);
  EXPECT_EQ(nat_.stats().dropped_filtered, 3 - admitted);
}

TEST_P(MappingFiltering, WhichOutboundFlowsShareTheMapping) {
  const Endpoint first = nat_.outbound(Protocol::udp, host_, s1_, at_s(0)).endpoint;
  const Translation to_other_port = nat_.outbound(Protocol::udp, host_, s1_other_port_, at_s(1));
  const Translation to_s2 = nat_.outbound(Protocol::udp, host_, s2_, at_s(2));
  ASSERT_TRUE(to_other_port.ok());
  ASSERT_TRUE(to_s2.ok());

  // Same address, other port: shared unless mapping is address-and-port-dependent.
  EXPECT_EQ(to_other_port.endpoint == first, mapping() != kAPD);
  // Another address: shared only by endpoint-independent mapping.
  EXPECT_EQ(to_s2.endpoint == first, mapping() == kEI);
  // A flow that does not share the mapping gets a port of its own (no port overloading).
  if (mapping() == kAPD) {
    EXPECT_NE(to_other_port.endpoint.port, first.port);
  }
  if (mapping() != kEI) {
    EXPECT_NE(to_s2.endpoint.port, first.port);
  }
  const size_t expected_mappings = mapping() == kEI ? 1 : mapping() == kAD ? 2 : 3;
  EXPECT_EQ(nat_.mapping_count(), expected_mappings);
  EXPECT_EQ(nat_.stats().mappings_created, expected_mappings);
}

TEST_P(MappingFiltering, ARemoteThatWasSentToIsAdmittedOnThatMapping) {
  nat_.outbound(Protocol::udp, host_, s1_, at_s(0));
  const Endpoint to_s2 = nat_.outbound(Protocol::udp, host_, s2_, at_s(1)).endpoint;
  // S2 was contacted through the mapping it replies to, so every filter admits it.
  EXPECT_TRUE(nat_.inbound(Protocol::udp, s2_, to_s2, at_s(2)).ok());
}

TEST_P(MappingFiltering, UnknownPortAndForeignAddressAreDropped) {
  const Endpoint ext = nat_.outbound(Protocol::udp, host_, s1_, at_s(0)).endpoint;
  EXPECT_EQ(nat_.inbound(Protocol::udp, s1_, ep("192.0.2.1:6000"), at_s(1)).drop, Drop::no_mapping);
  EXPECT_EQ(nat_.inbound(Protocol::udp, s1_, ep("192.0.2.99:5000"), at_s(1)).drop,
            Drop::not_external);
  // A UDP mapping does not admit TCP to the same port.
  EXPECT_EQ(nat_.inbound(Protocol::tcp, s1_, ext, at_s(1)).drop, Drop::no_mapping);
  EXPECT_EQ(nat_.stats().dropped_no_mapping, 2u);
  EXPECT_EQ(nat_.stats().dropped_not_external, 1u);
}

std::string combination_name(
    const ::testing::TestParamInfo<std::tuple<Behaviour, Behaviour>>& info) {
  auto abbrev = [](Behaviour b) {
    return b == kEI ? std::string("EI") : b == kAD ? std::string("AD") : std::string("APD");
  };
  return abbrev(std::get<0>(info.param)) + "M_" + abbrev(std::get<1>(info.param)) + "F";
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, MappingFiltering,
                         ::testing::Combine(::testing::Values(kEI, kAD, kAPD),
                                            ::testing::Values(kEI, kAD, kAPD)),
                         combination_name);

}  // namespace
}  // namespace warren::nat
