// Stage 1 of the loader: keys, types, values, site and group expansion, name resolution.
#include <set>

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

TEST(TopologyParser, UnknownNodeInALinkIsNamedWithASuggestion) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "router", "kind": "router"}, {"name": "h"}],
                           "links": [{"a": "h", "b": "rotuer"}]})"),
            "t.json: links[0]: unknown node \"rotuer\" (did you mean \"router\"?)");
}

TEST(TopologyParser, UnknownUplinkIsNamed) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "core", "kind": "router"},
                                     {"name": "h", "site": "full-cone", "uplink": "coer"}]})"),
            "t.json: nodes[1].uplink: unknown node \"coer\" (did you mean \"core\"?)");
}

TEST(TopologyParser, DuplicateNamesAreNamedWithBothPlaces) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a"}, {"name": "b"}, {"name": "a"}]})"),
            "t.json: nodes[2]: duplicate node name \"a\" (already used by nodes[0])");
}

TEST(TopologyParser, DuplicateNamesFromSiteExpansionAreCaught) {
  std::string e = load_error(R"({"nodes": [
      {"name": "core", "kind": "router"},
      {"name": "phone-nat", "kind": "router"},
      {"name": "phone", "site": "symmetric", "uplink": "core"}]})");
  EXPECT_THAT(e, HasSubstr("duplicate node name \"phone-nat\" (already used by nodes[1])"));
  EXPECT_THAT(e, HasSubstr("t.json: nodes[2] (site \"symmetric\" of \"phone\")"));
}

TEST(TopologyParser, DuplicateNamesFromGroupExpansionAreCaught) {
  std::string e = load_error(R"({"nodes": [{"name": "core", "kind": "router"},
                                           {"name": "pop-2", "kind": "router"}],
      "groups": [{"name": "pop", "count": 3, "site": "public", "uplink": "core"}]})");
  EXPECT_EQ(e,
            "t.json: groups[0] member 2: duplicate node name \"pop-2\" (already used by "
            "nodes[1])");
}

TEST(TopologyParser, SelfLinkIsAnError) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a"}], "links": [{"a": "a", "b": "a"}]})"),
            "t.json: links[0]: link from \"a\" to itself");
}

TEST(TopologyParser, DuplicateLinkNamesTheFirst) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a"}, {"name": "b"}],
                           "links": [{"a": "a", "b": "b"}, {"a": "b", "b": "a"}]})"),
            "t.json: links[1]: second link between \"b\" and \"a\" (the first is links[0])");
}

TEST(TopologyParser, GeneratedLinkDuplicatingAFileLinkIsAnError) {
  std::string e = load_error(R"({"nodes": [
      {"name": "core", "kind": "router"},
      {"name": "phone", "site": "full-cone", "uplink": "core"}],
      "links": [{"a": "phone-nat", "b": "core"}]})");
  EXPECT_THAT(e, HasSubstr("second link between \"phone-nat\" and \"core\" (the first is "
                           "links[0])"));
}

TEST(TopologyParser, UnknownKeysAreTypos) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a", "familes": ["ipv4"]}]})"),
            "t.json: nodes[0]: unknown key \"familes\" (did you mean \"families\"?)");
  EXPECT_EQ(load_error(R"({"nodez": []})"),
            "t.json: unknown key \"nodez\" (did you mean \"nodes\"?)");
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a"}, {"name": "b"}],
                           "links": [{"a": "a", "b": "b", "delay": 5}]})"),
            "t.json: links[0]: unknown key \"delay\" (did you mean \"delay_ms\"?)");
  EXPECT_THAT(load_error(R"({"link_defaults": {"rate": 5}, "nodes": [{"name": "a"}]})"),
              HasSubstr("t.json: link_defaults: unknown key \"rate\""));
}

TEST(TopologyParser, KeysOfAnotherKindAreExplained) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a", "kind": "router", "uplink": "b"}]})"),
            "t.json: nodes[0]: key \"uplink\" does not apply to a router");
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a", "outside": "b"}]})"),
            "t.json: nodes[0]: key \"outside\" does not apply to a host");
}

TEST(TopologyParser, WrongTypesAreNamed) {
  EXPECT_EQ(load_error(R"([1, 2])"),
            "t.json: expected a JSON object at the top level, got an array");
  EXPECT_EQ(load_error(R"({"nodes": {"name": "a"}})"),
            "t.json: nodes: expected an array, got an object");
  EXPECT_EQ(load_error(R"({"nodes": [{"name": 5}]})"),
            "t.json: nodes[0].name: expected a string, got a number");
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a", "families": "ipv4"}]})"),
            "t.json: nodes[0].families: expected a non-empty array such as [\"ipv4\", \"ipv6\"]");
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a"}, {"name": "b"}],
                           "links": [{"a": "a", "b": "b", "delay_ms": "5"}]})"),
            "t.json: links[0].delay_ms: expected a number, got a string");
}

