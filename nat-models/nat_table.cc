#include "nat-models/nat_table.h"

#include <algorithm>
#include <tuple>

#include "nat-models/tcp_connection.h"

namespace warren::nat {
namespace {

// Random port assignment draws this many candidates before falling back to a linear scan
// from a random start. With half the range in use, 32 misses in a row happen with
// probability 2^-32; past that the range is nearly full and the scan (bounded by the range)
// finds the free port or proves exhaustion.
constexpr int kRandomPortAttempts = 32;

// Mappings are keyed by what the mapping behaviour says distinguishes them: the remote part
// is zeroed (EIM) or keeps only the address (ADM) or the whole endpoint (APDM).
using MappingKey = FlowKey;

// An external (address, port) for one protocol; at most one mapping owns it (REQ-3).
struct ExternalKey {
  Protocol proto;
  uint32_t address_index;
  uint16_t port;
  bool operator<(const ExternalKey& o) const {
    return std::tie(proto, address_index, port) < std::tie(o.proto, o.address_index, o.port);
  }
};

// A remote the mapping has exchanged packets with: a filtering permission and, for TCP, the
// connection whose state picks the idle timeout.
struct Remote {
  Timestamp last;
  TcpConnection tcp;
};

struct Mapping {
  uint32_t address_index = 0;
  uint16_t port = 0;
  // UDP: last refresh + udp_timeout. TCP: the latest deadline of its connections.
  Timestamp expires_at;
  std::map<Endpoint, Remote> remotes;  // ordered: ADF looks up all ports of one address
};

using MappingMap = std::map<MappingKey, Mapping>;

struct Pairing {
  uint32_t address_index = 0;
  uint32_t mappings = 0;  // the pairing lasts while the inside address has mappings
};

size_t protocol_slot(Protocol p) {
  return p == Protocol::udp ? 0 : 1;
}

}  // namespace

struct NatTable::Impl {
  MappingMap mappings;
  std::map<ExternalKey, MappingMap::iterator> by_external;
  std::map<IpAddress, Pairing> pairings;  // paired pooling, RFC 4787 REQ-2
  std::vector<uint32_t> paired_hosts;     // per external address: inside addresses paired
  std::vector<uint32_t> ports_used;       // per (external address, protocol)
  std::vector<uint16_t> next_sequential;  // per (external address, protocol)
  // No mapping expires before this; lets expire() return at once when nothing is due.
  Timestamp next_expiry = kNever;

  static size_t slot(uint32_t address_index, Protocol p) {
    return address_index * 2 + protocol_slot(p);
  }

  void reset(const NatConfig& c) {
    mappings.clear();
    by_external.clear();
    pairings.clear();
    paired_hosts.assign(c.external_addresses.size(), 0);
    ports_used.assign(c.external_addresses.size() * 2, 0);
    next_sequential.assign(c.external_addresses.size() * 2, std::max<uint16_t>(1, c.port_min));
    next_expiry = kNever;
  }

  static Duration remote_timeout(const NatConfig& c, Protocol p, const Remote& r) {
    if (p == Protocol::udp) return c.udp_timeout;
    return r.tcp.idle_timeout(c.tcp_established_timeout, c.tcp_transitory_timeout);
  }
  static Timestamp remote_deadline(const NatConfig& c, Protocol p, const Remote& r) {
    return r.last + remote_timeout(c, p, r);
  }

  MappingKey key_for(const NatConfig& c, Protocol p, const Endpoint& inside,
                     const Endpoint& remote) const {
    switch (c.mapping) {
      case Behaviour::endpoint_independent:
        return {p, inside, Endpoint()};
      case Behaviour::address_dependent:
        return {p, inside, Endpoint(remote.address, 0)};
      case Behaviour::address_and_port_dependent:
        break;
    }
    return {p, inside, remote};
  }

  std::optional<uint32_t> address_index(const NatConfig& c, const IpAddress& a) const {
    for (size_t i = 0; i < c.external_addresses.size(); ++i) {
      if (c.external_addresses[i] == a) return static_cast<uint32_t>(i);
    }
    return std::nullopt;
  }

  // The external address paired with `inside`: its existing pairing, else the external
  // address with the fewest paired inside addresses (lowest index on ties).
  uint32_t paired_address(const IpAddress& inside) const {
    auto it = pairings.find(inside);
    if (it != pairings.end()) return it->second.address_index;
    auto least = std::min_element(paired_hosts.begin(), paired_hosts.end());
    return static_cast<uint32_t>(least - paired_hosts.begin());
  }

