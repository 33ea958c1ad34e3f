// The control-server and control-client scenario roles (sim/control_*): a handful of clients
// behind NATs register through the real control server and client inside ns-3; the report shows
// their overlay addresses; a server restart keeps every address; the same seed gives the same
// report byte for byte; bad role parameters fail before the run with a message naming them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "nodes/net/prefix.h"
#include "sim/role_catalog.h"
#include "sim/scenario.h"
#include "sim/scenario_runner.h"

namespace warren::sim {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

namespace fs = std::filesystem;

// Two public clients, two behind home NATs, one behind a symmetric NAT; a public server.
constexpr const char* kTopology = R"({
  "name": "control-small",
  "link_defaults": {"delay_ms": 2, "rate_mbps": 100},
  "nodes": [
    {"name": "core", "kind": "router"},
    {"name": "ctl", "kind": "host", "families": ["ipv4", "ipv6"]},
    {"name": "phone", "site": "symmetric", "uplink": "core", "link": {"delay_ms": 20}}
  ],
  "links": [{"a": "ctl", "b": "core", "delay_ms": 5}],
  "groups": [
    {"name": "dc", "count": 2, "site": "public", "uplink": "core"},
    {"name": "home", "count": 2, "site": "port-restricted-cone", "uplink": "core",
     "link": {"delay_ms": 10}}
  ]
})";

json base_scenario() {
  return json::parse(R"({
    "name": "control-small", "topology": "topology.json", "seed": 7, "duration_s": 12,
    "roles": [
      {"role": "control-server", "nodes": ["ctl"], "users": ["alice"],
       "keys": [{"name": "k1", "user": "alice", "reusable": true}]},
      {"role": "control-client", "nodes": ["phone"], "groups": ["dc", "home"],
       "server": "ctl", "key": "k1", "start_s": 0.5, "start_jitter_s": 2}
    ]
  })");
}

class ControlRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("warren-control-roles-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "topology.json") << kTopology;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<Scenario> Parse(const json& doc) {
    return parse_scenario(doc, "control-small.json", dir_.string());
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

  std::string ValidationError(const json& doc) {
    auto sc = Parse(doc);
    if (!sc.ok()) return sc.error().message;
    Status s = validate_roles(*sc);
    return s.ok() ? "" : s.error().message;
  }

  fs::path dir_;
};

const std::set<std::string> kClients = {"phone", "dc-1", "dc-2", "home-1", "home-2"};

std::map<std::string, ordered_json> client_nodes(const ordered_json& report) {
  std::map<std::string, ordered_json> out;
  for (const auto& n : report["nodes"]) {
    if (n.contains("control")) out[n["name"].get<std::string>()] = n;
  }
  return out;
}

