// The control server's data model: users, pre-auth keys, nodes and the relay map. Plain values;
// the Registry owns the live copies and persists them through a DurableStore.
// Times that must survive restarts are wall-clock Unix nanoseconds (Clock::unix_time_ns); 0
// means "never" for expiries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/blake2s.h"
#include "nodes/common/control_messages.h"
#include "nodes/common/relay_map.h"
#include "nodes/common/x25519.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/ip_address.h"
#include "nodes/net/prefix.h"

namespace warren::control {

using UserId = uint64_t;     // 0 is never valid
using AuthKeyId = uint64_t;  // 0 is never valid

struct User {
  UserId id = 0;
  std::string name;  // unique; [a-z0-9][a-z0-9._-]{0,62}
  int64_t created_unix_ns = 0;
};

// A pre-auth key. The full key text is shown once at creation and never stored: only a hash of
// its secret part. The public `prefix` identifies it in lists and in `keys expire`.
struct AuthKey {
  AuthKeyId id = 0;
  std::string prefix;  // e.g. "wk-3f9a0c1d2e4b"; unique
  Hash32 secret_hash{};
  UserId user = 0;
  bool reusable = false;
  bool ephemeral = false;  // nodes registered with it are ephemeral
  bool used = false;
  bool revoked = false;    // set by `keys expire`
  int64_t created_unix_ns = 0;
  int64_t expires_unix_ns = 0;  // 0 = never
  std::vector<std::string> tags;  // "tag:x"; nodes registered with it carry these tags
};

// A registered node, as persisted.
struct Node {
  NodeId id = 0;
  std::string name;      // unique DNS label derived from the hostname ("laptop", "laptop-2")
  std::string hostname;  // as the client last reported it
  UserId user = 0;
  std::vector<std::string> tags;  // sorted; a tagged node is owned by its tags, not its user
  PublicKey machine_key;  // the Noise static key of its control channel; identifies the machine
  PublicKey node_key;     // its WireGuard public key; what peers and relays know it by
  PublicKey disco_key;    // for disco path discovery; may change on every client restart
  IpAddress ipv4;         // from the v4 overlay prefix; stable for the life of the node
  IpAddress ipv6;         // from the v6 overlay prefix; stable for the life of the node
  bool ephemeral = false;
  AuthKeyId auth_key = 0;  // the key it registered with (0: re-registered without one)
  int64_t created_unix_ns = 0;
  int64_t expiry_unix_ns = 0;     // node key expiry; 0 = never. Expired nodes vanish from maps.
  int64_t last_seen_unix_ns = 0;  // last time a map session of it was open
  std::vector<Prefix> advertised_routes;  // sorted, unique; subnets and 0.0.0.0/0, ::/0
  std::vector<Prefix> approved_routes;    // sorted subset of advertised_routes
};

// What a node tells the server while connected; not persisted (clients resend it on connect).
struct NodeLive {
  bool online = false;
  std::vector<Endpoint> endpoints;  // candidate UDP endpoints, in the client's order
  int home_relay = 0;               // region id; 0 = none yet
};

}  // namespace warren::control