  void add_pairing(const IpAddress& inside, uint32_t address_index) {
    auto [it, inserted] = pairings.try_emplace(inside, Pairing{address_index, 0});
    if (inserted) ++paired_hosts[address_index];
    ++it->second.mappings;
  }

  void release_pairing(const IpAddress& inside) {
    auto it = pairings.find(inside);
    if (it == pairings.end()) return;
    if (--it->second.mappings == 0) {
      --paired_hosts[it->second.address_index];
      pairings.erase(it);
    }
  }

  void erase_mapping(MappingMap::iterator it, bool expired, NatStats& stats) {
    const Mapping& m = it->second;
    by_external.erase(ExternalKey{it->first.proto, m.address_index, m.port});
    --ports_used[slot(m.address_index, it->first.proto)];
    release_pairing(it->first.inside.address);
    mappings.erase(it);
    if (expired) ++stats.mappings_expired;
  }

  // Is `port` free for (proto, address)? A port held by an expired mapping is reclaimed.
  bool claim_if_free(Protocol p, uint32_t ai, uint16_t port, Timestamp now, NatStats& stats) {
    auto it = by_external.find(ExternalKey{p, ai, port});
    if (it == by_external.end()) return true;
    if (now < it->second->second.expires_at) return false;
    erase_mapping(it->second, /*expired=*/true, stats);
    return true;
  }

  // The first free port at or after `start`, wrapping within [lo, hi]. Walks runs of taken
  // ports through the ordered external index, so the cost is the length of the run; the
  // total number of steps is bounded by the range size.
  std::optional<uint16_t> first_free_from(Protocol p, uint32_t ai, uint16_t start, uint16_t lo,
                                          uint16_t hi, Timestamp now, NatStats& stats) {
    const uint32_t range = uint32_t{hi} - lo + 1;
    uint32_t port = start;
    uint32_t steps = 0;
    while (steps < range) {
      auto it = by_external.lower_bound(ExternalKey{p, ai, static_cast<uint16_t>(port)});
      while (steps < range) {
        const bool taken = it != by_external.end() && it->first.proto == p &&
                           it->first.address_index == ai && it->first.port == port;
        if (!taken) return static_cast<uint16_t>(port);
        if (!(now < it->second->second.expires_at)) {
          erase_mapping(it->second, /*expired=*/true, stats);
          return static_cast<uint16_t>(port);
        }
        ++it;
        ++steps;
        if (++port > hi) {
          port = lo;
          break;  // restart the walk at the bottom of the range
        }
      }
    }
    return std::nullopt;
  }

  // Drops expired remotes; if the mapping is still full, evicts the one closest to expiry.
  void make_room(const NatConfig& c, Protocol p, Mapping& m, Timestamp now, NatStats& stats) {
    for (auto it = m.remotes.begin(); it != m.remotes.end();) {
      if (remote_deadline(c, p, it->second) <= now) {
        it = m.remotes.erase(it);
      } else {
        ++it;
      }
    }
    if (m.remotes.size() < kMaxRemotesPerMapping) return;
    auto victim = m.remotes.begin();
    for (auto it = m.remotes.begin(); it != m.remotes.end(); ++it) {
      if (remote_deadline(c, p, it->second) < remote_deadline(c, p, victim->second)) victim = it;
    }
    m.remotes.erase(victim);
    ++stats.remotes_evicted;
  }

  Remote& touch_remote(const NatConfig& c, Protocol p, Mapping& m, const Endpoint& remote,
                       Timestamp now, NatStats& stats) {
    auto it = m.remotes.find(remote);
    if (it != m.remotes.end()) return it->second;
    if (m.remotes.size() >= kMaxRemotesPerMapping) make_room(c, p, m, now, stats);
    return m.remotes.emplace(remote, Remote{now, {}}).first->second;
  }

  // A packet of a TCP connection passed: update its state and the mapping's deadline, which
  // is the latest of its connections' deadlines and may move earlier (FIN, RST).
  void observe_tcp(const NatConfig& c, Mapping& m, Remote& r, bool outbound, TcpFlags flags,
                   Timestamp now) {
    const Timestamp before = remote_deadline(c, Protocol::tcp, r);
    r.tcp.observe(outbound, flags);
    r.last = now;
    const Timestamp after = remote_deadline(c, Protocol::tcp, r);
    if (after >= m.expires_at) {
      m.expires_at = after;
    } else if (before == m.expires_at) {
      m.expires_at = after;
      for (const auto& [ep, other] : m.remotes) {
        m.expires_at = std::max(m.expires_at, remote_deadline(c, Protocol::tcp, other));
      }
    }
    next_expiry = std::min(next_expiry, m.expires_at);
  }