TEST(TopologyParser, BadNumbersAreNamed) {
  const char* base = R"({"nodes": [{"name": "a"}, {"name": "b"}], "links": [{"a": "a", "b": "b", )";
  EXPECT_THAT(load_error(std::string(base) + R"("loss": 1.0}]})"),
              HasSubstr("t.json: links[0].loss: must be below 1"));
  EXPECT_THAT(load_error(std::string(base) + R"("loss": -0.1}]})"),
              HasSubstr("t.json: links[0].loss: value -0.1 is out of range"));
  EXPECT_THAT(load_error(std::string(base) + R"("delay_ms": -1}]})"),
              HasSubstr("t.json: links[0].delay_ms: value -1 is out of range"));
  EXPECT_THAT(load_error(std::string(base) + R"("rate_mbps": 0}]})"),
              HasSubstr("t.json: links[0].rate_mbps: value 0 is out of range"));
  EXPECT_THAT(load_error(std::string(base) + R"("queue_packets": 10.5}]})"),
              HasSubstr("t.json: links[0].queue_packets: expected an integer"));
}

TEST(TopologyParser, UnknownKindFamilyAndSiteAreNamed) {
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "a", "kind": "rooter"}]})"),
            "t.json: nodes[0].kind: unknown kind \"rooter\" (did you mean \"router\"?); use "
            "\"host\", \"router\" or \"nat\"");
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "a", "families": ["ipv4", "ipv5"]}]})"),
              HasSubstr("t.json: nodes[0].families[1]: unknown family \"ipv5\""));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "a", "families": ["ipv4", "ipv4"]}]})"),
              HasSubstr("t.json: nodes[0].families[1]: ipv4 is listed twice"));
  EXPECT_EQ(load_error(R"({"nodes": [{"name": "core", "kind": "router"},
                                     {"name": "h", "site": "fullcone", "uplink": "core"}]})"),
            "t.json: nodes[1].site: unknown site \"fullcone\" (did you mean \"full-cone\"?)");
}

TEST(TopologyParser, GroupCountMustBeSensible) {
  const char* head =
      R"({"nodes": [{"name": "core", "kind": "router"}], "groups": [{"name": "g", "site": "public", "uplink": "core", "count": )";
  EXPECT_THAT(load_error(std::string(head) + "0}]}"),
              HasSubstr("t.json: groups[0].count: value 0 is out of range [1, 1000000]"));
  EXPECT_THAT(load_error(std::string(head) + "-5}]}"), HasSubstr("groups[0].count"));
  EXPECT_THAT(load_error(std::string(head) + "1000001}]}"),
              HasSubstr("t.json: groups[0].count: value 1000001 is out of range"));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "core", "kind": "router"}],
                             "groups": [{"name": "g", "site": "public", "uplink": "core"}]})"),
              HasSubstr("t.json: groups[0]: group \"g\" needs \"count\""));
}

TEST(TopologyParser, NatNeedsOutsideAndConfig) {
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "nat": {}}]})"),
              HasSubstr("t.json: nodes[0]: NAT \"n\" needs \"outside\""));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "outside": "x"}]})"),
              HasSubstr("t.json: nodes[0]: NAT \"n\" needs \"nat\""));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "outside": "x",
                                        "nat": {"preset": "full-cone", "mapping": "sometimes"}}]})"),
              HasSubstr("t.json: nodes[0].nat: NAT config key \"mapping\""));
}

TEST(TopologyParser, NatOutsideMustBeALinkedNeighbour) {
  EXPECT_EQ(load_error(R"({"nodes": [
      {"name": "core", "kind": "router"}, {"name": "other", "kind": "router"}, {"name": "h"},
      {"name": "n", "kind": "nat", "outside": "other", "nat": {"preset": "full-cone"}}],
      "links": [{"a": "n", "b": "core"}, {"a": "h", "b": "n"}, {"a": "other", "b": "core"}]})"),
            "t.json: nodes[3].outside: NAT \"n\" names \"other\" as its outside, but they are "
            "not linked (add {\"a\": \"n\", \"b\": \"other\"} to \"links\")");
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "outside": "core",
                                        "nat": {"preset": "full-cone"}}]})"),
              HasSubstr("t.json: nodes[0].outside: unknown node \"core\""));
}

