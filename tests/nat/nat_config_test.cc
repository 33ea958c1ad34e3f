#include "nat-models/nat_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nat_test_util.h"

namespace warren::nat {
namespace {

constexpr Behaviour kEI = Behaviour::endpoint_independent;
constexpr Behaviour kAD = Behaviour::address_dependent;
constexpr Behaviour kAPD = Behaviour::address_and_port_dependent;

TEST(NatConfig, BehaviourSpellingsRoundTrip) {
  EXPECT_STREQ(to_string(kEI), "endpoint-independent");
  EXPECT_STREQ(to_string(kAD), "address-dependent");
  EXPECT_STREQ(to_string(kAPD), "address-and-port-dependent");
  for (Behaviour b : {kEI, kAD, kAPD}) EXPECT_EQ(*parse_behaviour(to_string(b)), b);
  Result<Behaviour> bad = parse_behaviour("EIM");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"EIM\""), std::string::npos);
  EXPECT_NE(bad.error().message.find("address-and-port-dependent"), std::string::npos);
}

TEST(NatConfig, PortAssignmentSpellingsRoundTrip) {
  EXPECT_STREQ(to_string(PortAssignment::preserve), "preserve");
  EXPECT_STREQ(to_string(PortAssignment::sequential), "sequential");
  EXPECT_STREQ(to_string(PortAssignment::random), "random");
  for (auto p : {PortAssignment::preserve, PortAssignment::sequential, PortAssignment::random}) {
    EXPECT_EQ(*parse_port_assignment(to_string(p)), p);
  }
  Result<PortAssignment> bad = parse_port_assignment("Random");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"preserve\", \"sequential\", \"random\""),
            std::string::npos);
}

TEST(NatConfig, DefaultsAreRfcCompliant) {
  NatConfig c;
  EXPECT_EQ(c.mapping, kEI);  // RFC 4787 REQ-1, RFC 5382 REQ-1
  EXPECT_EQ(c.ports, PortAssignment::preserve);
  EXPECT_EQ(c.port_min, 1024);  // REQ-3a: stay in the non-privileged class
  EXPECT_EQ(c.port_max, 65535);
  EXPECT_EQ(c.udp_timeout, Duration::seconds(300));  // REQ-5c
  EXPECT_EQ(c.tcp_established_timeout, Duration::seconds(7440));
  EXPECT_EQ(c.tcp_transitory_timeout, Duration::seconds(240));
  EXPECT_TRUE(c.hairpinning);  // REQ-9
  EXPECT_FALSE(c.inbound_refresh);
  EXPECT_TRUE(c.preset.empty());
}

TEST(NatConfig, PresetNamesInDocumentedOrder) {
  EXPECT_EQ(
      nat_preset_names(),
      (std::vector<std::string>{"full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
                                "symmetric-sequential", "cgnat", "cgnat-aggressive"}));
  for (const std::string& name : nat_preset_names()) {
    Result<NatConfig> c = nat_preset(name);
    ASSERT_TRUE(c.ok()) << name;
    EXPECT_EQ(c->preset, name);
    EXPECT_TRUE(c->hairpinning) << name;
    EXPECT_TRUE(c->external_addresses.empty()) << name;
  }
}

struct Expected {
  const char* name;
  Behaviour mapping;
  Behaviour filtering;
  PortAssignment ports;
  int64_t udp_timeout_s;
};

TEST(NatConfig, PresetsMeanWhatTheirNamesSay) {
  const Expected expected[] = {
      {"full-cone", kEI, kEI, PortAssignment::preserve, 300},
      {"restricted-cone", kEI, kAD, PortAssignment::preserve, 300},
      {"port-restricted-cone", kEI, kAPD, PortAssignment::preserve, 300},
      {"symmetric", kAPD, kAPD, PortAssignment::random, 300},
      {"symmetric-sequential", kAPD, kAPD, PortAssignment::sequential, 300},
      {"cgnat", kEI, kAPD, PortAssignment::random, 60},
      {"cgnat-aggressive", kEI, kAPD, PortAssignment::random, 30},
  };
  for (const Expected& e : expected) {
    NatConfig c = *nat_preset(e.name);
    EXPECT_EQ(c.mapping, e.mapping) << e.name;
    EXPECT_EQ(c.filtering, e.filtering) << e.name;
    EXPECT_EQ(c.ports, e.ports) << e.name;
    EXPECT_EQ(c.udp_timeout, Duration::seconds(e.udp_timeout_s)) << e.name;
    EXPECT_EQ(c.tcp_established_timeout, Duration::seconds(7440)) << e.name;
  }
}

TEST(NatConfig, UnknownPresetListsTheNames) {
  Result<NatConfig> c = nat_preset("cone");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("\"cone\""), std::string::npos);
  EXPECT_NE(c.error().message.find("\"cgnat-aggressive\""), std::string::npos);
}

TEST(NatConfig, Validation) {
  NatConfig c = testing::make_config(kEI, kAPD);
  EXPECT_TRUE(validate_nat_config(c).ok());

  NatConfig none = c;
  none.external_addresses.clear();
  EXPECT_NE(validate_nat_config(none).error().message.find("external_addresses"),
            std::string::npos);

  NatConfig v6 = c;
  v6.external_addresses = {*IpAddress::parse("2001:db8::1")};
  EXPECT_NE(validate_nat_config(v6).error().message.find("not IPv4"), std::string::npos);

  NatConfig twice = c;
  twice.external_addresses = {testing::kNatAddress, testing::kNatAddress};
  EXPECT_NE(validate_nat_config(twice).error().message.find("twice"), std::string::npos);

  NatConfig range = c;
  range.port_min = 2000;
  range.port_max = 1999;
  EXPECT_NE(validate_nat_config(range).error().message.find("port range"), std::string::npos);
  range.port_min = 0;
  range.port_max = 10;
  EXPECT_FALSE(validate_nat_config(range).ok());

  NatConfig timeout = c;
  timeout.udp_timeout = Duration::zero();
  EXPECT_NE(validate_nat_config(timeout).error().message.find("udp_timeout"), std::string::npos);
}

TEST(NatConfig, EqualityCoversEveryField) {
  const NatConfig a = testing::make_config(kEI, kAPD);
  NatConfig b = a;
  EXPECT_EQ(a, b);
  b.inbound_refresh = true;
  EXPECT_NE(a, b);
  b = a;
  b.preset = "cgnat";
  EXPECT_NE(a, b);
  b = a;
  b.tcp_transitory_timeout = Duration::seconds(1);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace warren::nat
