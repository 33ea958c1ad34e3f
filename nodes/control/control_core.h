// The control server's protocol brain, independent of transport: it receives decoded channel
// messages per session and answers through a SessionSink. It owns the map engine (full map on
// connect, then batched deltas), online/offline tracking, ephemeral-node cleanup, keepalives
// and the relay key feed.
//
// Batching: changes accumulate per session and are flushed every `batch_window`; one flush
// sends at most one map message per session. The work for a change is proportional to the
// sessions it affects (peers that can see the changed node), and each changed peer is encoded
// once per flush no matter how many sessions receive it.
//
// Sessions: open_session when a channel's handshake completed (peer_static = its Noise static
// key: a machine key, or a relay key listed in the relay map). A session becomes a node session
// with register/map_request, or a relay session with relay_subscribe. Malformed or unexpected
// messages get an "error" message and the session is closed (counted). A refused registration
// gets its register_response and the session is closed (a retry is a new channel). Backpressure:
// a sink whose backlog exceeds max_session_backlog_bytes when a message is due is closed as too
// slow (counted); the client reconnects and gets a fresh full map. A session that starts no
// stream within kIdleSessionTimeout is closed.
//
// Client facts: map_request and update carry endpoints and home relay (live only, never
// persisted), and disco key, hostname and advertised routes (persisted through the Registry
// when they differ). One map stream per node: a newer one ends the older ("replaced").
// Online: a node is online from its map_request until offline_grace after its stream ended;
// last_seen is persisted when the stream ends. Expiry: a node whose key expiry passes is hidden
// from every map and relay feed within one window and its stream ends with an error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nodes/control/admin_api.h"
#include "nodes/control/model.h"
#include "nodes/control/registry.h"
#include "nodes/net/env.h"

namespace warren::control {

// A channel that starts no map stream or relay feed within this long is closed: clients
// register and stream at once, and an idle channel must not hold server memory forever.
constexpr Duration kIdleSessionTimeout = Duration::seconds(120);

struct ControlCoreConfig {
  Duration batch_window = Duration::milliseconds(250);
  Duration keepalive_interval = Duration::seconds(50);  // plus up to keepalive_jitter
  Duration keepalive_jitter = Duration::seconds(9);
  // A node is marked offline (patch to peers) this long after its last session closed, unless it
  // reconnects: a reconnect within it is invisible to peers.
  Duration offline_grace = Duration::seconds(10);
  // An ephemeral node is deleted this long after it went offline.
  Duration ephemeral_timeout = Duration::seconds(120);
  size_t max_session_backlog_bytes = 16u << 20;
  RelayMap relay_map;
};

class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual Status send(ByteView message) = 0;  // one encoded ServerMessage
  virtual size_t backlog_bytes() const = 0;   // queued but not yet written
  // Flush what is queued, then close. The core forgets the session before calling this.
  virtual void close(const std::string& reason) = 0;
};

struct ControlCoreCounters {
  uint64_t sessions_opened = 0;
  uint64_t sessions_rejected = 0;  // bad messages, unknown keys, too slow
  uint64_t sessions_too_slow = 0;  // of which: backlog over max_session_backlog_bytes
  uint64_t messages_received = 0;
  uint64_t messages_malformed = 0;
  uint64_t map_messages_sent = 0;  // full maps and deltas
  uint64_t full_maps_sent = 0;
  uint64_t relay_messages_sent = 0;  // relay key sets and deltas
  uint64_t keepalives_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t registrations = 0;
  uint64_t registrations_refused = 0;
  uint64_t nodes_expired = 0;  // hidden from maps when their key expiry passed
  uint64_t ephemeral_deleted = 0;
};

class ControlCore {
 public:
  using SessionId = uint64_t;
  ControlCore(Env& env, Registry& registry, ControlCoreConfig config);
  ~ControlCore();
  ControlCore(const ControlCore&) = delete;
  ControlCore& operator=(const ControlCore&) = delete;

  // Subscribes to the registry and builds the index from it (call after registry.load()).
  // Errors: a config value out of range (keepalive_interval <= 0, negative durations).
  Status start();
  SessionId open_session(const PublicKey& peer_static, SessionSink& sink);
  void on_message(SessionId id, ByteView message);
  void close_session(SessionId id);  // the channel went away; unknown id is a no-op

  NodeLive live(NodeId id) const;
  const NodeLiveSource& live_source() const;
  const ControlCoreCounters& counters() const;
  size_t session_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::control
