// The relay-server and relay-probe scenario roles (sim/relay_*): scenarios/relay-mesh.json runs
// two meshed relays admitting the nodes a control server knows. Probes exchange packets
// through one relay and through the mesh; a node nobody registered, and one whose key expired,
// are refused; the relays answer STUN on both families; the control server hands out the
// relay map built from the relay roles (or the one its role gives); a relay restart is
// survived; the same seed gives the same report byte for byte; bad parameters fail before the
// run with a message naming them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "nodes/common/control_messages.h"
#include "sim/relay_placement.h"
#include "sim/role_catalog.h"
#include "sim/scenario.h"
#include "sim/scenario_runner.h"

namespace warren::sim {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

namespace fs = std::filesystem;

const std::string kScenarios = std::string(WARREN_SOURCE_DIR) + "/scenarios";

json shipped_scenario() {
  std::ifstream in(kScenarios + "/relay-mesh.json");
  return json::parse(in);
}

// The role entry of `doc` that places a probe on `node`.
json& probe_role(json& doc, const std::string& node) {
  for (json& role : doc["roles"]) {
    if (role["role"] == "relay-probe" && role["nodes"] == json::array({node})) return role;
  }
  ADD_FAILURE() << "no probe role on " << node;
  static json none;
  return none;
}

json& role_named(json& doc, const std::string& name) {
  for (json& role : doc["roles"])
    if (role["role"] == name) return role;
  ADD_FAILURE() << "no role " << name;
  static json none;
  return none;
}

class RelayRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("warren-relay-roles-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<Scenario> Parse(const json& doc) {
    return parse_scenario(doc, "relay-mesh.json", kScenarios);
  }

