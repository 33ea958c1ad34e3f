// One relay connection on the server side, from the established secure channel to its close.
//
// The session owns the channel and does everything that concerns this one connection: the
// hello deadline, decoding frames, the admission verdict (asked of its SessionHost), the rate
// limit, ping -> pong, keepalives every keepalive + [0, jitter) (env.rng), and getting frames
// out. Routing, registration and admission policy belong to the host (the RelayServer).
//
// Getting frames out: a frame goes straight into the channel while the channel holds fewer than
// RelayServer::kChannelBudgetBytes unsent bytes; otherwise it waits in a FrameQueue of
// queue_depth frames that drops the oldest. A SecureChannel has no "drained" callback, so while
// anything waits the session looks again every kDrainPoll (and on every new frame); an idle
// session has no poll timer. No progress (the channel's unsent bytes never shrink and nothing
// leaves the queue) for stall_timeout while backlogged disconnects the reader.
//
// One Timer serves the hello deadline, the keepalive and the drain poll, so a session costs a
// single pending clock event.
//
// Lifetime: the host owns sessions. SessionHost::on_closed runs exactly once, when the session
// closes for any reason; the host must not destroy the session from inside any call into it
// (it defers destruction to a later clock turn). No host callback runs after on_closed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "nodes/common/frame_queue.h"
#include "nodes/common/relay_frame.h"
#include "nodes/common/secure_channel.h"
#include "nodes/common/token_bucket.h"
#include "nodes/net/env.h"
#include "nodes/relay/destination_set.h"
#include "nodes/relay/presence_backlog.h"
#include "nodes/relay/relay_server.h"

namespace warren::relay {

class RelaySession;

// What sessions of one server share (read-only while sessions exist).
struct SessionConfig {
  PublicKey server_key;
  uint32_t queue_depth = 32;
  uint32_t rate_bytes_per_s = 0;  // 0: unlimited
  uint32_t burst_bytes = 0;       // effective (already raised to a maximal packet)
  Duration hello_timeout;
  Duration keepalive;
  Duration keepalive_jitter;
  Duration stall_timeout;
};

class SessionHost {
 public:
  struct Verdict {
    bool admitted = false;
    bool mesh = false;                                  // admitted as a mesh peer
    ServerHello hello;                                  // when admitted
    RefusalReason reason = RefusalReason::unknown_key;  // when refused
    std::string text;                                   // when refused
  };

  virtual ~SessionHost() = default;
  // The client's hello. An admitted session is registered by the host before this returns;
  // nothing may be sent to it from inside (the server_hello must come first).
  virtual Verdict admit(RelaySession& session, const ClientHello& hello) = 0;
  // A send_packet within the rate limit.
  virtual void on_send_packet(RelaySession& from, const PublicKey& dst, ByteView packet) = 0;
  // A forward_packet from a mesh session.
  virtual void on_forward_packet(RelaySession& from, const ForwardPacket& packet) = 0;
  // watch_conns from a mesh session: queue every connected key on it (note_presence_change).
  virtual void on_watch_conns(RelaySession& from) = 0;
  // For presence updates: the client connected here under `key`, or nullptr.
  virtual const RelaySession* local_client(const PublicKey& key) const = 0;
  virtual void on_closed(RelaySession& session) = 0;
};

// Per server: the environment, configuration, host and counters every session writes to.
struct SessionContext {
  Env& env;
  Logger log;
  const SessionConfig& config;
  SessionHost& host;
  RelayServerCounters& counters;
  Bytes scratch;  // the sessions' own frames are encoded here (never nested)
};

class RelaySession {
 public:
  enum class Role : uint8_t { awaiting_hello, client, mesh };

  // While backlogged, how often the channel is checked for room. At the 64 KiB budget this
  // still moves 13 MB/s to one slow reader, above the default 4 MiB/s client rate, and only
  // backlogged sessions poll at all.
  static constexpr Duration kDrainPoll = Duration::milliseconds(5);
  // Presence updates waiting for one watcher; beyond this the watcher is disconnected (its
  // relay reconnects and gets a fresh flood) rather than the server growing without bound.
  static constexpr size_t kMaxPendingPresence = 1 << 20;
  // peer_present flags: an ordinary node (DERP's IsRegular).
  static constexpr uint8_t kPresentRegular = 0x01;

  // `slot` is the host's index for this session (updated by the host through `slot`).
  RelaySession(SessionContext& context, std::unique_ptr<SecureChannel> channel, uint32_t slot);
  ~RelaySession();
  RelaySession(const RelaySession&) = delete;
  RelaySession& operator=(const RelaySession&) = delete;

  // Takes the channel's handlers and starts the hello deadline.
  void start();

  // An encoded frame for this client: sent now, or queued (dropping the oldest, counted).
  // `frame` need only be valid during the call.
  void send_frame(ByteView frame);
  // Watchers: `key` connected, moved or left here; its current state is sent when there is
  // room.
  void note_presence_change(const PublicKey& key);
  // peer_gone not_here budget: kNotHereBurst, one more per second.
  bool take_not_here();

  // Closing: the final frame goes out ahead of anything still queued, then the channel closes
  // (flushing it). Each runs SessionHost::on_closed. No-ops once closed.
  void close_refused(RefusalReason reason, std::string_view text);
  void close_replaced(std::string_view text);  // a health frame saying why
  void close_restarting(Duration reconnect_in, Duration try_for);

  const PublicKey& key() const { return key_; }
  Role role() const { return role_; }
  bool closed() const { return closed_; }
  bool watcher() const { return watching_; }
  bool preferred() const { return preferred_; }
  Endpoint remote_endpoint() const { return channel_->remote_endpoint(); }
  size_t queued_frames() const { return queue_.size(); }
  DestinationSet& destinations() { return destinations_; }

  uint32_t slot;  // the host's bookkeeping

 private:
  struct FrameHandler;
  void on_message(ByteView message);
  void on_hello(const ClientHello& hello);
  void on_channel_closed(const Status& reason);
  void on_timer();
  // Moves queued frames and presence updates into the channel while it has room.
  void pump(Timestamp now);
  bool backlogged() const { return !queue_.empty() || (presence_ && !presence_->empty()); }
  void reschedule();
  Timestamp next_keepalive(Timestamp now);
  // Encodes `frame` into the context's scratch buffer and sends it like any other.
  void send_own(const RelayFrame& frame);
  void close_with(const RelayFrame* last_frame);
  void finish();

  SessionContext& ctx_;
  std::unique_ptr<SecureChannel> channel_;
  PublicKey key_;
  FrameQueue queue_;
  TokenBucket rate_;
  TokenBucket not_here_;
  DestinationSet destinations_;
  std::unique_ptr<PresenceBacklog> presence_;  // watchers only
  Timer timer_;
  Timestamp deadline_;       // hello deadline, then the next keepalive
  Timestamp last_progress_;  // while backlogged: when the reader last took something
  size_t observed_pending_ = 0;
  Role role_ = Role::awaiting_hello;
  bool closed_ = false;
  bool watching_ = false;
  bool preferred_ = false;
  bool overflowed_ = false;  // presence backlog over its bound: close on the next timer
};

}  // namespace warren::relay
