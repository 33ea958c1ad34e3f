#include "sim/scenario.h"

#include <gtest/gtest.h>

namespace warren::sim {
namespace {

using nlohmann::json;

const std::string kTopologies = std::string(WARREN_SOURCE_DIR) + "/topologies";

json minimal() {
  return json::parse(R"({
    "name": "t", "topology": "stun-behind-nat.json", "duration_s": 10,
    "roles": [{"role": "stun-server", "nodes": ["stun-a"]}]
  })");
}

Result<Scenario> parse(const json& doc) { return parse_scenario(doc, "t.json", kTopologies); }

TEST(Scenario, ParsesRolesWithTheirOwnParametersAndDefaults) {
  json doc = minimal();
  doc["roles"].push_back(json::parse(
      R"({"role": "stun-client", "nodes": ["c-public"], "servers": ["stun-a"], "start_s": 1.5})"));
  auto sc = parse(doc);
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  EXPECT_EQ(sc->seed, 1u);
  EXPECT_EQ(sc->duration, Duration::seconds(10));
  ASSERT_EQ(sc->roles.size(), 2u);
  EXPECT_EQ(sc->roles[1].start, Duration::milliseconds(1500));
  EXPECT_EQ(sc->roles[1].params["servers"], json::array({"stun-a"}));
  EXPECT_FALSE(sc->roles[1].params.contains("start_s"));
  EXPECT_EQ(sc->topology.name, "stun-behind-nat");
}

TEST(Scenario, SortsEventsByTimeKeepingFileOrderForTies) {
  json doc = minimal();
  doc["events"] = json::parse(R"([
    {"at_s": 5, "action": "stop", "node": "stun-a"},
    {"at_s": 2, "action": "nat-flush", "node": "c-cgnat-nat"},
    {"at_s": 5, "action": "start", "node": "stun-a"},
    {"at_s": 3, "action": "link-down", "node": "core", "peer": "stun-b"}
  ])");
  auto sc = parse(doc);
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  ASSERT_EQ(sc->events.size(), 4u);
  EXPECT_EQ(sc->events[0].action, EventAction::nat_flush);
  EXPECT_EQ(sc->events[1].action, EventAction::link_down);
  EXPECT_EQ(sc->events[1].peer, "stun-b");
  EXPECT_EQ(sc->events[2].action, EventAction::stop);
  EXPECT_EQ(sc->events[3].action, EventAction::start);
}

TEST(Scenario, RoleGroupsExpandToTheGroupsHostsInTopologyOrder) {
  json doc = json::parse(R"({
    "name": "t", "topology": "example.json",
    "roles": [{"role": "stun-client", "nodes": ["laptop"], "groups": ["pop"], "servers": ["srv"]}]
  })");
  auto sc = parse(doc);
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  const std::vector<std::string>& nodes = sc->roles[0].nodes;
  ASSERT_EQ(nodes.size(), 1001u);  // the group's 1,000 hosts, not their NATs
  EXPECT_EQ(nodes[0], "laptop");
  EXPECT_EQ(nodes[1], "pop-1");
  EXPECT_EQ(nodes[1000], "pop-1000");
  EXPECT_FALSE(sc->roles[0].params.contains("groups"));

  doc["roles"][0]["groups"] = {"pops"};
  auto typo = parse(doc);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("unknown group \"pops\""), std::string::npos);
  EXPECT_NE(typo.error().message.find("did you mean \"pop\""), std::string::npos);

  doc["roles"][0]["nodes"] = {"pop-7"};
  doc["roles"][0]["groups"] = {"pop"};
  auto twice = parse(doc);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("\"pop-7\" of group \"pop\" is already listed"),
            std::string::npos)
      << twice.error().message;
}

struct BadCase {
  const char* patch;     // JSON merged into the minimal scenario
  const char* expected;  // must appear in the error
};

class ScenarioErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ScenarioErrors, NameTheCulprit) {
  json doc = minimal();
  doc.merge_patch(json::parse(GetParam().patch));
  auto sc = parse(doc);
  ASSERT_FALSE(sc.ok());
  EXPECT_NE(sc.error().message.find(GetParam().expected), std::string::npos) << sc.error().message;
  EXPECT_EQ(sc.error().message.rfind("t.json", 0), 0u) << sc.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    All, ScenarioErrors,
    ::testing::Values(
        BadCase{R"({"duraton_s": 3})", "unknown key \"duraton_s\""},
        BadCase{R"({"duration_s": -1})", "duration_s"},
        BadCase{R"({"duration_s": 1e12})", "duration_s"},
        BadCase{R"({"seed": -3})", "seed"},
        BadCase{R"({"topology": "nosuch.json"})", "nosuch.json"},
        BadCase{R"({"roles": [{"role": "stun-server", "nodes": ["ghost"]}]})", "unknown node \"ghost\""},
        BadCase{R"({"roles": [{"role": "stun-server", "nodes": []}]})", "non-empty list"},
        BadCase{R"({"roles": [{"role": "stun-server"}]})", "needs \"nodes\""},
        BadCase{R"({"roles": [{"role": "stun-server", "groups": []}]})", "groups: must be a non-empty"},
        BadCase{R"({"roles": [{"role": "stun-server", "groups": ["x"]}]})", "unknown group \"x\""},
        BadCase{R"({"roles": [{"role": "stun-server", "nodes": ["stun-a", "stun-a"]}]})", "listed twice"},
        BadCase{R"({"events": [{"at_s": 1, "action": "explode", "node": "stun-a"}]})", "unknown action \"explode\""},
        BadCase{R"({"events": [{"at_s": 11, "action": "stop", "node": "stun-a"}]})", "after the end"},
        BadCase{R"({"events": [{"action": "stop", "node": "stun-a"}]})", "at_s"},
        BadCase{R"({"events": [{"at_s": 1, "action": "nat-flush", "node": "core"}]})", "is not a NAT"},
        BadCase{R"({"events": [{"at_s": 1, "action": "link-up", "node": "stun-a"}]})", "peer"},
        BadCase{R"({"events": [{"at_s": 1, "action": "link-up", "node": "stun-a", "peer": "stun-b"}]})",
                "no link between"},
        BadCase{R"({"events": [{"at_s": 1, "action": "stop", "node": "stun-a", "peer": "core"}]})",
                "only link events take a peer"}));

}  // namespace
}  // namespace warren::sim