TEST_F(ControlRolesTest, EveryClientRegistersWithUniqueOverlayAddressesAndSeesTheOthers) {
  const ordered_json report = ordered_json::parse(Run(base_scenario(), "run"));
  const auto clients = client_nodes(report);
  ASSERT_EQ(clients.size(), kClients.size());
  const Prefix v4 = *Prefix::parse("100.64.0.0/10");
  const Prefix v6 = *Prefix::parse("fd7a:115c:a1e0::/48");
  std::set<std::string> seen4, seen6;
  for (const auto& [name, n] : clients) {
    EXPECT_TRUE(kClients.count(name)) << name;
    ASSERT_TRUE(n["overlay_ipv4"].is_string()) << name << ": " << n.dump();
    ASSERT_TRUE(n["overlay_ipv6"].is_string()) << name << ": " << n.dump();
    const std::string a4 = n["overlay_ipv4"], a6 = n["overlay_ipv6"];
    EXPECT_TRUE(v4.contains(*IpAddress::parse(a4))) << a4;
    EXPECT_TRUE(v6.contains(*IpAddress::parse(a6))) << a6;
    seen4.insert(a4);
    seen6.insert(a6);
    EXPECT_EQ(n["control"]["name"], name) << "hostname is the node name";
    EXPECT_EQ(n["control"]["peers"], kClients.size() - 1) << name;
    EXPECT_GE(n["control"]["full_maps"].get<int>(), 1) << name;
    EXPECT_EQ(n["control"]["errors"], 0) << name << ": " << n["control"].dump();
  }
  EXPECT_EQ(seen4.size(), kClients.size());
  EXPECT_EQ(seen6.size(), kClients.size());
  const ordered_json& s = report["summary"];
  EXPECT_EQ(s["control_clients"], kClients.size());
  EXPECT_EQ(s["nodes_registered"], kClients.size());
  EXPECT_EQ(s["nodes_on_control_servers"], kClients.size());
  EXPECT_EQ(s["overlay_addresses_unique"], true);
  EXPECT_EQ(s["peers_seen_min"], kClients.size() - 1);
  EXPECT_EQ(s["peers_seen_max"], kClients.size() - 1);
  EXPECT_EQ(s["full_maps_sent"], kClients.size());
  EXPECT_GT(s["map_deltas_sent"].get<int>(), 0)
      << "later registrations reach earlier clients as deltas";
  EXPECT_GT(s["control_bytes_sent"].get<int>(), 0);
  // The jitter spreads the starts: clients start between 0.5 s and 2.5 s.
  ASSERT_TRUE(s["all_registered_s"].is_number());
  EXPECT_GT(s["all_registered_s"].get<double>(), 0.5);
  EXPECT_LT(s["all_registered_s"].get<double>(), 5.0);
  std::set<double> first_tries;
  for (const auto& [name, n] : clients)
    first_tries.insert(n["control"]["first_try_s"].get<double>());
  EXPECT_EQ(first_tries.size(), kClients.size()) << "no two clients start at the same instant";
}

TEST_F(ControlRolesTest, SameSeedSameReportByteForByteAnotherSeedOtherKeys) {
  const std::string first = Run(base_scenario(), "first");
  const std::string second = Run(base_scenario(), "second");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
  json other = base_scenario();
  other["seed"] = 8u;
  const std::string third = Run(other, "third");
  const ordered_json a = ordered_json::parse(first), c = ordered_json::parse(third);
  EXPECT_EQ(c["summary"]["nodes_registered"], kClients.size());
  // The key prefix comes from the server's seeded Rng.
  auto prefix = [](const ordered_json& report) {
    for (const auto& n : report["nodes"])
      if (n.contains("control_server")) return n["control_server"]["keys"][0]["prefix"];
    return ordered_json();
  };
  EXPECT_TRUE(prefix(a).is_string());
  EXPECT_NE(prefix(a), prefix(c));
}

TEST_F(ControlRolesTest, ServerRestartKeepsEveryNodesAddresses) {
  const ordered_json before = ordered_json::parse(Run(base_scenario(), "before"));
  json doc = base_scenario();
  doc["duration_s"] = 30;
  doc["events"] = json::parse(R"([
    {"at_s": 6, "action": "stop", "node": "ctl"},
    {"at_s": 8, "action": "start", "node": "ctl"}
  ])");
  const ordered_json after = ordered_json::parse(Run(doc, "after"));
  const auto a = client_nodes(before), b = client_nodes(after);
  ASSERT_EQ(b.size(), kClients.size());
  for (const auto& [name, n] : b) {
    EXPECT_EQ(n["overlay_ipv4"], a.at(name)["overlay_ipv4"]) << name;
    EXPECT_EQ(n["overlay_ipv6"], a.at(name)["overlay_ipv6"]) << name;
    EXPECT_EQ(n["control"]["address_changes"], 0) << name;
    EXPECT_GE(n["control"]["registrations"].get<int>(), 2) << name << " did not re-register";
    EXPECT_GE(n["control"]["full_maps"].get<int>(), 2) << name << " got no fresh map";
    EXPECT_EQ(n["control"]["peers"], kClients.size() - 1) << name;
  }
  for (const auto& n : after["nodes"]) {
    if (!n.contains("control_server")) continue;
    EXPECT_EQ(n["control_server"]["role_starts"], 2);
    EXPECT_EQ(n["control_server"]["nodes"], kClients.size()) << "a restart allocated new nodes";
    EXPECT_EQ(n["control_server"]["keys"].size(), 1u) << "the key survived; none created anew";
  }
  EXPECT_EQ(after["summary"]["nodes_registered"], kClients.size());
  EXPECT_EQ(after["summary"]["overlay_address_changes"], 0);
}

