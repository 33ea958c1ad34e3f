#include "nat-models/nat_config_json.h"

#include <gtest/gtest.h>

#include <string>

namespace warren::nat {
namespace {

using nlohmann::json;

// The error for `j`, or a failure if it parsed.
std::string error_of(const json& j) {
  Result<NatConfig> c = nat_config_from_json(j);
  EXPECT_FALSE(c.ok()) << j.dump();
  return c.ok() ? std::string() : c.error().message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(NatConfigJson, EmptyObjectGivesTheDefaults) {
  Result<NatConfig> c = nat_config_from_json(json::object());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, NatConfig());
}

TEST(NatConfigJson, PresetIsTheBaseAndKeysOverride) {
  Result<NatConfig> c = nat_config_from_json(json::parse(R"({
      "preset": "symmetric", "ports": "sequential", "port_range": [40000, 40099],
      "udp_timeout_s": 45, "tcp_established_timeout_s": 3600, "tcp_transitory_timeout_s": 0.5e1,
      "hairpinning": false, "inbound_refresh": true, "filtering": "address-dependent"})"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->preset, "symmetric");
  EXPECT_EQ(c->mapping, Behaviour::address_and_port_dependent);  // from the preset
  EXPECT_EQ(c->filtering, Behaviour::address_dependent);
  EXPECT_EQ(c->ports, PortAssignment::sequential);
  EXPECT_EQ(c->port_min, 40000);
  EXPECT_EQ(c->port_max, 40099);
  EXPECT_EQ(c->udp_timeout, Duration::seconds(45));
  EXPECT_EQ(c->tcp_established_timeout, Duration::seconds(3600));
  EXPECT_EQ(c->tcp_transitory_timeout, Duration::seconds(5));
  EXPECT_FALSE(c->hairpinning);
  EXPECT_TRUE(c->inbound_refresh);
}

TEST(NatConfigJson, FractionalTimeouts) {
  Result<NatConfig> c = nat_config_from_json(json{{"udp_timeout_s", 1.5}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->udp_timeout, Duration::milliseconds(1500));
  EXPECT_EQ(nat_config_to_json(*c)["udp_timeout_s"], 1.5);
}

TEST(NatConfigJson, ToJsonUsesTheReportSpellings) {
  NatConfig c = *nat_preset("cgnat");
  c.external_addresses = {IpAddress::v4(192, 0, 2, 1)};
  const json j = nat_config_to_json(c);
  EXPECT_EQ(j["mapping"], "endpoint-independent");
  EXPECT_EQ(j["filtering"], "address-and-port-dependent");
  EXPECT_EQ(j["ports"], "random");
  EXPECT_EQ(j["udp_timeout_s"], 60);
  EXPECT_TRUE(j["udp_timeout_s"].is_number_integer());
  EXPECT_EQ(j["hairpinning"], true);
  EXPECT_EQ(j["port_range"], json::array({1024, 65535}));
  EXPECT_EQ(j["preset"], "cgnat");
  EXPECT_FALSE(j.contains("external_addresses"));
  EXPECT_FALSE(nat_config_to_json(NatConfig()).contains("preset"));
}

TEST(NatConfigJson, EveryPresetRoundTrips) {
  for (const std::string& name : nat_preset_names()) {
    NatConfig c = *nat_preset(name);
    c.port_min = 2000;
    c.inbound_refresh = true;
    Result<NatConfig> back = nat_config_from_json(nat_config_to_json(c));
    ASSERT_TRUE(back.ok()) << name << ": " << back.error().message;
    EXPECT_EQ(*back, c) << name;
  }
  NatConfig custom;
  custom.mapping = Behaviour::address_dependent;
  custom.tcp_transitory_timeout = Duration::milliseconds(2500);
  EXPECT_EQ(*nat_config_from_json(nat_config_to_json(custom)), custom);
}

TEST(NatConfigJson, NotAnObject) {
  EXPECT_TRUE(contains(error_of(json::array()), "must be a JSON object"));
  EXPECT_TRUE(contains(error_of(json("full-cone")), "must be a JSON object"));
}

TEST(NatConfigJson, UnknownKeyIsNamedWithTheAllowedOnes) {
  const std::string e = error_of(json{{"mapping", "endpoint-independent"}, {"hairpin", true}});
  EXPECT_TRUE(contains(e, "unknown key \"hairpin\"")) << e;
  EXPECT_TRUE(contains(e, "\"hairpinning\"")) << e;
  EXPECT_TRUE(contains(e, "\"udp_timeout_s\"")) << e;
}

TEST(NatConfigJson, BadPreset) {
  const std::string e = error_of(json{{"preset", "fullcone"}});
  EXPECT_TRUE(contains(e, "\"preset\"")) << e;
  EXPECT_TRUE(contains(e, "\"full-cone\"")) << e;
  EXPECT_TRUE(contains(error_of(json{{"preset", 3}}), "\"preset\""));
}

TEST(NatConfigJson, BadBehaviourListsTheSpellings) {
  for (const char* key : {"mapping", "filtering"}) {
    const std::string e = error_of(json{{key, "symmetric"}});
    EXPECT_TRUE(contains(e, std::string("\"") + key + "\"")) << e;
    EXPECT_TRUE(contains(e, "\"address-and-port-dependent\"")) << e;
    EXPECT_TRUE(contains(error_of(json{{key, 1}}), key));
  }
}

TEST(NatConfigJson, BadPorts) {
  const std::string e = error_of(json{{"ports", "fixed"}});
  EXPECT_TRUE(contains(e, "\"ports\"")) << e;
  EXPECT_TRUE(contains(e, "\"preserve\", \"sequential\", \"random\"")) << e;
}

TEST(NatConfigJson, BadPortRange) {
  for (const json& bad :
       {json::array({0, 100}), json::array({2000, 1000}), json::array({1024, 65536}),
        json::array({1024}), json::array({1024.5, 2000}), json::array({-1, 5}), json("1024-2000"),
        json::array({1024, 2000, 3000})}) {
    const std::string e = error_of(json{{"port_range", bad}});
    EXPECT_TRUE(contains(e, "\"port_range\"")) << bad.dump();
    EXPECT_TRUE(contains(e, "1 <= LO <= HI <= 65535")) << e;
  }
  EXPECT_TRUE(nat_config_from_json(json{{"port_range", {7, 7}}}).ok());
}

TEST(NatConfigJson, BadTimeouts) {
  for (const char* key :
       {"udp_timeout_s", "tcp_established_timeout_s", "tcp_transitory_timeout_s"}) {
    for (const json& bad : {json(0), json(-5), json(0.5), json(kMaxTimeoutSeconds + 1), json("30"),
                            json(true), json(nullptr)}) {
      const std::string e = error_of(json{{key, bad}});
      EXPECT_TRUE(contains(e, std::string("\"") + key + "\"")) << e;
      EXPECT_TRUE(contains(e, "from 1 to 604800")) << e;
    }
    EXPECT_TRUE(nat_config_from_json(json{{key, kMaxTimeoutSeconds}}).ok());
  }
}

TEST(NatConfigJson, BadBooleans) {
  for (const char* key : {"hairpinning", "inbound_refresh"}) {
    const std::string e = error_of(json{{key, "yes"}});
    EXPECT_TRUE(contains(e, key)) << e;
    EXPECT_TRUE(contains(e, "true or false")) << e;
    EXPECT_TRUE(contains(error_of(json{{key, 1}}), "true or false"));
  }
}

TEST(NatConfigJson, InvalidUtf8InAValueDoesNotThrow) {
  json j = {{"mapping", std::string("\xff\xfe")}};
  EXPECT_TRUE(contains(error_of(j), "\"mapping\""));
}

TEST(FirewallConfigJson, DefaultsOverridesAndErrors) {
  EXPECT_EQ(*firewall_config_from_json(json::object()), FirewallConfig());
  Result<FirewallConfig> c =
      firewall_config_from_json(json{{"udp_timeout_s", 120}, {"inbound_refresh", true}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->udp_timeout, Duration::seconds(120));
  EXPECT_TRUE(c->inbound_refresh);
  EXPECT_EQ(*firewall_config_from_json(firewall_config_to_json(*c)), *c);
  Result<FirewallConfig> bad = firewall_config_from_json(json{{"mapping", "x"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message, "IPv6 firewall config has unknown key \"mapping\""));
}

}  // namespace
}  // namespace warren::nat
