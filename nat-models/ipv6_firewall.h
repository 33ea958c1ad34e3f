// An RFC 6092 "simple security" IPv6 firewall as home routers run it: no translation; an
// outbound packet opens state for its 5-tuple, inbound packets are admitted only when they
// match open state (address-and-port-dependent filtering), and unsolicited inbound is
// dropped and counted. UDP state lives at least 2 minutes (REC-14); TCP follows the flags.
#pragma once

#include <cstdint>
#include <memory>

#include "nat-models/nat_table.h"

namespace warren::nat {

struct FirewallConfig {
  Duration udp_timeout = Duration::seconds(300);
  Duration tcp_established_timeout = Duration::seconds(7440);
  Duration tcp_transitory_timeout = Duration::seconds(240);
};

struct FirewallStats {
  uint64_t outbound = 0;
  uint64_t inbound_admitted = 0;
  uint64_t inbound_dropped = 0;
};

class Ipv6Firewall {
 public:
  explicit Ipv6Firewall(FirewallConfig config = {});
  // An inside host sends to `remote`: always allowed; opens or refreshes state.
  void outbound(Protocol proto, const Endpoint& inside, const Endpoint& remote, Timestamp now,
                TcpFlags flags = {});
  // `remote` sends to inside host `inside`: true if it matches live state.
  bool inbound(Protocol proto, const Endpoint& remote, const Endpoint& inside, Timestamp now,
               TcpFlags flags = {});
  void flush();
  size_t state_count() const;
  const FirewallStats& stats() const { return stats_; }

 private:
  struct Impl;
  FirewallConfig config_;
  FirewallStats stats_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace warren::nat
