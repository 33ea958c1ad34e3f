#include "nodes/common/relay_client.h"

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "nodes/common/frame_queue.h"
#include "nodes/common/secure_channel.h"
#include "nodes/common/token_bucket.h"
#include "nodes/net/backoff.h"

namespace warren::relay {
namespace {

// SecureChannel has no "drained" callback, so while frames wait we look at its backlog this
// often: short against a packet's useful life, long enough to cost nothing when idle (the
// timer runs only while something is queued).
constexpr Duration kDrainPollInterval = Duration::milliseconds(5);

bool fatal_refusal(RefusalReason reason) {
  return reason == RefusalReason::removed_key || reason == RefusalReason::bad_mesh_key;
}

// A relay may not know a key yet (its control link was down while the node registered): worth
// retrying, but only at the slowest pace, since it is usually an operator's problem.
bool slow_refusal(RefusalReason reason) {
  return reason == RefusalReason::unknown_key;
}

// What a `restarting` frame may ask of us: at least a short pause before the first attempt.
constexpr Duration kMinRestartDelay = Duration::milliseconds(100);

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

ChannelOptions relay_channel_options(Duration handshake_timeout) {
  ChannelOptions options;
  options.protocol = kRelayChannelProtocol;
  options.path = kRelayChannelPath;
  options.max_message_bytes = kMaxRelayFrameBytes;
  options.handshake_timeout = handshake_timeout;
  return options;
}

struct RelayClient::Impl {
  enum class State {
    idle,
    fetching_key,
    connecting,
    awaiting_hello,
    connected,
    waiting_retry,
    failed
  };

  struct PingInFlight {
    PingData data{};
    Timestamp sent;
    bool used = false;
  };

  Impl(Env& e, RelayClientOptions o, Callbacks c)
      : env(e),
        options(std::move(o)),
        callbacks(std::move(c)),
        server_key(options.server_key),
        own_key(public_key(options.key)),
        watchdog(e.clock),
        retry(e.clock),
        drain_timer(e.clock) {}
  ~Impl() { *alive = false; }

  void connect();
  void on_key(Result<PublicKey> key);
  void open();
  void on_channel(Result<std::unique_ptr<SecureChannel>> channel);
  void on_handshake_failure(const std::string& message);
  void on_diagnosis(Result<PublicKey> key, PublicKey pinned, std::string message);
  void on_message(ByteView bytes);
  void on_server_hello(const ServerHello& hello);
  void on_refused(const Refused& refused);
  void on_pong(const Pong& pong);
  void on_restarting(const Restarting& restarting);
  bool send_now(const RelayFrame& frame);
  bool submit_packet(const RelayFrame& frame, size_t packet_bytes);
  void drain();
  void fail(RelayClientError::Kind kind, const std::string& message, bool fatal,
            std::optional<RefusalReason> refusal = std::nullopt);
  void teardown();
  Duration next_delay();
  void arm_watchdog();
  void on_watchdog();
  std::string describe() const { return "relay " + options.server.to_string(); }

