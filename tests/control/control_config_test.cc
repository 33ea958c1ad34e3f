#include "nodes/control/control_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warren::control {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kRelayKey = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

ControlConfigFile parse_ok(const std::string& text) {
  auto config = parse_control_config(text, "control.json");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return config.ok() ? *config : ControlConfigFile();
}

std::string parse_error(const std::string& text) {
  auto config = parse_control_config(text, "control.json");
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? "" : config.error().message;
}

TEST(ControlConfig, TheMinimalConfigGetsEveryDefault) {
  ControlConfigFile c =
      parse_ok(R"({"listen": "0.0.0.0:8080", "state_dir": "/var/lib/warren/control"})");
  EXPECT_TRUE(c.listen_resolved);
  EXPECT_EQ(c.server.listen.to_string(), "0.0.0.0:8080");
  EXPECT_EQ(c.listen_text, "0.0.0.0:8080");
  EXPECT_EQ(c.state_dir, "/var/lib/warren/control");
  EXPECT_EQ(c.admin_socket, "/var/lib/warren/control/admin.sock");
  EXPECT_FALSE(c.policy_file.has_value());
  EXPECT_EQ(c.log_level, LogLevel::info);
  EXPECT_EQ(c.server.registry.ipv4_prefix.to_string(), "100.64.0.0/10");
  EXPECT_EQ(c.server.registry.ipv6_prefix.to_string(), "fd7a:115c:a1e0::/48");
  EXPECT_EQ(c.server.registry.node_key_expiry, Duration::zero());
  EXPECT_EQ(c.server.core.batch_window, Duration::milliseconds(250));
  EXPECT_EQ(c.server.core.keepalive_interval, Duration::seconds(50));
  EXPECT_EQ(c.server.core.keepalive_jitter, Duration::seconds(9));
  EXPECT_EQ(c.server.core.offline_grace, Duration::seconds(10));
  EXPECT_EQ(c.server.core.ephemeral_timeout, Duration::seconds(120));
  EXPECT_TRUE(c.server.core.relay_map.regions.empty());
}

TEST(ControlConfig, ReadsEveryKey) {
  ControlConfigFile c = parse_ok(std::string(R"({
    "listen": "[::1]:443", "state_dir": "state/", "admin_socket": "/run/warren.sock",
    "policy_file": "policy.hujson", "log_level": "debug",
    "prefixes": {"v4": "100.100.0.0/16", "v6": "fd00:1::/64"},
    "node_key_expiry_s": 86400, "batch_window_ms": 50, "keepalive_s": 20,
    "offline_grace_s": 3, "ephemeral_timeout_s": 30,
    "relay_map": {"regions": [{"id": 2, "code": "b", "relays": [
        {"name": "r2", "host": "relay2.example", "key": ")") +
                                 kRelayKey + R"("}]},
      {"id": 1, "code": "a", "name": "Home", "relays": [
        {"name": "r1", "host": "192.0.2.7", "port": 8443, "stun_port": 0, "key": ")" +
                                 kRelayKey + R"("}]}]}
  })");
  EXPECT_EQ(c.server.listen.to_string(), "[::1]:443");
  EXPECT_EQ(c.state_dir, "state/");
  EXPECT_EQ(c.admin_socket, "/run/warren.sock");
  EXPECT_EQ(c.policy_file, "policy.hujson");
  EXPECT_EQ(c.log_level, LogLevel::debug);
  EXPECT_EQ(c.server.registry.ipv4_prefix.to_string(), "100.100.0.0/16");
  EXPECT_EQ(c.server.registry.ipv6_prefix.to_string(), "fd00:1::/64");
  EXPECT_EQ(c.server.registry.node_key_expiry, Duration::seconds(86400));
  EXPECT_EQ(c.server.core.batch_window, Duration::milliseconds(50));
  EXPECT_EQ(c.server.core.keepalive_interval, Duration::seconds(20));
  EXPECT_EQ(c.server.core.keepalive_jitter, Duration::seconds(4));  // a fifth of a short interval
  EXPECT_EQ(c.server.core.offline_grace, Duration::seconds(3));
  EXPECT_EQ(c.server.core.ephemeral_timeout, Duration::seconds(30));
  const RelayMap& map = c.server.core.relay_map;
  ASSERT_EQ(map.regions.size(), 2u);
  EXPECT_EQ(map.regions[0].id, 1);  // ascending id
  EXPECT_EQ(map.regions[0].relays[0].port, 8443);
  EXPECT_EQ(map.regions[0].relays[0].stun_port, 0);
  EXPECT_EQ(map.regions[1].relays[0].port, 443);
  EXPECT_EQ(map.regions[1].relays[0].stun_port, 3478);
}

TEST(ControlConfig, TheDefaultAdminSocketSitsInTheStateDirWithoutADoubleSlash) {
  EXPECT_EQ(parse_ok(R"({"listen": "127.0.0.1:1", "state_dir": "/srv/c/"})").admin_socket,
            "/srv/c/admin.sock");
  EXPECT_EQ(parse_ok(R"({"listen": "127.0.0.1:1", "state_dir": "rel"})").admin_socket,
            "rel/admin.sock");
}

TEST(ControlConfig, APolicyFileOfNullMeansNone) {
  EXPECT_FALSE(parse_ok(R"({"listen": "127.0.0.1:1", "state_dir": "s", "policy_file": null})")
                   .policy_file.has_value());
}

