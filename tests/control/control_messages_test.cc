#include "nodes/common/control_messages.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace warren::control {
namespace {

using nlohmann::json;

PublicKey key(uint8_t fill) {
  PublicKey k;
  k.bytes.fill(fill);
  return k;
}

Endpoint ep(const char* text) {
  return *Endpoint::parse(text);
}
Prefix pfx(const char* text) {
  return *Prefix::parse(text);
}

PeerNode sample_node(NodeId id) {
  PeerNode n;
  n.id = id;
  n.name = "laptop-" + std::to_string(id);
  n.user = "alice";
  n.tags = {"tag:ci", "tag:server"};
  n.node_key = key(static_cast<uint8_t>(id));
  n.machine_key = key(static_cast<uint8_t>(id + 100));
  n.disco_key = key(static_cast<uint8_t>(id + 200));
  n.ipv4 = *IpAddress::parse("100.64.0." + std::to_string(id));
  n.ipv6 = *IpAddress::parse("fd7a:115c:a1e0::" + std::to_string(id));
  n.routes = {pfx("0.0.0.0/0"), pfx("192.168.1.0/24")};
  n.endpoints = {ep("203.0.113.7:41641"), ep("[2001:db8::7]:41641")};
  n.home_relay = 3;
  n.online = true;
  n.last_seen_unix_s = 1767225600;
  n.key_expiry_unix_s = 0;
  return n;
}

RelayMap sample_relay_map() {
  RelayMap map;
  RelayRegion region;
  region.id = 1;
  region.code = "home";
  region.name = "Home";
  Relay relay;
  relay.name = "r1";
  relay.host = "relay.example";
  relay.port = 8443;
  relay.addresses = {*IpAddress::parse("198.51.100.1"), *IpAddress::parse("2001:db8::1")};
  relay.stun_port = 3478;
  relay.tls = true;
  relay.key = key(9);
  region.relays.push_back(relay);
  map.regions.push_back(region);
  return map;
}

PacketFilter sample_filter() {
  FilterRule rule;
  rule.sources = {pfx("100.64.0.1/32")};
  rule.destinations = {{pfx("100.64.0.2/32"), PortRange{22, 22}}};
  rule.protocols = {kProtoTcp};
  return {rule};
}

bool same_relay_map(const RelayMap& a, const RelayMap& b) {
  return relay_map_to_json(a) == relay_map_to_json(b);
}

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

ClientMessage client_round_trip(const ClientMessage& m) {
  auto decoded = decode_client_message(encode(m));
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  return decoded.ok() ? *decoded : ClientMessage{};
}

ServerMessage server_round_trip(const ServerMessage& m) {
  auto decoded = decode_server_message(encode(m));
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  return decoded.ok() ? *decoded : ServerMessage{};
}

std::string client_error(const std::string& s) {
  auto r = decode_client_message(text(s));
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : r.error().message;
}

std::string server_error(const std::string& s) {
  auto r = decode_server_message(text(s));
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : r.error().message;
}

std::string b64(uint8_t fill) {
  return to_base64(key(fill));
}

// --- round trips ---------------------------------------------------------------------------

TEST(ControlMessages, RegisterRoundTrip) {
  RegisterMessage m;
  m.node_key = key(1);
  m.disco_key = key(2);
  m.auth_key = "wk-0123456789ab-secret";
  m.hostname = "laptop";
  m.routes = {pfx("10.0.0.0/8"), pfx("fd00::/64")};
  auto out = std::get<RegisterMessage>(client_round_trip(m));
  EXPECT_EQ(out.node_key, m.node_key);
  EXPECT_EQ(out.disco_key, m.disco_key);
  EXPECT_EQ(out.auth_key, m.auth_key);
  EXPECT_EQ(out.hostname, m.hostname);
  EXPECT_EQ(out.routes, m.routes);

  RegisterMessage bare;  // a re-registration: no auth key, no routes
  bare.node_key = key(1);
  bare.disco_key = key(2);
  bare.hostname = "laptop";
  auto out2 = std::get<RegisterMessage>(client_round_trip(bare));
  EXPECT_TRUE(out2.auth_key.empty());
  EXPECT_TRUE(out2.routes.empty());
}

TEST(ControlMessages, MapRequestRoundTrip) {
  MapRequestMessage m;
  m.node_key = key(1);
  m.disco_key = key(2);
  m.hostname = "laptop";
  m.endpoints = {ep("192.0.2.1:41641"), ep("[2001:db8::1]:41641")};
  m.home_relay = 7;
  m.routes = std::vector<Prefix>{pfx("192.168.0.0/16")};
  auto out = std::get<MapRequestMessage>(client_round_trip(m));
  EXPECT_EQ(out.node_key, m.node_key);
  EXPECT_EQ(out.endpoints, m.endpoints);
  EXPECT_EQ(out.home_relay, 7);
  EXPECT_EQ(out.routes, m.routes);
  EXPECT_EQ(out.hostname, "laptop");

  MapRequestMessage no_routes = m;
  no_routes.routes.reset();  // absent = unchanged, different from "none"
  EXPECT_FALSE(std::get<MapRequestMessage>(client_round_trip(no_routes)).routes.has_value());
  no_routes.routes = std::vector<Prefix>{};
  auto empty = std::get<MapRequestMessage>(client_round_trip(no_routes)).routes;
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(ControlMessages, UpdateRoundTripKeepsAbsentFieldsAbsent) {
  UpdateMessage none;
  auto out = std::get<UpdateMessage>(client_round_trip(none));
  EXPECT_FALSE(out.endpoints || out.home_relay || out.disco_key || out.hostname || out.routes);

  UpdateMessage all;
  all.endpoints = std::vector<Endpoint>{ep("192.0.2.9:1")};
  all.home_relay = 0;
  all.disco_key = key(5);
  all.hostname = "renamed";
  all.routes = std::vector<Prefix>{};
  out = std::get<UpdateMessage>(client_round_trip(all));
  EXPECT_EQ(out.endpoints, all.endpoints);
  EXPECT_EQ(out.home_relay, 0);
  EXPECT_EQ(out.disco_key, all.disco_key);
  EXPECT_EQ(out.hostname, all.hostname);
  ASSERT_TRUE(out.routes.has_value());
  EXPECT_TRUE(out.routes->empty());
}

TEST(ControlMessages, RelaySubscribeRoundTrip) {
  EXPECT_TRUE(
      std::holds_alternative<RelaySubscribeMessage>(client_round_trip(RelaySubscribeMessage{})));
}

TEST(ControlMessages, RegisterResponseRoundTrip) {
  RegisterResponse ok;
  ok.ok = true;
  ok.node = sample_node(4);
  auto out = std::get<RegisterResponse>(server_round_trip(ok));
  EXPECT_TRUE(out.ok);
  ASSERT_TRUE(out.node.has_value());
  EXPECT_EQ(*out.node, *ok.node);

  RegisterResponse refused;
  refused.error = "auth key expired";
  out = std::get<RegisterResponse>(server_round_trip(refused));
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "auth key expired");
  EXPECT_FALSE(out.node.has_value());
}

TEST(ControlMessages, FullMapRoundTrip) {
  MapMessage m;
  m.seq = 1;
  m.full = true;
  m.self = sample_node(1);
  m.peers = {sample_node(2), sample_node(5)};
  m.relay_map = sample_relay_map();
  m.packet_filter = sample_filter();
  auto out = std::get<MapMessage>(server_round_trip(m));
  EXPECT_TRUE(out.full);
  EXPECT_EQ(out.seq, 1u);
  EXPECT_EQ(out.self, m.self);
  EXPECT_EQ(out.peers, m.peers);
  ASSERT_TRUE(out.relay_map.has_value());
  EXPECT_TRUE(same_relay_map(*out.relay_map, *m.relay_map));
  EXPECT_EQ(out.packet_filter, m.packet_filter);
}

TEST(ControlMessages, FullMapWithNoPeersAndEmptyFilterStaysExplicit) {
  MapMessage m;
  m.seq = 1;
  m.full = true;
  m.self = sample_node(1);
  m.relay_map = RelayMap{};
  m.packet_filter = PacketFilter{};  // blocks everything: must not read as "unchanged"
  auto out = std::get<MapMessage>(server_round_trip(m));
  EXPECT_TRUE(out.peers.empty());
  ASSERT_TRUE(out.packet_filter.has_value());
  EXPECT_TRUE(out.packet_filter->empty());
}

TEST(ControlMessages, DeltaRoundTrip) {
  MapMessage m;
  m.seq = 9;
  m.peers_changed = {sample_node(3)};
  m.peers_removed = {4, 12};
  PeerPatch endpoints_only;
  endpoints_only.id = 6;
  endpoints_only.endpoints = std::vector<Endpoint>{ep("192.0.2.6:9")};
  PeerPatch offline;
  offline.id = 7;
  offline.online = false;
  offline.last_seen_unix_s = 1767225700;
  offline.home_relay = 2;
  offline.disco_key = key(77);
  m.peer_patches = {endpoints_only, offline};
  m.self = sample_node(1);
  m.packet_filter = PacketFilter{};
  auto out = std::get<MapMessage>(server_round_trip(m));
  EXPECT_FALSE(out.full);
  EXPECT_EQ(out.seq, 9u);
  EXPECT_EQ(out.peers_changed, m.peers_changed);
  EXPECT_EQ(out.peers_removed, m.peers_removed);
  EXPECT_EQ(out.peer_patches, m.peer_patches);
  EXPECT_EQ(out.self, m.self);
  EXPECT_FALSE(out.relay_map.has_value());
  ASSERT_TRUE(out.packet_filter.has_value());
  EXPECT_TRUE(out.packet_filter->empty());
}

TEST(ControlMessages, EmptyDeltaMeansNothingChanged) {
  MapMessage m;
  m.seq = 2;
  auto out = std::get<MapMessage>(server_round_trip(m));
  EXPECT_FALSE(out.self || out.relay_map || out.packet_filter);
  EXPECT_TRUE(out.peers_changed.empty() && out.peers_removed.empty() && out.peer_patches.empty());
}

TEST(ControlMessages, KeepaliveAndErrorRoundTrip) {
  EXPECT_TRUE(std::holds_alternative<KeepaliveMessage>(server_round_trip(KeepaliveMessage{})));
  auto out = std::get<ErrorMessage>(server_round_trip(ErrorMessage{"node deleted"}));
  EXPECT_EQ(out.error, "node deleted");
}

TEST(ControlMessages, RelayKeysRoundTrip) {
  RelayKeysMessage full;
  full.seq = 1;
  full.full = true;
  full.keys = {key(1), key(2), key(3)};
  auto out = std::get<RelayKeysMessage>(server_round_trip(full));
  EXPECT_TRUE(out.full);
  EXPECT_EQ(out.keys, full.keys);

  RelayKeysMessage delta;
  delta.seq = 2;
  delta.added = {key(4)};
  delta.removed = {{key(1), "node key expired"}, {key(2), "node deleted \"x\""}};
  out = std::get<RelayKeysMessage>(server_round_trip(delta));
  EXPECT_FALSE(out.full);
  EXPECT_EQ(out.added, delta.added);
  EXPECT_EQ(out.removed, delta.removed);
}

TEST(ControlMessages, RelayKeyRemovalsCarryTheirReasonOnTheWire) {
  RelayKeysMessage delta;
  delta.seq = 2;
  delta.removed = {{key(1), "node key expired"}};
  const Bytes bytes = encode(ServerMessage(delta));
  json j = json::parse(ByteView(bytes).as_string());
  EXPECT_EQ(j["removed"],
            json::parse("[{\"key\": \"" + b64(1) + "\", \"reason\": \"node key expired\"}]"));
}

TEST(ControlMessages, NeverTimesTravelAsNull) {
  PeerNode n = sample_node(1);
  n.last_seen_unix_s = 0;
  n.key_expiry_unix_s = 0;
  json j = peer_node_to_json(n);
  EXPECT_TRUE(j["last_seen"].is_null());
  EXPECT_TRUE(j["key_expiry"].is_null());
  EXPECT_EQ(j["allowed_ips"],
            json::array({"100.64.0.1/32", "fd7a:115c:a1e0::1/128", "0.0.0.0/0", "192.168.1.0/24"}));
  auto back = peer_node_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, n);
}

