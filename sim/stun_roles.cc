#include "sim/stun_roles.h"

namespace warren::sim {
namespace {

size_t slot(Family f) { return f == Family::ipv4 ? 0 : 1; }

}  // namespace

StunClientRole::StunClientRole(Env& env, std::vector<StunServerSpec> servers, Duration interval,
                               StunRetransmitOptions retransmit, StunClientRecord& record)
    : env_(env),
      servers_(std::move(servers)),
      interval_(interval),
      record_(record),
      transactions_(env, [this](const Endpoint& to, ByteView p) { return send(to, p); },
                    std::move(retransmit)),
      next_round_(env.clock) {
  record_.starts += 1;
  for (const StunServerSpec& s : servers_) {
    Family f = s.endpoint.family();
    if (sockets_[slot(f)]) continue;
    auto sock = env_.network.open_udp(Endpoint(IpAddress::any(f), 0));
    if (!sock) {
      env_.log.error(std::string("no ") + to_string(f) + " socket: " + sock.error().message);
      continue;
    }
    (*sock)->set_receive_handler([this](const Endpoint& from, const Endpoint&, ByteView payload) {
      if (!transactions_.on_datagram(from, payload)) env_.log.debug("non-STUN datagram from " + from.to_string());
    });
    sockets_[slot(f)] = std::move(*sock);
  }
  start_round();
}

StunClientRole::~StunClientRole() { transactions_.cancel_all(); }

Status StunClientRole::send(const Endpoint& to, ByteView payload) {
  auto& sock = sockets_[slot(to.family())];
  if (!sock) return make_error(std::string("no ") + to_string(to.family()) + " socket");
  return sock->send_to(to, payload);
}

void StunClientRole::start_round() {
  round_ = StunRound{env_.clock.now(), Timestamp(), std::vector<StunProbeResult>(servers_.size())};
  pending_ = servers_.size();
  for (size_t i = 0; i < servers_.size(); ++i) {
    round_.results[i].name = servers_[i].name;
    round_.results[i].server = servers_[i].endpoint;
    Status s = transactions_.start(servers_[i].name, servers_[i].endpoint,
                                   [this, i](const StunProbeResult& r) { on_result(i, r); });
    if (!s) {
      round_.results[i].error = s.error().message;
      --pending_;
    }
  }
  if (pending_ == 0) on_result(servers_.size(), StunProbeResult{});
}

void StunClientRole::on_result(size_t index, const StunProbeResult& result) {
  if (index < round_.results.size()) {
    round_.results[index] = result;
    if (--pending_ > 0) return;
  }
  round_.ended = env_.clock.now();
  if (record_.rounds.size() == StunClientRecord::kMaxRounds) record_.rounds.erase(record_.rounds.begin());
  record_.rounds.push_back(round_);
  record_.rounds_completed += 1;
  if (interval_ > Duration::zero()) next_round_.arm_after(interval_, [this] { start_round(); });
}

}  // namespace warren::sim
