#include "nodes/relay/relay_session.h"

#include <algorithm>
#include <utility>

namespace warren::relay {
namespace {

// Texts in refused/health frames are bounded; cut long ones at a UTF-8 character boundary
// so the frame stays valid.
std::string fit_text(std::string_view text) {
  if (text.size() <= kMaxRelayTextBytes) return std::string(text);
  size_t end = kMaxRelayTextBytes;
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xc0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

uint32_t clamp_ms(Duration d) {
  if (d.ns() <= 0) return 0;
  const int64_t ms = d.ms();
  return ms > int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(ms);
}

}  // namespace

// Steady-state frames from an admitted client (std::visit keeps the switch exhaustive).
struct RelaySession::FrameHandler {
  RelaySession& s;

  void operator()(const SendPacket& f) const {
    if (s.role_ == Role::mesh) {
      // A mesh peer hands packets over as forward_packet, which is delivered locally only. A
      // send_packet from it could be forwarded a second hop (and round a loop): refuse.
      ++s.ctx_.counters.closed_malformed;
      s.close_refused(RefusalReason::protocol_error,
                      "send_packet from a mesh peer; mesh peers use forward_packet");
      return;
    }
    if (!s.rate_.take(f.packet.size(), s.ctx_.env.clock.now())) {
      ++s.ctx_.counters.dropped_rate_limit;
      return;
    }
    s.ctx_.host.on_send_packet(s, f.dst, f.packet);
  }
  void operator()(const ForwardPacket& f) const {
    if (s.role_ != Role::mesh) {
      ++s.ctx_.counters.dropped_forward_not_mesh;
      return;
    }
    s.ctx_.host.on_forward_packet(s, f);
  }
  void operator()(const NotePreferred& f) const { s.preferred_ = f.preferred; }
  void operator()(const WatchConns&) const {
    if (s.role_ != Role::mesh) {
      ++s.ctx_.counters.closed_malformed;
      s.close_refused(RefusalReason::protocol_error,
                      "watch_conns is for mesh peers; this connection did not prove the mesh key");
      return;
    }
    if (s.watching_) return;  // already flooded; updates keep coming
    s.watching_ = true;
    s.ctx_.host.on_watch_conns(s);
  }
  void operator()(const Ping& f) const {
    ++s.ctx_.counters.pings_answered;
    s.send_own(Pong{f.data});
  }
  void operator()(const Pong&) const {}  // we send no pings; harmless
  void operator()(const ClientHello&) const {
    ++s.ctx_.counters.closed_malformed;
    s.close_refused(RefusalReason::protocol_error, "a second client_hello on one connection");
  }
  // Frames only a relay sends, and types from a newer protocol: skipped and counted.
  void operator()(const UnknownFrame&) const { ++s.ctx_.counters.unknown_frames; }
  template <typename ServerOnly>
  void operator()(const ServerOnly&) const {
    ++s.ctx_.counters.unknown_frames;
  }
};

RelaySession::RelaySession(SessionContext& context, std::unique_ptr<SecureChannel> channel,
                           uint32_t slot_index)
    : slot(slot_index),
      ctx_(context),
      channel_(std::move(channel)),
      key_(channel_->peer_static_key()),
      queue_(context.config.queue_depth),
      not_here_(1, RelayServer::kNotHereBurst, context.env.clock.now()),
      destinations_(RelayServer::kMaxTrackedDestinations),
      timer_(context.env.clock) {}

RelaySession::~RelaySession() {
  if (!closed_) {
    closed_ = true;  // destroyed by the host without a close: no callback
    channel_->close();
  }
}

void RelaySession::start() {
  SecureChannel::Handlers handlers;
  handlers.on_message = [this](ByteView message) { on_message(message); };
  handlers.on_closed = [this](const Status& reason) { on_channel_closed(reason); };
  channel_->set_handlers(std::move(handlers));
  deadline_ = ctx_.env.clock.now() + ctx_.config.hello_timeout;
  reschedule();
}

void RelaySession::on_message(ByteView message) {
  if (closed_) return;
  auto frame = decode_relay_frame(message);
  if (role_ == Role::awaiting_hello) {
    if (!frame.ok()) {
      ++ctx_.counters.refused_protocol;
      close_refused(RefusalReason::protocol_error,
                    "the first frame must be a valid client_hello: " + frame.error().message);
      return;
    }
    const auto* hello = std::get_if<ClientHello>(&*frame);
    if (hello == nullptr) {
      ++ctx_.counters.refused_protocol;
      close_refused(
          RefusalReason::protocol_error,
          std::string("the first frame must be client_hello, not ") + relay_frame_name(*frame));
      return;
    }
    on_hello(*hello);
    return;
  }
  if (!frame.ok()) {
    ++ctx_.counters.closed_malformed;
    if (ctx_.log.enabled(LogLevel::debug)) {
      ctx_.log.debug("closing " + to_base64(key_) + ": " + frame.error().message);
    }
    close_refused(RefusalReason::protocol_error, "malformed frame: " + frame.error().message);
    return;
  }
  std::visit(FrameHandler{*this}, *frame);
}

void RelaySession::on_hello(const ClientHello& hello) {
  SessionHost::Verdict verdict = ctx_.host.admit(*this, hello);
  if (!verdict.admitted) {
    close_refused(verdict.reason, verdict.text);
    return;
  }
  const Timestamp now = ctx_.env.clock.now();
  role_ = verdict.mesh ? Role::mesh : Role::client;
  preferred_ = hello.preferred;
  if (role_ == Role::client && ctx_.config.rate_bytes_per_s != 0) {
    rate_ = TokenBucket(ctx_.config.rate_bytes_per_s, ctx_.config.burst_bytes, now);
  }
  send_own(verdict.hello);
  deadline_ = next_keepalive(now);
  reschedule();
}

Timestamp RelaySession::next_keepalive(Timestamp now) {
  Duration jitter;
  if (ctx_.config.keepalive_jitter.ns() > 0) {
    jitter = Duration::nanoseconds(static_cast<int64_t>(
        ctx_.env.rng.uniform(static_cast<uint64_t>(ctx_.config.keepalive_jitter.ns()))));
  }
  return now + ctx_.config.keepalive + jitter;
}

void RelaySession::send_own(const RelayFrame& frame) {
  Bytes& out = ctx_.scratch;
  out.clear();
  encode_relay_frame(frame, out);
  send_frame(out);
}

void RelaySession::send_frame(ByteView frame) {
  if (closed_) return;
  if (!backlogged() && channel_->pending_write_bytes() < RelayServer::kChannelBudgetBytes) {
    (void)channel_->send(frame);  // fails only once closed; on_closed reports that
    return;
  }
  const Timestamp now = ctx_.env.clock.now();
  const bool was_backlogged = backlogged();
  if (queue_.push(frame)) ++ctx_.counters.dropped_queue_head;
  if (!was_backlogged) {
    last_progress_ = now;
    observed_pending_ = channel_->pending_write_bytes();
  }
  pump(now);
  reschedule();
}

void RelaySession::note_presence_change(const PublicKey& key) {
  if (closed_ || !watching_) return;
  if (!presence_) presence_ = std::make_unique<PresenceBacklog>();
  const bool was_backlogged = backlogged();
  if (presence_->add(key) > kMaxPendingPresence) {
    overflowed_ = true;  // closed from the timer: callers may be iterating the sessions
    timer_.arm_after(Duration::zero(), [this] { on_timer(); });
    return;
  }
  const Timestamp now = ctx_.env.clock.now();
  if (!was_backlogged) {
    last_progress_ = now;
    observed_pending_ = channel_->pending_write_bytes();
  }
  pump(now);
  reschedule();
}

bool RelaySession::take_not_here() {
  return not_here_.take(1, ctx_.env.clock.now());
}

void RelaySession::pump(Timestamp now) {
  size_t pending = channel_->pending_write_bytes();
  if (pending < observed_pending_) last_progress_ = now;
  bool moved = false;
  // Bounded by the queue's capacity and the presence backlog, neither of which grows here.
  while (pending < RelayServer::kChannelBudgetBytes && !queue_.empty()) {
    (void)channel_->send(queue_.front());
    queue_.pop_front();
    moved = true;
    pending = channel_->pending_write_bytes();
  }
  PublicKey key;
  while (presence_ && pending < RelayServer::kChannelBudgetBytes && presence_->next(key)) {
    Bytes& out = ctx_.scratch;
    out.clear();
    if (const RelaySession* client = ctx_.host.local_client(key)) {
      encode_relay_frame(PeerPresent{key, client->remote_endpoint(), kPresentRegular}, out);
    } else {
      encode_relay_frame(PeerGone{key, PeerGoneReason::disconnected}, out);
    }
    (void)channel_->send(out);
    moved = true;
    pending = channel_->pending_write_bytes();
  }
  if (moved) last_progress_ = now;
  observed_pending_ = pending;
}

void RelaySession::reschedule() {
  if (closed_) {
    timer_.cancel();
    return;
  }
  Timestamp when = deadline_;
  if (backlogged()) {
    // An armed poll that is due no later than now + kDrainPoll already serves: re-arming on
    // every frame of a backlogged session would cost a timer operation per packet.
    if (timer_.armed() && timer_.deadline() <= ctx_.env.clock.now() + kDrainPoll) return;
    when = std::min(when, ctx_.env.clock.now() + kDrainPoll);
  }
  if (timer_.armed() && timer_.deadline() == when) return;
  timer_.arm_at(when, [this] { on_timer(); });
}

void RelaySession::on_timer() {
  if (closed_) return;
  const Timestamp now = ctx_.env.clock.now();
  if (overflowed_) {
    ++ctx_.counters.disconnected_stalled;
    close_refused(RefusalReason::server_full,
                  "this mesh watcher fell " + std::to_string(kMaxPendingPresence) +
                      " presence updates behind; reconnect for a fresh list");
    return;
  }
  if (role_ == Role::awaiting_hello) {
    if (now >= deadline_) {
      ++ctx_.counters.refused_protocol;
      close_refused(RefusalReason::protocol_error,
                    "no client_hello within " + to_string(ctx_.config.hello_timeout));
      return;
    }
    reschedule();
    return;
  }
  if (backlogged()) {
    pump(now);
    if (backlogged() && now - last_progress_ >= ctx_.config.stall_timeout) {
      ++ctx_.counters.disconnected_stalled;
      ctx_.log.info("disconnecting " + to_base64(key_) + " at " + remote_endpoint().to_string() +
                    ": it read nothing for " + to_string(now - last_progress_) + " with " +
                    std::to_string(queue_.size()) + " frames waiting");
      // No final frame: it would only wait behind what the reader is not reading.
      close_with(nullptr);
      return;
    }
  }
  if (now >= deadline_) {
    // A backlogged reader has data waiting already; a keepalive would only push the oldest
    // queued packet out.
    if (!backlogged()) {
      ++ctx_.counters.keepalives_sent;
      send_own(KeepAlive{});
      if (closed_) return;
    }
    deadline_ = next_keepalive(now);
  }
  reschedule();
}

void RelaySession::close_refused(RefusalReason reason, std::string_view text) {
  const RelayFrame frame = Refused{reason, fit_text(text)};
  close_with(&frame);
}

void RelaySession::close_replaced(std::string_view text) {
  const RelayFrame frame = Health{fit_text(text)};
  close_with(&frame);
}

void RelaySession::close_restarting(Duration reconnect_in, Duration try_for) {
  const RelayFrame frame = Restarting{clamp_ms(reconnect_in), clamp_ms(try_for)};
  close_with(&frame);
}

void RelaySession::close_with(const RelayFrame* last_frame) {
  if (closed_) return;
  queue_.clear();
  if (last_frame != nullptr) {
    Bytes& out = ctx_.scratch;
    out.clear();
    encode_relay_frame(*last_frame, out);
    (void)channel_->send(out);
  }
  channel_->close();  // flushes the last frame; no channel callback runs after this
  finish();
}

void RelaySession::on_channel_closed(const Status& reason) {
  if (closed_) return;
  if (!reason.ok() && ctx_.log.enabled(LogLevel::debug)) {
    ctx_.log.debug("channel of " + to_base64(key_) + " failed: " + reason.error().message);
  }
  finish();
}

void RelaySession::finish() {
  closed_ = true;
  timer_.cancel();
  queue_.clear();
  presence_.reset();
  ctx_.host.on_closed(*this);
}

}  // namespace warren::relay
