// What a NAT or firewall table sees of a packet besides its endpoints: the transport protocol
// and, for TCP, the flags that drive connection state (RFC 5382).
#pragma once

#include <cstdint>

namespace warren::nat {

enum class Protocol : uint8_t { tcp = 6, udp = 17 };  // IANA protocol numbers
const char* to_string(Protocol p);                    // "tcp", "udp"

struct TcpFlags {
  bool syn = false;
  bool ack = false;
  bool fin = false;
  bool rst = false;
};

}  // namespace warren::nat