TEST(ControlMessages, MessageTypeNames) {
  EXPECT_STREQ(message_type(ClientMessage(UpdateMessage{})), "update");
  EXPECT_STREQ(message_type(ServerMessage(RelayKeysMessage{})), "relay_keys");
}

// --- relay map (also the config file's) ---------------------------------------------------

TEST(ControlMessages, RelayMapDefaultsAndOrder) {
  json j = json::parse(R"({"regions": [
      {"id": 9, "code": "far", "relays": [{"name": "r9", "host": "far.example", "key": ")" +
                       b64(9) + R"("}]},
      {"id": 2, "code": "near", "name": "Near", "relays": [
          {"name": "r2", "host": "near.example", "port": 8443, "stun_port": 0, "tls": true,
           "addresses": ["192.0.2.2", "2001:db8::2"], "key": ")" +
                       b64(2) + R"("}]}]})");
  auto map = relay_map_from_json(j);
  ASSERT_TRUE(map.ok()) << map.error().message;
  ASSERT_EQ(map->regions.size(), 2u);
  EXPECT_EQ(map->regions[0].id, 2);  // ascending id whatever the file's order
  EXPECT_EQ(map->regions[1].id, 9);
  const Relay& defaults = map->regions[1].relays[0];
  EXPECT_EQ(map->regions[1].name, "far");  // name defaults to the code
  EXPECT_EQ(defaults.port, 443);
  EXPECT_EQ(defaults.stun_port, 3478);
  EXPECT_FALSE(defaults.tls);
  EXPECT_TRUE(defaults.addresses.empty());
  EXPECT_EQ(defaults.key, key(9));
  const Relay& set = map->regions[0].relays[0];
  EXPECT_EQ(set.port, 8443);
  EXPECT_EQ(set.stun_port, 0);
  EXPECT_TRUE(set.tls);
  EXPECT_EQ(set.addresses.size(), 2u);
  auto again = relay_map_from_json(relay_map_to_json(*map));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(same_relay_map(*again, *map));
}