TEST(ControlConfig, AHostNameIsLeftForTheResolver) {
  ControlConfigFile c = parse_ok(R"({"listen": "control.example:443", "state_dir": "s"})");
  EXPECT_FALSE(c.listen_resolved);
  EXPECT_EQ(c.listen_text, "control.example:443");
}

TEST(ControlConfig, MissingRequiredKeysAreNamed) {
  EXPECT_EQ(parse_error(R"({"state_dir": "s"})"), "control.json: missing \"listen\"");
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1"})"), "control.json: missing \"state_dir\"");
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "state_dir": ""})"),
            "control.json: state_dir: must not be empty");
}

TEST(ControlConfig, TyposGetTheNearestKey) {
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s", "batch_window": 5})"),
            "control.json: unknown key \"batch_window\" (did you mean \"batch_window_ms\"?)");
  EXPECT_EQ(parse_error(R"({"lisen": "127.0.0.1:1", "state_dir": "s"})"),
            "control.json: unknown key \"lisen\" (did you mean \"listen\"?)");
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s",
                            "prefixes": {"v5": "100.64.0.0/10"}})"),
            "control.json: prefixes: unknown key \"v5\" (valid keys: v4 v6)");
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s", "log_level": "debgu"})"),
            "control.json: log_level: unknown level \"debgu\" (did you mean \"debug\"?)");
}

TEST(ControlConfig, BadPrefixesNameTheirPath) {
  auto with_prefixes = [](const std::string& prefixes) {
    return parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s", "prefixes": )" + prefixes +
                       "}");
  };
  EXPECT_THAT(with_prefixes(R"({"v4": "100.64.0.1/10"})"),
              StartsWith("control.json: prefixes.v4: "));
  EXPECT_THAT(with_prefixes(R"({"v4": "fd00::/64"})"),
              AllOf(StartsWith("control.json: prefixes.v4: "), HasSubstr("not an IPv4 prefix")));
  EXPECT_THAT(with_prefixes(R"({"v6": "100.64.0.0/10"})"),
              AllOf(StartsWith("control.json: prefixes.v6: "), HasSubstr("not an IPv6 prefix")));
  EXPECT_THAT(with_prefixes(R"({"v4": "100.64.0.0/32"})"),
              AllOf(StartsWith("control.json: prefixes.v4: "), HasSubstr("no room for nodes")));
  EXPECT_THAT(with_prefixes(R"({"v4": 10})"),
              StartsWith("control.json: prefixes.v4: expected a string"));
  EXPECT_THAT(with_prefixes(R"("100.64.0.0/10")"),
              StartsWith("control.json: prefixes: expected an object"));
}

TEST(ControlConfig, BadRelayEntriesNameTheirPath) {
  auto with_relay = [](const std::string& relay) {
    return parse_error(
        R"({"listen": "127.0.0.1:1", "state_dir": "s", "relay_map": {"regions": [{"id": 1, "code": "a", "relays": [)" +
        relay + "]}]}}");
  };
  EXPECT_THAT(with_relay(R"({"name": "r1", "host": "h"})"),
              AllOf(StartsWith("control.json: relay_map.regions[0].relays[0]"),
                    HasSubstr("missing \"key\"")));
  EXPECT_THAT(with_relay(std::string(R"({"name": "r1", "host": "h", "prot": 1, "key": ")") +
                         kRelayKey + "\"}"),
              AllOf(StartsWith("control.json: relay_map.regions[0].relays[0]"),
                    HasSubstr("did you mean \"port\"?")));
  EXPECT_THAT(with_relay(R"({"name": "r1", "host": "h", "key": "not base64"})"),
              StartsWith("control.json: relay_map.regions[0].relays[0].key"));
}

TEST(ControlConfig, OutOfRangeNumbersNameTheKey) {
  EXPECT_THAT(parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s", "batch_window_ms": 0})"),
              StartsWith("control.json: batch_window_ms: "));
  EXPECT_THAT(parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s", "keepalive_s": "50"})"),
              StartsWith("control.json: keepalive_s: expected an integer"));
  EXPECT_THAT(
      parse_error(R"({"listen": "127.0.0.1:1", "state_dir": "s", "ephemeral_timeout_s": -1})"),
      StartsWith("control.json: ephemeral_timeout_s: "));
}

TEST(ControlConfig, BadListenValuesSayWhatIsExpected) {
  for (const char* listen :
       {"8080", ":8080", "host:", "host:99999", "host:http", "a b:80", "[::1:80"}) {
    EXPECT_THAT(parse_error(std::string(R"({"listen": ")") + listen + R"(", "state_dir": "s"})"),
                StartsWith("control.json: listen: "))
        << listen;
  }
}

TEST(ControlConfig, SyntaxErrorsAndDuplicatesGiveTheLine) {
  EXPECT_THAT(parse_error("{\"listen\": \"127.0.0.1:1\",\n \"state_dir\": \"s\",\n}"),
              StartsWith("control.json: line 3, column 1: not valid JSON"));
  EXPECT_EQ(parse_error("{\"listen\": \"127.0.0.1:1\",\n \"state_dir\": \"s\",\n"
                        " \"listen\": \"127.0.0.1:2\"}"),
            "control.json: line 3: key \"listen\" appears twice (first on line 1)");
  EXPECT_THAT(parse_error("[]"), StartsWith("control.json: expected an object"));
  EXPECT_THAT(parse_error(""), StartsWith("control.json: line 1, column 1: not valid JSON"));
}

}  // namespace
}  // namespace warren::control
