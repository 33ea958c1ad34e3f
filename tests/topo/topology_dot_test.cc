#include "topologies/topology_dot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(TopologyDot, ContainsEveryNodeAndLink) {
  auto t = load_topology_file(std::string(WARREN_SOURCE_DIR) + "/topologies/stun-behind-nat.json");
  ASSERT_TRUE(t.ok()) << t.error().message;
  std::string dot = to_dot(*t);
  EXPECT_THAT(dot, StartsWith("graph \"stun-behind-nat\" {\n"));
  for (const Node& n : t->nodes) {
    EXPECT_THAT(dot, HasSubstr("  \"" + n.name + "\" [shape=")) << n.name;
  }
  for (const Link& l : t->links) {
    EXPECT_THAT(dot, HasSubstr("\"" + t->nodes[static_cast<size_t>(l.a)].name + "\" -- \"" +
                               t->nodes[static_cast<size_t>(l.b)].name + "\""));
  }
  EXPECT_EQ(dot.back(), '\n');
}

TEST(TopologyDot, NatsAreLabelledBoxesWithAClusterPerRealm) {
  Topology t = testing::load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "double-nat", "uplink": "core", "link": {"delay_ms": 12.5}}]})");
  std::string dot = to_dot(t);
  EXPECT_THAT(dot, HasSubstr("\"h-cgnat\" [shape=box"));
  EXPECT_THAT(dot, HasSubstr("label=\"h-cgnat\\ncgnat\\nEIM / APDF, random\\n192.0.2.2\""));
  EXPECT_THAT(dot, HasSubstr("subgraph \"cluster_h-cgnat\""));
  EXPECT_THAT(dot, HasSubstr("inside h-nat\\n192.168.1.0/24"));
  EXPECT_THAT(dot, HasSubstr("\"h-cgnat\" -- \"core\" [label=\"12.5 ms\", style=bold]"));
  EXPECT_THAT(dot, HasSubstr("\"h\" [shape=ellipse, label=\"h\\n192.168.1.2\"]"));
}

}  // namespace
}  // namespace warren::topo