  void refresh_udp(const NatConfig& c, Mapping& m, Timestamp now) {
    m.expires_at = std::max(m.expires_at, now + c.udp_timeout);
    next_expiry = std::min(next_expiry, m.expires_at);
  }

  // A free external port on address `ai` for a new mapping, per the config's port
  // assignment; nullopt when the range is exhausted (after sweeping expired mappings).
  std::optional<uint16_t> allocate_port(NatTable& t, Protocol p, uint32_t ai, uint16_t inside_port,
                                        Timestamp now) {
    const NatConfig& c = t.config_;
    const uint16_t lo = std::max<uint16_t>(1, c.port_min);
    const uint16_t hi = c.port_max;
    if (lo > hi) return std::nullopt;
    const uint32_t range = uint32_t{hi} - lo + 1;
    const size_t sl = slot(ai, p);
    if (ports_used[sl] >= range) {
      t.expire(now);
      if (ports_used[sl] >= range) return std::nullopt;
    }
    switch (c.ports) {
      case PortAssignment::preserve: {
        const uint16_t start = inside_port >= lo && inside_port <= hi ? inside_port : lo;
        return first_free_from(p, ai, start, lo, hi, now, t.stats_);
      }
      case PortAssignment::sequential: {
        uint16_t start = next_sequential[sl];
        if (start < lo || start > hi) start = lo;
        std::optional<uint16_t> port = first_free_from(p, ai, start, lo, hi, now, t.stats_);
        if (port) next_sequential[sl] = *port == hi ? lo : static_cast<uint16_t>(*port + 1);
        return port;
      }
      case PortAssignment::random:
        break;
    }
    // Rejection sampling is uniform over the free ports; the scan is the bounded fallback.
    for (int i = 0; i < kRandomPortAttempts; ++i) {
      const auto port = static_cast<uint16_t>(lo + t.rng_->uniform(range));
      if (claim_if_free(p, ai, port, now, t.stats_)) return port;
    }
    const auto start = static_cast<uint16_t>(lo + t.rng_->uniform(range));
    return first_free_from(p, ai, start, lo, hi, now, t.stats_);
  }

