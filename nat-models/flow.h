// What a NAT or firewall table sees of a packet besides its endpoints: the transport protocol
// and, for TCP, the flags that drive connection state (RFC 5382).
#pragma once

#include <cstdint>
#include <tuple>

#include "nodes/net/endpoint.h"
#include "nodes/net/time.h"

namespace warren::nat {

enum class Protocol : uint8_t { tcp = 6, udp = 17 };  // IANA protocol numbers
const char* to_string(Protocol p);                    // "tcp", "udp"

struct TcpFlags {
  bool syn = false;
  bool ack = false;
  bool fin = false;
  bool rst = false;
};

// One flow as a table keys it: protocol, the inside endpoint and the remote one. A NAT
// mapping zeroes the parts of `remote` its mapping behaviour ignores; the IPv6 firewall keys
// state on the full tuple.
struct FlowKey {
  Protocol proto = Protocol::udp;
  Endpoint inside;
  Endpoint remote;
  bool operator<(const FlowKey& o) const {
    return std::tie(proto, inside, remote) < std::tie(o.proto, o.inside, o.remote);
  }
};

// "No deadline": later than any timestamp a run reaches.
inline constexpr Timestamp kNever = Timestamp::from_ns(INT64_MAX);

}  // namespace warren::nat
