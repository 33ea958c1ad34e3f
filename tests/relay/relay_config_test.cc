#include "nodes/relay/relay_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warren::relay {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kKey = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
constexpr const char* kMeshKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

RelayConfigFile parse_ok(const std::string& text) {
  auto config = parse_relay_config(text, "relay.json");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return config.ok() ? *config : RelayConfigFile();
}

std::string parse_error(const std::string& text) {
  auto config = parse_relay_config(text, "relay.json");
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? "" : config.error().message;
}

// The minimal config with `extra` members appended.
std::string minimal_with(const std::string& extra) {
  return R"({"listen": "127.0.0.1:8443", "stun_listen": ["127.0.0.1:3478"])" +
         (extra.empty() ? "" : ", " + extra) + "}";
}

TEST(RelayConfig, TheMinimalConfigServesStunAndAdmitsNoNode) {
  RelayConfigFile c = parse_ok(minimal_with(""));
  EXPECT_EQ(c.listen_text, "127.0.0.1:8443");
  EXPECT_EQ(c.stun_listen_text, std::vector<std::string>{"127.0.0.1:3478"});
  EXPECT_EQ(c.state_dir, "");  // the CLI's default applies
  EXPECT_FALSE(c.control_url.has_value());
  EXPECT_FALSE(c.control_key.has_value());
  EXPECT_FALSE(c.mesh_key_text.has_value());
  EXPECT_FALSE(c.mesh_key_file.has_value());
  EXPECT_TRUE(c.mesh_peers.empty());
  EXPECT_EQ(c.log_level, LogLevel::info);
  const RelayServerOptions defaults;
  EXPECT_EQ(c.server.queue_depth, defaults.queue_depth);
  EXPECT_EQ(c.server.rate_bytes_per_s, defaults.rate_bytes_per_s);
  EXPECT_EQ(c.server.burst_bytes, defaults.burst_bytes);
  EXPECT_EQ(c.server.max_clients, defaults.max_clients);
  EXPECT_EQ(c.server.queue_depth, 32u);
  EXPECT_EQ(c.server.rate_bytes_per_s, 4u << 20);
}

TEST(RelayConfig, ReadsEveryKey) {
  RelayConfigFile c = parse_ok(std::string(R"({
    "listen": "[::]:443", "stun_listen": ["0.0.0.0:3478", "[::]:3478"],
    "state_dir": "state", "control_url": "http://control.example:8080/",
    "control_key": ")") + kKey +
                               R"(", "mesh_key": ")" + kMeshKey + R"(",
    "mesh_peers": ["http://10.0.0.1:443", "http://[2001:db8::2]:443", "http://relay3.example"],
    "queue_depth": 64, "rate_limit_bytes_per_s": 0, "burst_bytes": 4096,
    "max_clients": 2000, "log_level": "debug"
  })");
  EXPECT_EQ(c.listen_text, "[::]:443");
  EXPECT_EQ(c.stun_listen_text, (std::vector<std::string>{"0.0.0.0:3478", "[::]:3478"}));
  EXPECT_EQ(c.state_dir, "state");
  ASSERT_TRUE(c.control_url.has_value());
  EXPECT_EQ(c.control_url->host, "control.example");
  EXPECT_EQ(c.control_url->port, 8080);
  EXPECT_EQ(c.control_url->host_port, "control.example:8080");
  ASSERT_TRUE(c.control_key.has_value());
  EXPECT_EQ(to_base64(*c.control_key), kKey);
  EXPECT_EQ(c.mesh_key_text, kMeshKey);
  ASSERT_EQ(c.mesh_peers.size(), 3u);
  EXPECT_EQ(c.mesh_peers[0].host_port, "10.0.0.1:443");
  EXPECT_EQ(c.mesh_peers[1].host, "2001:db8::2");
  EXPECT_EQ(c.mesh_peers[1].host_port, "[2001:db8::2]:443");
  EXPECT_EQ(c.mesh_peers[2].host_port, "relay3.example:80");
  EXPECT_EQ(c.server.queue_depth, 64u);
  EXPECT_EQ(c.server.rate_bytes_per_s, 0u);  // no limit
  EXPECT_EQ(c.server.burst_bytes, 4096u);
  EXPECT_EQ(c.server.max_clients, 2000u);
  EXPECT_EQ(c.log_level, LogLevel::debug);
}