TEST(ControlMessages, RelayMapErrorsNameThePath) {
  auto error = [](const std::string& s) {
    auto r = relay_map_from_json(json::parse(s), "config.json: relay_map");
    EXPECT_FALSE(r.ok()) << s;
    return r.ok() ? std::string() : r.error().message;
  };
  const std::string k = "\"key\": \"" + b64(1) + "\"";
  EXPECT_EQ(error("[]"), "config.json: relay_map: expected an object, got an array");
  EXPECT_EQ(error("{}"), "config.json: relay_map: missing \"regions\"");
  EXPECT_NE(error(R"({"regons": []})").find("did you mean \"regions\""), std::string::npos);
  EXPECT_NE(
      error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h"}]}]})")
          .find("config.json: relay_map.regions[0].relays[0]: missing \"key\""),
      std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h",
                "key": "short"}]}]})")
                .find("relay_map.regions[0].relays[0].key: "),
            std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 0, "code": "a", "relays": []}]})")
                .find("relay_map.regions[0].id: expected an integer in [1, 65535]"),
            std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "a", "relays": []}]})")
                .find("relay_map.regions[0].relays: a region needs at least one relay"),
            std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h",
                "prot": 1, )" +
                  k + "}]}]}")
                .find("did you mean \"port\""),
            std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h",
                "port": 0, )" +
                  k + "}]}]}")
                .find("relays[0].port"),
            std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h",
                "addresses": ["not-an-ip"], )" +
                  k + "}]}]}")
                .find("relays[0].addresses[0]"),
            std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "", )" +
                  k + "}]}]}")
                .find("relays[0].host: empty host"),
            std::string::npos);
  EXPECT_NE(
      error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h", )" + k +
            R"(}]}, {"id": 1, "code": "b", "relays": [{"name": "s", "host": "h", )" + k + "}]}]}")
          .find("regions[1].id: region id 1 is already used by regions[0]"),
      std::string::npos);
  EXPECT_NE(
      error(R"({"regions": [{"id": 1, "code": "a", "relays": [{"name": "r", "host": "h", )" + k +
            R"(}]}, {"id": 2, "code": "b", "relays": [{"name": "r", "host": "h", )" + k + "}]}]}")
          .find("regions[1].relays[0].name: relay name \"r\" is already used at "
                "config.json: relay_map.regions[0].relays[0]"),
      std::string::npos);
  EXPECT_NE(error(R"({"regions": [{"id": 1, "code": "bad code", "relays": []}]})")
                .find("regions[0].code"),
            std::string::npos);
}

