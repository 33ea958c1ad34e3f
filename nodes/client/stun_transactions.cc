#include "nodes/client/stun_transactions.h"

#include <algorithm>
#include <cstdio>

namespace warren {
namespace {

std::string seconds_text(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", d.seconds_f());
  return buf;
}

}  // namespace

StunRetransmitOptions StunRetransmitOptions::clamped() const {
  StunRetransmitOptions o = *this;
  o.initial_rto = std::clamp(o.initial_rto, Duration::milliseconds(1), kInitialRtoLimit);
  o.max_transmissions = std::clamp(o.max_transmissions, 1, kMaxTransmissionsLimit);
  o.last_wait_multiplier = std::clamp(o.last_wait_multiplier, 1, kLastWaitMultiplierLimit);
  return o;
}

Duration StunRetransmitOptions::transaction_timeout() const {
  const StunRetransmitOptions o = clamped();
  const int64_t doublings = (int64_t{1} << (o.max_transmissions - 1)) - 1;
  return o.initial_rto * doublings + o.initial_rto * o.last_wait_multiplier;
}

std::optional<bool> mapping_varies_by_destination(const std::vector<StunProbeResult>& results,
                                                  Family family) {
  std::optional<Endpoint> first;
  int answers = 0;
  for (const auto& r : results) {
    if (!r.mapped || r.server.family() != family) continue;
    ++answers;
    if (!first)
      first = r.mapped;
    else if (*r.mapped != *first)
      return true;
  }
  if (answers < 2) return std::nullopt;
  return false;
}

StunTransactions::StunTransactions(Env& env, SendFn send, StunRetransmitOptions options)
    : env_(env), log_(env.log.child("stun")), send_(std::move(send)), options_(options.clamped()) {}

StunTransactions::~StunTransactions() {
  cancel_all();
}

void StunTransactions::cancel_all() {
  active_.clear();
}

Status StunTransactions::start(std::string name, const Endpoint& server, DoneFn done) {
  if (active_.size() >= kMaxActive) {
    return make_error("too many STUN transactions in flight (" + std::to_string(kMaxActive) +
                      "); wait for some to finish");
  }
  StunTransactionId id{};
  // 96 random bits make a collision with a live transaction practically impossible; the
  // loop only guards the map, and a handful of draws always suffices.
  for (int attempt = 0; attempt < 8; ++attempt) {
    env_.rng.fill(id.data(), id.size());
    if (active_.count(id) == 0) break;
  }
  if (active_.count(id) != 0) return make_error("could not draw a fresh STUN transaction ID");

  Transaction& t = active_[id];
  t.result.name = std::move(name);
  t.result.server = server;
  t.done = std::move(done);
  t.next_rto = options_.initial_rto;
  t.request = build_binding_request(id, options_.fingerprint, options_.software);
  t.timer = std::make_unique<Timer>(env_.clock);
  transmit(id, t);
  return Status::success();
}

void StunTransactions::transmit(const StunTransactionId& id, Transaction& t) {
  ++t.result.transmissions;
  ++stats_.transmissions;
  t.last_sent = env_.clock.now();
  if (t.result.transmissions == 1) t.first_sent = t.last_sent;
  Status sent = send_(t.result.server, t.request);
  if (!sent) {
    ++stats_.send_failures;
    t.result.error = "send failed: " + sent.error().message;
    log_.debug("request to " + t.result.server.to_string() + " not sent: " + sent.error().message);
  }
  Duration wait = t.next_rto;
  if (t.result.transmissions >= options_.max_transmissions) {
    wait = options_.initial_rto * options_.last_wait_multiplier;
  } else {
    t.next_rto = t.next_rto * 2;
  }
  t.timer->arm_after(wait, [this, id] { on_timer(id); });
}

void StunTransactions::on_timer(const StunTransactionId& id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  Transaction& t = it->second;
  if (t.result.transmissions < options_.max_transmissions) {
    transmit(id, t);
    return;
  }
  ++stats_.timeouts;
  const std::string send_note = t.result.error.empty() ? "" : " (last " + t.result.error + ")";
  t.result.error = "no STUN response from " + t.result.server.to_string() + " after " +
                   std::to_string(t.result.transmissions) + " attempts over " +
                   seconds_text(env_.clock.now() - t.first_sent) + send_note;
  finish(it);
}

void StunTransactions::finish(std::map<StunTransactionId, Transaction>::iterator it) {
  StunProbeResult result = std::move(it->second.result);
  DoneFn done = std::move(it->second.done);
  active_.erase(it);       // destroys the timer; fine even if it is the one running this
  if (done) done(result);  // may destroy this object: nothing after it
}

bool StunTransactions::on_datagram(const Endpoint& from, ByteView payload) {
  if (!looks_like_stun(payload)) return false;
  auto parsed = parse_stun(payload);
  if (!parsed) {
    ++stats_.malformed;
    log_.debug("malformed STUN from " + from.to_string() + ": " + parsed.error().message);
    return true;
  }
  const StunMessage& m = *parsed;
  auto it = active_.find(m.transaction_id);
  const bool response =
      m.message_class == StunClass::success || m.message_class == StunClass::error;
  if (!response || m.method != kStunMethodBinding || it == active_.end() ||
      it->second.result.server != from) {
    ++stats_.strays;
    log_.debug(std::string("stray STUN ") + to_string(m.message_class) + " from " +
               from.to_string());
    return true;
  }
  StunProbeResult& r = it->second.result;
  r.rtt = env_.clock.now() - it->second.last_sent;
  r.error.clear();
  if (m.message_class == StunClass::error) {
    ++stats_.error_responses;
    const uint16_t code = m.error_code ? m.error_code->code : 0;
    r.error = "STUN server " + from.to_string() + " answered with error " + std::to_string(code) +
              (m.error_code ? " " + m.error_code->reason : "");
  } else if (auto mapped = m.mapped_endpoint()) {
    ++stats_.answers;
    r.mapped = *mapped;
  } else {
    ++stats_.error_responses;
    r.error = "STUN server " + from.to_string() + " answered without a mapped address";
  }
  finish(it);
  return true;
}

}  // namespace warren