TEST(RelayConfig, ListenMayListOneEndpointPerFamily) {
  RelayConfigFile c = parse_ok(R"({"listen": ["0.0.0.0:443", "[::]:443"], "stun_listen": []})");
  EXPECT_EQ(c.listen_text, "0.0.0.0:443");
  EXPECT_EQ(c.additional_listen_text, std::vector<std::string>{"[::]:443"});
  EXPECT_TRUE(
      parse_ok(R"({"listen": "0.0.0.0:443", "stun_listen": []})").additional_listen_text.empty());
  EXPECT_THAT(parse_error(R"({"listen": [], "stun_listen": []})"),
              HasSubstr("listen: must list at least one endpoint"));
  EXPECT_THAT(parse_error(R"({"listen": ["0.0.0.0:443", "0.0.0.0:443"], "stun_listen": []})"),
              HasSubstr("listen[1]: \"0.0.0.0:443\" is listed twice"));
  EXPECT_THAT(parse_error(R"({"listen": ["0.0.0.0:443", 7], "stun_listen": []})"),
              HasSubstr("listen[1]: expected a string"));
}

TEST(RelayConfig, AnEmptyStunListMeansNoStunButAMissingOneIsAnError) {
  EXPECT_TRUE(parse_ok(R"({"listen": "127.0.0.1:1", "stun_listen": []})").stun_listen_text.empty());
  EXPECT_THAT(parse_error(R"({"listen": "127.0.0.1:1"})"),
              StartsWith("relay.json: missing \"stun_listen\""));
}

TEST(RelayConfig, HostNamesAreLeftForTheResolver) {
  RelayConfigFile c =
      parse_ok(R"({"listen": "relay.example:443", "stun_listen": ["relay.example:3478"]})");
  EXPECT_EQ(c.listen_text, "relay.example:443");
  EXPECT_EQ(c.stun_listen_text[0], "relay.example:3478");
}

TEST(RelayConfig, NullMeansAbsent) {
  RelayConfigFile c = parse_ok(minimal_with(
      R"("state_dir": null, "control_url": null, "control_key": null, "mesh_key": null,
         "mesh_key_file": null, "mesh_peers": null)"));
  EXPECT_FALSE(c.control_url.has_value());
  EXPECT_TRUE(c.mesh_peers.empty());
}

TEST(RelayConfig, AMeshKeyFileIsKeptAsWritten) {
  RelayConfigFile c = parse_ok(
      minimal_with(R"("mesh_key_file": "mesh.key", "mesh_peers": ["http://127.0.0.1:8443"])"));
  EXPECT_EQ(c.mesh_key_file, "mesh.key");
  EXPECT_FALSE(c.mesh_key_text.has_value());
}

TEST(RelayConfig, TyposGetTheNearestKey) {
  EXPECT_EQ(parse_error(minimal_with(R"("contrl_url": "http://a:1")")),
            "relay.json: unknown key \"contrl_url\" (did you mean \"control_url\"?)");
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "stun_listn": []})"),
            "relay.json: unknown key \"stun_listn\" (did you mean \"stun_listen\"?)");
  EXPECT_EQ(parse_error(minimal_with(R"("log_level": "inof")")),
            "relay.json: log_level: unknown level \"inof\" (did you mean \"info\"?)");
}

TEST(RelayConfig, BadEndpointsAreNamedWithTheirPath) {
  EXPECT_EQ(parse_error(R"({"stun_listen": []})"), "relay.json: missing \"listen\"");
  EXPECT_THAT(parse_error(R"({"listen": "8443", "stun_listen": []})"),
              StartsWith("relay.json: listen: expected ADDR:PORT"));
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:99999", "stun_listen": []})"),
            "relay.json: listen: port \"99999\" is not a number in 0..65535");
  EXPECT_THAT(parse_error(R"({"listen": "127.0.0.1:1", "stun_listen": "0.0.0.0:3478"})"),
              StartsWith("relay.json: stun_listen: expected a list such as"));
  EXPECT_THAT(parse_error(R"({"listen": "127.0.0.1:1", "stun_listen": ["0.0.0.0:1", "::1:2"]})"),
              StartsWith("relay.json: stun_listen[1]: expected ADDR:PORT"));
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "stun_listen": ["0.0.0.0:1", 5]})"),
            "relay.json: stun_listen[1]: expected a string, got a number");
  EXPECT_EQ(parse_error(R"({"listen": "127.0.0.1:1", "stun_listen": ["[::]:1", "[::]:1"]})"),
            "relay.json: stun_listen[1]: \"[::]:1\" is listed twice");
}