// --- malformed client messages -------------------------------------------------------------

TEST(ControlMessages, ClientEnvelopeErrors) {
  EXPECT_EQ(client_error(""), "control message: not valid JSON");
  EXPECT_EQ(client_error("{\"type\": \"update\""), "control message: not valid JSON");
  EXPECT_EQ(client_error("{\"type\": \"update\"} trailing"), "control message: not valid JSON");
  EXPECT_EQ(client_error("[1]"), "control message: expected an object, got an array");
  EXPECT_EQ(client_error("{}"), "control message: missing \"type\"");
  EXPECT_EQ(client_error("{\"type\": 3}"), "control message.type: expected a string, got a number");
  EXPECT_EQ(client_error("{\"type\": \"map_requets\"}"),
            "control message: unknown type \"map_requets\" (did you mean \"map_request\"?)");
  // Server messages are not client messages.
  EXPECT_NE(client_error("{\"type\": \"keepalive\"}").find("unknown type \"keepalive\""),
            std::string::npos);
  EXPECT_EQ(client_error("{\"type\": \"relay_subscribe\", \"x\": 1}").find("relay_subscribe: "),
            0u);
  std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_NE(client_error(deep).find("nested deeper than"), std::string::npos);
  // Brackets inside strings do not count as nesting.
  std::string in_string = "{\"type\": \"update\", \"hostname\": \"" + std::string(100, '[') + "\"}";
  EXPECT_TRUE(decode_client_message(text(in_string)).ok());
}

