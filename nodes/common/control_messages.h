// The messages of the control protocol, carried one per SecureChannel message as JSON
// (snake_case keys; keys are base64 as `wg` prints them; endpoints "ip:port" / "[ip6]:port";
// times Unix seconds as numbers, null = never).
//
// client -> server
//   {"type":"register", "node_key", "disco_key", "auth_key"?, "hostname", "routes"?[prefix]}
//   {"type":"map_request", "node_key", "disco_key", "hostname"?, "endpoints"[], "home_relay"?,
//    "routes"?[]}                      starts this channel's map stream (once per channel)
//   {"type":"update", "endpoints"?[], "home_relay"?, "disco_key"?, "hostname"?, "routes"?[]}
//                                       lite update while streaming; absent field = unchanged
//   {"type":"relay_subscribe"}          from a relay (channel key in the relay map)
// server -> client
//   {"type":"register_response", "ok":true, "node":NODE} | {"ok":false, "error":"..."}
//   {"type":"map", "seq":N, "full":true, "self":NODE, "peers":[NODE], "relay_map":{...},
//    "packet_filter":[...]}            first message of a stream
//   {"type":"map", "seq":N, "peers_changed"?[NODE], "peers_removed"?[id],
//    "peer_patches"?[PATCH], "self"?NODE, "relay_map"?{...}, "packet_filter"?[...]}
//                                       a delta; absent = unchanged. peers_changed carries whole
//                                       NODEs (added or changed); PATCH = {"id", "endpoints"?,
//                                       "home_relay"?, "online"?, "last_seen"?, "disco_key"?}
//   {"type":"keepalive"}
//   {"type":"relay_keys", "seq":N, "full":true, "keys":[node_key]} then
//   {"type":"relay_keys", "seq":N, "added"?[node_key], "removed"?[{"key", "reason"}]}
//                                       a delta; every removal says why ("node key expired")
//   {"type":"error", "error":"..."}     then the server closes the channel
// NODE = {"id", "name", "user", "tags"[], "node_key", "machine_key", "disco_key",
//         "addresses"["100.64.0.1/32","fd7a:115c:a1e0::1/128"], "allowed_ips"[...+routes],
//         "routes"[approved], "endpoints"[], "home_relay", "online", "last_seen", "key_expiry"}
//
// Decoders take untrusted bytes and return a value or an error naming the field
// ("map.peers[3].node_key: ..."). Unknown keys are errors: the channel's protocol name
// ("warren-control/1") is the version, and a new field means a new version. Lists the server
// sends in ascending order (peers, ids, keys) are checked to be ascending and unique, so a
// client can merge them without sorting.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/common/packet_filter.h"
#include "nodes/common/relay_map.h"
#include "nodes/net/bytes.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/prefix.h"
#include "nodes/net/result.h"