  // Runs `doc`, failing the test on error; returns report.json's bytes.
  std::string Run(const json& doc, const std::string& out) {
    auto sc = Parse(doc);
    EXPECT_TRUE(sc.ok()) << sc.error().message;
    if (!sc.ok()) return "";
    RunOptions options;
    options.out_dir = (dir_ / out).string();
    options.commit = "test";
    auto result = run_scenario(std::move(*sc), options);
    EXPECT_TRUE(result.ok()) << result.error().message;
    std::ifstream in(dir_ / out / "report.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  ordered_json RunReport(const json& doc, const std::string& out) {
    const std::string text = Run(doc, out);
    if (text.empty()) return ordered_json::object();
    return ordered_json::parse(text);
  }

  std::string ValidationError(const json& doc) {
    auto sc = Parse(doc);
    if (!sc.ok()) return sc.error().message;
    Status s = validate_roles(*sc);
    return s.ok() ? "" : s.error().message;
  }

  fs::path dir_;
};

std::map<std::string, ordered_json> by_node(const ordered_json& list) {
  std::map<std::string, ordered_json> out;
  for (const auto& e : list) out[e["node"].get<std::string>()] = e;
  return out;
}

TEST_F(RelayRolesTest, PacketsCrossTheMeshBothWaysAndTheStrangerIsRefused) {
  const ordered_json report = RunReport(shipped_scenario(), "run");
  ASSERT_TRUE(report.contains("relay_probes")) << report.dump(2);
  const auto probes = by_node(report["relay_probes"]);
  const auto relays = by_node(report["relays"]);
  ASSERT_EQ(probes.size(), 5u);
  ASSERT_EQ(relays.size(), 2u);

  // Each sender's 20 packets reach the probe on the other relay and every answer comes back.
  for (const auto& [sender, target] :
       {std::pair<std::string, std::string>{"home-1", "dc-2"}, {"home-2", "dc-1"}}) {
    const ordered_json& p = probes.at(sender);
    EXPECT_EQ(p["mode"], "send");
    EXPECT_EQ(p["to"], target);
    EXPECT_EQ(p["sent"], 20) << p.dump();
    EXPECT_EQ(p["send_failed"], 0) << p.dump();
    EXPECT_EQ(p["received"], 20) << p.dump();
    EXPECT_EQ(p["duplicates"], 0);
    EXPECT_EQ(p["errors"], 0) << p.dump();
    EXPECT_EQ(p["refusals"], 0) << p.dump();
    ASSERT_TRUE(p["rtt_ms"].is_object()) << p.dump();
    EXPECT_LE(p["rtt_ms"]["min"].get<double>(), p["rtt_ms"]["avg"].get<double>());
    EXPECT_LE(p["rtt_ms"]["avg"].get<double>(), p["rtt_ms"]["max"].get<double>());
    EXPECT_EQ(probes.at(target)["echoed"], 20) << probes.at(target).dump();
  }
  // Through the mesh, home-1 -> relay-1 -> relay-2 -> dc-2 crosses links of 1 + 15 + 2, 2 + 22
  // and 22 + 4 ms: 68 ms one way, 136 ms there and back before any processing.
  EXPECT_GE(probes.at("home-1")["rtt_ms"]["min"].get<double>(), 136.0);
  EXPECT_EQ(probes.at("home-1")["relay"], "relay-1");
  EXPECT_EQ(probes.at("dc-2")["relay"], "relay-2");
  EXPECT_EQ(probes.at("dc-1")["relay"], "relay-1") << "the first relay of region 1 in the map";

  for (const auto& [name, r] : relays) {
    EXPECT_EQ(r["region"], 1);
    EXPECT_EQ(r["running"], true);
    EXPECT_EQ(r["admission"]["mode"], "live") << name;
    EXPECT_EQ(r["admission"]["keys"], 4) << name << ": the four registered probes";
    EXPECT_EQ(r["clients"], 2) << name;
    EXPECT_EQ(r["clients_admitted"], 2) << name;
    EXPECT_EQ(r["mesh_clients_admitted"], 1) << name << ": the other relay";
    EXPECT_EQ(r["mesh_links_up"], 1) << name;
    EXPECT_EQ(r["mesh_routes"], 2) << name << ": the other relay's two clients";
    // 20 requests one way, 20 answers the other, each relay meshes 40 and gets 40 from the mesh.
    EXPECT_EQ(r["packets_meshed"], 40) << r.dump();
    EXPECT_EQ(r["packets_from_mesh"], 40) << r.dump();
    EXPECT_EQ(r["packets_delivered"], 40) << r.dump();
    for (const auto& [reason, n] : r["dropped"].items()) EXPECT_EQ(n, 0) << name << " " << reason;
  }
  // Each refusal the relays counted reached a probe: the stranger's, final, and those of
  // probes that connected before their relay heard of them, retried.
  int refused = 0, retried = 0;
  for (const auto& [name, r] : relays) refused += r["refused"]["unknown_key"].get<int>();
  for (const auto& [name, p] : probes) retried += p["retried_refusals"].get<int>();
  EXPECT_EQ(refused, 1 + retried);

  // STUN on every family the relay node has: home-1 asks over IPv4, dc-2 over IPv4 and IPv6.
  for (const auto& [name, r] : relays) EXPECT_EQ(r["stun_requests"], 3) << name;
  for (const auto& n : report["nodes"]) {
    if (n["name"] != "dc-2") continue;
    std::map<std::string, int> answered;  // family -> relays that answered
    for (const auto& m : n["stun"]["mapped"]) ++answered[m["family"].get<std::string>()];
    EXPECT_EQ(answered["ipv4"], 2) << n["stun"].dump();
    EXPECT_EQ(answered["ipv6"], 2) << n["stun"].dump();
  }

  const ordered_json& stranger = probes.at("stranger");
  EXPECT_EQ(stranger["connects"], 0);
  EXPECT_EQ(stranger["refusals"], 1) << "unknown_key is final for a probe that never registered";
  ASSERT_TRUE(stranger["last_refusal"].is_string()) << stranger.dump();
  EXPECT_EQ(stranger["last_refusal"].get<std::string>().rfind("unknown_key: ", 0), 0u)
      << stranger["last_refusal"];
  EXPECT_TRUE(stranger["relay_map"].is_null());

  const ordered_json& s = report["summary"];
  EXPECT_EQ(s["relay_probes"], 5);
  EXPECT_EQ(s["relay_probes_connected"], 4);
  EXPECT_EQ(s["relay_probes_refused"], 1);
  EXPECT_EQ(s["relay_probe_packets_sent"], 40);
  EXPECT_EQ(s["relay_probe_packets_answered"], 40);
  EXPECT_EQ(s["nodes_registered"], 4) << "the probes register as control clients";
}

TEST_F(RelayRolesTest, TheRelayMapOfTheRelayRolesReachesEveryRegisteredProbe) {
  const ordered_json report = RunReport(shipped_scenario(), "run");
  const auto probes = by_node(report["relay_probes"]);
  const ordered_json expected =
      ordered_json::parse(R"([{"id": 1, "code": "sim", "relays": ["relay-1", "relay-2"]}])");
  for (const char* name : {"dc-1", "dc-2", "home-1", "home-2"}) {
    EXPECT_EQ(probes.at(name)["relay_map"], expected) << name;
    // The probe pinned the key the map gives (or its role derived): the handshake proved it.
    EXPECT_GE(probes.at(name)["connects"].get<int>(), 1) << name;
  }
}

TEST_F(RelayRolesTest, PacketsFlowThroughOneRelayWithoutTheMesh) {
  json doc = shipped_scenario();
  probe_role(doc, "home-1")["to"] = "dc-1";  // both on relay-1
  probe_role(doc, "home-2")["mode"] = "echo";
  for (const char* key : {"to", "count", "size", "interval_ms"})
    probe_role(doc, "home-2").erase(key);
  const ordered_json report = RunReport(doc, "run");
  const auto probes = by_node(report["relay_probes"]);
  const auto relays = by_node(report["relays"]);
  EXPECT_EQ(probes.at("home-1")["sent"], 20);
  EXPECT_EQ(probes.at("home-1")["received"], 20) << probes.at("home-1").dump();
  EXPECT_EQ(probes.at("dc-1")["echoed"], 20);
  EXPECT_EQ(relays.at("relay-1")["packets_delivered"], 40);
  EXPECT_EQ(relays.at("relay-1")["packets_meshed"], 0);
  EXPECT_EQ(relays.at("relay-2")["packets_from_mesh"], 0);
  // home-1 -> relay-1 -> dc-1 crosses 1 + 15 + 2 and 2 + 3 ms of links: 46 ms there and back,
  // far from the 136 ms of the meshed path.
  EXPECT_GE(probes.at("home-1")["rtt_ms"]["min"].get<double>(), 46.0);
  EXPECT_LT(probes.at("home-1")["rtt_ms"]["max"].get<double>(), 100.0);
}

TEST_F(RelayRolesTest, WithoutMeshTheOtherRelaysClientsAreNotHere) {
  json doc = shipped_scenario();
  role_named(doc, "relay-server")["mesh"] = false;
  const ordered_json report = RunReport(doc, "run");
  const auto probes = by_node(report["relay_probes"]);
  const auto relays = by_node(report["relays"]);
  EXPECT_EQ(probes.at("home-1")["sent"], 20);
  EXPECT_EQ(probes.at("home-1")["received"], 0);
  for (const auto& [name, r] : relays) {
    EXPECT_EQ(r["mesh_clients_admitted"], 0) << name;
    EXPECT_EQ(r["packets_meshed"], 0) << name;
    EXPECT_EQ(r["dropped"]["unknown_dest"], 20) << name << ": " << r.dump();
  }
}

TEST_F(RelayRolesTest, ANodeWhoseKeyExpiresIsDisconnectedWithTheControlServersReason) {
  json doc = shipped_scenario();
  role_named(doc, "control-server")["node_key_expiry_s"] = 8;
  const ordered_json report = RunReport(doc, "run");
  const auto probes = by_node(report["relay_probes"]);
  const auto relays = by_node(report["relays"]);
  for (const char* name : {"dc-1", "dc-2", "home-1", "home-2"}) {
    const ordered_json& p = probes.at(name);
    EXPECT_GE(p["connects"].get<int>(), 1) << name << " was admitted before its key expired";
    ASSERT_TRUE(p["last_refusal"].is_string()) << name << ": " << p.dump();
    const std::string refusal = p["last_refusal"];
    EXPECT_EQ(refusal.rfind("removed_key: ", 0), 0u) << refusal;
    EXPECT_NE(refusal.find("node key expired"), std::string::npos) << refusal;
  }
  uint64_t removed = 0;
  for (const auto& [name, r] : relays) {
    removed += r["disconnected"]["removed"].get<uint64_t>();
    // The control clients log in again with their reusable key, so the relays admit the keys
    // again; the probes, refused for good, stay away.
    EXPECT_EQ(r["clients"], 0) << name;
    EXPECT_EQ(r["admission"]["keys"], 4) << name;
  }
  EXPECT_EQ(removed, 4u);
  // The senders started at 4 s, with 1 s of start jitter and a registration, expired 8 s
  // later: some packets went before, not all.
  for (const char* name : {"home-1", "home-2"}) {
    const ordered_json& p = probes.at(name);
    EXPECT_GT(p["received"].get<int>(), 0) << p.dump();
    EXPECT_LT(p["received"].get<int>(), 20) << p.dump();
  }
}

TEST_F(RelayRolesTest, ARelayRestartIsSurvivedAndCountedOnce) {
  json doc = shipped_scenario();
  doc["duration_s"] = 30;
  probe_role(doc, "home-1")["count"] = 80;  // 20 s of packets across the restart
  doc["events"] = json::parse(R"([
    {"at_s": 8, "action": "stop", "node": "relay-2"},
    {"at_s": 9, "action": "start", "node": "relay-2"}
  ])");
  const ordered_json report = RunReport(doc, "run");
  const auto probes = by_node(report["relay_probes"]);
  const auto relays = by_node(report["relays"]);
  const ordered_json& r2 = relays.at("relay-2");
  EXPECT_EQ(r2["role_starts"], 2);
  EXPECT_EQ(r2["running"], true);
  EXPECT_EQ(r2["clients"], 2) << "its clients came back";
  EXPECT_GE(r2["clients_admitted"].get<int>(), 4) << r2.dump();
  EXPECT_GE(probes.at("dc-2")["connects"].get<int>(), 2);
  const ordered_json& sender = probes.at("home-1");
  EXPECT_EQ(sender["sent"], 80);
  EXPECT_LT(sender["received"].get<int>(), 80) << "the restart loses a few";
  EXPECT_GT(sender["received"].get<int>(), 60) << sender.dump();
}