TEST(ControlMessages, RegisterErrors) {
  const std::string keys = "\"node_key\": \"" + b64(1) + "\", \"disco_key\": \"" + b64(2) + "\"";
  auto reg = [&](const std::string& rest) {
    return client_error("{\"type\": \"register\", " + keys + rest + "}");
  };
  EXPECT_EQ(client_error("{\"type\": \"register\", \"hostname\": \"h\"}"),
            "register: missing \"node_key\"");
  EXPECT_EQ(reg(""), "register: missing \"hostname\"");
  EXPECT_EQ(reg(", \"hostname\": 5"), "register.hostname: expected a string, got a number");
  EXPECT_EQ(reg(", \"hostname\": \"" + std::string(kMaxHostnameBytes + 1, 'a') + "\""),
            "register.hostname: longer than 255 bytes");
  EXPECT_EQ(reg(", \"hostname\": \"h\", \"auth_key\": \"" + std::string(kMaxAuthKeyBytes + 1, 'k') +
                "\""),
            "register.auth_key: longer than 256 bytes");
  EXPECT_NE(reg(", \"hostname\": \"h\", \"routes\": [\"10.0.0.1/8\"]").find("register.routes[0]: "),
            std::string::npos);
  EXPECT_NE(reg(", \"hostname\": \"h\", \"routes\": [\"10.0.0.0/8\", \"10.0.0.0/8\"]")
                .find("register.routes[1]: 10.0.0.0/8 is out of order or repeated"),
            std::string::npos);
  EXPECT_NE(reg(", \"hostname\": \"h\", \"routes\": \"10.0.0.0/8\"")
                .find("register.routes: expected an array, got a string"),
            std::string::npos);
  EXPECT_NE(reg(", \"hostname\": \"h\", \"hostnam\": \"h\"").find("did you mean \"hostname\""),
            std::string::npos);
  EXPECT_EQ(client_error("{\"type\": \"register\", \"node_key\": \"abc\", \"disco_key\": \"" +
                         b64(2) + "\", \"hostname\": \"h\"}")
                .find("register.node_key: "),
            0u);
  EXPECT_EQ(client_error("{\"type\": \"register\", \"node_key\": 1, \"disco_key\": \"" + b64(2) +
                         "\", \"hostname\": \"h\"}"),
            "register.node_key: expected a base64 key, got a number");
}

