// Stage 3 of the loader: deterministic addresses (README "Addressing").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::load;
using testing::load_error;
using testing::node;

// The example of the README (with a group of 3).
constexpr const char* kExample = R"({
  "name": "example",
  "link_defaults": {"delay_ms": 5, "rate_mbps": 1000, "loss": 0.0, "queue_packets": 1000},
  "nodes": [
    {"name": "core", "kind": "router", "families": ["ipv4", "ipv6"]},
    {"name": "srv", "kind": "host", "families": ["ipv4", "ipv6"]},
    {"name": "home", "kind": "nat", "outside": "core", "nat": {"preset": "port-restricted-cone"},
     "ipv6_firewall": true, "families": ["ipv4","ipv6"]},
    {"name": "laptop", "kind": "host", "families": ["ipv4","ipv6"]},
    {"name": "phone", "kind": "host", "site": "symmetric", "uplink": "core", "link": {"delay_ms": 20}}
  ],
  "links": [
    {"a": "srv", "b": "core", "delay_ms": 10},
    {"a": "home", "b": "core", "delay_ms": 8},
    {"a": "laptop", "b": "home", "delay_ms": 1}
  ],
  "groups": [
    {"name": "pop", "count": 3, "site": "port-restricted-cone", "uplink": "core",
     "families": ["ipv4"], "link": {"delay_ms": 15}}
  ]
})";

std::string v4(const Node& n) {
  return n.ipv4 ? n.ipv4->to_string() : "-";
}
std::string v6(const Node& n) {
  return n.ipv6 ? n.ipv6->to_string() : "-";
}

TEST(TopologyAddresses, ExampleGetsExactlyTheDocumentedAddresses) {
  Topology t = load(kExample);
  std::vector<std::string> names;
  for (const Node& n : t.nodes) names.push_back(n.name);
  EXPECT_THAT(names, ElementsAre("core", "srv", "home", "laptop", "phone", "phone-nat", "pop-1",
                                 "pop-1-nat", "pop-2", "pop-2-nat", "pop-3", "pop-3-nat"));
  EXPECT_EQ(v4(node(t, "core")), "192.0.2.1");
  EXPECT_EQ(v6(node(t, "core")), "2001:db8::1");
  EXPECT_EQ(v4(node(t, "srv")), "192.0.2.2");
  EXPECT_EQ(v6(node(t, "srv")), "2001:db8::2");
  EXPECT_EQ(v4(node(t, "home")), "192.0.2.3");
  EXPECT_EQ(v6(node(t, "home")), "2001:db8::3");
  EXPECT_EQ(node(t, "home").lan_ipv4->to_string(), "192.168.1.0/24");
  EXPECT_EQ(node(t, "home").lan_ipv6->to_string(), "2001:db8:1::/64");
  EXPECT_EQ(node(t, "home").inside_address(Family::ipv4)->to_string(), "192.168.1.1");
  EXPECT_EQ(node(t, "home").inside_address(Family::ipv6)->to_string(), "2001:db8:1::1");
  EXPECT_THAT(node(t, "home").nat->external_addresses, ElementsAre(IpAddress::v4(192, 0, 2, 3)));
  EXPECT_EQ(v4(node(t, "laptop")), "192.168.1.2");
  EXPECT_EQ(v6(node(t, "laptop")), "2001:db8:1::2");
  EXPECT_EQ(v4(node(t, "phone")), "192.168.2.2");
  EXPECT_EQ(v6(node(t, "phone")), "-");
  EXPECT_EQ(v4(node(t, "phone-nat")), "192.0.2.4");
  EXPECT_EQ(v6(node(t, "phone-nat")), "-");
  EXPECT_FALSE(node(t, "phone-nat").lan_ipv6.has_value());
  EXPECT_EQ(v4(node(t, "pop-1-nat")), "192.0.2.5");
  EXPECT_EQ(v4(node(t, "pop-1")), "192.168.3.2");
  EXPECT_EQ(v4(node(t, "pop-3-nat")), "192.0.2.7");
  EXPECT_EQ(v4(node(t, "pop-3")), "192.168.5.2");
}

TEST(TopologyAddresses, SameFileSameAddresses) {
  Topology a = load(kExample);
  Topology b = load(kExample);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].ipv4, b.nodes[i].ipv4);
    EXPECT_EQ(a.nodes[i].ipv6, b.nodes[i].ipv6);
  }
}

TEST(TopologyAddresses, PublicRangesRollOverInOrder) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"}],
      "groups": [{"name": "h", "count": 1100, "site": "public", "uplink": "core"}]})");
  EXPECT_EQ(v4(node(t, "h-253")), "192.0.2.254");
  EXPECT_EQ(v4(node(t, "h-254")), "198.51.100.1");
  EXPECT_EQ(v4(node(t, "h-507")), "198.51.100.254");
  EXPECT_EQ(v4(node(t, "h-508")), "203.0.113.1");
  EXPECT_EQ(v4(node(t, "h-762")), "198.18.0.1");
  EXPECT_EQ(v4(node(t, "h-1015")), "198.18.0.254");
  EXPECT_EQ(v4(node(t, "h-1016")), "198.18.1.1");
}

