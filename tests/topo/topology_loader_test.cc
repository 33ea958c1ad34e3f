#include "topologies/topology_loader.h"

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::index_of;
using testing::node;
using ::testing::StartsWith;

std::string topology_file(const std::string& name) {
  return std::string(WARREN_SOURCE_DIR) + "/topologies/" + name;
}

TEST(TopologyLoader, StunBehindNatSampleLoads) {
  auto t = load_topology_file(topology_file("stun-behind-nat.json"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->name, "stun-behind-nat");
  for (const char* host : {"stun-a", "stun-b", "c-public", "c-full-cone", "c-restricted-cone",
                           "c-port-restricted-cone", "c-symmetric", "c-symmetric-sequential",
                           "c-address-dependent", "c-cgnat", "c-double-nat"}) {
    EXPECT_EQ(node(*t, host).kind, NodeKind::host) << host;
  }
  // The servers are dual-stack, on different addresses, behind different delays.
  const Node& a = node(*t, "stun-a");
  const Node& b = node(*t, "stun-b");
  EXPECT_TRUE(a.ipv6 && b.ipv6);
  EXPECT_NE(a.ipv4, b.ipv4);
  EXPECT_NE(t->links[static_cast<size_t>(a.links[0])].params.delay,
            t->links[static_cast<size_t>(b.links[0])].params.delay);
  // One client per behaviour, each behind the NAT it is named for.
  auto chain_of = [&](const char* host) {
    std::vector<std::string> names;
    for (int n : t->nat_chain(index_of(*t, host)))
      names.push_back(t->nodes[static_cast<size_t>(n)].name);
    return names;
  };
  EXPECT_THAT(chain_of("c-public"), ElementsAre());
  EXPECT_THAT(chain_of("c-double-nat"), ElementsAre("c-double-nat-nat", "c-double-nat-cgnat"));
  const Node& sym = node(*t, "c-symmetric-nat");
  EXPECT_EQ(sym.nat->mapping, nat::Behaviour::address_and_port_dependent);
  const Node& ad = node(*t, "c-address-dependent-nat");
  EXPECT_EQ(ad.nat->mapping, nat::Behaviour::address_dependent);
  EXPECT_EQ(ad.nat->filtering, nat::Behaviour::address_dependent);
  EXPECT_EQ(node(*t, "c-cgnat").ipv4->to_string(), "100.64.0.2");
  EXPECT_TRUE(node(*t, "c-port-restricted-cone-nat").ipv6_firewall);
  EXPECT_TRUE(node(*t, "c-port-restricted-cone").ipv6.has_value());
  EXPECT_TRUE(node(*t, "c-public").ipv6.has_value());
  // The scenario's events name these links and NATs.
  EXPECT_TRUE(t->find("c-full-cone-nat").has_value());
  int sym_nat = index_of(*t, "c-symmetric-nat");
  EXPECT_EQ(t->peer(node(*t, "c-symmetric-nat").outside_link, sym_nat), index_of(*t, "core"));
}

TEST(TopologyLoader, EveryTopologyInTheFolderLoads) {
  for (const char* f : {"stun-behind-nat.json", "example.json"}) {
    auto t = load_topology_file(topology_file(f));
    EXPECT_TRUE(t.ok()) << f << ": " << (t.ok() ? "" : t.error().message);
  }
}

TEST(TopologyLoader, SyntaxErrorsCarryLineAndColumn) {
  auto t = parse_topology_text("{\n  \"nodes\": [\n    {\"name\": \"a\",}\n  ]\n}", "bad.json");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message, StartsWith("bad.json: not valid JSON: parse error at line 3"));
  EXPECT_THAT(t.error().message, Not(HasSubstr("[json.exception")));
}

TEST(TopologyLoader, DuplicateKeysAreNamedWithTheirPath) {
  auto t = parse_topology_text(R"({"nodes": [{"name": "a"}, {"name": "b"}],
      "links": [{"a": "a", "b": "b", "delay_ms": 1, "delay_ms": 2}]})",
                               "d.json");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message,
              StartsWith("d.json: links[0]: key \"delay_ms\" appears twice in one object"));
  auto top =
      parse_topology_text(R"({"name": "x", "name": "y", "nodes": [{"name": "a"}]})", "d.json");
  ASSERT_FALSE(top.ok());
  EXPECT_THAT(top.error().message, StartsWith("d.json: top level: key \"name\" appears twice"));
}

TEST(TopologyLoader, MissingFileIsAClearError) {
  auto t = load_topology_file("/nonexistent/topo.json");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message,
              StartsWith("/nonexistent/topo.json: cannot open topology file: No such file"));
}

TEST(TopologyLoader, FileErrorsNameTheFile) {
  std::string path = ::testing::TempDir() + "/warren_topo_loader_test.json";
  {
    std::ofstream out(path);
    out << R"({"nodes": [{"name": "a"}, {"name": "b"}], "links": [{"a": "a", "b": "c"}]})";
  }
  auto t = load_topology_file(path);
  std::remove(path.c_str());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, path + ": links[0]: unknown node \"c\"");
}

TEST(TopologyLoader, EmptyDocumentsAreErrors) {
  EXPECT_FALSE(parse_topology_text("", "e.json").ok());
  auto t = parse_topology_text("{}", "e.json");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "e.json: no nodes: add \"nodes\" (or \"groups\")");
}

TEST(TopologyLoader, SingleNodeTopologyLoads) {
  Topology t = testing::load(R"({"nodes": [{"name": "alone"}]})");
  ASSERT_EQ(t.nodes.size(), 1u);
  EXPECT_EQ(t.nodes[0].ipv4->to_string(), "192.0.2.1");
  EXPECT_TRUE(t.nodes[0].routes.empty());
}

}  // namespace
}  // namespace warren::topo
