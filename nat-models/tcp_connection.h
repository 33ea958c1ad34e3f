// Just enough TCP connection tracking to pick an idle timeout, as RFC 5382 section 5 asks:
// a connection is "transitory" until its handshake completes (a SYN seen each way, then an
// ACK that is not a SYN), "established" afterwards, and transitory again once a FIN has been
// seen each way or an RST either way. No sequence numbers are checked: a middlebox model only
// needs the timer class, and RFC 5382 REQ-2 wants every valid sequence (simultaneous open
// included) to work. A connection picked up mid-stream (no SYN seen, e.g. after a NAT
// reboot) stays transitory, refreshed by each packet. Shared by the NAT table and the IPv6
// firewall.
#pragma once

#include <cstdint>

#include "nat-models/flow.h"
#include "nodes/net/time.h"

namespace warren::nat {

class TcpConnection {
 public:
  // A packet of this connection went out (inside -> outside) or came in, with `flags`.
  void observe(bool outbound, TcpFlags flags);
  bool established() const;  // handshake done and not closing or reset
  // The idle timeout for the current state: `established_timeout` while established,
  // `transitory_timeout` before the handshake completes and after FIN both ways or RST.
  Duration idle_timeout(Duration established_timeout, Duration transitory_timeout) const {
    return established() ? established_timeout : transitory_timeout;
  }

 private:
  enum Bit : uint8_t {
    kSynOut = 1,
    kSynIn = 2,
    kHandshakeDone = 4,
    kFinOut = 8,
    kFinIn = 16,
    kReset = 32,
  };
  uint8_t bits_ = 0;
};

}  // namespace warren::nat
