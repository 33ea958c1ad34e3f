#include "sim/relay_probe_role.h"

#include <algorithm>
#include <cstring>

#include "nodes/common/json_checks.h"

namespace warren::sim {
namespace {

constexpr uint8_t kMagic[4] = {'W', 'P', 'R', 'B'};
constexpr uint8_t kRequest = 1;
constexpr uint8_t kAnswer = 2;

bool has_family(const std::vector<Family>& families, Family f) {
  return std::find(families.begin(), families.end(), f) != families.end();
}

}  // namespace

RelayProbeRole::RelayProbeRole(Env& env, RelayProbeSetup setup, const ControlServerRecord* server,
                               ControlClientRecord* control_record, RelayProbeRecord& record)
    : env_(env), setup_(std::move(setup)), record_(record), send_timer_(env.clock) {
  record_.starts += 1;
  if (setup_.control) {
    control_ = std::make_unique<ControlClientRole>(env_, *setup_.control, *server, *control_record);
    control_->set_map_listener([this](const NetMap& map) { on_map(map); });
  } else {
    // Nobody registered this key: connect at once (the relay must refuse it).
    connect(*setup_.relay);
  }
}

RelayProbeRole::~RelayProbeRole() {
  send_timer_.cancel();
  relay_.reset();  // no callback runs afterwards
  control_.reset();
}

void RelayProbeRole::note_error(const std::string& message) {
  record_.errors += 1;
  record_.last_error = message;
  env_.log.warn("relay probe: " + message);
}

Result<RelayTarget> RelayProbeRole::target_from_map(const control::RelayMap& map) const {
  const control::RelayRegion* region = nullptr;
  for (const control::RelayRegion& r : map.regions) {
    if (r.id == 1) region = &r;
  }
  if (region == nullptr || region->relays.empty()) {
    return make_error(
        "the relay map has no region 1 to pick a relay from; name one with \"relay\"");
  }
  const control::Relay& relay = region->relays.front();
  std::vector<IpAddress> candidates = relay.addresses;
  if (candidates.empty()) {
    // No pinned address: the host must be an address itself (the simulation has no DNS).
    auto literal = IpAddress::parse(relay.host);
    if (literal) candidates.push_back(*literal);
  }
  for (const IpAddress& a : candidates) {
    if (has_family(setup_.families, a.family())) {
      return RelayTarget{relay.name, Endpoint(a, relay.port), relay.host, relay.key};
    }
  }
  return make_error("relay " + json_checks::in_quotes(relay.name) +
                    " of the relay map has no address of a family this node has");
}

void RelayProbeRole::on_map(const NetMap& map) {
  record_.relay_map = map.relay_map();
  if (setup_.send && !to_key_) {
    for (const auto& [id, peer] : map.peers()) {
      if (peer.name == setup_.to) to_key_ = peer.node_key;
    }
    if (to_key_) maybe_start_sending();
  }
  if (relay_) return;
  if (setup_.relay) {
    connect(*setup_.relay);
    return;
  }
  auto target = target_from_map(map.relay_map());
  if (!target) {
    if (!map_error_noted_) note_error(target.error().message);
    map_error_noted_ = true;
    return;
  }
  connect(*target);
}

void RelayProbeRole::connect(const RelayTarget& target) {
  record_.relay = target.name;
  relay::RelayClientOptions options;
  options.server = target.endpoint;
  options.host = target.host;
  options.key = setup_.node_key;
  options.server_key = target.key;
  options.preferred = true;  // the probe's only relay is its home relay
  relay::RelayClient::Callbacks callbacks;
  callbacks.on_connected = [this](const relay::ServerHello&) { on_connected(); };
  callbacks.on_packet = [this](const PublicKey& src, ByteView packet) { on_packet(src, packet); };
  callbacks.on_error = [this](const relay::RelayClientError& e) { on_relay_error(e); };
  relay_ = std::make_unique<relay::RelayClient>(env_, std::move(options), std::move(callbacks));
  relay_->start();
}

void RelayProbeRole::on_connected() {
  record_.connects += 1;
  if (!record_.first_connected) record_.first_connected = env_.clock.now();
  maybe_start_sending();
}

void RelayProbeRole::on_relay_error(const relay::RelayClientError& e) {
  const bool registered = control_ != nullptr;
  // An unregistered probe exists to be refused: its first unknown_key is the answer.
  const bool final_refusal =
      !e.will_retry || (!registered && e.refusal == relay::RefusalReason::unknown_key);
  if (e.refusal) {
    if (final_refusal) {
      record_.refusals += 1;
    } else {
      record_.retried_refusals += 1;
    }
    record_.last_refusal = std::string(relay::refusal_reason_name(*e.refusal)) + ": " + e.message;
  } else {
    record_.errors += 1;
    record_.last_error = e.message;
  }
  if (!final_refusal) return;  // the client reconnects by itself
  if (e.will_retry && relay_) relay_->stop();
  env_.log.warn("relay probe stopped: " + e.message);
}

void RelayProbeRole::maybe_start_sending() {
  if (!setup_.send || !to_key_ || !relay_ || !relay_->connected()) return;
  if (next_seq_ > 0 || send_timer_.armed()) return;  // one series per start
  sent_at_.assign(setup_.count, Timestamp());
  answered_.assign(setup_.count, false);
  send_next();
}

void RelayProbeRole::send_next() {
  buffer_.assign(setup_.size, 0);
  std::memcpy(buffer_.data(), kMagic, sizeof(kMagic));
  buffer_[4] = kRequest;
  store_be32(buffer_.data() + 5, next_seq_);
  sent_at_[next_seq_] = env_.clock.now();
  record_.sent += 1;
  if (!relay_->send_packet(*to_key_, buffer_)) record_.send_failed += 1;
  ++next_seq_;
  if (next_seq_ < setup_.count) send_timer_.arm_after(setup_.interval, [this] { send_next(); });
}

void RelayProbeRole::on_packet(const PublicKey& src, ByteView packet) {
  if (packet.size() < kHeaderBytes || std::memcmp(packet.data(), kMagic, sizeof(kMagic)) != 0) {
    record_.unexpected += 1;
    return;
  }
  const uint8_t type = packet[4];
  if (type == kRequest) {
    buffer_.assign(packet.begin(), packet.end());
    buffer_[4] = kAnswer;
    if (relay_->send_packet(src, buffer_)) record_.echoed += 1;
    return;
  }
  const uint32_t seq = load_be32(packet.data() + 5);
  if (type != kAnswer || !to_key_ || src != *to_key_ || seq >= next_seq_) {
    record_.unexpected += 1;
    return;
  }
  if (answered_[seq]) {
    record_.duplicates += 1;
    return;
  }
  answered_[seq] = true;
  const Duration rtt = env_.clock.now() - sent_at_[seq];
  if (record_.received == 0 || rtt < record_.rtt_min) record_.rtt_min = rtt;
  if (record_.received == 0 || rtt > record_.rtt_max) record_.rtt_max = rtt;
  record_.rtt_sum = record_.rtt_sum + rtt;
  record_.received += 1;
}

}  // namespace warren::sim