TEST_F(RelayRolesTest, SameSeedSameReportByteForByteAnotherSeedOtherKeys) {
  const std::string first = Run(shipped_scenario(), "first");
  const std::string second = Run(shipped_scenario(), "second");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
  json other = shipped_scenario();
  other["seed"] = 2u;
  const ordered_json a = ordered_json::parse(first);
  const ordered_json c = RunReport(other, "third");
  EXPECT_EQ(c["summary"]["relay_probe_packets_answered"], 40);
  EXPECT_NE(a["relays"][0]["key"], c["relays"][0]["key"]);
}

TEST_F(RelayRolesTest, AnExplicitRelayMapReplacesTheScenariosOwn) {
  json doc = shipped_scenario();
  auto sc = Parse(doc);
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  // Only relay-2, as region 7: the default probe finds no region 1; named relays still work.
  control::RelayMap map;
  control::RelayRegion region;
  region.id = 7;
  region.code = "far";
  region.name = "far";
  control::Relay relay;
  relay.name = "relay-2";
  relay.host = "relay-2";
  relay.port = kDefaultRelayPort;
  relay.addresses = {*sc->topology.nodes[*sc->topology.find("relay-2")].ipv4};
  relay.key = public_key(relay_server_key(*sc, "relay-2"));
  region.relays.push_back(relay);
  map.regions.push_back(region);
  role_named(doc, "control-server")["relay_map"] = control::relay_map_to_json(map);
  const ordered_json report = RunReport(doc, "run");
  const auto probes = by_node(report["relay_probes"]);
  const auto relays = by_node(report["relays"]);
  const ordered_json expected =
      ordered_json::parse(R"([{"id": 7, "code": "far", "relays": ["relay-2"]}])");
  EXPECT_EQ(probes.at("dc-2")["relay_map"], expected);
  EXPECT_TRUE(probes.at("dc-1")["relay"].is_null());
  EXPECT_NE(probes.at("dc-1")["last_error"].get<std::string>().find("no region 1"),
            std::string::npos)
      << probes.at("dc-1").dump();
  // relay-1 is not in the control server's map: the control server refuses its feed, so it
  // never learns a key and admits nobody.
  EXPECT_EQ(relays.at("relay-1")["admission"]["mode"], "waiting");
  EXPECT_EQ(relays.at("relay-1")["clients_admitted"], 0);
  EXPECT_GT(relays.at("relay-1")["admission"]["feed_errors"].get<int>(), 0);
  EXPECT_EQ(relays.at("relay-2")["admission"]["mode"], "live");
}