  Env& env;
  RelayClientOptions options;
  Callbacks callbacks;
  std::optional<PublicKey> server_key;
  bool server_key_fetched = false;  // learnt from GET /key, not pinned by the caller
  const PublicKey own_key;
  State state = State::idle;
  std::unique_ptr<PendingChannel> pending;
  std::unique_ptr<SecureChannel> channel;
  Timer watchdog;  // the hello deadline, then silence detection
  Timer retry;
  Timer drain_timer;
  Timestamp attempt_deadline;
  Timestamp last_heard;
  Backoff backoff{options.backoff_initial, options.backoff_max};
  bool slow_retry = false;  // the next retry waits the maximum (set by some refusals)
  // From a `restarting` frame: the next reconnect waits `restart_delay`; later ones back off
  // as usual from the start (the relay said it is coming back: no failure history counts).
  std::optional<Duration> restart_delay;
  TokenBucket bucket;  // the relay's advertised limit on our sends (default: unlimited)
  FrameQueue queue{kMaxQueuedFrames};
  Bytes scratch;  // one encode buffer for every frame we send
  std::array<PingInFlight, kMaxPingsInFlight> pings{};
  RelayClientCounters counters;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

void RelayClient::Impl::connect() {
  ++counters.connects;
  if (!server_key) {
    state = State::fetching_key;
    pending = fetch_server_key(
        env, options.server, options.host,
        [this](Result<PublicKey> key) { on_key(std::move(key)); },
        relay_channel_options(options.handshake_timeout));
    return;
  }
  open();
}

void RelayClient::Impl::on_key(Result<PublicKey> key) {
  pending.reset();
  if (!key) {
    fail(RelayClientError::Kind::connection,
         "cannot fetch the key of " + describe() + ": " + key.error().message, false);
    return;
  }
  server_key = *key;
  server_key_fetched = true;
  env.log.info(describe() + " has key " + to_base64(*key) + " (from GET /key)");
  if (callbacks.on_server_key) {
    std::weak_ptr<bool> weak = alive;
    callbacks.on_server_key(*key);
    if (weak.expired() || state != State::fetching_key) return;
  }
  open();
}

void RelayClient::Impl::open() {
  state = State::connecting;
  attempt_deadline = env.clock.now() + options.handshake_timeout;
  pending = open_channel(
      env, options.server, options.host, options.key, *server_key,
      [this](Result<std::unique_ptr<SecureChannel>> ch) { on_channel(std::move(ch)); },
      relay_channel_options(options.handshake_timeout));
}

void RelayClient::Impl::on_channel(Result<std::unique_ptr<SecureChannel>> result) {
  pending.reset();
  if (!result) {
    on_handshake_failure(result.error().message);
    return;
  }
  channel = std::move(result.value());
  SecureChannel::Handlers handlers;
  handlers.on_message = [this](ByteView bytes) { on_message(bytes); };
  handlers.on_closed = [this](const Status& reason) {
    fail(RelayClientError::Kind::connection,
         reason.ok() ? describe() + " closed the connection"
                     : "the channel to " + describe() + " failed: " + reason.error().message,
         false);
  };
  channel->set_handlers(std::move(handlers));
  state = State::awaiting_hello;
  watchdog.arm_at(attempt_deadline, [this] {
    fail(RelayClientError::Kind::connection,
         "no server_hello from " + describe() + " within the handshake timeout of " +
             to_string(options.handshake_timeout),
         false);
  });
  ClientHello hello;
  hello.preferred = options.preferred;
  if (options.mesh_key)
    hello.mesh_proof = mesh_client_proof(*options.mesh_key, own_key, *server_key);
  send_now(hello);
}

void RelayClient::Impl::on_handshake_failure(const std::string& message) {
  if (server_key_fetched) {
    // Only trusted on first use: fetch it again next time rather than insist on it.
    server_key.reset();
    server_key_fetched = false;
    fail(RelayClientError::Kind::connection,
         "cannot open the relay channel to " + describe() + ": " + message, false);
    return;
  }
  // A failed handshake against a pinned key may mean the relay now has another key. Ask /key
  // to tell that apart from an ordinary network failure: a different key is fatal (the relay
  // map or the relay is wrong, and someone must decide), anything else is retried.
  state = State::connecting;
  const PublicKey pinned = *server_key;
  pending = fetch_server_key(
      env, options.server, options.host,
      [this, pinned, message](Result<PublicKey> key) {
        on_diagnosis(std::move(key), pinned, message);  // by value: pending.reset() frees them
      },
      relay_channel_options(options.handshake_timeout));
}

void RelayClient::Impl::on_diagnosis(Result<PublicKey> key, PublicKey pinned, std::string message) {
  pending.reset();
  if (key && *key != pinned) {
    fail(RelayClientError::Kind::server_key_mismatch,
         describe() + " presents key " + to_base64(*key) + " but the relay map pins " +
             to_base64(pinned) + "; fix the relay map (or the relay's key) and start again",
         true);
    return;
  }
  fail(RelayClientError::Kind::connection,
       "cannot open the relay channel to " + describe() + ": " + message, false);
}

void RelayClient::Impl::on_message(ByteView bytes) {
  last_heard = env.clock.now();
  auto decoded = decode_relay_frame(bytes);
  if (!decoded) {
    fail(RelayClientError::Kind::protocol,
         "malformed frame from " + describe() + ": " + decoded.error().message, false);
    return;
  }
  const RelayFrame& frame = *decoded;
  const bool hello_done = state == State::connected;
  auto unexpected = [&](const char* why) {
    fail(RelayClientError::Kind::protocol,
         describe() + " sent " + relay_frame_name(frame) + " " + why, false);
  };
  std::visit(Overloaded{
                 [&](const ServerHello& hello) {
                   if (hello_done) return unexpected("a second time");
                   on_server_hello(hello);
                 },
                 [&](const RecvPacket& packet) {
                   if (!hello_done) return unexpected("before server_hello");
                   ++counters.packets_received;
                   if (callbacks.on_packet) callbacks.on_packet(packet.src, packet.packet);
                 },
                 [&](const KeepAlive&) { ++counters.keepalives; },
                 [&](const PeerGone& gone) {
                   if (!hello_done) return unexpected("before server_hello");
                   if (callbacks.on_peer_gone) callbacks.on_peer_gone(gone);
                 },
                 [&](const PeerPresent& present) {
                   if (!hello_done) return unexpected("before server_hello");
                   if (callbacks.on_peer_present) callbacks.on_peer_present(present);
                 },
                 [&](const Refused& refused) { on_refused(refused); },
                 [&](const Ping& ping) {
                   ++counters.pings_answered;
                   send_now(Pong{ping.data});
                 },
                 [&](const Pong& pong) { on_pong(pong); },
                 [&](const Health& health) {
                   if (health.text.empty()) {
                     env.log.info(describe() + " is healthy again");
                   } else {
                     env.log.warn(describe() + " reports: " + health.text);
                   }
                   if (callbacks.on_health) callbacks.on_health(health.text);
                 },
                 [&](const Restarting& restarting) { on_restarting(restarting); },
                 [&](const UnknownFrame&) { ++counters.unknown_frames; },
                 [&](const ClientHello&) { unexpected("(a client's frame)"); },
                 [&](const SendPacket&) { unexpected("(a client's frame)"); },
                 [&](const NotePreferred&) { unexpected("(a client's frame)"); },
                 [&](const WatchConns&) { unexpected("(a client's frame)"); },
                 [&](const ForwardPacket&) { unexpected("(only relays receive it)"); },
             },
             frame);
}

void RelayClient::Impl::on_server_hello(const ServerHello& hello) {
  if (options.mesh_key) {
    const MeshProof expected = mesh_server_proof(*options.mesh_key, own_key, *server_key);
    if (!hello.mesh_proof || !mesh_proof_equal(*hello.mesh_proof, expected)) {
      fail(RelayClientError::Kind::bad_mesh_proof,
           describe() +
               (hello.mesh_proof ? " answered with a mesh proof that does not verify"
                                 : " sent no mesh proof") +
               ": it does not hold our mesh key (check both relays' mesh key files)",
           true);
      return;
    }
  }
  state = State::connected;
  backoff.reset();  // a working link: the next outage starts its backoff from the beginning
  restart_delay.reset();
  ++counters.connected;
  // As the relay does: a burst below one maximal packet would refuse legal packets forever.
  bucket =
      TokenBucket(hello.rate_bytes_per_s,
                  std::max<uint32_t>(hello.burst_bytes, kMaxRelayPacketBytes), env.clock.now());
  arm_watchdog();
  env.log.info("connected to " + describe() +
               (hello.rate_bytes_per_s
                    ? " (rate limit " + std::to_string(hello.rate_bytes_per_s) + " B/s)"
                    : std::string()));
  if (options.mesh_key && options.watch_conns && !send_now(WatchConns{})) return;
  if (callbacks.on_connected) callbacks.on_connected(hello);
}

void RelayClient::Impl::on_refused(const Refused& refused) {
  const bool fatal = fatal_refusal(refused.reason);
  slow_retry = slow_refusal(refused.reason);
  fail(RelayClientError::Kind::refused,
       describe() + " refused us (" + refusal_reason_name(refused.reason) +
           (refused.text.empty() ? ")" : "): " + refused.text),
       fatal, refused.reason);
}

void RelayClient::Impl::on_pong(const Pong& pong) {
  for (PingInFlight& p : pings) {
    if (p.used && p.data == pong.data) {
      p.used = false;
      const Duration rtt = env.clock.now() - p.sent;
      if (callbacks.on_pong) callbacks.on_pong(pong.data, rtt);
      return;
    }
  }
  env.log.debug(describe() + " sent a pong for no ping of ours; ignored");
}

void RelayClient::Impl::on_restarting(const Restarting& restarting) {
  // A hostile or confused relay must not park us for weeks: never longer than our own cap.
  Duration delay = Duration::milliseconds(restarting.reconnect_in_ms);
  if (delay > options.backoff_max) delay = options.backoff_max;
  if (delay < kMinRestartDelay) delay = kMinRestartDelay;
  restart_delay = delay;
  backoff.reset();
  env.log.info(describe() + " is restarting; reconnecting in " + to_string(delay));
}

// Control frames (hello, pong, ping, watch_conns, note_preferred) go straight to the channel:
// they are small and rare, and must not wait behind or be dropped with packets.
bool RelayClient::Impl::send_now(const RelayFrame& frame) {
  scratch.clear();
  encode_relay_frame(frame, scratch);
  Status sent = channel->send(scratch);
  if (!sent) {
    fail(RelayClientError::Kind::connection,
         "cannot send to " + describe() + ": " + sent.error().message, false);
    return false;
  }
  return true;
}

bool RelayClient::Impl::submit_packet(const RelayFrame& frame, size_t packet_bytes) {
  if (packet_bytes > kMaxRelayPacketBytes) {
    ++counters.dropped_too_large;
    return false;
  }
  if (state != State::connected) {
    ++counters.dropped_not_connected;
    return false;
  }
  if (!bucket.take(packet_bytes, env.clock.now())) {
    ++counters.dropped_rate_limit;
    return false;
  }
  if (queue.empty() && channel->pending_write_bytes() < kMaxChannelBacklogBytes) {
    if (!send_now(frame)) return false;
    ++counters.packets_sent;
    return true;
  }
  scratch.clear();
  encode_relay_frame(frame, scratch);
  if (queue.push(scratch)) ++counters.dropped_queue;
  if (!drain_timer.armed()) drain_timer.arm_after(kDrainPollInterval, [this] { drain(); });
  return true;
}

void RelayClient::Impl::drain() {
  while (!queue.empty() && channel && channel->pending_write_bytes() < kMaxChannelBacklogBytes) {
    Status sent = channel->send(queue.front());
    if (!sent) {
      fail(RelayClientError::Kind::connection,
           "cannot send to " + describe() + ": " + sent.error().message, false);
      return;
    }
    queue.pop_front();
    ++counters.packets_sent;
  }
  if (!queue.empty()) drain_timer.arm_after(kDrainPollInterval, [this] { drain(); });
}

void RelayClient::Impl::teardown() {
  watchdog.cancel();
  retry.cancel();
  drain_timer.cancel();
  pending.reset();
  if (channel) {
    channel->close();
    channel.reset();
  }
  counters.dropped_not_connected += queue.size();  // they die with the connection
  queue.clear();
  for (PingInFlight& p : pings) p.used = false;
}

Duration RelayClient::Impl::next_delay() {
  if (restart_delay) {
    const Duration delay = *restart_delay;
    restart_delay.reset();
    return delay;
  }
  if (slow_retry) {
    slow_retry = false;
    return backoff.next_at_max(env.rng);
  }
  return backoff.next(env.rng);
}

void RelayClient::Impl::fail(RelayClientError::Kind kind, const std::string& message, bool fatal,
                             std::optional<RefusalReason> refusal) {
  teardown();
  RelayClientError error{kind, refusal, message, !fatal};
  if (fatal) {
    state = State::failed;
    env.log.warn(message);
  } else {
    state = State::waiting_retry;
    const Duration delay = next_delay();
    env.log.info(message + "; reconnecting in " + to_string(delay));
    retry.arm_after(delay, [this] { connect(); });
  }
  if (callbacks.on_error) callbacks.on_error(error);  // may destroy the client
}

// Re-arming a timer per received frame would cost a clock operation per packet; instead the
// timer fires at the earliest possible expiry and re-arms itself from the last frame's time.
void RelayClient::Impl::arm_watchdog() {
  last_heard = env.clock.now();
  watchdog.arm_at(last_heard + options.watchdog, [this] { on_watchdog(); });
}

void RelayClient::Impl::on_watchdog() {
  const Timestamp expiry = last_heard + options.watchdog;
  if (env.clock.now() < expiry) {
    watchdog.arm_at(expiry, [this] { on_watchdog(); });
    return;
  }
  fail(RelayClientError::Kind::watchdog,
       "nothing heard from " + describe() + " for " + to_string(options.watchdog), false);
}

RelayClient::RelayClient(Env& env, RelayClientOptions options, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(env, std::move(options), std::move(callbacks))) {}

RelayClient::~RelayClient() {
  impl_->teardown();
}

void RelayClient::start() {
  Impl& s = *impl_;
  if (s.state != Impl::State::idle && s.state != Impl::State::failed) return;
  s.backoff.reset();
  s.restart_delay.reset();
  s.connect();
}

void RelayClient::stop() {
  impl_->teardown();
  impl_->state = Impl::State::idle;
}

bool RelayClient::send_packet(const PublicKey& dst, ByteView packet) {
  return impl_->submit_packet(SendPacket{dst, packet}, packet.size());
}

bool RelayClient::forward_packet(const PublicKey& src, const PublicKey& dst, ByteView packet) {
  return impl_->submit_packet(ForwardPacket{src, dst, packet}, packet.size());
}

void RelayClient::note_preferred(bool preferred) {
  impl_->options.preferred = preferred;  // the next hello carries it too
  if (impl_->state == Impl::State::connected) impl_->send_now(NotePreferred{preferred});
}

bool RelayClient::ping(const PingData& data) {
  Impl& s = *impl_;
  if (s.state != Impl::State::connected) return false;
  for (Impl::PingInFlight& p : s.pings) {
    if (!p.used) {
      p = Impl::PingInFlight{data, s.env.clock.now(), true};
      return s.send_now(Ping{data});
    }
  }
  return false;
}

bool RelayClient::connected() const {
  return impl_->state == Impl::State::connected;
}

const std::optional<PublicKey>& RelayClient::server_key() const {
  return impl_->server_key;
}

const RelayClientCounters& RelayClient::counters() const {
  return impl_->counters;
}

}  // namespace warren::relay
