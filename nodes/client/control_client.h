// The client side of the control protocol: fetch and pin the server key, open the Noise channel,
// register, stream the map and keep a NetMap current, send updates, and reconnect when the
// channel fails or goes silent. Used by `warren debug netmap` now and by `warren up` later.
//
// Sequence per connection: [GET /key when no key is pinned] -> channel (machine key as the
// Noise static key) -> register -> register_response -> map_request -> full map -> deltas.
// The auth key is sent until a registration succeeds; later registrations (reconnects) send
// none, since a single-use key is spent and the server knows the machine by then. A caller
// that persisted an earlier success sets `registered_before`: the first registration then goes
// without the key too, and only if the server refuses it (node deleted or expired) is it
// repeated, once, with the key.
//
// Errors (on_error): fatal ones stop the client for good (the caller must act): the server
// refused registration (expired, revoked, used or unknown auth key, deleted node), or the
// server's key differs from the pinned one. Everything else (connect failure, timeout, channel
// error, malformed or out-of-order message, server "error" message, 120 s without any message)
// is reported with will_retry = true and followed by a reconnect after a bounded exponential
// backoff with jitter from env.rng.
//
// Lifetime: destroying the client closes the channel; no callback runs afterwards. Callbacks
// may destroy the client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/client/net_map.h"
#include "nodes/common/control_messages.h"
#include "nodes/common/x25519.h"
#include "nodes/net/env.h"

namespace warren {

struct ControlClientOptions {
  // Required.
  Endpoint server;         // the control port
  std::string host;        // the Host header (what a reverse proxy routes on)
  PrivateKey machine_key;  // identifies this machine to the server; Noise static key
  PrivateKey node_key;     // WireGuard identity (only the public half is sent)
  PrivateKey disco_key;    // disco identity (only the public half is sent)
  std::string hostname;
  // Optional.
  std::optional<PublicKey> server_key;    // pinned key; absent: fetched from /key (on_server_key)
  std::string auth_key;                   // needed for a machine the server does not know
  bool registered_before = false;         // this machine registered in an earlier run
  std::vector<Prefix> advertised_routes;  // any order; duplicates are dropped
  std::vector<Endpoint> endpoints;
  int home_relay = 0;
  // Tunables (defaults as the server's keepalive of 50 s + up to 9 s expects).
  Duration watchdog = Duration::seconds(120);  // no message for this long: reconnect
  Duration backoff_initial = Duration::seconds(1);
  Duration backoff_max = Duration::seconds(60);  // the bound on every reconnect delay
};

struct ControlClientError {
  enum class Kind {
    registration_refused,  // fatal: the server said why (message)
    server_key_mismatch,   // fatal: the server's key is not the pinned one
    connection,            // connect, HTTP or handshake failure; channel closed
    protocol,              // malformed, unexpected or out-of-order message; server "error"
    watchdog,              // nothing heard for `watchdog`
  };
  Kind kind = Kind::connection;
  std::string message;
  bool will_retry = false;
};

struct ControlClientCounters {
  uint64_t connects = 0;       // connection attempts started
  uint64_t registrations = 0;  // successful register_responses
  uint64_t messages = 0;       // server messages received (all types)
  uint64_t keepalives = 0;
  uint64_t map_messages = 0;
  uint64_t malformed = 0;
  uint64_t reconnects = 0;  // retries scheduled
};

class ControlClient {
 public:
  struct Callbacks {
    std::function<void(const PublicKey& key)> on_server_key;  // fetched from /key: pin it
    std::function<void(const control::PeerNode& self)> on_registered;
    // After every map message (full or delta) has been applied.
    std::function<void(const NetMap& map, const control::MapMessage& message)> on_map;
    std::function<void(const ControlClientError& error)> on_error;
  };

  ControlClient(Env& env, ControlClientOptions options, Callbacks callbacks);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Starts connecting (returns at once). Calling it again after a fatal error retries.
  void start();
  // Closes the channel and cancels retries.
  void stop();

  // Lite updates: sent at once while the map stream is up, else carried by the next
  // map_request.
  void set_endpoints(std::vector<Endpoint> endpoints);
  void set_home_relay(int region);
  void set_hostname(std::string hostname);
  void set_advertised_routes(std::vector<Prefix> routes);
  void set_disco_key(const PrivateKey& disco_key);

  bool streaming() const;  // registered and the map stream is up
  const NetMap& net_map() const;
  const std::optional<PublicKey>& server_key() const;
  const ControlClientCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren
