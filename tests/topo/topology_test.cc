#include "topologies/topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

using ::testing::ElementsAre;
using testing::index_of;
using ::testing::IsEmpty;
using testing::load;

TEST(Topology, NatChainIsInnermostFirst) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "double-nat", "uplink": "core"},
      {"name": "p", "site": "public", "uplink": "core"}]})");
  EXPECT_THAT(t.nat_chain(index_of(t, "h")),
              ElementsAre(index_of(t, "h-nat"), index_of(t, "h-cgnat")));
  EXPECT_THAT(t.nat_chain(index_of(t, "h-nat")), ElementsAre(index_of(t, "h-cgnat")));
  EXPECT_THAT(t.nat_chain(index_of(t, "h-cgnat")), IsEmpty());
  EXPECT_THAT(t.nat_chain(index_of(t, "p")), IsEmpty());
  EXPECT_THAT(t.nat_chain(-1), IsEmpty());
  EXPECT_THAT(t.nat_chain(1000), IsEmpty());
}

TEST(Topology, NatChainStopsOnAHandBuiltCycle) {
  Topology t;
  t.nodes.resize(2);
  t.nodes[0].realm_nat = 1;
  t.nodes[1].realm_nat = 0;
  EXPECT_EQ(t.nat_chain(0).size(), 2u);
}

TEST(Topology, FindAndPeer) {
  Topology t =
      load(R"({"nodes": [{"name": "a"}, {"name": "b"}], "links": [{"a": "a", "b": "b"}]})");
  EXPECT_EQ(t.find("b"), 1);
  EXPECT_EQ(t.find("c"), std::nullopt);
  EXPECT_EQ(t.peer(0, 0), 1);
  EXPECT_EQ(t.peer(0, 1), 0);
  EXPECT_EQ(t.peer(0, 5), -1);
  EXPECT_EQ(t.peer(7, 0), -1);
}

TEST(Topology, KindNamesAndFamilies) {
  EXPECT_STREQ(to_string(NodeKind::host), "host");
  EXPECT_STREQ(to_string(NodeKind::router), "router");
  EXPECT_STREQ(to_string(NodeKind::nat), "nat");
  Node n;
  n.families = {Family::ipv6};
  EXPECT_TRUE(n.has(Family::ipv6));
  EXPECT_FALSE(n.has(Family::ipv4));
  EXPECT_EQ(n.inside_address(Family::ipv4), std::nullopt);  // not a NAT
}

}  // namespace
}  // namespace warren::topo