TEST(TopologyAddresses, PublicExhaustionIsAnError) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"}],
      "groups": [{"name": "h", "count": 130810, "site": "public", "uplink": "core"}]})");
  EXPECT_THAT(e, HasSubstr("t.json: groups[0] member 130810: the public IPv4 ranges"));
  EXPECT_THAT(e, HasSubstr("hold 130810 addresses"));
}

TEST(TopologyAddresses, CgnatRealmUses100_64) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "isp", "kind": "nat", "outside": "core", "nat": {"preset": "cgnat"}},
      {"name": "c1", "uplink": "isp"}, {"name": "c2", "uplink": "isp"}],
      "links": [{"a": "isp", "b": "core"}]})");
  EXPECT_EQ(node(t, "isp").lan_ipv4->to_string(), "100.64.0.0/10");
  EXPECT_EQ(node(t, "isp").inside_address(Family::ipv4)->to_string(), "100.64.0.1");
  EXPECT_EQ(v4(node(t, "c1")), "100.64.0.2");
  EXPECT_EQ(v4(node(t, "c2")), "100.64.0.3");
}

TEST(TopologyAddresses, LanStyleCanBeChosen) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "isp", "kind": "nat", "outside": "core", "lan": "cgnat", "nat": {"preset": "full-cone"}},
      {"name": "c1", "uplink": "isp"}], "links": [{"a": "isp", "b": "core"}]})");
  EXPECT_EQ(v4(node(t, "c1")), "100.64.0.2");
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "outside": "c", "lan": "office",
                                        "nat": {"preset": "full-cone"}}]})"),
              HasSubstr("t.json: nodes[0].lan: unknown LAN style \"office\""));
}

TEST(TopologyAddresses, DoubleNatNumbersOuterBeforeInner) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router", "families": ["ipv4", "ipv6"]},
      {"name": "h", "site": "double-nat", "uplink": "core", "families": ["ipv4", "ipv6"]}]})");
  EXPECT_EQ(v4(node(t, "h-cgnat")), "192.0.2.2");
  EXPECT_EQ(v6(node(t, "h-cgnat")), "2001:db8::2");
  EXPECT_EQ(node(t, "h-cgnat").lan_ipv6->to_string(), "2001:db8:1::/64");
  EXPECT_EQ(v4(node(t, "h-nat")), "100.64.0.2");
  EXPECT_EQ(v6(node(t, "h-nat")), "2001:db8:1::2");  // from its outer NAT's /64
  EXPECT_EQ(node(t, "h-nat").lan_ipv4->to_string(), "192.168.1.0/24");
  EXPECT_EQ(node(t, "h-nat").lan_ipv6->to_string(), "2001:db8:2::/64");
  EXPECT_EQ(v4(node(t, "h")), "192.168.1.2");
  EXPECT_EQ(v6(node(t, "h")), "2001:db8:2::2");
}

TEST(TopologyAddresses, HomeLansWrapAfter255) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"}],
      "groups": [{"name": "g", "count": 256, "site": "full-cone", "uplink": "core"}]})");
  EXPECT_EQ(node(t, "g-255-nat").lan_ipv4->to_string(), "192.168.255.0/24");
  EXPECT_EQ(node(t, "g-256-nat").lan_ipv4->to_string(), "192.168.1.0/24");
}

TEST(TopologyAddresses, NestedHomeLanNeverReusesAnEnclosingLan) {
  // outer takes 192.168.1; the 255th site inside mid would wrap onto it and must skip it.
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "outer", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}},
      {"name": "mid", "kind": "nat", "outside": "outer", "lan": "cgnat", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "outer", "b": "core"}, {"a": "mid", "b": "outer"}],
      "groups": [{"name": "g", "count": 255, "site": "full-cone", "uplink": "mid"}]})");
  EXPECT_EQ(node(t, "outer").lan_ipv4->to_string(), "192.168.1.0/24");
  EXPECT_EQ(v4(node(t, "mid")), "192.168.1.2");
  EXPECT_EQ(node(t, "g-1-nat").lan_ipv4->to_string(), "192.168.2.0/24");
  EXPECT_EQ(node(t, "g-254-nat").lan_ipv4->to_string(), "192.168.255.0/24");
  EXPECT_EQ(node(t, "g-255-nat").lan_ipv4->to_string(), "192.168.2.0/24");
  EXPECT_EQ(v4(node(t, "g-255-nat")), "100.64.1.0");  // one /10: .0 is an ordinary host
}

TEST(TopologyAddresses, CgnatInsideCgnatIsAnError) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "isp", "kind": "nat", "outside": "core", "nat": {"preset": "cgnat"}},
      {"name": "h", "site": "cgnat", "uplink": "isp"}], "links": [{"a": "isp", "b": "core"}]})");
  EXPECT_THAT(e, HasSubstr("CGNAT \"h-nat\" sits inside CGNAT \"isp\""));
}

TEST(TopologyAddresses, FullHomeLanIsAnError) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "home", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "home", "b": "core"}],
      "groups": [{"name": "g", "count": 254, "site": "public", "uplink": "home"}]})");
  EXPECT_THAT(e, HasSubstr("t.json: groups[0] member 254: no address left for \"g-254\" inside "
                           "NAT \"home\" (192.168.1.0/24 holds 253 nodes; give the NAT \"lan\": "
                           "\"cgnat\")"));
}

}  // namespace
}  // namespace warren::topo
