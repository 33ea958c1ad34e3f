// Stage 4 of the loader: static routes, checked by walking packets along them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

using ::testing::ElementsAre;
using testing::load;
using testing::node;
using testing::walk;

std::string topology_file(const std::string& name) {
  return std::string(WARREN_SOURCE_DIR) + "/topologies/" + name;
}

Topology stun_topology() {
  auto t = load_topology_file(topology_file("stun-behind-nat.json"));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(*t) : Topology{};
}

TEST(TopologyRoutes, EveryHostReachesEveryPublicAddress) {
  Topology t = stun_topology();
  ASSERT_FALSE(t.nodes.empty());
  size_t walks = 0;
  for (const Node& from : t.nodes) {
    if (from.kind != NodeKind::host) continue;
    for (const Node& to : t.nodes) {
      if (to.realm_nat != -1) continue;  // public destinations only
      for (const auto& dst : {to.ipv4, to.ipv6}) {
        if (!dst || !from.has(dst->family())) continue;
        std::vector<std::string> path = walk(t, from.name, *dst);
        EXPECT_EQ(path.back(), to.name) << from.name << " -> " << dst->to_string();
        ++walks;
      }
    }
  }
  EXPECT_GT(walks, 100u);
}

TEST(TopologyRoutes, PublicHostsReachIpv6HostsBehindFirewalls) {
  Topology t = stun_topology();
  const Node& inside = node(t, "c-port-restricted-cone");
  ASSERT_TRUE(inside.ipv6.has_value());
  EXPECT_THAT(
      walk(t, "stun-a", *inside.ipv6),
      ElementsAre("stun-a", "core", "c-port-restricted-cone-nat", "c-port-restricted-cone"));
}

TEST(TopologyRoutes, DoubleNatPathCrossesHomeNatThenCgnat) {
  Topology t = stun_topology();
  EXPECT_THAT(
      walk(t, "c-double-nat", *node(t, "stun-b").ipv4),
      ElementsAre("c-double-nat", "c-double-nat-nat", "c-double-nat-cgnat", "core", "stun-b"));
  // Inside the double NAT, the CGNAT's own inside address is reached through the home NAT.
  EXPECT_THAT(walk(t, "c-double-nat", *node(t, "c-double-nat-cgnat").inside_address(Family::ipv4)),
              ElementsAre("c-double-nat", "c-double-nat-nat", "c-double-nat-cgnat"));
}

TEST(TopologyRoutes, PrivateAddressesAreNotRoutedPublicly) {
  Topology t = stun_topology();
  EXPECT_EQ(walk(t, "stun-a", *node(t, "c-full-cone").ipv4).back(), "DROP");
}

TEST(TopologyRoutes, TwoHostsBehindOneNatReachEachOtherThroughIt) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "home", "kind": "nat", "outside": "core", "nat": {"preset": "port-restricted-cone"}},
      {"name": "laptop"}, {"name": "phone"}],
      "links": [{"a": "home", "b": "core"}, {"a": "laptop", "b": "home"}, {"a": "phone", "b": "home"}]})");
  EXPECT_THAT(walk(t, "laptop", *node(t, "phone").ipv4), ElementsAre("laptop", "home", "phone"));
  EXPECT_THAT(walk(t, "phone", *node(t, "laptop").ipv4), ElementsAre("phone", "home", "laptop"));
  EXPECT_THAT(walk(t, "laptop", *node(t, "core").ipv4), ElementsAre("laptop", "home", "core"));
}

TEST(TopologyRoutes, RouterInsideARealmRoutesLocallyAndDefaultsToTheNat) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "srv"},
      {"name": "corp", "kind": "nat", "outside": "core", "nat": {"preset": "symmetric"}},
      {"name": "lan-router", "kind": "router"}, {"name": "pc1"}, {"name": "pc2"}],
      "links": [{"a": "srv", "b": "core"}, {"a": "corp", "b": "core"},
                {"a": "lan-router", "b": "corp"},
                {"a": "pc1", "b": "lan-router"}, {"a": "pc2", "b": "lan-router"}]})");
  EXPECT_THAT(walk(t, "pc1", *node(t, "pc2").ipv4), ElementsAre("pc1", "lan-router", "pc2"));
  EXPECT_THAT(walk(t, "pc1", *node(t, "srv").ipv4),
              ElementsAre("pc1", "lan-router", "corp", "core", "srv"));
  // The NAT routes each inside address toward the link that leads to it.
  EXPECT_THAT(walk(t, "corp", *node(t, "pc2").ipv4), ElementsAre("corp", "lan-router", "pc2"));
}