TEST(ControlMessages, MapRequestErrors) {
  const std::string keys = "\"node_key\": \"" + b64(1) + "\", \"disco_key\": \"" + b64(2) + "\"";
  auto req = [&](const std::string& rest) {
    return client_error("{\"type\": \"map_request\", " + keys + rest + "}");
  };
  EXPECT_EQ(req(""), "map_request: missing \"endpoints\"");
  EXPECT_EQ(req(", \"endpoints\": [\"192.0.2.1\"]").find("map_request.endpoints[0]: "), 0u);
  EXPECT_EQ(req(", \"endpoints\": [7]"),
            "map_request.endpoints[0]: expected \"ip:port\", got a number");
  std::string many = ", \"endpoints\": [";
  for (size_t i = 0; i <= kMaxEndpoints; ++i)
    many += (i ? ",\"" : "\"") + std::string("192.0.2.1:1\"");
  many += "]";
  EXPECT_EQ(req(many), "map_request.endpoints: more than 64 entries");
  EXPECT_EQ(req(", \"endpoints\": [], \"home_relay\": 70000"),
            "map_request.home_relay: expected an integer in [0, 65535], got 70000");
  EXPECT_EQ(req(", \"endpoints\": [], \"home_relay\": -1"),
            "map_request.home_relay: expected an integer in [0, 65535], got -1");
  EXPECT_EQ(req(", \"endpoints\": [], \"home_relay\": 1.5"),
            "map_request.home_relay: expected an integer, got a fraction");
  EXPECT_EQ(req(", \"endpoints\": [], \"home_relay\": \"1\""),
            "map_request.home_relay: expected an integer, got a string");
  EXPECT_EQ(req(", \"endpoints\": [], \"routes\": [1]"),
            "map_request.routes[0]: expected a prefix \"addr/len\", got a number");
  EXPECT_NE(req(", \"endpoints\": [], \"seq\": 1").find("unknown key \"seq\""), std::string::npos);
}

TEST(ControlMessages, UpdateErrors) {
  EXPECT_EQ(client_error("{\"type\": \"update\", \"endpoints\": null}"),
            "update.endpoints: expected an array, got null");
  EXPECT_EQ(client_error("{\"type\": \"update\", \"disco_key\": \"\"}").find("update.disco_key: "),
            0u);
  EXPECT_EQ(client_error("{\"type\": \"update\", \"hostname\": null}"),
            "update.hostname: expected a string, got null");
  std::string many = "{\"type\": \"update\", \"routes\": [";
  for (size_t i = 0; i <= kMaxRoutes; ++i) {
    many += (i ? ",\"10." : "\"10.") + std::to_string(i / 256) + "." + std::to_string(i % 256) +
            ".0/24\"";
  }
  many += "]}";
  EXPECT_EQ(client_error(many), "update.routes: more than 1024 entries");
}

// --- malformed server messages -------------------------------------------------------------

std::string node_text(NodeId id) {
  return peer_node_to_json(sample_node(id)).dump();
}

json node_json_with(NodeId id, const char* key, json value) {
  json j = peer_node_to_json(sample_node(id));
  if (value.is_discarded()) {
    j.erase(key);
  } else {
    j[key] = std::move(value);
  }
  return j;
}

std::string delta_with_node(const json& node) {
  return "{\"type\": \"map\", \"seq\": 2, \"peers_changed\": [" + node.dump() + "]}";
}

