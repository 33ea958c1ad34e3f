#include "topologies/topology_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/topo/topo_test_util.h"

namespace warren::topo {
namespace {

TEST(TopologyJson, SummaryLineCountsKinds) {
  Topology t = testing::load(R"({"nodes": [{"name": "core", "kind": "router"}, {"name": "s"},
      {"name": "h", "site": "double-nat", "uplink": "core"}], "links": [{"a": "s", "b": "core"}]})");
  EXPECT_EQ(summary_line(t), "5 nodes (2 hosts, 1 router, 2 NATs), 4 links, 3 realms");
}

TEST(TopologyJson, NodesCarryAddressesFamiliesAndNatChain) {
  Topology t = testing::load(R"({"nodes": [{"name": "core", "kind": "router"},
      {"name": "h", "site": "full-cone", "uplink": "core"}]})");
  nlohmann::ordered_json j = topology_to_json(t, true);
  EXPECT_EQ(j["summary"]["nats"], 1);
  const auto& h = j["nodes"][1];
  EXPECT_EQ(h["name"], "h");
  EXPECT_EQ(h["kind"], "host");
  EXPECT_EQ(h["families"], nlohmann::ordered_json::array({"ipv4"}));
  EXPECT_EQ(h["ipv4"], "192.168.1.2");
  EXPECT_TRUE(h["ipv6"].is_null());
  EXPECT_EQ(h["site"], "full-cone");
  EXPECT_EQ(h["nat_chain"], nlohmann::ordered_json::array({"h-nat"}));
  EXPECT_EQ(h["routes"][0]["destination"], "0.0.0.0/0");
  EXPECT_EQ(h["routes"][0]["via"], "h-nat");
  const auto& nat = j["nodes"][2];
  EXPECT_EQ(nat["nat"]["mapping"], "endpoint-independent");
  EXPECT_EQ(nat["nat"]["filtering"], "endpoint-independent");
  EXPECT_EQ(nat["outside"], "core");
  EXPECT_EQ(nat["lan_ipv4"], "192.168.1.0/24");
  EXPECT_EQ(j["links"][0]["delay_ms"], 1.0);
  EXPECT_FALSE(topology_to_json(t)["nodes"][1].contains("routes"));
}

}  // namespace
}  // namespace warren::topo