TEST(TopologyRoutes, ShortestPathByDelayWins) {
  // a - r1 - b costs 2 + 2; a - r2 - b costs 1 + 10.
  Topology t = load(R"({"nodes": [{"name": "a", "kind": "router"}, {"name": "b", "kind": "router"},
      {"name": "r1", "kind": "router"}, {"name": "r2", "kind": "router"}],
      "links": [{"a": "a", "b": "r2", "delay_ms": 1}, {"a": "r2", "b": "b", "delay_ms": 10},
                {"a": "a", "b": "r1", "delay_ms": 2}, {"a": "r1", "b": "b", "delay_ms": 2}]})");
  EXPECT_THAT(walk(t, "a", *node(t, "b").ipv4), ElementsAre("a", "r1", "b"));
  EXPECT_THAT(walk(t, "b", *node(t, "a").ipv4), ElementsAre("b", "r1", "a"));
}

TEST(TopologyRoutes, EqualPathsPickTheLowerLinkIndex) {
  Topology t = load(R"({"nodes": [{"name": "a", "kind": "router"}, {"name": "b", "kind": "router"},
      {"name": "r1", "kind": "router"}, {"name": "r2", "kind": "router"}],
      "links": [{"a": "a", "b": "r2"}, {"a": "r2", "b": "b"},
                {"a": "a", "b": "r1"}, {"a": "r1", "b": "b"}]})");
  EXPECT_THAT(walk(t, "a", *node(t, "b").ipv4), ElementsAre("a", "r2", "b"));  // link 0 first
  EXPECT_THAT(walk(t, "b", *node(t, "a").ipv4), ElementsAre("b", "r2", "a"));  // link 1 < 3
}

TEST(TopologyRoutes, FewerHopsBreakEqualDelays) {
  // a - b directly (4 ms) versus a - r - b (2 + 2 ms): the direct link wins.
  Topology t = load(R"({"nodes": [{"name": "a", "kind": "router"}, {"name": "b", "kind": "router"},
      {"name": "r", "kind": "router"}],
      "links": [{"a": "a", "b": "r", "delay_ms": 2}, {"a": "r", "b": "b", "delay_ms": 2},
                {"a": "a", "b": "b", "delay_ms": 4}]})");
  EXPECT_THAT(walk(t, "a", *node(t, "b").ipv4), ElementsAre("a", "b"));
}

TEST(TopologyRoutes, SingleLinkHostHasOnlyDefaultRoutes) {
  Topology t = stun_topology();
  const Node& a = node(t, "stun-a");
  ASSERT_EQ(a.routes.size(), 2u);
  EXPECT_EQ(a.routes[0].destination.to_string(), "0.0.0.0/0");
  EXPECT_EQ(a.routes[1].destination.to_string(), "::/0");
  EXPECT_EQ(a.routes[0].link, a.links[0]);
  const Node& v4only = node(t, "c-full-cone");
  ASSERT_EQ(v4only.routes.size(), 1u);
  EXPECT_EQ(v4only.routes[0].destination.to_string(), "0.0.0.0/0");
}

TEST(TopologyRoutes, NatRoutesNestedIpv6LansInward) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router", "families": ["ipv4", "ipv6"]},
      {"name": "h", "site": "double-nat", "uplink": "core", "families": ["ipv4", "ipv6"]}]})");
  const Node& core = node(t, "core");
  std::vector<std::string> dests;
  for (const Route& r : core.routes) dests.push_back(r.destination.to_string());
  EXPECT_THAT(dests,
              ElementsAre("192.0.2.2/32", "2001:db8::2/128", "2001:db8:1::/64", "2001:db8:2::/64"));
  EXPECT_THAT(walk(t, "core", *node(t, "h").ipv6), ElementsAre("core", "h-cgnat", "h-nat", "h"));
  EXPECT_THAT(walk(t, "h", *core.ipv6), ElementsAre("h", "h-nat", "h-cgnat", "core"));
}

TEST(TopologyRoutes, ThousandSitesGetRoutesFromTheirRouterAndNats) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "relay"}],
      "links": [{"a": "relay", "b": "core"}],
      "groups": [{"name": "pop", "count": 1000, "site": "symmetric", "uplink": "core"}]})");
  EXPECT_EQ(node(t, "core").routes.size(), 1001u);
  EXPECT_THAT(walk(t, "pop-777", *node(t, "relay").ipv4),
              ElementsAre("pop-777", "pop-777-nat", "core", "relay"));
  EXPECT_THAT(walk(t, "relay", *node(t, "pop-777-nat").ipv4),
              ElementsAre("relay", "core", "pop-777-nat"));
}

}  // namespace
}  // namespace warren::topo
