// The relay role (Tailscale's DERP): accepts relay channels on its stream port, admits the node
// keys its Admission allows, forwards packets between connected nodes by node key, meshes with
// the other relays of its region, and answers STUN on its UDP ports. The same object runs on
// real sockets (`warren relay serve`), in ns-3 and in unit tests.
//
// Per connection: the secure channel (relay_frame.h) authenticates the client's static key;
// the first frame must be client_hello within hello_timeout. A plain client is admitted by
// Admission::check (refused: a `refused` frame with the reason, then close). A mesh client
// (hello with a mesh proof) is admitted iff the proof verifies under our mesh key; it gets our
// own proof in server_hello, may send watch_conns and forward_packet, and is exempt from the
// rate limit. A key that the control server removes is disconnected at once with a `refused`
// frame giving the control server's reason. A second connection with the same key replaces the
// first (which gets a health frame saying so, then is closed).
//
// Forwarding: send_packet to a locally connected key goes to its queue; else to the mesh peer
// that announced the key (forward_packet, one hop: a forwarded packet is delivered locally or
// dropped, never forwarded again); else dropped (unknown_dest) and the sender gets peer_gone
// not_here (at most kNotHereBurst, refilled one per second). When a client leaves the region,
// the local clients it sent packets to get peer_gone disconnected.
//
// Bounded resources, per client: a queue of queue_depth frames that drops the OLDEST when full
// (counted), fed into the channel only while its unsent bytes are below kChannelBudgetBytes, so
// a slow reader holds at most that much plus its queue and never delays anyone else; a reader
// stalled for stall_timeout is disconnected (counted). A token bucket of rate_bytes_per_s /
// burst_bytes on packets received from the client: over it, packets are dropped (counted);
// server_hello advertises it so well-behaved clients pace themselves. Frames are at most
// kMaxRelayFrameBytes (the channel refuses bigger ones and closes). At most max_clients
// connections are admitted; more are refused with server_full.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/relay_frame.h"
#include "nodes/common/x25519.h"
#include "nodes/net/env.h"
#include "nodes/relay/admission.h"
#include "nodes/relay/stun_server.h"

namespace warren {
class SecureChannel;
}  // namespace warren

namespace warren::relay {

struct MeshPeerConfig {
  Endpoint endpoint;             // the peer relay's stream port
  std::string host;              // Host header
  std::optional<PublicKey> key;  // absent: fetched from GET /key (the mesh proof authenticates it)
};

struct RelayServerOptions {
  Endpoint listen;  // stream port; port 0 picks one
  // More stream ports, e.g. [::]:443 next to 0.0.0.0:443 (IPv6 listeners are IPv6-only).
  std::vector<Endpoint> additional_listen;
  std::vector<Endpoint> stun_listen;     // STUN on UDP (IPv4 and/or IPv6); empty: none
  size_t queue_depth = 32;               // per client, as DERP
  uint32_t rate_bytes_per_s = 4u << 20;  // per client; 0 = unlimited
  uint32_t burst_bytes = 1u << 20;       // raised to at least one maximal packet
  size_t max_clients = 100000;
  Duration hello_timeout = Duration::seconds(10);
  Duration keepalive = Duration::seconds(60);  // plus up to keepalive_jitter, per client
  Duration keepalive_jitter = Duration::seconds(5);
  Duration stall_timeout = Duration::seconds(10);
  std::optional<MeshKey> mesh_key;         // required for mesh_peers; also admits mesh clients
  std::vector<MeshPeerConfig> mesh_peers;  // may include ourselves: detected by key, skipped
  std::string software = "warren";         // STUN SOFTWARE attribute
};

struct RelayServerCounters {
  uint64_t channels_accepted = 0;  // handshakes completed
  uint64_t clients_admitted = 0;   // plain clients (cumulative)
  uint64_t mesh_clients_admitted = 0;
  uint64_t refused_unknown_key = 0;
  uint64_t refused_removed_key = 0;
  uint64_t refused_not_ready = 0;
  uint64_t refused_bad_mesh_key = 0;
  uint64_t refused_protocol = 0;  // bad or missing hello
  uint64_t refused_full = 0;
  uint64_t disconnected_removed = 0;   // admitted, then removed by the control server
  uint64_t disconnected_replaced = 0;  // a newer connection with the same key
  uint64_t disconnected_stalled = 0;   // slow reader
  uint64_t closed_malformed = 0;       // a malformed or forbidden frame after the hello
  uint64_t packets_received =
      0;  // send_packet (within the rate limit) + forward_packet, before routing
  uint64_t packets_delivered = 0;  // recv_packet handed to a local client's channel
  uint64_t packets_meshed = 0;     // sent on to a mesh peer
  uint64_t packets_from_mesh = 0;
  uint64_t bytes_delivered = 0;  // packet bytes
  uint64_t dropped_unknown_dest = 0;
  uint64_t dropped_unknown_dest_on_forward = 0;
  uint64_t dropped_queue_head = 0;  // oldest frame dropped from a full queue
  uint64_t dropped_rate_limit = 0;
  uint64_t dropped_forward_not_mesh = 0;  // forward_packet from a non-mesh client
  uint64_t dropped_mesh_send = 0;         // the mesh link refused it (down, queue, ...)
  uint64_t unknown_frames = 0;
  uint64_t peer_gone_sent = 0;
  uint64_t keepalives_sent = 0;
  uint64_t pings_answered = 0;
};

class RelayServer {
 public:
  // Unsent bytes a client's channel may hold before frames wait in that client's queue.
  static constexpr size_t kChannelBudgetBytes = 64 << 10;
  static constexpr int kNotHereBurst = 3;
  // Keys a client is remembered to have sent to, for peer_gone (bounded per client).
  static constexpr size_t kMaxTrackedDestinations = 256;

  // `env` and `admission` must outlive the server. `key` is the relay's static key (the one
  // the relay map lists). The server is the admission's removal listener while it lives (one
  // server per Admission).
  RelayServer(Env& env, const PrivateKey& key, Admission& admission, RelayServerOptions options);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  // Listens (stream and STUN) and starts the mesh links. Errors name the failing endpoint;
  // on error nothing stays open.
  Status start();
  // Tells every client we are restarting (reconnect in `reconnect_in`), closes everything.
  void stop(Duration reconnect_in = Duration::seconds(1));

  // Takes an established relay channel ("warren-relay/1") as if it had arrived on the listener;
  // for hosts that terminate channels themselves, and for tests. Works whether or not start()
  // was called.
  void accept_channel(std::unique_ptr<SecureChannel> channel);

  Endpoint listen_endpoint() const;                // the first bound stream port
  std::vector<Endpoint> listen_endpoints() const;  // every one, in the order configured
  std::vector<Endpoint> stun_endpoints() const;
  const PublicKey& public_key() const;
  size_t clients() const;        // plain clients connected now
  size_t mesh_links_up() const;  // outgoing mesh links with server_hello received
  size_t mesh_routes() const;    // keys reachable through a mesh link
  const RelayServerCounters& counters() const;
  const StunServerStats& stun_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::relay