TEST(ControlMessages, MapEnvelopeErrors) {
  const std::string full_parts =
      "\"self\": " + node_text(1) + ", \"relay_map\": {\"regions\": []}, \"packet_filter\": []";
  EXPECT_EQ(server_error("{\"type\": \"map\"}"), "map: missing \"seq\"");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 0}"),
            "map.seq: expected an integer in [1, 9223372036854775807], got 0");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 1, \"full\": 1}"),
            "map.full: expected true or false, got a number");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 1, \"full\": true, \"peers\": [], "
                         "\"relay_map\": {\"regions\": []}, \"packet_filter\": []}"),
            "map: a full map needs \"self\"");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 1, \"full\": true, \"peers\": [], " +
                         full_parts + ", \"peers_removed\": [1]}"),
            "map.peers_removed: not allowed in a full map");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"peers\": []}"),
            "map.peers: only allowed in a full map (deltas use peers_changed)");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 1, \"full\": true, \"peers\": [" +
                         node_text(3) + "," + node_text(2) + "], " + full_parts + "}"),
            "map.peers[1]: not in ascending order or repeated");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"peers_removed\": [5, 5]}"),
            "map.peers_removed[1]: not in ascending order or repeated");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"peers_removed\": [0]}"),
            "map.peers_removed[0]: expected an integer in [1, 9223372036854775807], got 0");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"peer_patches\": [{\"id\": 2}, "
                         "{\"id\": 1}]}"),
            "map.peer_patches[1]: not in ascending order or repeated");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"peer_patches\": [{\"online\": true}]}"),
            "map.peer_patches[0]: missing \"id\"");
  EXPECT_NE(server_error("{\"type\": \"map\", \"seq\": 2, \"peer_patches\": [{\"id\": 1, "
                         "\"endpoint\": []}]}")
                .find("did you mean \"endpoints\""),
            std::string::npos);
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"peer_patches\": [{\"id\": 1, "
                         "\"last_seen\": \"yesterday\"}]}"),
            "map.peer_patches[0].last_seen: expected an integer, got a string");
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"packet_filter\": {}}").find("map: "),
            0u);
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"relay_map\": []}"),
            "map.relay_map: expected an object, got an array");
}

TEST(ControlMessages, PeerNodeErrors) {
  const json removed = json::value_t::discarded;
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "id", removed))),
            "map.peers_changed[0]: missing \"id\"");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "online", removed))),
            "map.peers_changed[0]: missing \"online\"");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "key_expiry", removed))),
            "map.peers_changed[0]: missing \"key_expiry\"");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "id", -1))),
            "map.peers_changed[0].id: expected an integer in [1, 9223372036854775807], got -1");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "tags", json::array({1})))),
            "map.peers_changed[0].tags[0]: expected a string, got a number");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "machine_key", "AAAA")))
                .find("map.peers_changed[0].machine_key: "),
            0u);
  EXPECT_EQ(server_error(delta_with_node(node_json_with(
                2, "addresses", json::array({"fd7a:115c:a1e0::2/128", "100.64.0.2/32"})))),
            "map.peers_changed[0].addresses: expected [\"<ipv4>/32\", \"<ipv6>/128\"]");
  EXPECT_EQ(
      server_error(delta_with_node(node_json_with(2, "addresses", json::array({"100.64.0.2/32"})))),
      "map.peers_changed[0].addresses: expected [\"<ipv4>/32\", \"<ipv6>/128\"]");
  EXPECT_EQ(server_error(
                delta_with_node(node_json_with(2, "allowed_ips", json::array({"100.64.0.2/32"})))),
            "map.peers_changed[0].allowed_ips: must be the addresses followed by the routes");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "endpoints", json::array({"x"}))))
                .find("map.peers_changed[0].endpoints[0]: "),
            0u);
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "last_seen", -5))),
            "map.peers_changed[0].last_seen: expected an integer in [1, 1099511627776], got -5");
  EXPECT_EQ(server_error(delta_with_node(node_json_with(2, "name", json(nullptr)))),
            "map.peers_changed[0].name: expected a string, got null");
  EXPECT_NE(server_error(delta_with_node(node_json_with(2, "hostname", "x")))
                .find("unknown key \"hostname\""),
            std::string::npos);
  EXPECT_EQ(server_error("{\"type\": \"map\", \"seq\": 2, \"self\": 5}"),
            "map.self: expected an object, got a number");
}

