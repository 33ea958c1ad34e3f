// An RFC 6092 "simple security" IPv6 firewall as home routers run it: no translation; an
// outbound packet opens state for its 5-tuple, inbound packets are admitted only when they
// match open state (address-and-port-dependent filtering), and unsolicited inbound is
// dropped and counted. UDP state lives at least 2 minutes (REC-14); TCP follows the flags:
// transitory until the handshake completes, established after, transitory again after FIN
// both ways or RST (tcp_connection.h).
#pragma once

#include <cstdint>
#include <memory>

#include "nat-models/nat_table.h"

namespace warren::nat {

// State entries a firewall holds at most; a home router's connection table is bounded the
// same way (Linux nf_conntrack_max is 65536 on small machines). When full, new outbound
// flows are dropped and counted, as a full conntrack table does.
inline constexpr size_t kMaxFirewallStates = 65536;

struct FirewallConfig {
  // Idle timeouts, all > 0. UDP state is refreshed by outbound packets and, only with
  // `inbound_refresh`, by admitted inbound ones; TCP state by any packet of the connection.
  Duration udp_timeout = Duration::seconds(300);
  Duration tcp_established_timeout = Duration::seconds(7440);
  Duration tcp_transitory_timeout = Duration::seconds(240);
  bool inbound_refresh = false;

  bool operator==(const FirewallConfig& o) const {
    return udp_timeout == o.udp_timeout && tcp_established_timeout == o.tcp_established_timeout &&
           tcp_transitory_timeout == o.tcp_transitory_timeout &&
           inbound_refresh == o.inbound_refresh;
  }
  bool operator!=(const FirewallConfig& o) const { return !(*this == o); }
};

struct FirewallStats {
  uint64_t outbound = 0;  // outbound packets passed
  uint64_t inbound_admitted = 0;
  uint64_t inbound_dropped = 0;              // no live state for the 5-tuple
  uint64_t outbound_dropped_table_full = 0;  // see kMaxFirewallStates
  uint64_t states_expired = 0;
};

// Timing as NatTable: state refreshed at t with timeout T admits packets while now < t + T.
// Expired state is removed lazily by lookups and by expire(). Not thread-safe. Move-only.
class Ipv6Firewall {
 public:
  explicit Ipv6Firewall(FirewallConfig config = {});
  ~Ipv6Firewall();
  Ipv6Firewall(Ipv6Firewall&&) noexcept;
  Ipv6Firewall& operator=(Ipv6Firewall&&) noexcept;

  // An inside host sends to `remote`: opens or refreshes state and returns true; false only
  // when the state table is full of live entries (the packet should be dropped).
  bool outbound(Protocol proto, const Endpoint& inside, const Endpoint& remote, Timestamp now,
                TcpFlags flags = {});
  // `remote` sends to inside host `inside`: true if it matches live state.
  bool inbound(Protocol proto, const Endpoint& remote, const Endpoint& inside, Timestamp now,
               TcpFlags flags = {});
  void flush();  // a reboot: all state gone; stats kept
  // Removes state idle past its timeout; only bounds memory, lookups expire lazily.
  void expire(Timestamp now);
  size_t state_count() const;  // including expired entries not yet removed
  const FirewallStats& stats() const { return stats_; }
  const FirewallConfig& config() const { return config_; }

 private:
  struct Impl;
  FirewallConfig config_;
  FirewallStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::nat