TEST(TopologyParser, NatFamiliesMustMatchItsFirewall) {
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "outside": "c",
      "families": ["ipv4", "ipv6"], "nat": {"preset": "full-cone"}}]})"),
              HasSubstr("add \"ipv6_firewall\": true"));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "n", "kind": "nat", "outside": "c",
      "families": ["ipv6"], "ipv6_firewall": true, "nat": {"preset": "full-cone"}}]})"),
              HasSubstr("a NAT translates IPv4, so it needs \"ipv4\""));
}

TEST(TopologyParser, SiteHostsTakeNoOtherLinks) {
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "x"},
      {"name": "phone", "site": "public", "uplink": "core"}],
      "links": [{"a": "x", "b": "phone"}, {"a": "x", "b": "core"}]})"),
              HasSubstr("t.json: links[0]: \"phone\" is a site host"));
}

TEST(TopologyParser, SiteKeysAreCheckedAgainstTheSite) {
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "public", "uplink": "core", "nat": {"udp_timeout_s": 30}}]})"),
              HasSubstr("t.json: nodes[1].nat: a \"public\" site has no NAT"));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "full-cone", "uplink": "core", "cgnat_link": {"delay_ms": 3}}]})"),
              HasSubstr("t.json: nodes[1].cgnat_link: only a \"double-nat\" site"));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "full-cone", "uplink": "core", "nat": {"preset": "symmetric"}}]})"),
              HasSubstr("t.json: nodes[1].nat.preset: a site's NAT preset comes from \"site\""));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "h", "site": "full-cone"}]})"),
              HasSubstr("t.json: nodes[0]: a host with a site needs \"uplink\""));
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "h", "link": {"delay_ms": 3}}]})"),
              HasSubstr("t.json: nodes[0].link: only a host with a \"site\""));
}

TEST(TopologyParser, BadSiteNatOverrideNamesTheGroupOnce) {
  EXPECT_THAT(load_error(R"({"nodes": [{"name": "core", "kind": "router"}],
      "groups": [{"name": "g", "count": 5, "site": "full-cone", "uplink": "core",
                  "nat": {"udp_timeout_s": 0}}]})"),
              HasSubstr("t.json: groups[0].nat: NAT config key \"udp_timeout_s\""));
}

TEST(TopologyParser, GroupMembersShareTheOverriddenConfig) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"}],
      "groups": [{"name": "g", "count": 2, "site": "full-cone", "uplink": "core",
                  "nat": {"udp_timeout_s": 30, "ports": "sequential"}}]})");
  for (const char* n : {"g-1-nat", "g-2-nat"}) {
    EXPECT_EQ(node(t, n).nat->udp_timeout, Duration::seconds(30)) << n;
    EXPECT_EQ(node(t, n).nat->ports, nat::PortAssignment::sequential) << n;
    EXPECT_EQ(node(t, n).nat->filtering, nat::Behaviour::endpoint_independent) << n;
  }
}

TEST(TopologyParser, SiteExpandsIntoHostNatAndLinks) {
  Topology t = load(R"({"link_defaults": {"delay_ms": 5, "rate_mbps": 100},
      "nodes": [{"name": "core", "kind": "router"},
                {"name": "phone", "site": "symmetric", "uplink": "core",
                 "link": {"delay_ms": 20}, "nat": {"udp_timeout_s": 30}}]})");
  ASSERT_EQ(t.nodes.size(), 3u);
  EXPECT_EQ(t.nodes[1].name, "phone");
  EXPECT_EQ(t.nodes[1].site, "symmetric");
  const Node& nat = node(t, "phone-nat");
  EXPECT_EQ(nat.kind, NodeKind::nat);
  EXPECT_EQ(nat.site, "symmetric");
  ASSERT_TRUE(nat.nat.has_value());
  EXPECT_EQ(nat.nat->mapping, nat::Behaviour::address_and_port_dependent);
  EXPECT_EQ(nat.nat->ports, nat::PortAssignment::random);
  EXPECT_EQ(nat.nat->udp_timeout, Duration::seconds(30));
  EXPECT_EQ(nat.nat->preset, "symmetric");
  ASSERT_EQ(t.links.size(), 2u);
  // LAN link: 1 ms unless given, other parameters from link_defaults.
  EXPECT_EQ(t.links[0].params.delay, Duration::milliseconds(1));
  EXPECT_EQ(t.links[0].params.rate_bps, 100'000'000u);
  EXPECT_EQ(t.links[1].params.delay, Duration::milliseconds(20));
  EXPECT_EQ(t.peer(nat.outside_link, *t.find("phone-nat")), *t.find("core"));
  EXPECT_FALSE(nat.ipv6_firewall);
}