TEST_F(RelayRolesTest, BadParametersFailBeforeTheRunNamingTheProblem) {
  struct Case {
    std::function<void(json&)> patch;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& d) { probe_role(d, "dc-2")["relay"] = "dc-1"; },
       "\"dc-1\" runs no relay-server role"},
      {[](json& d) { probe_role(d, "home-1")["to"] = "nobody"; }, "unknown node \"nobody\""},
      {[](json& d) { probe_role(d, "home-1")["to"] = "ctl"; }, "\"ctl\" runs no relay-probe role"},
      {[](json& d) { probe_role(d, "home-1")["to"] = "stranger"; }, "does not register"},
      {[](json& d) { probe_role(d, "home-1")["to"] = "home-1"; }, "would send to itself"},
      {[](json& d) {
         d["roles"][0]["nodes"].push_back("stranger");
         probe_role(d, "dc-2")["server"] = "stranger";
       },
       "registers with another control server"},
      {[](json& d) { probe_role(d, "home-1")["mode"] = "flood"; }, "must be \"echo\" or \"send\""},
      {[](json& d) { probe_role(d, "dc-2")["count"] = 5; }, "only for \"mode\": \"send\""},
      {[](json& d) { probe_role(d, "home-1")["size"] = 4; }, "size"},
      {[](json& d) { probe_role(d, "stranger").erase("relay"); }, "needs \"relay\""},
      {[](json& d) { probe_role(d, "stranger")["server"] = "ctl"; },
       "only for a probe that registers"},
      {[](json& d) { probe_role(d, "dc-1").erase("key"); }, "needs \"key\""},
      {[](json& d) { probe_role(d, "dc-1")["relya"] = "relay-1"; }, "relya"},
      {[](json& d) { role_named(d, "relay-server")["control"] = "dc-1"; },
       "\"dc-1\" runs no control-server role"},
      {[](json& d) { role_named(d, "relay-server")["region"] = 0; }, "region"},
      {[](json& d) { role_named(d, "relay-server")["region_code"] = "a b"; }, "region_code"},
      {[](json& d) { role_named(d, "relay-server")["queue_depth"] = 0; }, "queue_depth"},
      {[](json& d) {
         d["roles"].push_back({{"role", "relay-server"}, {"nodes", {"relay-1"}}});
       },
       "already runs a relay"},
      {[](json& d) {
         role_named(d, "relay-server")["nodes"] = {"relay-1"};
         d["roles"].push_back({{"role", "relay-server"},
                               {"nodes", {"relay-2"}},
                               {"control", "ctl"},
                               {"region_code", "other"}});
       },
       "give its relays one code"},
  };
  for (const Case& c : cases) {
    json doc = shipped_scenario();
    c.patch(doc);
    const std::string error = ValidationError(doc);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "expected \"" << c.expected << "\" in: " << error << "\nscenario: " << doc.dump();
  }
  EXPECT_EQ(ValidationError(shipped_scenario()), "");
}

}  // namespace
}  // namespace warren::sim