namespace warren::control {

constexpr int kControlProtocolVersion = 1;

// Bounds on what a client may send. Anything larger is a malformed message (error + close).
constexpr size_t kMaxEndpoints = 64;       // every interface, both families, STUN and mapped
constexpr size_t kMaxRoutes = 1024;        // a large subnet router; more is a runaway client
constexpr size_t kMaxHostnameBytes = 255;  // a DNS name fits
constexpr size_t kMaxAuthKeyBytes = 256;   // our keys are ~60 characters
constexpr int kMaxRelayRegionId = 65535;
// Why a relay key was removed: one short printable line for a relay's log and the refusal it
// sends the node ("node key expired"); longer is a broken server.
constexpr size_t kMaxRemovalReasonBytes = 200;

using NodeId = uint64_t;  // 0 is never valid; never reused after delete

// --- client -> server ---
struct RegisterMessage {
  PublicKey node_key;
  PublicKey disco_key;
  std::string auth_key;
  std::string hostname;
  std::vector<Prefix> routes;
};
struct MapRequestMessage {
  PublicKey node_key;
  PublicKey disco_key;
  std::string hostname;
  std::vector<Endpoint> endpoints;
  int home_relay = 0;
  std::optional<std::vector<Prefix>> routes;
};
struct UpdateMessage {
  std::optional<std::vector<Endpoint>> endpoints;
  std::optional<int> home_relay;
  std::optional<PublicKey> disco_key;
  std::optional<std::string> hostname;
  std::optional<std::vector<Prefix>> routes;
};
struct RelaySubscribeMessage {};
using ClientMessage =
    std::variant<RegisterMessage, MapRequestMessage, UpdateMessage, RelaySubscribeMessage>;

// --- server -> client ---
// A node as a peer (or self) sees it.
struct PeerNode {
  NodeId id = 0;
  std::string name;
  std::string user;
  std::vector<std::string> tags;
  PublicKey node_key;
  PublicKey machine_key;
  PublicKey disco_key;
  IpAddress ipv4;
  IpAddress ipv6;
  std::vector<Prefix> routes;  // approved
  std::vector<Endpoint> endpoints;
  int home_relay = 0;
  bool online = false;
  int64_t last_seen_unix_s = 0;             // 0 = never
  int64_t key_expiry_unix_s = 0;            // 0 = never
  std::vector<Prefix> allowed_ips() const;  // /32, /128, then routes
  bool operator==(const PeerNode& o) const;
  bool operator!=(const PeerNode& o) const { return !(*this == o); }
};
struct PeerPatch {
  NodeId id = 0;
  std::optional<std::vector<Endpoint>> endpoints;
  std::optional<int> home_relay;
  std::optional<bool> online;
  std::optional<int64_t> last_seen_unix_s;
  std::optional<PublicKey> disco_key;
  bool operator==(const PeerPatch& o) const;
};
struct RegisterResponse {
  bool ok = false;
  std::string error;
  std::optional<PeerNode> node;
};
struct MapMessage {
  uint64_t seq = 0;
  bool full = false;
  std::optional<PeerNode> self;
  std::vector<PeerNode> peers;          // full maps only, ascending id
  std::vector<PeerNode> peers_changed;  // deltas, ascending id
  std::vector<NodeId> peers_removed;    // deltas, ascending
  std::vector<PeerPatch> peer_patches;  // deltas, ascending id
  std::optional<RelayMap> relay_map;
  std::optional<PacketFilter> packet_filter;
};
struct KeepaliveMessage {};
struct RemovedRelayKey {
  PublicKey key;
  std::string reason;  // non-empty, printable, at most kMaxRemovalReasonBytes
  bool operator==(const RemovedRelayKey& o) const { return key == o.key && reason == o.reason; }
  bool operator!=(const RemovedRelayKey& o) const { return !(*this == o); }
};
struct RelayKeysMessage {
  uint64_t seq = 0;
  bool full = false;
  std::vector<PublicKey> keys;           // full only, ascending
  std::vector<PublicKey> added;          // deltas, ascending
  std::vector<RemovedRelayKey> removed;  // deltas, ascending key
};
struct ErrorMessage {
  std::string error;
};
using ServerMessage =
    std::variant<RegisterResponse, MapMessage, KeepaliveMessage, RelayKeysMessage, ErrorMessage>;

Bytes encode(const ClientMessage& message);
Bytes encode(const ServerMessage& message);
Result<ClientMessage> decode_client_message(ByteView bytes);
Result<ServerMessage> decode_server_message(ByteView bytes);
// The "type" of a message, for logs and counters.
const char* message_type(const ClientMessage& message);
const char* message_type(const ServerMessage& message);

// Pieces the map engine encodes once and splices into many messages. `where` starts error
// messages (the JSON path of the value).
nlohmann::json peer_node_to_json(const PeerNode& node);
Result<PeerNode> peer_node_from_json(const nlohmann::json& json, const std::string& where = "node");
nlohmann::json peer_patch_to_json(const PeerPatch& patch);
Result<PeerPatch> peer_patch_from_json(const nlohmann::json& json,
                                       const std::string& where = "patch");
nlohmann::json relay_map_to_json(const RelayMap& map);
// Also reads the relay map of the server's config file (pass where = "config.json: relay_map").
// Defaults: port 443, addresses [], stun_port 3478, tls false, region name = code. Regions are
// returned in ascending id; duplicate region ids or relay names, a missing or malformed key,
// and unknown keys are errors naming the JSON path.
Result<RelayMap> relay_map_from_json(const nlohmann::json& json,
                                     const std::string& where = "relay_map");

}  // namespace warren::control