  bool admits(const NatConfig& c, Protocol p, const Mapping& m, const Endpoint& remote,
              Timestamp now) const {
    switch (c.filtering) {
      case Behaviour::endpoint_independent:
        return true;
      case Behaviour::address_dependent:
        for (auto it = m.remotes.lower_bound(Endpoint(remote.address, 0));
             it != m.remotes.end() && it->first.address == remote.address; ++it) {
          if (now < remote_deadline(c, p, it->second)) return true;
        }
        return false;
      case Behaviour::address_and_port_dependent:
        break;
    }
    auto it = m.remotes.find(remote);
    return it != m.remotes.end() && now < remote_deadline(c, p, it->second);
  }
};

const char* to_string(Drop d) {
  switch (d) {
    case Drop::none:
      return "none";
    case Drop::no_mapping:
      return "no-mapping";
    case Drop::filtered:
      return "filtered";
    case Drop::ports_exhausted:
      return "ports-exhausted";
    case Drop::hairpin_disabled:
      return "hairpin-disabled";
    case Drop::not_external:
      return "not-external";
  }
  return "?";
}

NatTable::NatTable(NatConfig config, Rng& rng)
    : config_(std::move(config)), rng_(&rng), impl_(std::make_unique<Impl>()) {
  impl_->reset(config_);
}

NatTable::~NatTable() = default;
NatTable::NatTable(NatTable&&) noexcept = default;
NatTable& NatTable::operator=(NatTable&&) noexcept = default;

Translation NatTable::outbound(Protocol proto, const Endpoint& inside_src, const Endpoint& remote,
                               Timestamp now, TcpFlags flags) {
  Impl& s = *impl_;
  const MappingKey key = s.key_for(config_, proto, inside_src, remote);
  auto it = s.mappings.find(key);
  if (it != s.mappings.end() && !(now < it->second.expires_at)) {
    s.erase_mapping(it, /*expired=*/true, stats_);
    it = s.mappings.end();
  }
  if (it == s.mappings.end()) {
    if (config_.external_addresses.empty()) {
      ++stats_.dropped_ports_exhausted;
      return {Drop::ports_exhausted, {}};
    }
    const uint32_t ai = s.paired_address(inside_src.address);
    std::optional<uint16_t> port = s.allocate_port(*this, proto, ai, inside_src.port, now);
    if (!port) {
      ++stats_.dropped_ports_exhausted;
      return {Drop::ports_exhausted, {}};
    }
    Mapping m;
    m.address_index = ai;
    m.port = *port;
    m.expires_at = now;  // raised below by the first packet
    it = s.mappings.emplace(key, std::move(m)).first;
    s.by_external.emplace(ExternalKey{proto, ai, *port}, it);
    ++s.ports_used[Impl::slot(ai, proto)];
    s.add_pairing(inside_src.address, ai);
    ++stats_.mappings_created;
  }
  Mapping& m = it->second;
  Remote& r = s.touch_remote(config_, proto, m, remote, now, stats_);
  if (proto == Protocol::tcp) {
    s.observe_tcp(config_, m, r, /*outbound=*/true, flags, now);
  } else {
    r.last = now;
    s.refresh_udp(config_, m, now);
  }
  ++stats_.outbound;
  return {Drop::none, Endpoint(config_.external_addresses[m.address_index], m.port)};
}

Translation NatTable::inbound(Protocol proto, const Endpoint& remote, const Endpoint& external_dst,
                              Timestamp now, TcpFlags flags) {
  Impl& s = *impl_;
  const std::optional<uint32_t> ai = s.address_index(config_, external_dst.address);
  if (!ai) {
    ++stats_.dropped_not_external;
    return {Drop::not_external, {}};
  }
  auto eit = s.by_external.find(ExternalKey{proto, *ai, external_dst.port});
  if (eit == s.by_external.end()) {
    ++stats_.dropped_no_mapping;
    return {Drop::no_mapping, {}};
  }
  auto it = eit->second;
  if (!(now < it->second.expires_at)) {
    s.erase_mapping(it, /*expired=*/true, stats_);
    ++stats_.dropped_no_mapping;
    return {Drop::no_mapping, {}};
  }
  Mapping& m = it->second;
  if (!s.admits(config_, proto, m, remote, now)) {
    ++stats_.dropped_filtered;
    return {Drop::filtered, {}};
  }
  if (proto == Protocol::tcp) {
    // An admitted packet may open a new connection through the mapping (EIF, ADF): track it
    // so its state keeps the mapping alive.
    Remote& r = s.touch_remote(config_, proto, m, remote, now, stats_);
    s.observe_tcp(config_, m, r, /*outbound=*/false, flags, now);
  } else if (config_.inbound_refresh) {
    auto rit = m.remotes.find(remote);
    if (rit != m.remotes.end()) rit->second.last = now;
    s.refresh_udp(config_, m, now);
  }
  ++stats_.inbound;
  return {Drop::none, it->first.inside};
}

NatTable::Hairpin NatTable::hairpin(Protocol proto, const Endpoint& inside_src,
                                    const Endpoint& external_dst, Timestamp now, TcpFlags flags) {
  if (!owns(external_dst.address)) {
    ++stats_.dropped_not_external;
    return {Drop::not_external, {}, {}};
  }
  if (!config_.hairpinning) {
    ++stats_.dropped_hairpin_disabled;
    return {Drop::hairpin_disabled, {}, {}};
  }
  const Translation out = outbound(proto, inside_src, external_dst, now, flags);
  if (!out.ok()) return {out.drop, {}, {}};
  const Translation in = inbound(proto, out.endpoint, external_dst, now, flags);
  if (!in.ok()) return {in.drop, out.endpoint, {}};
  return {Drop::none, out.endpoint, in.endpoint};
}

bool NatTable::owns(const IpAddress& address) const {
  return impl_->address_index(config_, address).has_value();
}

void NatTable::flush() {
  impl_->reset(config_);
}

void NatTable::expire(Timestamp now) {
  Impl& s = *impl_;
  if (now < s.next_expiry) return;
  Timestamp earliest = kNever;
  for (auto it = s.mappings.begin(); it != s.mappings.end();) {
    auto next = std::next(it);
    Mapping& m = it->second;
    if (!(now < m.expires_at)) {
      s.erase_mapping(it, /*expired=*/true, stats_);
    } else {
      const Protocol proto = it->first.proto;
      for (auto r = m.remotes.begin(); r != m.remotes.end();) {
        r = Impl::remote_deadline(config_, proto, r->second) <= now ? m.remotes.erase(r)
                                                                    : std::next(r);
      }
      earliest = std::min(earliest, m.expires_at);
    }
    it = next;
  }
  s.next_expiry = earliest;
}

size_t NatTable::mapping_count() const {
  return impl_->mappings.size();
}

}  // namespace warren::nat