TEST(TopologyParser, DoubleNatNestsAHomeNatInACgnat) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "double-nat", "uplink": "core", "families": ["ipv4", "ipv6"],
       "link": {"delay_ms": 20}, "cgnat_link": {"delay_ms": 7}, "lan_link": {"delay_ms": 2}}]})");
  const Node& home = node(t, "h-nat");
  const Node& cgnat = node(t, "h-cgnat");
  EXPECT_EQ(home.nat->mapping, nat::Behaviour::endpoint_independent);
  EXPECT_EQ(home.nat->filtering, nat::Behaviour::address_and_port_dependent);
  EXPECT_EQ(cgnat.nat->mapping, nat::Behaviour::endpoint_independent);
  EXPECT_EQ(cgnat.nat->filtering, nat::Behaviour::address_and_port_dependent);
  EXPECT_EQ(cgnat.nat->preset, "cgnat");
  EXPECT_TRUE(home.ipv6_firewall);
  EXPECT_TRUE(cgnat.ipv6_firewall);
  EXPECT_EQ(t.peer(home.outside_link, *t.find("h-nat")), *t.find("h-cgnat"));
  EXPECT_EQ(t.peer(cgnat.outside_link, *t.find("h-cgnat")), *t.find("core"));
  EXPECT_EQ(t.links[static_cast<size_t>(home.outside_link)].params.delay,
            Duration::milliseconds(7));
  EXPECT_EQ(t.links[static_cast<size_t>(cgnat.outside_link)].params.delay,
            Duration::milliseconds(20));
}

TEST(TopologyParser, UplinkWithoutSiteIsAPublicLink) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"},
                                  {"name": "h", "uplink": "core", "link": {"delay_ms": 3}}]})");
  ASSERT_EQ(t.links.size(), 1u);
  EXPECT_EQ(t.links[0].params.delay, Duration::milliseconds(3));
  EXPECT_EQ(node(t, "h").site, "public");
}

TEST(TopologyParser, FileLinksComeFirstThenGeneratedOnes) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "s"},
      {"name": "h", "site": "full-cone", "uplink": "core"}],
      "links": [{"a": "s", "b": "core", "delay_ms": 9}]})");
  ASSERT_EQ(t.links.size(), 3u);
  EXPECT_EQ(t.nodes[static_cast<size_t>(t.links[0].a)].name, "s");
  EXPECT_EQ(t.links[0].params.delay, Duration::milliseconds(9));
  EXPECT_THAT(node(t, "core").links, ElementsAre(0, 2));
}

TEST(TopologyParser, GroupOfAThousandExpandsWithUniqueNamesAndAddresses) {
  Topology t = load(R"({"nodes": [{"name": "core", "kind": "router", "families": ["ipv4", "ipv6"]}],
      "groups": [{"name": "pop", "count": 1000, "site": "port-restricted-cone", "uplink": "core",
                  "families": ["ipv4", "ipv6"], "link": {"delay_ms": 15}}]})");
  ASSERT_EQ(t.nodes.size(), 2001u);
  EXPECT_EQ(t.links.size(), 2000u);
  EXPECT_EQ(t.nodes[1].name, "pop-1");
  EXPECT_EQ(t.nodes[2].name, "pop-1-nat");
  EXPECT_EQ(t.nodes[1999].name, "pop-1000");
  EXPECT_EQ(t.nodes[2000].name, "pop-1000-nat");
  std::set<std::string> names;
  std::set<IpAddress> public_v4, v6;
  for (const Node& n : t.nodes) {
    names.insert(n.name);
    if (n.kind != NodeKind::host) public_v4.insert(*n.ipv4);
    ASSERT_TRUE(n.ipv6.has_value()) << n.name;
    v6.insert(*n.ipv6);
    if (n.name != "core") {
      EXPECT_EQ(n.group, "pop");
    }
  }
  EXPECT_EQ(names.size(), 2001u);
  EXPECT_EQ(public_v4.size(), 1001u);  // core and the NATs; hosts sit in their own LANs
  EXPECT_EQ(v6.size(), 2001u);         // IPv6 is global: every address differs
  EXPECT_THAT(t.nat_chain(2000 - 1), ElementsAre(2000));
}

}  // namespace
}  // namespace warren::topo
