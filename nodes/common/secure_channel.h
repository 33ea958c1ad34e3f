// An authenticated, encrypted message channel over a Stream: HTTP/1.1 Upgrade (so a TLS-
// terminating reverse proxy can sit in front), then Noise_IK_25519_ChaChaPoly_BLAKE2s. Used by
// the control protocol ("warren-control/1") and reusable by anything that wants the same shape.
//
// Wire (documented in nodes/common/README.md):
//   GET /key                      -> 200 {"public_key": "<base64>", "protocol": "<name>"}
//   POST <path> with Upgrade: <protocol>, Connection: Upgrade, X-Warren-Handshake: <base64 of
//   the Noise initiation>        -> 101 Switching Protocols, then frames both ways:
//   frame = type u8 | length u16 BE | payload; 2 = handshake response, 3 = error (UTF-8 reason,
//   then close), 4 = transport record (ChaCha20-Poly1305 ciphertext, nonce = counter).
//   Inside the records, messages are u32 BE length | bytes, split over records as needed.
//   Bad HTTP gets 400/404/405/426 and a close; an initiation that does not decrypt (the client
//   pinned another key) gets 101, then an error frame naming the server's key, then a close.
// The prologue ("warren " + protocol) binds the protocol name, so a key for one protocol cannot
// open another. Ephemeral keys come from env.rng, timeouts from env.clock.
//
// Lifetimes: destroying a SecureChannel, PendingChannel or ChannelAcceptor stops every callback
// it would make. Callbacks may destroy the object that made them. Every path of a
// PendingChannel ends in exactly one ChannelReady/KeyReady call (never from inside the call
// that started it) unless it is destroyed first; every SecureChannel reports on_closed at most
// once, and not at all after close().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "nodes/common/x25519.h"
#include "nodes/net/bytes.h"
#include "nodes/net/env.h"
#include "nodes/net/stream.h"

namespace warren {

struct ChannelOptions {
  std::string protocol = "warren-control/1";  // Upgrade token; also part of the Noise prologue
  std::string path = "/control";              // the Upgrade request's path
  size_t max_message_bytes = 16u << 20;       // larger messages: error and close
  Duration handshake_timeout = Duration::seconds(10);  // connect + HTTP + Noise, both sides
};

class SecureChannel {
 public:
  struct Handlers {
    std::function<void(ByteView message)> on_message;     // valid only during the call
    std::function<void(const Status& reason)> on_closed;  // at most once; ok = peer closed
  };
  virtual ~SecureChannel() = default;
  // Messages (and the close) that arrive before handlers are set are held, then delivered from
  // a clock event, never from inside set_handlers. An owner that does not set handlers while
  // 1024 messages or two max-size messages' worth arrive loses the channel (error).
  virtual void set_handlers(Handlers handlers) = 0;
  // Error when closed or when the message exceeds max_message_bytes.
  virtual Status send(ByteView message) = 0;
  // Bytes sent but not yet handed to the network: bound your own queue with it.
  virtual size_t pending_write_bytes() const = 0;
  // Flushes queued messages, then closes. No handler runs afterwards.
  virtual void close() = 0;
  virtual const PublicKey& peer_static_key() const = 0;
  virtual Endpoint remote_endpoint() const = 0;
};

struct ChannelAcceptorCounters {
  uint64_t key_requests = 0;
  uint64_t handshakes_completed = 0;
  uint64_t rejected_http = 0;       // malformed or unsupported HTTP (answered 4xx)
  uint64_t rejected_handshake = 0;  // bad Noise initiation
  uint64_t timed_out = 0;
  uint64_t refused_busy = 0;  // too many handshakes in progress: reset at once
};

// Server side: give it every accepted Stream; it answers GET /key, upgrades, runs the
// handshake, and hands over established channels. Anything else gets a 4xx and is closed.
class ChannelAcceptor {
 public:
  using ChannelHandler = std::function<void(std::unique_ptr<SecureChannel> channel)>;
  // Connections still in HTTP + handshake. Each costs a buffer of up to 8 KiB and a timer;
  // beyond this many a new one is reset at once (counted in refused_busy), so a flood of idle
  // connections cannot grow the server without bound. The handshake timeout reclaims them.
  static constexpr size_t kMaxPendingConnections = 4096;
  ChannelAcceptor(Env& env, const PrivateKey& static_key, ChannelOptions options = {});
  ~ChannelAcceptor();
  void set_channel_handler(ChannelHandler handler);
  void accept(std::unique_ptr<Stream> stream);
  const PublicKey& public_key() const;
  const ChannelAcceptorCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Client side. `host` goes into the Host header (the name a reverse proxy routes on).
class PendingChannel {
 public:
  virtual ~PendingChannel() = default;  // destroying it abandons the attempt
};
using ChannelReady = std::function<void(Result<std::unique_ptr<SecureChannel>> channel)>;
using KeyReady = std::function<void(Result<PublicKey> key)>;

// GET /key. Errors: connect failure, timeout, non-200, malformed body, wrong protocol.
std::unique_ptr<PendingChannel> fetch_server_key(Env& env, const Endpoint& server,
                                                 const std::string& host, KeyReady done,
                                                 ChannelOptions options = {});
// Upgrade + handshake against a pinned server key. A server holding a different key fails the
// handshake: the error says the server key does not match the pinned one.
std::unique_ptr<PendingChannel> open_channel(Env& env, const Endpoint& server,
                                             const std::string& host,
                                             const PrivateKey& client_static_key,
                                             const PublicKey& server_key, ChannelReady done,
                                             ChannelOptions options = {});

}  // namespace warren
