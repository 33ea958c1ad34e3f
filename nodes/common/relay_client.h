// The client half of the relay protocol: one connection to one relay, kept up. Used by nodes
// (their home relay and peers' relays), by relays for their mesh links, and by
// `warren debug relay`.
//
// Sequence per connection: [GET /key when no server key is given] -> channel on POST /relay
// ("warren-relay/1"; Noise IK, our static key = the node key, or the relay key for a mesh
// link) -> client_hello -> server_hello (or refused) -> steady state. A mesh client checks the
// relay's mesh proof in server_hello; one that does not verify is a fatal error.
//
// Sending: send_packet/forward_packet go out at once while the channel has room (its pending
// write bytes under kMaxChannelBacklogBytes); otherwise they wait in a queue of
// kMaxQueuedFrames, dropping the oldest (counted), polled into the channel every few ms while
// anything waits. While not connected, sends are dropped and counted (a packet for a peer is
// stale after a reconnect anyway; frames still queued when a connection ends are counted the
// same way). The server's advertised rate limit (packet bytes; a burst below one maximal
// packet is raised to one, as the relay does) is honoured: packets over it are dropped here
// (counted) instead of on the relay. Control frames (hello, pong, ping, note_preferred,
// watch_conns) bypass queue and rate limit.
//
// Liveness: a ping is answered with a pong at once. No frame at all for `watchdog` (the relay
// sends keepalives every 60 s + jitter) ends the connection. handshake_timeout bounds GET /key,
// and separately the channel attempt up to server_hello.
//
// Errors (on_error): fatal ones stop the client for good: refused with removed_key or
// bad_mesh_key, a server key that differs from the pinned one (the one in options; after a
// failed handshake, GET /key tells a changed key from a network failure), a mesh proof that
// does not verify. Refused with unknown_key is retried at backoff_max (the relay may not have
// heard of a just-registered node yet, e.g. while its control link reconnects). Everything
// else (connect failure, timeout, channel error, malformed or unexpected frame, refused
// not_ready/server_full/shutting_down/protocol_error, watchdog) is reported with will_retry =
// true and followed by a reconnect after a bounded exponential backoff with jitter from
// env.rng. A key learnt from GET /key is trusted on first use only: a failed handshake forgets
// it and the next attempt fetches it again. A `restarting` frame sets the next delay to
// reconnect_in_ms (at least 100 ms, at most backoff_max); later retries back off from
// backoff_initial (try_for_ms is not used: our backoff already keeps trying).
//
// Lifetime: destroying the client closes the channel; no callback runs afterwards. Callbacks
// may destroy the client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "nodes/common/relay_frame.h"
#include "nodes/common/secure_channel.h"
#include "nodes/common/x25519.h"
#include "nodes/net/env.h"

namespace warren::relay {

// The secure channel's options for the relay protocol, on both ends.
ChannelOptions relay_channel_options(Duration handshake_timeout = Duration::seconds(10));

struct RelayClientOptions {
  // Required.
  Endpoint server;   // the relay's stream port
  std::string host;  // Host header (what a reverse proxy routes on)
  PrivateKey key;    // node key (or the relay key for mesh links): the Noise static key
  // Optional.
  std::optional<PublicKey> server_key;  // pinned (from the relay map); absent: GET /key
  bool preferred = false;               // sent in client_hello: this is our home relay
  std::optional<MeshKey> mesh_key;      // set: connect as a mesh peer
  bool watch_conns = false;             // mesh only: send watch_conns after the hello
  Duration watchdog = Duration::seconds(120);
  Duration backoff_initial = Duration::seconds(1);
  Duration backoff_max = Duration::seconds(30);
  Duration handshake_timeout = Duration::seconds(10);  // connect + HTTP + Noise + hello
};

struct RelayClientError {
  enum class Kind {
    refused,              // the relay refused us (refusal says why)
    server_key_mismatch,  // fatal
    bad_mesh_proof,       // fatal: the relay does not hold our mesh key
    connection,           // connect, HTTP, handshake or channel failure
    protocol,             // malformed or unexpected frame
    watchdog,
  };
  Kind kind = Kind::connection;
  std::optional<RefusalReason> refusal;
  std::string message;
  bool will_retry = false;
};

struct RelayClientCounters {
  uint64_t connects = 0;      // attempts started
  uint64_t connected = 0;     // server_hello received
  uint64_t packets_sent = 0;  // send_packet and forward_packet handed to the channel
  uint64_t packets_received = 0;
  uint64_t dropped_not_connected = 0;
  uint64_t dropped_queue = 0;       // oldest dropped from a full queue
  uint64_t dropped_rate_limit = 0;  // over the relay's advertised rate
  uint64_t dropped_too_large = 0;   // packet over kMaxRelayPacketBytes
  uint64_t unknown_frames = 0;
  uint64_t keepalives = 0;
  uint64_t pings_answered = 0;
};

class RelayClient {
 public:
  // Bytes the channel may hold unsent before sends wait in our queue instead.
  static constexpr size_t kMaxChannelBacklogBytes = 256 << 10;
  // Frames waiting for channel room; as DERP's client write queue.
  static constexpr size_t kMaxQueuedFrames = 32;

  struct Callbacks {
    std::function<void(const PublicKey& key)> on_server_key;  // fetched from /key
    std::function<void(const ServerHello& hello)> on_connected;
    // `packet` is valid only during the call.
    std::function<void(const PublicKey& src, ByteView packet)> on_packet;
    // Mesh links only: a forward_packet never arrives at a client, but watch_conns does bring:
    std::function<void(const PeerPresent& present)> on_peer_present;
    std::function<void(const PeerGone& gone)> on_peer_gone;
    std::function<void(const std::string& text)> on_health;
    // A pong to our ping(): the round trip time.
    std::function<void(const PingData& data, Duration rtt)> on_pong;
    std::function<void(const RelayClientError& error)> on_error;
  };

  RelayClient(Env& env, RelayClientOptions options, Callbacks callbacks);
  ~RelayClient();
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;

  void start();  // connects (returns at once); again after a fatal error retries
  void stop();   // closes, cancels retries

  // Returns false when the packet itself was dropped (too large, not connected, over the rate
  // limit, channel failure); counters say why. Queued counts as accepted (true), even when an
  // older frame had to be dropped for it (dropped_queue).
  bool send_packet(const PublicKey& dst, ByteView packet);
  bool forward_packet(const PublicKey& src, const PublicKey& dst, ByteView packet);  // mesh
  void note_preferred(bool preferred);  // sent now if connected; later hellos carry it too
  // Sends a ping; the matching pong reports the RTT. At most kMaxPingsInFlight outstanding
  // (false beyond, and while not connected); a reconnect forgets them.
  static constexpr size_t kMaxPingsInFlight = 8;
  bool ping(const PingData& data);

  bool connected() const;  // server_hello received, channel up
  const std::optional<PublicKey>& server_key() const;
  const RelayClientCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::relay