TEST_F(ControlRolesTest, RestartedClientWithASingleUseKeyReRegistersKeepingItsAddresses) {
  json doc = base_scenario();
  doc["duration_s"] = 20;
  doc["roles"][0]["keys"].push_back({{"name", "once"}, {"user", "alice"}});
  doc["roles"][1].erase("nodes");
  doc["roles"].push_back({{"role", "control-client"},
                          {"nodes", {"phone"}},
                          {"server", "ctl"},
                          {"key", "once"},
                          {"start_s", 0.5}});
  doc["events"] = json::parse(R"([
    {"at_s": 6, "action": "stop", "node": "phone"},
    {"at_s": 7, "action": "start", "node": "phone"}
  ])");
  const ordered_json report = ordered_json::parse(Run(doc, "run"));
  const auto clients = client_nodes(report);
  ASSERT_EQ(clients.size(), kClients.size());
  const ordered_json& phone = clients.at("phone")["control"];
  EXPECT_EQ(phone["role_starts"], 2);
  EXPECT_EQ(phone["registrations"], 2) << phone.dump();
  EXPECT_EQ(phone["errors"], 0) << phone.dump();
  EXPECT_EQ(phone["address_changes"], 0);
  EXPECT_EQ(phone["peers"], kClients.size() - 1);
  EXPECT_EQ(report["summary"]["registrations_refused"], 0);
  EXPECT_EQ(report["summary"]["nodes_on_control_servers"], kClients.size());
}

TEST_F(ControlRolesTest, BadParametersFailBeforeTheRunNamingTheProblem) {
  struct Case {
    std::function<void(json&)> patch;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& d) { d["roles"][1]["key"] = "k2"; }, "declares no key \"k2\""},
      {[](json& d) { d["roles"][1]["server"] = "dc-1"; }, "\"dc-1\" runs no control-server role"},
      {[](json& d) { d["roles"][1].erase("server"); }, "needs \"server\""},
      {[](json& d) { d["roles"][1]["groups"] = {"hme"}; },
       "unknown group \"hme\" (not in topology"},
      {[](json& d) { d["roles"][1]["start_jiter_s"] = 1; }, "start_jiter_s"},
      {[](json& d) { d["roles"][0]["keys"][0]["user"] = "bob"; }, "unknown user \"bob\""},
      {[](json& d) { d["roles"][0]["users"] = {"Alice"}; }, "users[0]: must be a user name"},
      {[](json& d) { d["roles"][0]["port"] = 0; }, "port"},
      {[](json& d) { d["roles"][0]["family"] = "ipv6"; },
       "has no ipv6, the family its control server listens on"},
      {[](json& d) {
         d["roles"][0]["policy"] = {{"acls", {{{"action", "deny"}}}}};
       },
       "policy"},
      {[](json& d) { d["roles"][0]["batch_window_ms"] = 0; }, "batch_window_ms"},
  };
  for (const Case& c : cases) {
    json doc = base_scenario();
    c.patch(doc);
    const std::string error = ValidationError(doc);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "expected \"" << c.expected << "\" in: " << error << "\nscenario: " << doc.dump();
  }
}

}  // namespace
}  // namespace warren::sim