TEST(RelayConfig, ControlKeyNeedsAControlUrlAndMustBeAKey) {
  EXPECT_THAT(parse_error(minimal_with(std::string(R"("control_key": ")") + kKey + "\"")),
              StartsWith("relay.json: control_key: set \"control_url\" too"));
  EXPECT_THAT(
      parse_error(minimal_with(R"("control_url": "http://127.0.0.1:1", "control_key": "x")")),
      StartsWith("relay.json: control_key: "));
  EXPECT_THAT(parse_error(minimal_with(R"("control_url": "https://control.example")")),
              AllOf(StartsWith("relay.json: control_url: \"https://control.example\": "),
                    HasSubstr("https is not supported yet")));
}

TEST(RelayConfig, MeshPeersNeedTheMeshKey) {
  EXPECT_THAT(parse_error(minimal_with(R"("mesh_peers": ["http://127.0.0.1:1"])")),
              StartsWith("relay.json: mesh_peers: needs \"mesh_key\" or \"mesh_key_file\""));
  // A mesh key without peers is fine: this relay accepts the region's mesh links.
  EXPECT_EQ(parse_ok(minimal_with(std::string(R"("mesh_key": ")") + kMeshKey + "\"")).mesh_key_text,
            kMeshKey);
}

TEST(RelayConfig, MeshKeyErrors) {
  EXPECT_THAT(parse_error(minimal_with(R"("mesh_key": "abc")")),
              StartsWith("relay.json: mesh_key: "));
  EXPECT_THAT(parse_error(minimal_with(std::string(R"("mesh_key": ")") + kMeshKey +
                                       R"(", "mesh_key_file": "f")")),
              StartsWith("relay.json: set either \"mesh_key\" or \"mesh_key_file\", not both"));
  EXPECT_THAT(
      parse_error(minimal_with(std::string(R"("mesh_key": ")") + kMeshKey +
                               R"(", "mesh_peers": ["http://a:1", "http://b:2", "http://a:1/"])")),
      StartsWith("relay.json: mesh_peers[2]: \"http://a:1/\" is listed twice"));
  EXPECT_THAT(parse_error(minimal_with(std::string(R"("mesh_key": ")") + kMeshKey +
                                       R"(", "mesh_peers": ["http://a:1", "ftp://b"])")),
              StartsWith("relay.json: mesh_peers[1]: \"ftp://b\": expected http://HOST:PORT"));
}

TEST(RelayConfig, TunablesAreBounded) {
  EXPECT_EQ(parse_error(minimal_with(R"("queue_depth": 0)")),
            "relay.json: queue_depth: value 0 is out of range [1, 1024]");
  EXPECT_EQ(parse_error(minimal_with(R"("queue_depth": 1000000)")),
            "relay.json: queue_depth: value 1000000 is out of range [1, 1024]");
  EXPECT_EQ(parse_error(minimal_with(R"("rate_limit_bytes_per_s": -1)")),
            "relay.json: rate_limit_bytes_per_s: value -1 is out of range [0, 4294967295]");
  EXPECT_THAT(parse_error(minimal_with(R"("burst_bytes": 1.5)")),
              StartsWith("relay.json: burst_bytes: expected an integer"));
  EXPECT_THAT(parse_error(minimal_with(R"("max_clients": 0)")),
              StartsWith("relay.json: max_clients: value 0 is out of range [1, "));
}

TEST(RelayConfig, DocumentErrorsSayWhereToLook) {
  EXPECT_EQ(parse_error("{\n  \"listen\": \"127.0.0.1:1\",\n  \"stun_listen\" []\n}"),
            "relay.json: line 3, column 17: not valid JSON");
  EXPECT_EQ(
      parse_error("{\"listen\": \"127.0.0.1:1\",\n\"stun_listen\": [],\n\"listen\": \"x:1\"}"),
      "relay.json: line 3: key \"listen\" appears twice (first on line 1)");
  EXPECT_THAT(parse_error("[]"), StartsWith("relay.json: expected an object such as"));
  EXPECT_THAT(parse_error(std::string(kMaxRelayConfigBytes + 1, ' ')),
              HasSubstr("not a relay config file?"));
}

// --- parse_http_target ---------------------------------------------------------------------

HttpTarget target_ok(const std::string& url) {
  auto target = parse_http_target(url, "--relay");
  EXPECT_TRUE(target.ok()) << url << ": " << (target.ok() ? "" : target.error().message);
  return target.ok() ? *target : HttpTarget();
}

std::string target_error(const std::string& url) {
  auto target = parse_http_target(url, "--relay");
  EXPECT_FALSE(target.ok()) << url;
  return target.ok() ? "" : target.error().message;
}

TEST(HttpTarget, SplitsHostAndPortForTheResolverAndTheHostHeader) {
  HttpTarget t = target_ok("http://127.0.0.1:8080");
  EXPECT_EQ(t.text, "http://127.0.0.1:8080");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(t.host_port, "127.0.0.1:8080");

  t = target_ok("http://[::1]:443/");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 443);
  EXPECT_EQ(t.host_port, "[::1]:443");

  t = target_ok("HTTP://Relay-1.example");
  EXPECT_EQ(t.host, "Relay-1.example");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.host_port, "Relay-1.example:80");

  EXPECT_EQ(target_ok("http://[2001:db8::1]").host_port, "[2001:db8::1]:80");
}

TEST(HttpTarget, ErrorsNameTheFieldTheUrlAndTheExpectedForm) {
  EXPECT_EQ(target_error("127.0.0.1:8080"),
            "--relay: \"127.0.0.1:8080\": expected http://HOST:PORT, e.g. http://127.0.0.1:8080");
  EXPECT_THAT(target_error("https://relay.example"), HasSubstr("https is not supported yet"));
  EXPECT_THAT(target_error("http://[::1:80"), HasSubstr("unbalanced '['"));
  EXPECT_THAT(target_error("http://::1:80"), HasSubstr("put an IPv6 address in brackets"));
  EXPECT_THAT(target_error("http://[10.0.0.1]:80"), HasSubstr("is not an IPv6 address"));
  EXPECT_THAT(target_error("http://[::1]80"), HasSubstr("expected :PORT after ']'"));
  EXPECT_THAT(target_error("http://a:1/relay"), HasSubstr("without a path"));
  EXPECT_THAT(target_error("http://a:1?x"), HasSubstr("without a path"));
  EXPECT_THAT(target_error("http://user@a:1"), HasSubstr("without a user name"));
  EXPECT_THAT(target_error("http://"), HasSubstr("no host"));
  EXPECT_THAT(target_error("http://:80"), HasSubstr("no host"));
  EXPECT_THAT(target_error("http://a:"), HasSubstr("no port after ':'"));
  EXPECT_THAT(target_error("http://a:0"), HasSubstr("port \"0\" is not a number in 1..65535"));
  EXPECT_THAT(target_error("http://a:65536"), HasSubstr("is not a number in 1..65535"));
  EXPECT_THAT(target_error("http://a:+80"), HasSubstr("is not a number in 1..65535"));
  EXPECT_THAT(target_error("http://a b:80"), HasSubstr("is not a host name or an IP address"));
  EXPECT_THAT(target_error("http://" + std::string(600, 'a')), HasSubstr("longer than"));
}

}  // namespace
}  // namespace warren::relay