TEST(ControlMessages, OtherServerMessageErrors) {
  EXPECT_EQ(server_error("{\"type\": \"register_response\", \"ok\": true}"),
            "register_response: missing \"node\"");
  EXPECT_EQ(server_error("{\"type\": \"register_response\", \"ok\": false}"),
            "register_response: missing \"error\"");
  EXPECT_EQ(server_error("{\"type\": \"register_response\", \"ok\": false, \"error\": \"x\", "
                         "\"node\": " +
                         node_text(1) + "}"),
            "register_response.node: not allowed when ok is false");
  EXPECT_EQ(server_error("{\"type\": \"register_response\", \"ok\": \"yes\"}"),
            "register_response.ok: expected true or false, got a string");
  EXPECT_EQ(server_error("{\"type\": \"error\"}"), "error: missing \"error\"");
  EXPECT_EQ(server_error("{\"type\": \"keepalive\", \"seq\": 1}").find("keepalive: unknown key"),
            0u);
  EXPECT_EQ(server_error("{\"type\": \"relay_keys\", \"seq\": 1, \"full\": true}"),
            "relay_keys: missing \"keys\"");
  EXPECT_EQ(server_error("{\"type\": \"relay_keys\", \"seq\": 1, \"full\": true, \"keys\": [], "
                         "\"added\": []}"),
            "relay_keys.added: not allowed in a full key set");
  EXPECT_EQ(server_error("{\"type\": \"relay_keys\", \"seq\": 2, \"keys\": []}"),
            "relay_keys.keys: only allowed with \"full\": true");
  EXPECT_EQ(server_error("{\"type\": \"relay_keys\", \"seq\": 2, \"added\": [\"" + b64(2) +
                         "\", \"" + b64(1) + "\"]}"),
            "relay_keys.added[1]: not in ascending order or repeated");
  EXPECT_EQ(server_error("{\"type\": \"relay_keys\", \"seq\": 2, \"removed\": [3]}"),
            "relay_keys.removed[0]: expected an object {\"key\", \"reason\"}, got a number");
  auto removed = [](const std::string& items) {
    return server_error("{\"type\": \"relay_keys\", \"seq\": 2, \"removed\": [" + items + "]}");
  };
  auto removal = [](int k, const std::string& reason_json) {
    return "{\"key\": \"" + b64(k) + "\", \"reason\": " + reason_json + "}";
  };
  EXPECT_EQ(removed("\"" + b64(1) + "\""),
            "relay_keys.removed[0]: expected an object {\"key\", \"reason\"}, got a string");
  EXPECT_EQ(removed("{\"key\": \"" + b64(1) + "\"}"), "relay_keys.removed[0]: missing \"reason\"");
  EXPECT_EQ(removed(removal(1, "\"\"")),
            "relay_keys.removed[0].reason: empty; say why the key was removed");
  EXPECT_EQ(removed(removal(1, "\"" + std::string(kMaxRemovalReasonBytes + 1, 'x') + "\"")),
            "relay_keys.removed[0].reason: longer than 200 bytes");
  EXPECT_TRUE(decode_server_message(text("{\"type\": \"relay_keys\", \"seq\": 2, \"removed\": [" +
                                         removal(1, "\"" + std::string(200, 'x') + "\"") + "]}"))
                  .ok());
  EXPECT_EQ(removed(removal(1, "\"two\\nlines\"")),
            "relay_keys.removed[0].reason: contains a control character; expected one line");
  EXPECT_EQ(removed(removal(2, "\"a\"") + ", " + removal(1, "\"b\"")),
            "relay_keys.removed[1]: not in ascending order or repeated");
  EXPECT_EQ(removed("{\"key\": \"" + b64(1) + "\", \"reason\": \"a\", \"why\": 1}")
                .find("relay_keys.removed[0]: unknown key \"why\""),
            0u);
  EXPECT_NE(server_error("{\"type\": \"register\"}").find("unknown type \"register\""),
            std::string::npos);
}

// The fuzzer's seeds must stay valid messages as the format evolves, or fuzzing starts from
// nothing useful.
TEST(ControlMessages, FuzzSeedsAreValidMessages) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus" / "control_messages_fuzz";
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Bytes bytes = text(content);
    const bool client = decode_client_message(bytes).ok();
    const bool server = decode_server_message(bytes).ok();
    EXPECT_TRUE(client || server) << entry.path() << ": "
                                  << decode_server_message(bytes).error().message;
    ++seen;
  }
  EXPECT_GE(seen, 8u);
}

}  // namespace
}  // namespace warren::control
