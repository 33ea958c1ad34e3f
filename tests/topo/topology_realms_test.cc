// Stage 2 of the loader: connectivity, NAT inside/outside structure, realms, IPv6 chains.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::index_of;
using testing::load;
using testing::load_error;
using testing::node;

TEST(TopologyRealms, DisconnectedGraphNamesAnUnreachableNode) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a"}, {"name": "b"}, {"name": "island"}],
                           "links": [{"a": "a", "b": "b"}]})"),
            "t.json: nodes[2]: the graph is disconnected: \"island\" has no path of links to "
            "\"a\"");
}

TEST(TopologyRealms, NatWithoutInsideLinkIsNamed) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "n", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "n", "b": "core"}]})"),
            "t.json: nodes[1]: NAT \"n\" has no inside link: link a host, router or NAT behind "
            "it");
}

TEST(TopologyRealms, InsideThatBypassesTheNatIsAnError) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "h"},
      {"name": "n", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "n", "b": "core"}, {"a": "h", "b": "n"}, {"a": "h", "b": "core"}]})");
  EXPECT_THAT(e, HasSubstr("t.json: nodes[2]: the inside of NAT \"n\" reaches its outside "
                           "\"core\" without crossing it"));
}

TEST(TopologyRealms, TwoNatsSharingOneInsideIsAnError) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "lan"},
      {"name": "n1", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}},
      {"name": "n2", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "n1", "b": "core"}, {"a": "n2", "b": "core"},
                {"a": "lan", "b": "n1"}, {"a": "lan", "b": "n2"}]})");
  EXPECT_THAT(e, HasSubstr("NATs \"n1\" and \"n2\" both have \"lan\" on their inside"));
}

TEST(TopologyRealms, NatsNamingEachOtherAsOutsideAreAnError) {
  std::string e = load_error(R"({"nodes": [{"name": "h1"}, {"name": "h2"},
      {"name": "n1", "kind": "nat", "outside": "n2", "nat": {"preset": "full-cone"}},
      {"name": "n2", "kind": "nat", "outside": "n1", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "n1", "b": "n2"}, {"a": "h1", "b": "n1"}, {"a": "h2", "b": "n2"}]})");
  EXPECT_THAT(e, HasSubstr("NATs \"n1\" and \"n2\" name each other as \"outside\""));
}

TEST(TopologyRealms, CycleOfNatsIsAnError) {
  std::string e = load_error(R"({"nodes": [
      {"name": "a", "kind": "nat", "outside": "b", "nat": {"preset": "full-cone"}},
      {"name": "b", "kind": "nat", "outside": "c", "nat": {"preset": "full-cone"}},
      {"name": "c", "kind": "nat", "outside": "a", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "a", "b": "b"}, {"a": "b", "b": "c"}, {"a": "c", "b": "a"}]})");
  EXPECT_THAT(e, HasSubstr("is inside a cycle of NATs"));
}

TEST(TopologyRealms, Ipv6BehindANatWithoutFirewallNamesHostAndNat) {
  std::string e = load_error(R"({"nodes": [
      {"name": "core", "kind": "router", "families": ["ipv4", "ipv6"]},
      {"name": "home", "kind": "nat", "outside": "core", "nat": {"preset": "full-cone"}},
      {"name": "laptop", "families": ["ipv4", "ipv6"]}],
      "links": [{"a": "home", "b": "core"}, {"a": "laptop", "b": "home"}]})");
  EXPECT_EQ(e,
            "t.json: nodes[2]: \"laptop\" has ipv6, but NAT \"home\" in front of it does not "
            "carry IPv6 (give it \"ipv6_firewall\": true and ipv6, or drop ipv6 from "
            "\"laptop\")");
}

TEST(TopologyRealms, Ipv6ThroughANestedNatNeedsEveryFirewall) {
  std::string e = load_error(R"({"nodes": [
      {"name": "core", "kind": "router", "families": ["ipv4", "ipv6"]},
      {"name": "cg", "kind": "nat", "outside": "core", "nat": {"preset": "cgnat"}},
      {"name": "home", "kind": "nat", "outside": "cg", "ipv6_firewall": true,
       "nat": {"preset": "full-cone"}},
      {"name": "laptop", "families": ["ipv4", "ipv6"]}],
      "links": [{"a": "cg", "b": "core"}, {"a": "home", "b": "cg"}, {"a": "laptop", "b": "home"}]})");
  EXPECT_THAT(e, HasSubstr("\"home\" has ipv6, but NAT \"cg\" in front of it"));
}

TEST(TopologyRealms, Ipv6NeedsAnIpv6Path) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "a", "families": ["ipv4", "ipv6"]}, {"name": "b", "families": ["ipv4", "ipv6"]}],
      "links": [{"a": "a", "b": "core"}, {"a": "b", "b": "core"}]})");
  EXPECT_THAT(e, HasSubstr("t.json: nodes[2]: \"b\" has ipv6 but no ipv6 path to \"a\""));
}

TEST(TopologyRealms, RouterInsideANatRealmIsFine) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "corp", "kind": "nat", "outside": "core", "nat": {"preset": "symmetric"}},
      {"name": "lan-router", "kind": "router"}, {"name": "pc1"}, {"name": "pc2"}],
      "links": [{"a": "corp", "b": "core"}, {"a": "lan-router", "b": "corp"},
                {"a": "pc1", "b": "lan-router"}, {"a": "pc2", "b": "lan-router"}]})");
  int corp = index_of(t, "corp");
  EXPECT_EQ(node(t, "lan-router").realm_nat, corp);
  EXPECT_EQ(node(t, "pc1").realm_nat, corp);
  EXPECT_EQ(node(t, "corp").realm_nat, -1);
  EXPECT_THAT(t.nat_chain(index_of(t, "pc2")), ElementsAre(corp));
}

TEST(TopologyRealms, NestedNatSitsInItsOuterNatsRealm) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "double-nat", "uplink": "core"}]})");
  EXPECT_EQ(node(t, "h-cgnat").realm_nat, -1);
  EXPECT_EQ(node(t, "h-nat").realm_nat, index_of(t, "h-cgnat"));
  EXPECT_EQ(node(t, "h").realm_nat, index_of(t, "h-nat"));
}

TEST(TopologyRealms, TooDeepNestingIsAnError) {
  std::string text = R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "h"})";
  std::string links;
  std::string outside = "core";
  for (int i = 0; i < 40; ++i) {
    std::string n = "n" + std::to_string(i);
    text += ", {\"name\": \"" + n + "\", \"kind\": \"nat\", \"outside\": \"" + outside +
            "\", \"nat\": {\"preset\": \"full-cone\"}}";
    links += std::string(links.empty() ? "" : ", ") + "{\"a\": \"" + n + "\", \"b\": \"" + outside +
             "\"}";
    outside = n;
  }
  text += "], \"links\": [" + links + ", {\"a\": \"h\", \"b\": \"n39\"}]}";
  EXPECT_THAT(load_error(text), HasSubstr("sits behind more than 32 NATs"));
}

}  // namespace
}  // namespace warren::topo
