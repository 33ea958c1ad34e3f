#include "nodes/common/packet_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

Prefix P(const char* text) {
  return *Prefix::parse(text);
}
IpAddress A(const char* text) {
  return *IpAddress::parse(text);
}

PacketFilter sample() {
  FilterRule ssh;
  ssh.sources = {P("100.64.0.1/32"), P("fd7a:115c:a1e0::1/128")};
  ssh.destinations = {{P("100.64.0.2/32"), {22, 22}}, {P("192.168.1.0/24"), {8000, 8100}}};
  ssh.protocols = {kProtoTcp};
  FilterRule all;
  all.any_source = true;
  all.destinations = {{P("100.64.0.2/32"), PortRange{}}};
  FilterRule odd;
  odd.sources = {P("10.0.0.0/8")};
  odd.destinations = {{P("0.0.0.0/0"), PortRange{}}};
  odd.protocols = {kProtoIcmp, 47, kProtoIcmpV6};
  return {ssh, all, odd};
}

TEST(PacketFilterJson, HasTheDocumentedShape) {
  json j = packet_filter_to_json(sample());
  EXPECT_EQ(j[0]["src"], json({"100.64.0.1/32", "fd7a:115c:a1e0::1/128"}));
  EXPECT_EQ(j[0]["dst"][0], json({{"prefix", "100.64.0.2/32"}, {"ports", "22"}}));
  EXPECT_EQ(j[0]["dst"][1]["ports"], "8000-8100");
  EXPECT_EQ(j[0]["proto"], json({"tcp"}));
  EXPECT_EQ(j[1]["src"], json({"*"}));
  EXPECT_EQ(j[1]["dst"][0]["ports"], "*");
  EXPECT_FALSE(j[1].contains("proto"));
  EXPECT_EQ(j[2]["proto"], json({"icmp", 47, "ipv6-icmp"}));
}

TEST(PacketFilterJson, RoundTrips) {
  PacketFilter f = sample();
  auto back = packet_filter_from_json(packet_filter_to_json(f));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, f);
  EXPECT_EQ(packet_filter_to_json({}), json::array());
}

TEST(PacketFilterJson, NormalisesWhatItReads) {
  auto f = packet_filter_from_json(json::parse(R"([
    {"src": ["10.0.0.2/32", "10.0.0.1/32", "10.0.0.2/32"], "dst": [{"prefix": "10.0.0.9/32"}],
     "proto": ["udp", 6, "6"]},
    {"src": ["10.0.0.1/32", "*"], "dst": []}])"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)[0].sources, (std::vector<Prefix>{P("10.0.0.1/32"), P("10.0.0.2/32")}));
  EXPECT_EQ((*f)[0].destinations[0].ports, PortRange{});  // absent ports = all
  EXPECT_EQ((*f)[0].protocols, (std::vector<uint8_t>{kProtoTcp, kProtoUdp}));
  EXPECT_TRUE((*f)[1].any_source);
  EXPECT_TRUE((*f)[1].sources.empty());
}

struct BadCase {
  const char* json;
  const char* message;
};

TEST(PacketFilterJson, RejectsBadInputNamingRuleAndField) {
  const BadCase cases[] = {
      {R"({})", "packet_filter: expected an array, got an object"},
      {R"([1])", "packet_filter[0]: expected an object, got a number"},
      {R"([{"dst": []}])", "packet_filter[0].src: missing"},
      {R"([{"src": "*", "dst": []}])", "packet_filter[0].src: expected an array"},
      {R"([{"src": [], "dst": [], "x": 1}])", "packet_filter[0]: unknown key \"x\""},
      {R"([{"src": ["*"], "dst": []}, {"src": ["10.0.0.1"], "dst": []}])",
       "packet_filter[1].src[0]: '10.0.0.1' is not a prefix"},
      {R"([{"src": ["10.0.0.1/8"], "dst": []}])", "packet_filter[0].src[0]:"},
      {R"([{"src": [], "dst": [{"ports": "*"}]}])", "packet_filter[0].dst[0].prefix: missing"},
      {R"([{"src": [], "dst": [{"prefix": "10.0.0.0/8", "ports": "70000"}]}])",
       "packet_filter[0].dst[0].ports: \"70000\" is not a port range"},
      {R"([{"src": [], "dst": [{"prefix": "10.0.0.0/8", "ports": "9-1"}]}])",
       "packet_filter[0].dst[0].ports: \"9-1\" ends before it starts"},
      {R"([{"src": [], "dst": [{"prefix": "10.0.0.0/8", "ports": 22}]}])",
       "packet_filter[0].dst[0].ports: expected a string"},
      {R"([{"src": [], "dst": [{"prefix": "10.0.0.0/8", "port": "22"}]}])",
       "packet_filter[0].dst[0]: unknown key \"port\" (did you mean \"ports\"?)"},
      {R"([{"src": [], "dst": [], "proto": ["tcpp"]}])",
       "packet_filter[0].proto[0]: \"tcpp\" is not a protocol"},
      {R"([{"src": [], "dst": [], "proto": [256]}])",
       "packet_filter[0].proto[0]: 256 is not a protocol"},
      {R"([{"src": [], "dst": [], "proto": "tcp"}])", "packet_filter[0].proto: expected an array"},
  };
  for (const BadCase& c : cases) {
    auto f = packet_filter_from_json(json::parse(c.json));
    ASSERT_FALSE(f.ok()) << c.json;
    EXPECT_THAT(f.error().message, HasSubstr(c.message)) << c.json;
  }
}

TEST(PacketFilterAccepts, MatchesSourceDestinationPortAndProtocol) {
  PacketFilter f = sample();
  EXPECT_TRUE(packet_filter_accepts(f, A("100.64.0.1"), A("100.64.0.2"), kProtoTcp, 22));
  EXPECT_TRUE(packet_filter_accepts(f, A("100.64.0.1"), A("192.168.1.7"), kProtoTcp, 8050));
  EXPECT_FALSE(packet_filter_accepts(f, A("100.64.0.1"), A("192.168.1.7"), kProtoTcp, 22));
  EXPECT_FALSE(packet_filter_accepts(f, A("100.64.0.1"), A("192.168.1.7"), kProtoUdp, 8050));
  // Rule 1 accepts anyone to 100.64.0.2 with the default protocols, ICMP included.
  EXPECT_TRUE(packet_filter_accepts(f, A("198.51.100.1"), A("100.64.0.2"), kProtoUdp, 53));
  EXPECT_TRUE(packet_filter_accepts(f, A("198.51.100.1"), A("100.64.0.2"), kProtoIcmp, 0));
  EXPECT_FALSE(packet_filter_accepts(f, A("198.51.100.1"), A("100.64.0.2"), 47, 0));
  // Rule 2: GRE from 10/8 anywhere IPv4; ports do not matter for it.
  EXPECT_TRUE(packet_filter_accepts(f, A("10.1.2.3"), A("203.0.113.5"), 47, 1234));
  EXPECT_FALSE(packet_filter_accepts(f, A("10.1.2.3"), A("2001:db8::1"), 47, 0));
  EXPECT_FALSE(packet_filter_accepts({}, A("10.1.2.3"), A("100.64.0.2"), kProtoTcp, 22));
}

}  // namespace
}  // namespace warren::control
