#include "nat-models/ipv6_firewall.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "nat-models/tcp_connection.h"

namespace warren::nat {
namespace {

struct FlowState {
  Timestamp last;
  TcpConnection tcp;
};

}  // namespace

struct Ipv6Firewall::Impl {
  std::map<FlowKey, FlowState> flows;
  // No state expires before this; lets expire() return at once when nothing is due.
  Timestamp next_expiry = kNever;

  static Timestamp deadline(const FirewallConfig& c, Protocol p, const FlowState& s) {
    if (p == Protocol::udp) return s.last + c.udp_timeout;
    return s.last + s.tcp.idle_timeout(c.tcp_established_timeout, c.tcp_transitory_timeout);
  }

  // A packet of the flow passed: refresh it (and update TCP state).
  void touch(const FirewallConfig& c, Protocol p, FlowState& s, bool outbound, TcpFlags flags,
             Timestamp now) {
    if (p == Protocol::tcp) s.tcp.observe(outbound, flags);
    s.last = now;
    // TCP deadlines can move earlier (FIN, RST); keep next_expiry a lower bound.
    next_expiry = std::min(next_expiry, deadline(c, p, s));
  }
};

Ipv6Firewall::Ipv6Firewall(FirewallConfig config)
    : config_(config), impl_(std::make_unique<Impl>()) {}

Ipv6Firewall::~Ipv6Firewall() = default;
Ipv6Firewall::Ipv6Firewall(Ipv6Firewall&&) noexcept = default;
Ipv6Firewall& Ipv6Firewall::operator=(Ipv6Firewall&&) noexcept = default;

bool Ipv6Firewall::outbound(Protocol proto, const Endpoint& inside, const Endpoint& remote,
                            Timestamp now, TcpFlags flags) {
  Impl& s = *impl_;
  const FlowKey key{proto, inside, remote};
  auto it = s.flows.find(key);
  if (it != s.flows.end() && !(now < Impl::deadline(config_, proto, it->second))) {
    // Expired state is gone; this packet opens a fresh flow (new TCP state included).
    s.flows.erase(it);
    ++stats_.states_expired;
    it = s.flows.end();
  }
  if (it == s.flows.end()) {
    if (s.flows.size() >= kMaxFirewallStates) expire(now);
    if (s.flows.size() >= kMaxFirewallStates) {
      ++stats_.outbound_dropped_table_full;
      return false;
    }
    it = s.flows.emplace(key, FlowState{now, {}}).first;
  }
  s.touch(config_, proto, it->second, /*outbound=*/true, flags, now);
  ++stats_.outbound;
  return true;
}

bool Ipv6Firewall::inbound(Protocol proto, const Endpoint& remote, const Endpoint& inside,
                           Timestamp now, TcpFlags flags) {
  Impl& s = *impl_;
  auto it = s.flows.find(FlowKey{proto, inside, remote});
  if (it == s.flows.end()) {
    ++stats_.inbound_dropped;
    return false;
  }
  if (!(now < Impl::deadline(config_, proto, it->second))) {
    s.flows.erase(it);
    ++stats_.states_expired;
    ++stats_.inbound_dropped;
    return false;
  }
  if (proto == Protocol::tcp || config_.inbound_refresh) {
    s.touch(config_, proto, it->second, /*outbound=*/false, flags, now);
  }
  ++stats_.inbound_admitted;
  return true;
}

void Ipv6Firewall::flush() {
  impl_->flows.clear();
  impl_->next_expiry = kNever;
}

void Ipv6Firewall::expire(Timestamp now) {
  Impl& s = *impl_;
  if (now < s.next_expiry) return;
  Timestamp earliest = kNever;
  for (auto it = s.flows.begin(); it != s.flows.end();) {
    const Timestamp d = Impl::deadline(config_, it->first.proto, it->second);
    if (!(now < d)) {
      it = s.flows.erase(it);
      ++stats_.states_expired;
    } else {
      earliest = std::min(earliest, d);
      ++it;
    }
  }
  s.next_expiry = earliest;
}

size_t Ipv6Firewall::state_count() const {
  return impl_->flows.size();
}

}  // namespace warren::nat
