#include "nodes/client/stun_prober.h"

namespace warren {

StunProber::StunProber(Env& env, StunRetransmitOptions options)
    : env_(env),
      transactions_(
          env, [this](const Endpoint& to, ByteView p) { return send(to, p); }, std::move(options)) {
}

StunProber::~StunProber() {
  // Transactions first, so no callback can reach a half-destroyed prober.
  transactions_.cancel_all();
}

Status StunProber::send(const Endpoint& to, ByteView payload) {
  auto& socket = sockets_[slot(to.family())];
  if (!socket) return make_error("no " + std::string(to_string(to.family())) + " socket open");
  return socket->send_to(to, payload);
}

Status StunProber::start(const std::vector<StunServerSpec>& servers, DoneFn on_done,
                         const std::vector<Endpoint>& bind) {
  if (started_) return make_error("STUN prober already started");
  if (servers.empty()) return make_error("no STUN servers to probe");
  if (servers.size() > StunTransactions::kMaxActive) {
    return make_error("too many STUN servers (" + std::to_string(servers.size()) + "); at most " +
                      std::to_string(StunTransactions::kMaxActive));
  }
  std::array<std::optional<Endpoint>, 2> bind_of;
  for (const Endpoint& b : bind) {
    auto& slot_bind = bind_of[slot(b.family())];
    if (slot_bind) {
      return make_error("two " + std::string(to_string(b.family())) +
                        " bind addresses given; one socket per family is the point");
    }
    slot_bind = b;
  }

  std::vector<StunServerSpec> targets = servers;
  for (auto& s : targets) s.endpoint.address = s.endpoint.address.unmap();

  std::array<std::string, 2> open_error;
  for (const auto& s : targets) {
    const size_t i = slot(s.endpoint.family());
    if (sockets_[i] || !open_error[i].empty()) continue;
    const Endpoint local = bind_of[i].value_or(Endpoint(IpAddress::any(s.endpoint.family()), 0));
    auto socket = env_.network.open_udp(local);
    if (!socket) {
      open_error[i] =
          "cannot open a UDP socket on " + local.to_string() + ": " + socket.error().message;
      continue;
    }
    sockets_[i] = std::move(*socket);
    sockets_[i]->set_receive_handler(
        [this](const Endpoint& from, const Endpoint&, ByteView payload) {
          transactions_.on_datagram(from, payload);
        });
  }
  if (!sockets_[0] && !sockets_[1]) {
    return make_error(!open_error[0].empty() ? open_error[0] : open_error[1]);
  }

  started_ = true;
  on_done_ = std::move(on_done);
  results_.resize(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    results_[i].name = targets[i].name;
    results_[i].server = targets[i].endpoint;
    const size_t family = slot(targets[i].endpoint.family());
    if (!sockets_[family]) {
      results_[i].error = open_error[family];
      continue;
    }
    ++pending_;
    Status s = transactions_.start(targets[i].name, targets[i].endpoint,
                                   [this, i](const StunProbeResult& r) {
                                     results_[i] = r;
                                     if (--pending_ == 0 && on_done_) {
                                       DoneFn done = std::move(on_done_);
                                       done();  // may destroy this prober: nothing after
                                     }
                                   });
    if (!s) {  // cannot happen below kMaxActive, but a result must still say why
      --pending_;
      results_[i].error = s.error().message;
    }
  }
  return Status::success();
}

std::optional<bool> StunProber::mapping_varies_by_destination(Family family) const {
  return warren::mapping_varies_by_destination(results_, family);
}

std::optional<Endpoint> StunProber::local_endpoint(Family family) const {
  const auto& socket = sockets_[slot(family)];
  if (!socket) return std::nullopt;
  return socket->local_endpoint();
}

}  // namespace warren
